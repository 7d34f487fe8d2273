import { SLACK_WRITE_LIMITS } from '../../lib/reply/slack-tiers';
import { budgetKey } from '../../lib/reply/write-budget';
import { feedbackBlock } from '../../lib/slack/feedback-block';
import { MomentoCache } from '../../lib/store/momento-cache';
import { createMomentoClient } from '../../lib/store/momento-client';
import { momentoSharedLog } from '../../lib/store/shared-log';
import { PLACEHOLDER } from '../../lib/worker/notices';
import { workerHarness } from '../support/worker-harness';

// A busy workspace: the surface of each answer is chosen by what Slack's limits leave free now, and
// nothing sleeps long in a billed invocation. The shared write budget is on; each test writes into
// a workspace of its own, whose budget log it fills as other Lambdas would have.
const h = workerHarness({ name: 'busy', defaults: { streaming: 'auto', sharedWriteBudget: true } });
const { enqueue, deliver, botMessages } = h;

let team = 0;
const job = () => h.job({ teamId: `T0BUSY${++team}${Date.now()}` });

/** Logs `count` calls of `method` made `agoMs` ago in the job's workspace (and channel), as other Lambdas would. */
async function madeElsewhere(j: ReturnType<typeof job>, method: string, count: number, agoMs: number) {
  const cache = new MomentoCache(
    createMomentoClient(h.stack.workerConfig.momento),
    h.stack.workerConfig.momento.cache,
  );
  const log = momentoSharedLog(cache);
  const key = budgetKey(
    { teamId: j.teamId, channel: j.channel, method, priority: 'final' },
    SLACK_WRITE_LIMITS[method]!,
  );
  for (let i = 0; i < count; i++) await log.append(key, `${Date.now() - agoMs}:elsewhere-${i}`, 1_000, 120);
}

const calls = (method: string) => h.stack.slack.callsTo(method).length;

describe('a busy workspace: the surface each answer can have now', () => {
  it('posts the answer once, complete, when no stream can start within a second: status first, no placeholder', async () => {
    // Prepare: this minute's 20 stream starts (Tier 2) are taken.
    const j = job();
    await madeElsewhere(j, 'chat.startStream', 20, 1_000);
    h.stack.openai!.setAnswer('An answer of a few words, streamed.');
    h.stack.openai!.setTokenDelay(20);
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess: the status while the model writes, then one post; no stream, no edit.
    expect(response.batchItemFailures).toEqual([]);
    expect([calls('chat.startStream'), calls('chat.update'), calls('chat.postMessage')]).toEqual([0, 0, 1]);
    expect(calls('assistant.threads.setStatus')).toBe(1);
    const [message] = botMessages(j);
    expect(message!.text).toBe('An answer of a few words, streamed.');
    expect(message!.blocks?.at(-1)).toEqual(feedbackBlock());
  });

  it('posts an answer that is complete before its first write as one message with the feedback buttons', async () => {
    // Prepare: no stream can start, and the channel's posts are at their short burst for ~2 s.
    const j = job();
    await madeElsewhere(j, 'chat.startStream', 20, 1_000);
    await madeElsewhere(j, 'chat.postMessage', 5, 3_000);
    h.stack.openai!.setAnswer('Short and complete.');
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess: one post, no placeholder, no edit, no stream.
    expect(response.batchItemFailures).toEqual([]);
    expect([calls('chat.postMessage'), calls('chat.update'), calls('chat.startStream')]).toEqual([1, 0, 0]);
    const [message] = botMessages(j);
    expect(message!.text).toBe('Short and complete.');
    expect(message!.blocks?.at(-1)).toEqual(feedbackBlock());
  });

  it('goes back to the queue for as long as the budget says, instead of sleeping, when a write would wait long', async () => {
    // Prepare: the channel has had its 60 posts of the minute, 30 s ago; the edit path needs a placeholder.
    h.build({ streaming: 'edit', sharedWriteBudget: true });
    const j = job();
    await madeElsewhere(j, 'chat.postMessage', 60, 30_000);
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess: nothing posted, the model not asked, the record visible again when the minute frees up.
    expect(response.batchItemFailures).toHaveLength(1);
    expect(calls('chat.postMessage')).toBe(0);
    expect(h.stack.openai!.requests).toHaveLength(0);
    const inflight = h.stack.sqs.server.inspectQueue(h.queue.queueName)!.messages.inflight[0]!;
    const visibleInS = (inflight.visibilityDeadline - Date.now()) / 1000;
    expect(visibleInS).toBeGreaterThan(20);
    expect(visibleInS).toBeLessThan(45);
  });

  it('shows a placeholder where Slack refuses the status, so the asker sees something at once', async () => {
    // Prepare
    const j = job();
    h.stack.slack.failNext('assistant.threads.setStatus', { error: 'missing_scope' });
    h.stack.openai!.setAnswer('The answer.');
    h.stack.openai!.setTokenDelay(20);
    await enqueue(j);
    // Act
    await deliver();
    // Assess
    expect(h.stack.slack.callsTo('chat.postMessage')[0]!.args.text).toBe(PLACEHOLDER);
    expect(botMessages(j).map((m) => m.text)).toEqual(['The answer.']);
  });
});
