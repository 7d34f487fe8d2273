import { loadIngressConfig, loadWorkerConfig } from '../lib/config';
import { createIngressHandler } from '../lib/ingress/ingress-handler';
import { createLogger } from '../lib/logger';
import { createMetrics } from '../lib/metrics';
import { sqsJobQueue } from '../lib/queue/sqs-job-queue';
import { workerDepsFor } from '../lib/worker/worker-deps';
import { createWorkerHandler } from '../lib/worker/worker-handler';
import { serveFunctionUrl } from './function-url-server';
import { installThroughBrowser } from './install-browser';
import { lambdaContext } from './lambda-context';
import { pollOnce } from './local-event-source';
import { LOCAL_SIGNING_SECRET, LOCAL_WORKSPACES, startLocalStack } from './local-stack';
import { postSlackEvent } from './slack-request';

/** What the distribution part of `npm start` showed, per workspace. */
export interface DistributionResult {
  lines: string[];
  problems: string[];
}

/** A token as the output shows it: enough to tell two apart, not the whole of it. */
const shown = (token: string) => `${token.slice(0, token.lastIndexOf('-') + 1)}…${token.slice(-4)}`;

/**
 * `npm start`'s distribution part: a second local bot in distribution mode (the same ingress and
 * worker code, built from a configuration with SLACK_CLIENT_ID, a local DynamoDB and the Slack
 * peer's OAuth side), installed into two workspaces through the real redirect flow — the install
 * page, Slack's authorize step handing a code, the redirect — then one question in each, answered
 * with that workspace's own token.
 */
export async function runDistributionDemo(): Promise<DistributionResult> {
  const stack = await startLocalStack({ distribution: {}, tokenDelayMs: 0 });
  const logger = createLogger('distribution', { logLevel: 'SILENT' });
  const queue = stack.sqs.createFifoQueue('slack-bot-local-distribution');
  const ingress = createIngressHandler({
    config: loadIngressConfig({ ...stack.env, QUEUE_URL: queue.queueUrl }),
    queue: sqsJobQueue(stack.sqs.client(), queue.queueUrl),
    logger,
    dynamodb: stack.dynamodb!.client(),
  });
  const server = await serveFunctionUrl((event, context) => ingress(event, context));
  stack.slack.oauth!.redirectUrl = `${server.origin}/slack/oauth_redirect`;
  const config = loadWorkerConfig({ ...stack.env, QUEUE_URL: queue.queueUrl });
  const deps = workerDepsFor({ ...config, slack: { ...config.slack, sharedWriteBudget: false } }, logger, {
    sqs: stack.sqs.client(),
    dynamodb: stack.dynamodb!.client(),
    metrics: createMetrics('local', 'slack-worker', { write: () => undefined }),
  });
  const worker = createWorkerHandler(deps);
  const lines: string[] = [];
  const problems: string[] = [];
  try {
    const workspaces = LOCAL_WORKSPACES.slice(0, 2);
    for (const ws of workspaces) {
      const visit = await installThroughBrowser(server.origin, ws.teamId);
      const token = stack.slack.oauth!.tokens.filter((t) => t.teamId === ws.teamId).at(-1)?.token;
      if (visit.status !== 200 || !token)
        problems.push(`install into ${ws.name} answered HTTP ${visit.status}`);
      lines.push(
        `installed into ${ws.name.padEnd(7)} (${ws.teamId}) via ${server.origin}/slack/install → HTTP ${visit.status}`,
      );
    }
    for (const [i, ws] of workspaces.entries()) {
      const ts = `${1_800_000_100 + i}.000100`;
      const text = `<@${ws.botUserId}> Which workspace is this?`;
      stack.slack.seedMessage({ channel: ws.channel, ts, user: 'U0ASKER', text });
      const body = {
        type: 'event_callback',
        team_id: ws.teamId,
        api_app_id: 'A0LOCAL',
        event_id: `EvDISTRIBUTION${i}`,
        event_time: Math.floor(Date.now() / 1000),
        event: { type: 'app_mention', user: 'U0ASKER', text, ts, channel: ws.channel, event_ts: ts },
        authorizations: [
          { team_id: ws.teamId, user_id: ws.botUserId, is_bot: true, is_enterprise_install: false },
        ],
      };
      const response = await postSlackEvent(`${server.origin}/`, body, { secret: LOCAL_SIGNING_SECRET });
      if (response.status !== 200)
        problems.push(`the mention in ${ws.name} answered HTTP ${response.status}`);
    }
    for (let r = await poll(); r; r = await poll());
    for (const ws of workspaces) {
      const replies = stack.slack.calls.filter((c) => c.args.channel === ws.channel && c.as);
      const tokens = [...new Set(replies.map((c) => c.as!.token))];
      const answered = stack.slack
        .thread(ws.channel, `${1_800_000_100 + workspaces.indexOf(ws)}.000100`)
        .filter((m) => m.user === ws.botUserId);
      if (answered.length !== 1) problems.push(`${ws.name}: ${answered.length} replies, 1 expected`);
      if (tokens.length !== 1) problems.push(`${ws.name}: answered with ${tokens.length} tokens, 1 expected`);
      lines.push(
        `answered in ${ws.name.padEnd(7)} #${ws.channel} by @${ws.botUserId} with its own token ${tokens.map(shown).join(', ')}`,
      );
    }
  } catch (error) {
    problems.push(`distribution: ${(error as Error).message}`);
  } finally {
    deps.close();
    await server.close();
    await stack.close();
  }
  return { lines, problems };

  function poll() {
    return pollOnce(stack.sqs.client(), queue, worker, { context: () => lambdaContext('worker', 60_000) });
  }
}
