import { toMrkdwn } from '../../lib/slack/mrkdwn';
import { answerOfLength } from '../../sandbox/peers/openai-peer';
import type { SlackCall } from '../../sandbox/peers/slack-peer';
import { workerHarness } from '../support/worker-harness';

// Faults on the reply path a review reproduced (through the real worker, SDKs and local peers):
// each shows one reply, whole, nothing left streaming, the user's Stop kept, nothing slept long.
const h = workerHarness({ name: 'faults', defaults: { streaming: 'auto' } });
const { build, enqueue, deliver, redeliver, botMessages } = h;

let team = 0;
beforeEach(() => {
  team++;
});
const job: typeof h.job = (overrides) => h.job({ teamId: `T0FAULTS${team}`, ...overrides });

/** Runs `fn` on every Slack call of `method` while `body` runs. */
async function onEachCall<T>(
  method: string,
  fn: (call: SlackCall) => void,
  body: () => Promise<T>,
): Promise<T> {
  const listener = (call: SlackCall) => {
    if (call.method === method) fn(call);
  };
  h.stack.slack.on('call', listener);
  try {
    return await body();
  } finally {
    h.stack.slack.off('call', listener);
  }
}

describe('a lost stream start whose search fails', () => {
  it('does not post a second reply next to a stream left "streaming"', async () => {
    // Prepare: the stream starts in Slack but its answer comes after the client's timeout; the
    // thread cannot be read right then (conversations.replies is rate limited: distributed apps
    // get 1 a minute).
    build({ slackTimeoutMs: 300 });
    const j = job();
    h.stack.slack.seedMessage({ channel: j.channel, ts: j.ts, user: j.user, text: j.text });
    const answer = answerOfLength(600);
    h.stack.openai!.setAnswer(answer);
    h.stack.slack.failNext('chat.startStream', { lateMs: 1_000 });
    await enqueue(j);
    // Act
    // The thread context is read before the model answers: the failures are set once it was.
    const first = await onEachCall(
      'assistant.threads.setStatus',
      () => h.stack.slack.failNext('conversations.replies', { rateLimited: { retryAfter: 60 } }, 2),
      () => deliver(),
    );
    // If the attempt was handed back (the right call while the stream's existence is unknown),
    // let the redelivery finish it.
    if (first.response.batchItemFailures.length > 0) {
      h.stack.slack.recover();
      await redeliver(first, 2);
    }
    // Assess: one reply, the whole answer, nothing left streaming.
    const replies = botMessages(j).filter((m) => m.ts !== j.ts);
    expect(replies.filter((m) => m.streaming === 'in_progress').map((m) => m.text.length)).toEqual([]);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text.replace(/\s+/g, '')).toBe(toMrkdwn(answer).replace(/\s+/g, ''));
  });
});

describe('Slack ends a message as full and its stop fails', () => {
  it('leaves no message "streaming" when the answer continues in a new one', async () => {
    // Prepare: an append answers msg_too_long (Slack counts the message as full before we do);
    // stopping that message then fails with internal_error on every try.
    const j = job();
    const answer = answerOfLength(3_000);
    h.stack.openai!.setAnswer(answer);
    h.stack.openai!.setTokenDelay(1);
    await enqueue(j);
    // Act
    const listener = (call: SlackCall) => {
      if (call.method === 'chat.startStream' && call.response.ok)
        h.stack.slack.failNext('chat.appendStream', { error: 'msg_too_long' });
      if (call.method === 'chat.appendStream' && call.response.error === 'msg_too_long')
        h.stack.slack.failNext('chat.stopStream', { error: 'internal_error' }, 4);
    };
    h.stack.slack.on('call', listener);
    const { response } = await deliver().finally(() => h.stack.slack.off('call', listener));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const messages = botMessages(j);
    expect(messages.filter((m) => m.streaming === 'in_progress').map((m) => m.ts)).toEqual([]);
  });
});

