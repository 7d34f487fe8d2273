import type { SQSClient } from '@aws-sdk/client-sqs';
import { WebClient } from '@slack/web-api';
import type { WorkerConfig } from '../../lib/config';
import { createLogger, type LogLevelName } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import type { AnswerJob, Job } from '../../lib/queue/job';
import { sqsJobQueue } from '../../lib/queue/sqs-job-queue';
import { type EventClaims, momentoEventClaims } from '../../lib/store/event-claims';
import { MomentoCache } from '../../lib/store/momento-cache';
import { createMomentoClient } from '../../lib/store/momento-client';
import type { ToolPorts } from '../../lib/tools/tools-for-answer';
import { buildWorkerDeps } from '../../lib/worker/worker-deps';
import { createWorkerHandler } from '../../lib/worker/worker-handler';
import { lambdaContext } from '../../sandbox/lambda-context';
import { type PollResult, pollOnce } from '../../sandbox/local-event-source';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../sandbox/local-stack';
import type { LocalFifoQueue } from '../../sandbox/peers/sqs-peer';
import { captureLogs } from './capture-logs';

/** Settings of one worker build. */
export interface BuildOptions {
  maxReceiveCount?: number;
  updateIntervalMs?: number;
  streaming?: WorkerConfig['slack']['streaming'];
  slackTimeoutMs?: number;
  /**
   * The write budget shared per workspace (default off here: tests of one file write into one
   * workspace within seconds of each other, and would share its minute; test/integration/write-budget.test.ts
   * covers the budget).
   */
  sharedWriteBudget?: boolean;
  /** The tools' settings (`AGENT_TOOLS`, `MCP_SERVERS`, …) over the stack's. */
  tools?: Partial<WorkerConfig['tools']>;
  /** Replaces ports of the tools (a resolver, the address policy) after the worker is built. */
  toolPorts?: Partial<ToolPorts>;
}

/**
 * The real worker handler over a FIFO queue on fauxqs, with the Slack, OpenAI and Momento peers:
 * registers its own Jest hooks (peers started once per file, a fresh queue and peer state per test).
 * `TEST_LOG_LEVEL=INFO` shows the worker's logs.
 */
export function workerHarness(options: {
  name: string;
  stack?: LocalStackOptions;
  defaults?: BuildOptions;
  /** Record the worker's log lines (INFO and up) in `logs` instead of printing them. */
  captureLogs?: boolean;
}) {
  const logger = createLogger(`${options.name}-test`, {
    logLevel: options.captureLogs
      ? 'INFO'
      : ((process.env.TEST_LOG_LEVEL as LogLevelName | undefined) ?? 'SILENT'),
  });
  // EMF lines are checked in governance.test.ts and metrics.test.ts; here they would only be noise.
  const quietMetrics = createMetrics('test', 'slack-worker', { write: () => undefined });

  const h = {
    stack: undefined as unknown as LocalStack,
    sqs: undefined as unknown as SQSClient,
    queue: undefined as unknown as LocalFifoQueue,
    deps: undefined as unknown as ReturnType<typeof buildWorkerDeps>,
    handler: undefined as unknown as ReturnType<typeof createWorkerHandler>,
    /** Builds the worker anew on a new queue. */
    build(overrides: BuildOptions = {}) {
      const o = { ...options.defaults, ...overrides };
      h.deps?.close();
      h.queue = h.stack.sqs.createFifoQueue(`${options.name}-${++n}`, {
        maxReceiveCount: o.maxReceiveCount ?? 4,
      });
      const base = h.stack.workerConfig;
      const config: WorkerConfig = {
        ...base,
        slack: {
          ...base.slack,
          streaming: o.streaming ?? base.slack.streaming,
          updateIntervalMs: o.updateIntervalMs ?? 1000,
          timeoutMs: o.slackTimeoutMs ?? base.slack.timeoutMs,
          sharedWriteBudget: o.sharedWriteBudget ?? false,
        },
        queue: { url: h.queue.queueUrl, maxReceiveCount: h.queue.maxReceiveCount, retryDelaySeconds: 10 },
        tools: { ...base.tools, ...o.tools },
      };
      h.deps = buildWorkerDeps(config, logger, { sqs: h.sqs, metrics: quietMetrics });
      if (o.toolPorts && h.deps.tools) h.deps.tools = { ...h.deps.tools, ...o.toolPorts };
      h.handler = createWorkerHandler({ ...h.deps, settings: { llmBackoffMs: 10 } });
    },
    /** A mention in a new thread of `#C0GENERAL` by `U0ASKER`. */
    job(overrides: Partial<AnswerJob> = {}): AnswerJob {
      const ts = `1700001${String(++n).padStart(3, '0')}.000100`;
      return {
        v: 1,
        eventId: `Ev${options.name.toUpperCase().replace(/\W/g, '')}${n}${Date.now()}`,
        teamId: 'T0LOCAL',
        channel: 'C0GENERAL',
        threadTs: ts,
        ts,
        user: 'U0ASKER',
        text: `<@${h.stack.slack.botUserId}> What is a FIFO queue?`,
        isDm: false,
        receivedAt: Date.now(),
        ...overrides,
      };
    },
    async enqueue(...jobs: Job[]) {
      for (const j of jobs) await sqsJobQueue(h.sqs, h.queue.queueUrl).enqueue(j);
    },
    /** Runs the worker over what is on the queue, as Lambda's event source mapping would. */
    async deliver(timeoutMs = 120_000) {
      const result = await pollOnce(h.sqs, h.queue, h.handler, {
        context: () => lambdaContext('worker', timeoutMs),
      });
      if (!result) throw new Error('nothing was on the queue');
      return result;
    },
    /** The worker's log entries since the test began (with `captureLogs`). */
    logs: () =>
      (capture?.entries() ?? []) as Array<Record<string, unknown> & { level: string; message: string }>,
    /** Every line written since the test began, JSON or not (with `captureLogs`). */
    logLines: (): string[] => capture?.text() ?? [],
    /** Hands the worker a record of `result` again, as receive number `receiveCount`. */
    async redeliver(result: PollResult, receiveCount: number, timeoutMs = 120_000) {
      const event = {
        Records: result.event.Records.map((r) => ({
          ...r,
          attributes: { ...r.attributes, ApproximateReceiveCount: String(receiveCount) },
        })),
      };
      return h.handler(event, lambdaContext('worker', timeoutMs));
    },
    slackClient() {
      return new WebClient(h.stack.slack.token, { slackApiUrl: h.stack.slack.url });
    },
    /** Runs `fn` with the event claims the worker uses, on its own Momento client. */
    async withClaims(fn: (claims: EventClaims) => Promise<unknown>) {
      const momento = createMomentoClient(h.stack.workerConfig.momento);
      await fn(momentoEventClaims(new MomentoCache(momento, h.stack.workerConfig.momento.cache)));
    },
    /** The bot's messages in a thread. */
    botMessages(j: AnswerJob) {
      return h.stack.slack.thread(j.channel, j.threadTs).filter((m) => m.user === h.stack.slack.botUserId);
    },
  };
  let n = 0;

  beforeAll(async () => {
    h.stack = await startLocalStack(options.stack);
    h.sqs = h.stack.sqs.client();
  });
  afterAll(() => h.stack.close());
  let capture: ReturnType<typeof captureLogs> | undefined;
  beforeEach(() => {
    if (options.captureLogs) capture = captureLogs();
    h.stack.slack.reset();
    h.stack.openai!.reset();
    h.stack.momento!.resume();
    h.build();
  });
  afterEach(() => {
    capture?.restore();
    h.deps.close();
  });
  return h;
}
