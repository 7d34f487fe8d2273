import { LlmError, RetryLaterError, SlackCallError, StoreUnavailableError } from '../../lib/errors';
import type { ClaimState } from '../../lib/store/event-claims';
import { answerMention } from '../../lib/worker/answer-mention';
import { GAVE_UP_NOTICE, INTERRUPTED_NOTICE, RETRYING_NOTICE } from '../../lib/worker/notices';
import {
  ANSWER,
  answerWorld,
  job,
  overloaded,
  QUESTION,
  rejection,
  threadOf,
  USAGE,
} from '../support/answer-world';
import { memoryClaims, memoryHistory } from '../support/store-fakes';

/**
 * The answer story (lib/worker/answer-mention.ts) when the model, Slack or Momento fails, over
 * in-memory fakes of its ports: what the user is told, what the claim holds for the next delivery,
 * and how the record ends (done, back to the queue after a delay, or towards the dead-letter queue).
 */

describe('answerMention: the model fails', () => {
  it.each([
    [1, 10],
    [2, 20],
  ])(
    'on receive %d, a model that stays unavailable shows the retry notice and comes back in %d s',
    async (receiveCount, delay) => {
      // Prepare
      const w = answerWorld([overloaded(), overloaded()], { receiveCount });
      // Act
      const error = await rejection(answerMention(job, w.deps));
      // Assess
      expect(error).toBeInstanceOf(RetryLaterError);
      expect(error).toMatchObject({ delaySeconds: delay });
      expect(w.model.calls).toHaveLength(2);
      expect(w.sleeps).toEqual([1_000]);
      const reply = w.replies.reply;
      expect(reply.finished).toMatchObject({ markdown: 'Paris is', notice: RETRYING_NOTICE });
      expect(reply.events.at(-1)).toEqual({ kind: 'abandon' });
      expect(w.claims.state(job.eventId)).toMatchObject({ status: 'answering', handedBack: true });
      expect(w.claims.state(job.eventId)?.final).toBeUndefined();
      expect(w.history.turns(threadOf(job))).toEqual([]);
    },
  );

  it('on the last receive, says it gave up after the partial answer, and is done', async () => {
    // Prepare
    const w = answerWorld([overloaded(), overloaded()], { receiveCount: 3 });
    // Act
    const outcome = await answerMention(job, w.deps);
    // Assess
    expect(outcome).toBe('failed');
    expect(w.replies.reply.finished).toEqual({
      kind: 'finish',
      markdown: 'Paris is',
      notice: `${INTERRUPTED_NOTICE}\n${GAVE_UP_NOTICE}`,
      feedback: false,
    });
    expect(w.claims.state(job.eventId)).toMatchObject({ status: 'done', final: { remember: false } });
    expect(w.history.turns(threadOf(job))).toEqual([]);
    expect(w.logger.at('ERROR')).toContainEqual(expect.objectContaining({ message: 'gave up on the event' }));
  });

  it('shows a permanent model error at once, without retrying it', async () => {
    // Prepare
    const refused = new LlmError('401 Incorrect API key provided', { retryable: false, status: 401 });
    const w = answerWorld([refused]);
    // Act
    const outcome = await answerMention(job, w.deps);
    // Assess
    expect(outcome).toBe('failed');
    expect(w.model.calls).toHaveLength(1);
    expect(w.sleeps).toEqual([]);
    expect(w.replies.reply.finished).toMatchObject({ markdown: '', feedback: false });
    expect(w.replies.reply.finished?.notice).toMatch(/API key was refused/);
    expect(w.claims.state(job.eventId)?.status).toBe('done');
  });
});