describe('the edit path after Slack rate limited a streaming edit', () => {
  it('hands a final edit that would wait out a long Retry-After back to the queue instead of sleeping', async () => {
    // Prepare: the first streaming chat.update gets a 429 with Retry-After 12 s (longer than a final
    // write may wait for its turn: MAX_BUDGET_WAIT_MS, 5 s).
    build({ streaming: 'edit' });
    const j = job();
    const answer = answerOfLength(400);
    h.stack.openai!.setAnswer(answer);
    h.stack.openai!.setTokenDelay(1);
    h.stack.slack.failNext('chat.update', { rateLimited: { retryAfter: 12 } });
    await enqueue(j);
    // Act
    const first = await deliver();
    // Assess: the record goes back to the queue rather than sleeping ~12 s in a billed invocation.
    const finalUpdates = h.stack.slack.callsTo('chat.update').filter((c) => c.status === 200);
    expect({
      handedBack: first.response.batchItemFailures.length,
      editsMadeInThisInvocation: finalUpdates.length,
    }).toEqual({ handedBack: 1, editsMadeInThisInvocation: 0 });
  }, 60_000);
});

describe('Stop pressed while the model fails', () => {
  it('does not write a new answer over the answer the user stopped', async () => {
    // Prepare: the stream starts and the user presses Stop at once; the model's stream breaks
    // after a few tokens on both tries of this receive (before the next append would have seen
    // the Stop), so the record is handed back to retry.
    const j = job();
    const answer = answerOfLength(600);
    h.stack.openai!.setAnswer(answer);
    h.stack.openai!.setTokenDelay(20);
    h.stack.openai!.failNext({ dropAfterTokens: 3 }, 2);
    await enqueue(j);
    const first = await onEachCall(
      'chat.startStream',
      (call) => {
        if (call.response.ok) h.stack.slack.pressStop(j.channel, String(call.response.ts));
      },
      () => deliver(),
    );
    const stopped = botMessages(j).map((m) => ({ ts: m.ts, text: m.text }));
    // Act: if the record came back, its redelivery (the model works again).
    if (first.response.batchItemFailures.length > 0) await redeliver(first, 2);
    // Assess: what the user stopped stays as it was; no full answer is written over it.
    const after = botMessages(j);
    expect(after.map((m) => ({ ts: m.ts, text: m.text }))).toEqual(stopped);
    expect(after.map((m) => m.text).join('')).not.toContain(answer.slice(-40));
  });
});

describe('Slack’s documented rate_limited answer to chat.postMessage', () => {
  it('is retried later, not taken as a refusal that ends the event without a reply', async () => {
    // Prepare: chat.postMessage answers `{ok: false, error: "rate_limited"}` ("Application has
    // posted too many messages": https://docs.slack.dev/reference/methods/chat.postMessage#errors)
    // for the placeholder of an answer on the edit path.
    build({ streaming: 'edit' });
    const j = job();
    h.stack.openai!.setAnswer('A short answer.');
    h.stack.slack.failNext('chat.postMessage', { error: 'rate_limited' });
    await enqueue(j);
    // Act
    const first = await deliver();
    if (first.response.batchItemFailures.length > 0) await redeliver(first, 2);
    // Assess: the question is answered once.
    expect(botMessages(j).map((m) => m.text)).toEqual(['A short answer.']);
  });
});

describe('the edit path when a message can no longer be edited', () => {
  it('does not leave the stale placeholder next to the reposted answer (edit_window_closed)', async () => {
    // Prepare: the workspace limits how long messages may be edited; the final chat.update of the
    // placeholder is refused with edit_window_closed.
    build({ streaming: 'edit' });
    const j = job();
    h.stack.openai!.setAnswer('A short answer.');
    await enqueue(j);
    // Act
    let placeholderPosted = false;
    const { response } = await onEachCall(
      'chat.postMessage',
      () => {
        if (!placeholderPosted) h.stack.slack.failNext('chat.update', { error: 'edit_window_closed' });
        placeholderPosted = true;
      },
      () => deliver(),
    );
    // Assess: one reply.
    expect(response.batchItemFailures).toEqual([]);
    expect(botMessages(j).map((m) => m.text)).toEqual(['A short answer.']);
  });
});
