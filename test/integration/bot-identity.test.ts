import type { SQSClient } from '@aws-sdk/client-sqs';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import type { AnswerJob } from '../../lib/queue/job';
import { sqsJobQueue } from '../../lib/queue/sqs-job-queue';
import { buildWorkerDeps } from '../../lib/worker/worker-deps';
import { createWorkerHandler } from '../../lib/worker/worker-handler';
import { lambdaContext } from '../../sandbox/lambda-context';
import { pollOnce } from '../../sandbox/local-event-source';
import { type LocalStack, startLocalStack } from '../../sandbox/local-stack';
import type { ChatMessage } from '../../sandbox/peers/openai-peer';

/**
 * One workspace, no SLACK_BOT_USER_ID and an event without `authorizations`: the worker must still
 * know which messages of a thread are its own, or another app's messages become its own turns.
 */
let stack: LocalStack;
let sqs: SQSClient;
let n = 0;
const CHANNEL = 'C0GENERAL';

beforeAll(async () => {
  stack = await startLocalStack();
  sqs = stack.sqs.client();
});
afterAll(() => stack.close());

function worker() {
  const queue = stack.sqs.createFifoQueue(`identity-${++n}`, { maxReceiveCount: 4 });
  const config = {
    ...stack.workerConfig,
    slack: {
      ...stack.workerConfig.slack,
      botUserId: undefined,
      updateIntervalMs: 250,
      writeBudget: undefined,
    },
    queue: { url: queue.queueUrl, maxReceiveCount: 4, retryDelaySeconds: 10 },
  };
  const deps = buildWorkerDeps(config, createLogger('identity-test', { logLevel: 'SILENT' }), {
    sqs,
    metrics: createMetrics('test', 'slack-worker', { write: () => undefined }),
  });
  const handler = createWorkerHandler({ ...deps, settings: { llmBackoffMs: 10 } });
  return {
    async answer(job: AnswerJob) {
      await sqsJobQueue(sqs, queue.queueUrl).enqueue(job);
      return pollOnce(sqs, queue, handler, { context: () => lambdaContext('worker', 60_000) });
    },
    close: () => deps.close(),
  };
}

/** A thread with a person, another app and the bot itself, then a question without the bot's id. */
function threadWithAnotherApp() {
  const parent = stack.slack.seedMessage({
    channel: CHANNEL,
    user: 'U0ALICE',
    text: 'Deploying the API now.',
  });
  stack.slack.seedMessage({
    channel: CHANNEL,
    thread_ts: parent.ts,
    user: 'U0DEPLOYBOT',
    botId: 'B0DEPLOY',
    text: 'Deploy finished: version 42 is live.',
  });
  stack.slack.seedMessage({
    channel: CHANNEL,
    thread_ts: parent.ts,
    user: stack.slack.botUserId,
    botId: stack.slack.botId,
    text: 'Noted, I will keep an eye on it.',
  });
  const asked = stack.slack.seedMessage({
    channel: CHANNEL,
    thread_ts: parent.ts,
    user: 'U0ASKER',
    text: `<@${stack.slack.botUserId}> which version went live?`,
  });
  const job: AnswerJob = {
    v: 1,
    eventId: `EvIDENTITY${++n}${Date.now()}`,
    teamId: stack.slack.teamId,
    channel: CHANNEL,
    threadTs: parent.ts,
    ts: asked.ts,
    user: 'U0ASKER',
    text: asked.text,
    isDm: false,
    // No botUserId: the event had no `authorizations`.
    receivedAt: Date.now(),
  };
  return job;
}

const text = (m: ChatMessage) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content));

describe('the bot’s own user id without SLACK_BOT_USER_ID or authorizations', () => {
  it('asks auth.test once per instance and keeps other apps’ messages out of its own turns', async () => {
    // Prepare
    stack.slack.reset();
    stack.openai!.reset();
    const w = worker();
    try {
      // Act: two questions answered by the same instance
      const first = await w.answer(threadWithAnotherApp());
      const second = await w.answer(threadWithAnotherApp());
      // Assess
      expect(first?.response.batchItemFailures).toEqual([]);
      expect(second?.response.batchItemFailures).toEqual([]);
      const messages = stack.openai!.requests.at(-1)!.body.messages as ChatMessage[];
      const other = messages.find((m) => text(m).includes('Deploy finished'));
      const own = messages.find((m) => text(m).includes('keep an eye on it'));
      expect(other?.role).toBe('user');
      expect(own?.role).toBe('assistant');
      expect(stack.slack.callsTo('auth.test')).toHaveLength(1);
    } finally {
      w.close();
    }
  });
});
