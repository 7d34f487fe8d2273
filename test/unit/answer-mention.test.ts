import { SlackCallError } from '../../lib/errors';
import type { Turn } from '../../lib/llm/prompt';
import { answerMention } from '../../lib/worker/answer-mention';
import {
  EMPTY_ANSWER_NOTICE,
  EMPTY_QUESTION_REPLY,
  LENGTH_NOTICE,
  STOPPED_NOTICE,
} from '../../lib/worker/notices';
import { ANSWER, answerWorld, job, QUESTION, SYSTEM_PROMPT, threadOf, USAGE } from '../support/answer-world';
import { knownNames, memoryThread, threadMessage } from '../support/context-fakes';
import { answerJob, fakeAssistant } from '../support/fakes';
import { memoryClaims, memoryHistory } from '../support/store-fakes';

/**
 * The answer story (lib/worker/answer-mention.ts) over in-memory fakes of its ports, when it goes
 * as planned: what the user sees in the thread, what the claim and the thread's memory hold
 * afterwards. No sockets, no peers, no clocks. Failures: answer-mention-failures.test.ts.
 */

describe('answerMention: a question answered', () => {
  it('answers a fresh question in its thread, with feedback buttons, and remembers it', async () => {
    // Prepare
    const w = answerWorld([{ text: ANSWER, finishReason: 'stop', usage: USAGE }]);
    // Act
    const outcome = await answerMention(job, w.deps);
    // Assess
    expect(outcome).toBe('answered');
    expect(w.model.calls[0]!.messages).toEqual([
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: QUESTION },
    ]);
    const reply = w.replies.reply;
    expect(reply.shown.at(-1)).toBe(ANSWER);
    expect(reply.finished).toEqual({ kind: 'finish', markdown: ANSWER, notice: undefined, feedback: true });
    const saved = w.claims.savedFor(job.eventId);
    expect(saved.map((s) => [s.status, s.final?.markdown])).toEqual([
      ['answering', undefined],
      ['answering', ANSWER],
      ['done', ANSWER],
    ]);
    expect(saved.at(-1)).toMatchObject({ messageTs: reply.messageTs, admitted: true });
    expect(w.history.turns(threadOf(job))).toEqual([
      { role: 'user', content: QUESTION, ts: job.ts },
      { role: 'assistant', content: ANSWER, ts: reply.messageTs[0] },
    ]);
    expect(w.governance.recorded).toEqual([USAGE]);
  });

  it('remembers the thread messages the model was given, then the question and the answer', async () => {
    // Prepare
    const inThread = answerJob({ threadTs: '1700000000.000100', ts: '1700000000.000300', text: QUESTION });
    const thread = memoryThread([
      threadMessage('1700000000.000100', 'U0ALICE', 'Planning a trip to France.'),
    ]);
    const names = knownNames({ U0ALICE: 'Alice', U0ASKER: 'Carol' }).names;
    const w = answerWorld([{ text: ANSWER, finishReason: 'stop' }], {
      context: { threads: thread.reader, names },
    });
    // Act
    await answerMention(inThread, w.deps);
    // Assess
    expect(w.history.turns(threadOf(inThread))).toEqual([
      { role: 'user', content: 'Alice: Planning a trip to France.', ts: '1700000000.000100', thread: true },
      { role: 'user', content: `Carol: ${QUESTION}`, ts: inThread.ts },
      { role: 'assistant', content: ANSWER, ts: w.replies.reply.messageTs[0] },
    ]);
  });

  it('logs neither the question nor the answer', async () => {
    // Prepare
    const w = answerWorld([{ text: ANSWER, finishReason: 'stop' }]);
    // Act
    await answerMention(job, w.deps);
    // Assess
    const logged = JSON.stringify(w.logger.entries);
    expect(w.logger.entries.length).toBeGreaterThan(0);
    expect(logged).not.toContain('capital');
  });

  it('asks the model with the channel’s own system prompt, model and temperature', async () => {
    // Prepare
    const channel = { systemPrompt: 'Answer in French.', model: 'gpt-small', temperature: 0 };
    const w = answerWorld([{ text: 'Paris.', finishReason: 'stop' }], {
      admission: { allowed: true, channel },
    });
    // Act
    await answerMention(job, w.deps);
    // Assess
    expect(w.model.calls[0]!.messages[0]).toEqual({ role: 'system', content: 'Answer in French.' });
    expect(w.model.calls[0]!.overrides).toMatchObject({ model: 'gpt-small', temperature: 0 });
  });

  it('skips a duplicate delivery of an answered event: no reply, no model call', async () => {
    // Prepare
    const claims = memoryClaims({ [job.eventId]: { status: 'done', messageTs: ['1700000001.000001'] } });
    const w = answerWorld([], { claims, receiveCount: 2 });
    // Act
    const outcome = await answerMention(job, w.deps);
    // Assess
    expect(outcome).toBe('duplicate');
    expect(w.replies.opened).toHaveLength(0);
    expect(w.governance.admitted).toHaveLength(0);
    expect(w.claims.saves).toHaveLength(0);
  });

  it('shows nothing for a question the rollout guards refuse, asks no model, and is done with it', async () => {
    // Prepare
    const w = answerWorld([], { admission: { allowed: false, reason: 'user_quota' } });
    // Act
    const outcome = await answerMention(job, w.deps);
    // Assess
    expect(outcome).toBe('refused');
    expect(w.replies.opened).toHaveLength(0);
    expect(w.model.calls).toHaveLength(0);
    expect(w.claims.state(job.eventId)).toMatchObject({ status: 'done', messageTs: [] });
    expect(w.governance.released).toEqual([job.eventId]);
  });

  it('answers a mention without a question with a short how-to, without the model, and forgets it', async () => {
    // Prepare
    const w = answerWorld([]);
    // Act
    const outcome = await answerMention(answerJob({ text: '<@UBOT>' }), w.deps);
    // Assess
    expect(outcome).toBe('answered');
    expect(w.model.calls).toHaveLength(0);
    expect(w.replies.reply.finished).toMatchObject({ markdown: EMPTY_QUESTION_REPLY, feedback: false });
    expect(w.history.turns(threadOf(job))).toEqual([]);
  });

  it.each([
    ['at the model’s length limit', 'length', 'Paris is the', LENGTH_NOTICE, true],
    ['with nothing to say', 'stop', ' ', EMPTY_ANSWER_NOTICE, false],
  ])('tells the user when the model stops %s', async (_how, finishReason, text, notice, remembered) => {
    // Prepare
    const w = answerWorld([{ text, finishReason }]);
    // Act
    await answerMention(job, w.deps);
    // Assess
    expect(w.replies.reply.finished).toMatchObject({ notice, feedback: remembered });
    expect(w.history.turns(threadOf(job))).toHaveLength(remembered ? 2 : 0);
  });

  it('keeps, remembers and counts the answer so far when the user presses Stop', async () => {
    // Prepare
    const w = answerWorld([
      async ({ onText, signal }) => {
        onText('Paris is');
        w.replies.reply.pressStop();
        // As the OpenAI adapter does: an aborted stream returns the text so far as `stopped`.
        return { text: 'Paris is', finishReason: signal?.aborted ? 'stopped' : 'stop', usage: USAGE };
      },
    ]);
    // Act
    const outcome = await answerMention(job, w.deps);
    // Assess
    expect(outcome).toBe('answered');
    expect(w.replies.reply.finished).toMatchObject({ markdown: 'Paris is', notice: STOPPED_NOTICE });
    expect(w.history.turns(threadOf(job)).at(-1)).toMatchObject({ role: 'assistant', content: 'Paris is' });
    expect(w.governance.recorded).toEqual([USAGE]);
    expect(w.claims.state(job.eventId)?.status).toBe('done');
  });

  it('titles a new DM conversation from its first question, and not one it already remembers', async () => {
    // Prepare
    const dm = answerJob({ isDm: true, channel: 'D0DIRECT', ts: '1700000000.000200', text: QUESTION });
    const newConversation = fakeAssistant();
    const oldConversation = fakeAssistant();
    const remembered: Turn[] = [{ role: 'user', content: 'Hello', ts: '1700000000.000150' }];
    const fresh = answerWorld([{ text: ANSWER, finishReason: 'stop' }], { assistant: newConversation });
    const known = answerWorld([{ text: ANSWER, finishReason: 'stop' }], {
      assistant: oldConversation,
      history: memoryHistory([[threadOf(dm), remembered]]),
    });
    // Act
    await answerMention(dm, fresh.deps);
    await answerMention(dm, known.deps);
    // Assess
    expect(newConversation.titles).toEqual([{ channel: 'D0DIRECT', threadTs: dm.threadTs, title: QUESTION }]);
    expect(oldConversation.titles).toEqual([]);
    expect(known.replies.reply.finished?.markdown).toBe(ANSWER);
  });

  it('answers a DM whose title Slack refuses', async () => {
    // Prepare
    const dm = answerJob({ isDm: true, channel: 'D0DIRECT', ts: '1700000000.000200', text: QUESTION });
    const refusal = new SlackCallError('assistant.threads.setTitle', {
      slackError: 'missing_scope',
      retryable: false,
    });
    const w = answerWorld([{ text: ANSWER, finishReason: 'stop' }], { assistant: fakeAssistant(refusal) });
    // Act
    const outcome = await answerMention(dm, w.deps);
    // Assess
    expect(outcome).toBe('answered');
    expect(w.replies.reply.finished?.markdown).toBe(ANSWER);
    expect(w.logger.at('WARN')).toContainEqual(expect.objectContaining({ slackError: 'missing_scope' }));
  });
});