describe('answerMention: Slack fails', () => {
  const invalidAuth = () =>
    new SlackCallError('chat.postMessage', {
      slackError: 'invalid_auth',
      retryable: false,
      category: 'auth',
    });

  it('sends the record towards the dead-letter queue when Slack refuses the bot’s token', async () => {
    // Prepare
    const refusal = invalidAuth();
    const w = answerWorld([], { replyFailures: { open: refusal } });
    // Act
    const answered = answerMention(job, w.deps);
    // Assess
    await expect(answered).rejects.toBe(refusal);
    expect(w.model.calls).toHaveLength(0);
    expect(w.logger.at('ERROR')).toContainEqual(
      expect.objectContaining({ method: 'chat.postMessage', slackError: 'invalid_auth' }),
    );
  });

  it('completes quietly when the workspace has uninstalled the app meanwhile', async () => {
    // Prepare
    const w = answerWorld([], { replyFailures: { open: invalidAuth() }, stillInstalled: false });
    // Act
    const outcome = await answerMention(job, w.deps);
    // Assess
    expect(outcome).toBe('uninstalled');
    expect(w.logger.at('ERROR')).toEqual([]);
  });

  it('is done with an event whose conversation Slack refuses, abandoning the reply', async () => {
    // Prepare
    const refusal = new SlackCallError('chat.postMessage', {
      slackError: 'not_in_channel',
      retryable: false,
      category: 'conversation',
    });
    const w = answerWorld([], { replyFailures: { open: refusal } });
    // Act
    const outcome = await answerMention(job, w.deps);
    // Assess
    expect(outcome).toBe('failed');
    expect(w.replies.reply.events).toEqual([{ kind: 'open' }, { kind: 'abandon' }]);
    expect(w.model.calls).toHaveLength(0);
    expect(w.logger.at('ERROR')).toContainEqual(expect.objectContaining({ slackError: 'not_in_channel' }));
  });

  it('hands a final write Slack makes wait back for that long; the redelivery writes the saved answer without the model', async () => {
    // Prepare
    const busy = new SlackCallError('chat.update', {
      slackError: 'ratelimited',
      retryable: true,
      retryAfterSeconds: 7,
    });
    const first = answerWorld([{ text: ANSWER, finishReason: 'stop', usage: USAGE }], {
      replyFailures: { finish: [busy] },
    });
    // Act
    const error = await rejection(answerMention(job, first.deps));
    // Assess
    expect(error).toBeInstanceOf(RetryLaterError);
    expect(error).toMatchObject({ delaySeconds: 7 });
    const handedBack = first.claims.state(job.eventId);
    expect(handedBack).toMatchObject({ status: 'answering', handedBack: true, final: { markdown: ANSWER } });
    expect(first.replies.reply.events.at(-1)).toEqual({ kind: 'abandon' });
    expect(first.history.turns(threadOf(job))).toEqual([]);

    // Prepare
    const again = answerWorld([], { claims: first.claims, history: first.history, receiveCount: 2 });
    // Act
    const outcome = await answerMention(job, again.deps);
    // Assess
    expect(outcome).toBe('answered');
    expect(again.model.calls).toHaveLength(0);
    expect(again.replies.opened[0]!.resume).toMatchObject({
      previous: { path: 'edit', messageTs: handedBack!.messageTs },
      lookInThread: false,
    });
    expect(again.replies.reply.finished).toMatchObject({ markdown: ANSWER, feedback: true });
    expect(again.governance.admitted).toEqual([{ eventId: job.eventId, resumed: true }]);
    // Counted once: before the first attempt's final write.
    expect([...first.governance.recorded, ...again.governance.recorded]).toEqual([USAGE]);
    expect(again.history.turns(threadOf(job)).map((t) => t.content)).toEqual([QUESTION, ANSWER]);
    expect(again.claims.state(job.eventId)?.status).toBe('done');
  });

  it('rewrites a saved final answer on redelivery, searching the thread for messages the claim may miss', async () => {
    // Prepare
    const saved: ClaimState = {
      status: 'answering',
      messageTs: ['1700000001.000001'],
      admitted: true,
      final: { markdown: ANSWER, remember: true },
    };
    const w = answerWorld([], { claims: memoryClaims({ [job.eventId]: saved }), receiveCount: 2 });
    // Act
    const outcome = await answerMention(job, w.deps);
    // Assess
    expect(outcome).toBe('answered');
    expect(w.model.calls).toHaveLength(0);
    expect(w.replies.opened[0]!.resume).toMatchObject({
      previous: { messageTs: ['1700000001.000001'] },
      lookInThread: true,
    });
    expect(w.replies.reply.finished).toMatchObject({ markdown: ANSWER, feedback: true });
    expect(w.claims.state(job.eventId)?.status).toBe('done');
  });
});

describe('answerMention: Momento fails', () => {
  it('answers a first receive without a claim or memory', async () => {
    // Prepare
    const claims = memoryClaims();
    const history = memoryHistory();
    claims.down = true;
    history.down = true;
    const w = answerWorld([{ text: ANSWER, finishReason: 'stop' }], { claims, history });
    // Act
    const outcome = await answerMention(job, w.deps);
    // Assess
    expect(outcome).toBe('answered');
    expect(w.replies.opened[0]!.resume.lookInThread).toBe(false);
    expect(w.replies.reply.finished).toMatchObject({ markdown: ANSWER, feedback: true });
    expect(w.logger.at('WARN').map((e) => e.message)).toContain(
      'Momento unavailable; answering without an exactly-once claim',
    );
  });

  it('sends a later receive back to the queue: an earlier attempt may have posted', async () => {
    // Prepare
    const claims = memoryClaims();
    claims.down = true;
    const w = answerWorld([], { claims, receiveCount: 2 });
    // Act
    const answered = answerMention(job, w.deps);
    // Assess
    await expect(answered).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(w.replies.opened).toHaveLength(0);
    expect(w.model.calls).toHaveLength(0);
  });
});
