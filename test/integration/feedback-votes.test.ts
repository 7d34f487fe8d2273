import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createIngressHandler } from '../../lib/ingress/ingress-handler';
import { createLogger } from '../../lib/logger';
import { createMetrics, METRIC } from '../../lib/metrics';
import { sqsJobQueue } from '../../lib/queue/sqs-job-queue';
import { FEEDBACK_VALUES } from '../../lib/slack/feedback-block';
import { buildWorkerDeps } from '../../lib/worker/worker-deps';
import { createWorkerHandler } from '../../lib/worker/worker-handler';
import { lambdaContext } from '../../sandbox/lambda-context';
import { pollOnce } from '../../sandbox/local-event-source';
import { type LocalStack, startLocalStack } from '../../sandbox/local-stack';
import type { LocalFifoQueue } from '../../sandbox/peers/sqs-peer';
import { feedbackClick, interactionEvent, SECRET } from '../support/slack-events';

/**
 * Feedback votes end to end: the real ingress queues each signed click, the real worker counts it
 * in Momento (one vote per user and message, the last one wins) and writes the FeedbackVotes
 * metric. Real SQS (fauxqs), Momento and Slack peers.
 */
const logger = createLogger('feedback-votes-test', { logLevel: 'SILENT' });
let stack: LocalStack;
let sqs: SQSClient;
let queue: LocalFifoQueue;
let ingress: ReturnType<typeof createIngressHandler>;
let worker: ReturnType<typeof createWorkerHandler>;
let close: () => void = () => undefined;
let emf: string[] = [];
let n = 0;

beforeAll(async () => {
  stack = await startLocalStack();
  sqs = stack.sqs.client();
});
afterAll(async () => {
  close();
  await stack.close();
});
beforeEach(() => {
  stack.momento!.resume();
  emf = [];
  queue = stack.sqs.createFifoQueue(`votes-${++n}`);
  ingress = createIngressHandler({
    config: { slackSigningSecret: SECRET, queueUrl: queue.queueUrl, botUserId: undefined },
    queue: sqsJobQueue(sqs, queue.queueUrl),
    logger,
  });
  const deps = buildWorkerDeps(
    { ...stack.workerConfig, queue: { ...stack.workerConfig.queue, url: queue.queueUrl } },
    logger,
    {
      sqs,
      metrics: createMetrics('SlackGptBot/test', 'slack-worker', { write: (line) => emf.push(line) }),
    },
  );
  close = deps.close;
  worker = createWorkerHandler(deps);
});
afterEach(() => close());

/** Sends a click through the ingress, as Slack would POST it. */
async function click(event: ReturnType<typeof interactionEvent>) {
  const response = (await ingress(event, lambdaContext('ingress'))) as APIGatewayProxyStructuredResultV2;
  expect(response.statusCode).toBe(200);
}

/** Runs the worker over everything queued, as the event source mapping would. */
async function work() {
  for (;;) {
    const result = await pollOnce(sqs, queue, worker, { context: () => lambdaContext('worker', 120_000) });
    if (!result) return;
    expect(result.response.batchItemFailures).toEqual([]);
  }
}

/** The FeedbackVotes values written, as `positive +1`. */
const votes = () =>
  emf
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((m) => METRIC.feedbackVotes in m)
    .map((m) => `${m.vote} ${Number(m[METRIC.feedbackVotes]) > 0 ? '+' : ''}${m[METRIC.feedbackVotes]}`);

/** Clicks by one user on one message: same message ts, a new action_ts each time. */
function clicksOn(messageTs: string, user = 'U0ASKER') {
  let at = 1_796_000_000;
  return (value: string) =>
    feedbackClick(
      {
        user: { id: user, team_id: 'T0LOCAL' },
        message: { type: 'message', ts: messageTs, thread_ts: '1700000000.000100', text: 'the answer' },
        container: { type: 'message', message_ts: messageTs, channel_id: 'C0GENERAL' },
      },
      { value, action_ts: `${++at}.000100` },
    );
}

describe('feedback votes', () => {
  it('counts a replayed signed click once', async () => {
    // Prepare: one signed request, sent twice as an attacker would replay it.
    const request = interactionEvent(clicksOn(`1796000001.0000${n}`)(FEEDBACK_VALUES.positive));
    // Act
    await click(request);
    await click(request);
    await work();
    // Assess
    expect(votes()).toEqual(['positive +1']);
  });

  it('counts one vote per user and message: the same button twice once, a change as the last vote', async () => {
    // Prepare
    const asker = clicksOn(`1796000002.0000${n}`);
    const colleague = clicksOn(`1796000002.0000${n}`, 'U0COLLEAGUE');
    // Act
    await click(interactionEvent(asker(FEEDBACK_VALUES.positive)));
    await click(interactionEvent(asker(FEEDBACK_VALUES.positive)));
    await click(interactionEvent(colleague(FEEDBACK_VALUES.positive)));
    await work();
    await click(interactionEvent(asker(FEEDBACK_VALUES.negative)));
    await work();
    // Assess: the asker's first vote, the colleague's, then the asker's change (+1 bad, -1 good).
    expect(votes()).toEqual(['positive +1', 'positive +1', 'negative +1', 'positive -1']);
  });

  it('still counts a vote while Momento is down (without the one-vote check)', async () => {
    // Prepare
    stack.momento!.pause();
    // Act
    await click(interactionEvent(clicksOn(`1796000003.0000${n}`)(FEEDBACK_VALUES.negative)));
    await work();
    // Assess
    expect(votes()).toEqual(['negative +1']);
  });
});
