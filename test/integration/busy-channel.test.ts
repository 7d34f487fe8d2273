import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { sqsJobQueue } from '../../lib/queue/sqs-job-queue';
import { REPLY_EVENT_TYPE } from '../../lib/reply/slack-reply-api';
import type { MethodLimit } from '../../lib/reply/slack-tiers';
import { toMrkdwn } from '../../lib/slack/mrkdwn';
import { buildWorkerDeps } from '../../lib/worker/worker-deps';
import { createWorkerHandler } from '../../lib/worker/worker-handler';
import { lambdaContext } from '../../sandbox/lambda-context';
import { startEventSourceMapping } from '../../sandbox/local-event-source';
import { type LocalStack, startLocalStack } from '../../sandbox/local-stack';
import { waitFor } from '../support/wait-for';

// A busy channel, as a review reproduced it (answers lost, doubled, out of order, 429s), in small:
// four threads of three questions in one channel, asked at once, answered by four workers against
// a Slack that answers 429 beyond its limits; the shared budget counts against the same limits.
// Slack's minute is compressed to 4 s and its tiers to a few calls, so the whole burst contends for
// Slack's writes the way sixty questions do for the real tiers.
const MINUTE_MS = 4_000;
const LIMITS: Record<string, MethodLimit> = {
  'chat.startStream': { perMinute: 3, scope: 'team' },
  'chat.stopStream': { perMinute: 3, scope: 'team' },
  'chat.update': { perMinute: 6, scope: 'team' },
  'chat.delete': { perMinute: 6, scope: 'team' },
  'chat.appendStream': { perMinute: 12, scope: 'team' },
  'chat.postMessage': { perMinute: 4, scope: 'channel' },
};
const ANSWER = 'A *FIFO* queue keeps each group in order, one message at a time.';
const logger = createLogger('busy-channel-test', { logLevel: 'SILENT' });
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    tokenDelayMs: 5,
    slackLimits: {
      rateLimits: Object.fromEntries(
        Object.entries(LIMITS).map(([m, l]) => [m, { perMinute: l.perMinute, per: l.scope }]),
      ),
      // Slack's documented numbers are floors: its window here is a little shorter than the budget's,
      // so a loaded machine delaying a call between its admission and Slack never makes a 429.
      rateLimitMinuteMs: MINUTE_MS * 0.85,
    },
  });
});
afterAll(() => stack.close());

it('answers every question of a busy channel once, whole and in order, with no 429 from Slack', async () => {
  // Prepare: twelve questions (four threads of three), one channel, all on the queue at once.
  stack.openai!.setAnswer(ANSWER);
  const queue = stack.sqs.createFifoQueue(`busy-${Date.now()}`, { maxReceiveCount: 5 });
  const questions = Array.from({ length: 12 }, (_, i) => {
    const thread = `1700009${String(i % 4).padStart(3, '0')}.000100`;
    const ts = i < 4 ? thread : `1700009${String(i % 4).padStart(3, '0')}.000${100 + i}`;
    return { eventId: `EvBUSYCHAN${i}${Date.now()}`, thread, ts };
  });
  for (const q of questions) {
    const reply = q.ts === q.thread ? {} : { thread_ts: q.thread };
    stack.slack.seedMessage({ channel: 'C0GENERAL', ts: q.ts, ...reply, user: 'U0ASKER', text: 'question' });
    await sqsJobQueue(stack.sqs.client(), queue.queueUrl).enqueue({
      v: 1,
      eventId: q.eventId,
      teamId: 'T0LOCAL',
      channel: 'C0GENERAL',
      threadTs: q.thread,
      ts: q.ts,
      user: 'U0ASKER',
      text: `<@${stack.slack.botUserId}> question`,
      isDm: false,
      receivedAt: Date.now(),
    });
  }
  // Four workers, each its own "Lambda" (its own clients), as the event source mapping scales out.
  const config = {
    ...stack.workerConfig,
    slack: { ...stack.workerConfig.slack, streaming: 'auto' as const, sharedWriteBudget: true },
    queue: { ...stack.workerConfig.queue, url: queue.queueUrl },
  };
  const workers = Array.from({ length: 4 }, () =>
    buildWorkerDeps(config, logger, {
      sqs: stack.sqs.client(),
      metrics: createMetrics('test', 'slack-worker', { write: () => undefined }),
      writeBudget: { limits: LIMITS, minuteMs: MINUTE_MS },
    }),
  );
  const mappings = workers.map((deps) =>
    startEventSourceMapping(stack.sqs.client(), queue, createWorkerHandler(deps), {
      context: () => lambdaContext('worker', 60_000),
      pollers: 1,
      waitSeconds: 1,
    }),
  );
  try {
    // Act
    await waitFor(
      'every question answered',
      () => {
        const q = stack.sqs.server.inspectQueue(queue.queueName)!.messages;
        return q.ready.length + q.delayed.length + q.inflight.length === 0;
      },
      120_000,
    );
  } finally {
    await Promise.all(mappings.map((m) => m.stop()));
    for (const deps of workers) deps.close();
  }
  // Assess: each thread shows each question's answer once, whole, in the order asked.
  const shown = [ANSWER, toMrkdwn(ANSWER)].map((t) => t.replace(/\s+/g, ''));
  for (const thread of new Set(questions.map((q) => q.thread))) {
    const bot = stack.slack.thread('C0GENERAL', thread).filter((m) => m.user === stack.slack.botUserId);
    const events = bot.map((m) => {
      const meta = m.metadata as { event_type?: string; event_payload?: { event_id?: string } } | undefined;
      return meta?.event_type === REPLY_EVENT_TYPE ? meta.event_payload?.event_id : undefined;
    });
    const asked = questions.filter((q) => q.thread === thread).map((q) => q.eventId);
    expect(events).toEqual(asked);
    for (const m of bot) expect(shown).toContain(m.text.replace(/\s+/g, ''));
  }
  expect(stack.slack.calls.filter((c) => c.status === 429)).toEqual([]);
  expect(stack.sqs.countMessages(queue.dlqName).ready).toBe(0);
});
