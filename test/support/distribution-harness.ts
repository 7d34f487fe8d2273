import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { loadIngressConfig, loadWorkerConfig, type WorkerConfig } from '../../lib/config';
import { createIngressHandler } from '../../lib/ingress/ingress-handler';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { sqsJobQueue } from '../../lib/queue/sqs-job-queue';
import { workerDepsFor } from '../../lib/worker/worker-deps';
import { createWorkerHandler } from '../../lib/worker/worker-handler';
import { serveFunctionUrl } from '../../sandbox/function-url-server';
import { installThroughBrowser } from '../../sandbox/install-browser';
import { lambdaContext } from '../../sandbox/lambda-context';
import { pollOnce } from '../../sandbox/local-event-source';
import {
  LOCAL_ENTERPRISE,
  LOCAL_SIGNING_SECRET,
  LOCAL_WORKSPACES,
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from '../../sandbox/local-stack';
import type { Listening } from '../../sandbox/peers/listen';
import type { LocalFifoQueue } from '../../sandbox/peers/sqs-peer';
import { postSlackEvent } from '../../sandbox/slack-request';
import { captureLogs } from './capture-logs';

export type LocalWorkspace = (typeof LOCAL_WORKSPACES)[number];
export { LOCAL_ENTERPRISE, LOCAL_WORKSPACES };

let n = 0;

/**
 * Distribution mode end to end on the local peers: the real ingress (its install routes and event
 * path) behind a local Function URL, the real worker handlers (each `worker()` a separate instance,
 * as separate Lambdas are), the Slack peer's OAuth side, and a local DynamoDB. Registers its own
 * Jest hooks: the peers once per file, a fresh queue and ingress per test.
 */
export function distributionHarness(options: {
  name: string;
  distribution?: LocalStackOptions['distribution'];
  /** The Slack peer's clock (token expiry, message ts). */
  slackNow?: () => number;
}) {
  const logger = createLogger(`${options.name}-test`, { logLevel: 'INFO' });
  const metricLines: Array<Record<string, unknown>> = [];
  const metrics = createMetrics('test', 'slack-worker', {
    write: (line) => metricLines.push(JSON.parse(line) as Record<string, unknown>),
  });
  const h = {
    /** Every EMF line the workers wrote (since the file started). */
    metricLines: () => metricLines,
    stack: undefined as unknown as LocalStack,
    queue: undefined as unknown as LocalFifoQueue,
    server: undefined as unknown as Listening,
    logs: () => capture?.entries() ?? [],
    /** Installs the app through the browser flow, into a workspace (`T…`) or an organization (`E…`). */
    install: (team: string) => installThroughBrowser(h.server.origin, team),
    /** A worker instance of its own (its own caches), as one more Lambda would be. */
    worker(overrides: (config: WorkerConfig) => WorkerConfig = (c) => c) {
      const base = loadWorkerConfig(h.stack.env);
      const config = overrides({
        ...base,
        slack: { ...base.slack, sharedWriteBudget: false },
        queue: { url: h.queue.queueUrl, maxReceiveCount: h.queue.maxReceiveCount, retryDelaySeconds: 1 },
      });
      const deps = workerDepsFor(config, logger, {
        sqs: h.stack.sqs.client(),
        dynamodb: h.stack.dynamodb!.client(),
        metrics,
      });
      built.push(deps);
      return createWorkerHandler({ ...deps, settings: { llmBackoffMs: 10 } });
    },
    /** One poll of the queue by `handler`; undefined when the queue was empty. */
    poll(handler: ReturnType<typeof createWorkerHandler>, maxMessages = 1) {
      return pollOnce(h.stack.sqs.client(), h.queue, handler, {
        context: () => lambdaContext('worker', 60_000),
        maxMessages,
      });
    },
    /** Polls with `handler` until the queue is empty. */
    async drain(handler: ReturnType<typeof createWorkerHandler>) {
      const results = [];
      for (let result = await h.poll(handler, 10); result; result = await h.poll(handler, 10))
        results.push(result);
      return results;
    },
    /** POSTs a signed Events API body to the ingress, as Slack does. */
    post: (body: unknown) => postSlackEvent(`${h.server.origin}/`, body, { secret: LOCAL_SIGNING_SECRET }),
    /**
     * A mention in a workspace's channel, as Slack sends it through an installation: `authorizations`
     * name the bot user of that installation (the organization's for an org-wide install).
     */
    mention(ws: LocalWorkspace, text = 'What is a FIFO queue?', orgWide = false) {
      const ts = `${1_800_000_000 + ++n}.000100`;
      const bot = orgWide ? LOCAL_ENTERPRISE.botUserId : ws.botUserId;
      const enterprise = 'enterpriseId' in ws ? ws.enterpriseId : undefined;
      const body = {
        type: 'event_callback',
        team_id: ws.teamId,
        ...(enterprise ? { enterprise_id: enterprise } : {}),
        api_app_id: 'A0LOCAL',
        event_id: `EvDIST${options.name.toUpperCase().replace(/\W/g, '')}${n}${Date.now()}`,
        event_time: Math.floor(Date.now() / 1000),
        event: {
          type: 'app_mention',
          user: `U0${ws.teamId}`,
          text: `<@${bot}> ${text}`,
          ts,
          channel: ws.channel,
          event_ts: ts,
        },
        authorizations: [
          {
            team_id: orgWide ? null : ws.teamId,
            enterprise_id: enterprise ?? null,
            user_id: bot,
            is_bot: true,
            is_enterprise_install: orgWide,
          },
        ],
      };
      h.stack.slack.seedMessage({ channel: ws.channel, ts, user: `U0${ws.teamId}`, text: body.event.text });
      return { body, channel: ws.channel, threadTs: ts, bot };
    },
    /** An `app_uninstalled` or `tokens_revoked` event for a workspace. */
    installationEvent(ws: LocalWorkspace, event: Record<string, unknown>) {
      return {
        type: 'event_callback',
        team_id: ws.teamId,
        api_app_id: 'A0LOCAL',
        event_id: `EvINST${++n}${Date.now()}`,
        event_time: Math.floor(Date.now() / 1000),
        event,
      };
    },
    /** The bot messages of a thread, by the bot user that wrote them. */
    replies(channel: string, threadTs: string, bot: string) {
      return h.stack.slack.thread(channel, threadTs).filter((m) => m.user === bot);
    },
    /** Messages on the queue (ready, delayed or in flight). */
    queued() {
      const c = h.stack.sqs.countMessages(h.queue.queueName);
      return c.ready + c.inflight + c.delayed;
    },
  };
  const built: Array<{ close(): void }> = [];
  let capture: ReturnType<typeof captureLogs> | undefined;

  beforeAll(async () => {
    h.stack = await startLocalStack({
      distribution: options.distribution ?? {},
      tokenDelayMs: 0,
      ...(options.slackNow ? { slackNow: options.slackNow } : {}),
    });
  });
  afterAll(() => h.stack.close());
  beforeEach(async () => {
    capture = captureLogs();
    h.queue = h.stack.sqs.createFifoQueue(`${options.name}-${++n}`, { maxReceiveCount: 3 });
    const ingress = createIngressHandler({
      config: loadIngressConfig({ ...h.stack.env, QUEUE_URL: h.queue.queueUrl }),
      queue: sqsJobQueue(h.stack.sqs.client(), h.queue.queueUrl),
      logger,
      dynamodb: h.stack.dynamodb!.client(),
    });
    h.server = await serveFunctionUrl(async (event: APIGatewayProxyEventV2, context) =>
      ingress(event, context),
    );
    h.stack.slack.oauth!.redirectUrl = `${h.server.origin}/slack/oauth_redirect`;
  });
  afterEach(async () => {
    capture?.restore();
    for (const deps of built.splice(0)) deps.close();
    await h.server.close();
  });
  return h;
}
