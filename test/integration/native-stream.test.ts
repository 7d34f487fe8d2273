import { feedbackBlock } from '../../lib/slack/feedback-block';
import { toMrkdwn } from '../../lib/slack/mrkdwn';
import { STOPPED_NOTICE, STREAMING_REFUSED_NOTE, THINKING_STATUS } from '../../lib/worker/notices';
import { answerOfLength } from '../../sandbox/peers/openai-peer';
import { type SlackCall, STREAM_IDLE_LIMIT_MS } from '../../sandbox/peers/slack-peer';
import { workerHarness } from '../support/worker-harness';

/** Added to the Slack peer's clock, to make its streams go stale. */
let skewMs = 0;
const h = workerHarness({
  name: 'native',
  stack: { slackNow: () => Date.now() + skewMs },
  defaults: { streaming: 'auto' },
});
const { build, enqueue, deliver, withClaims, botMessages } = h;

/** Each test in its own workspace: a workspace remembered as refusing streams stays so for hours. */
let team = 0;
const job: typeof h.job = (overrides) => h.job({ teamId: `T0NATIVE${team}`, ...overrides });

beforeEach(() => {
  skewMs = 0;
  team++;
});

const ANSWER = 'A **FIFO** queue keeps the order of messages within a group.';

/**
 * Whether `texts`, the reply's messages, show `answer` whole and once: as streamed (Markdown) or as
 * rewritten exactly on the edit path (mrkdwn), whichever way the reply had to go. Compared without
 * white space, which splitting into messages changes.
 */
function showsWholeOnce(texts: string[], answer: string): boolean {
  const shown = texts.join('').replace(/\s+/g, '');
  return shown === answer.replace(/\s+/g, '') || shown === toMrkdwn(answer).replace(/\s+/g, '');
}

/** Delivers `j` while the user presses Stop as soon as its stream starts. */
async function pressingStopOnStart(j: ReturnType<typeof job>) {
  const onCall = (call: SlackCall) => {
    if (call.method === 'chat.startStream') h.stack.slack.pressStop(j.channel, String(call.response.ts));
  };
  h.stack.slack.on('call', onCall);
  try {
    return await deliver();
  } finally {
    h.stack.slack.off('call', onCall);
  }
}

/** What an attempt that died mid-stream leaves in Slack: a stream with part of the answer, still open. */
function streamLeftOpen(j: ReturnType<typeof job>) {
  return h.slackClient().chat.startStream({
    channel: j.channel,
    thread_ts: j.threadTs,
    markdown_text: 'A FIFO que',
    recipient_user_id: j.user,
    recipient_team_id: j.teamId,
  });
}

describe('native streaming: the answer streams into one message', () => {
  it('shows a status, streams the answer to the asking user, and stops with the feedback buttons', async () => {
    // Prepare
    const j = job({ userTeamId: 'T0OTHER' });
    h.stack.openai!.setAnswer(ANSWER);
    h.stack.openai!.setTokenDelay(5);
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [status] = h.stack.slack.callsTo('assistant.threads.setStatus');
    expect(status!.args).toMatchObject({
      channel_id: j.channel,
      thread_ts: j.threadTs,
      status: THINKING_STATUS.text,
      loading_messages: THINKING_STATUS.loadingMessages,
    });
    const [start, ...moreStarts] = h.stack.slack.callsTo('chat.startStream');
    expect(moreStarts).toEqual([]);
    expect(start!.at).toBeGreaterThan(status!.at);
    // In a channel the stream names its recipient: the asking user and that user's own team.
    expect(start!.args).toMatchObject({
      channel: j.channel,
      thread_ts: j.threadTs,
      recipient_user_id: 'U0ASKER',
      recipient_team_id: 'T0OTHER',
    });
    const [reply, ...others] = botMessages(j);
    expect(others).toEqual([]);
    expect(reply).toMatchObject({ text: ANSWER, streaming: 'stopped', blocks: [feedbackBlock()] });
    expect(h.stack.slack.callsTo('chat.postMessage')).toEqual([]);
    expect(h.stack.slack.callsTo('chat.update')).toEqual([]);
    expect(h.stack.slack.status(j.channel, j.threadTs)).toBe('');
  });

  it('streams a DM without naming a recipient, and titles the new conversation from its question', async () => {
    // Prepare
    const j = job({ channel: 'D0DM', isDm: true, text: 'How do FIFO queues keep order?' });
    await enqueue(j);
    // Act
    await deliver();
    // Assess
    const [start] = h.stack.slack.callsTo('chat.startStream');
    expect(start!.args.recipient_user_id).toBeUndefined();
    expect(botMessages(j)).toHaveLength(1);
    expect(h.stack.slack.title(j.channel, j.threadTs)).toBe('How do FIFO queues keep order?');
    // Act: a follow-up in the same conversation keeps its title.
    await enqueue(job({ channel: 'D0DM', isDm: true, threadTs: j.threadTs, text: 'And why?' }));
    await deliver();
    // Assess
    expect(h.stack.slack.callsTo('assistant.threads.setTitle')).toHaveLength(1);
  });

  it('appends at most once per append interval, coalescing tokens', async () => {
    // Prepare: 120 tokens at 10 ms each, about 1.2 s of streaming.
    const j = job();
    h.stack.openai!.setAnswer(Array.from({ length: 120 }, (_, i) => `w${i}`).join(' '));
    h.stack.openai!.setTokenDelay(10);
    await enqueue(j);
    // Act
    await deliver();
    // Assess: a handful of appends, not one per token, never more than 2 in a second (one per
    // 600 ms), and the text whole.
    const appends = h.stack.slack.callsTo('chat.appendStream');
    expect(appends.length).toBeGreaterThan(0);
    expect(appends.length).toBeLessThan(10);
    const inAnySecond = Math.max(
      ...appends.map((a) => appends.filter((b) => b.at >= a.at && b.at < a.at + 1000).length),
    );
    expect(inAnySecond).toBeLessThanOrEqual(2);
    expect(botMessages(j)[0]!.text).toBe(Array.from({ length: 120 }, (_, i) => `w${i}`).join(' '));
  });

  it('neutralises mentions the model writes', async () => {
    // Prepare
    const j = job();
    h.stack.openai!.setAnswer('Sure: <!channel> <!here> <@U0ALICE> see <https://example.com|docs>');
    await enqueue(j);
    // Act
    await deliver();
    // Assess
    const text = botMessages(j)[0]!.text;
    expect(text).not.toMatch(/<!|<@/);
    expect(text).toContain('<https://example.com|docs>');
  });

  it('delivers the whole answer when the stop of a full message is lost on the way', async () => {
    // Prepare: stopping the first, full message reaches Slack, but its answer comes after the
    // client's timeout.
    build({ slackTimeoutMs: 300 });
    const j = job();
    const long = answerOfLength(15_000);
    h.stack.openai!.setAnswer(long);
    h.stack.slack.failNext('chat.stopStream', { lateMs: 1_000 });
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const messages = botMessages(j);
    // What the user sees: the whole answer, once, nothing left "streaming" (the repair on the edit
    // path may or may not have been needed, depending on when the late answer arrived).
    expect(
      showsWholeOnce(
        messages.map((m) => m.text),
        long,
      ),
    ).toBe(true);
    expect(messages.filter((m) => m.streaming === 'in_progress')).toEqual([]);
  });

  it('delivers a 15,000-character answer whole, continuing in a second stream message', async () => {
    // Prepare
    const j = job();
    const long = answerOfLength(15_000);
    h.stack.openai!.setAnswer(long);
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const messages = botMessages(j);
    expect(messages).toHaveLength(2);
    expect(messages.map((m) => m.text).join('')).toBe(long);
    expect(messages.every((m) => m.streaming === 'stopped')).toBe(true);
    expect(messages[1]!.blocks).toEqual([feedbackBlock()]);
  });

  it('continues in a new message when the stream expires mid-answer, losing nothing', async () => {
    // Prepare: the first append finds the stream gone stale (Slack's clock jumps past its idle limit).
    const j = job();
    h.stack.openai!.setAnswer(ANSWER);
    h.stack.openai!.setTokenDelay(20);
    const onCall = (call: { method: string }) => {
      if (call.method === 'chat.startStream') skewMs = STREAM_IDLE_LIMIT_MS + 1_000;
    };
    h.stack.slack.on('call', onCall);
    await enqueue(j);
    // Act
    const { response } = await deliver();
    h.stack.slack.off('call', onCall);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const messages = botMessages(j);
    expect(messages.length).toBeGreaterThanOrEqual(2);
    expect(messages.map((m) => m.text).join('')).toBe(ANSWER);
    expect(messages.at(-1)!.blocks).toEqual([feedbackBlock()]);
  });
});

describe('native streaming: fallback to the edit path', () => {
  it.each([
    'feature_not_enabled',
    'unknown_method',
    'method_deprecated',
    'not_allowed_token_type',
    'channel_type_not_supported',
  ])(
    'continues on the edit path when chat.startStream answers %s, nothing lost or doubled',
    async (slackError) => {
      // Prepare
      const j = job();
      h.stack.openai!.setAnswer(ANSWER);
      h.stack.slack.failNext('chat.startStream', { error: slackError });
      await enqueue(j);
      // Act
      const { response } = await deliver();
      // Assess
      expect(response.batchItemFailures).toEqual([]);
      const [reply, ...others] = botMessages(j);
      expect(others).toEqual([]);
      expect(reply!.text).toBe(toMrkdwn(ANSWER));
      expect(reply!.blocks?.at(-1)).toEqual(feedbackBlock());
    },
  );

  it('remembers a workspace without streaming and goes straight to the edit path next time', async () => {
    // Prepare: the first answer learns that streaming is off here.
    h.stack.slack.disable('streaming');
    await enqueue(job());
    await deliver();
    const refusedStarts = h.stack.slack.callsTo('chat.startStream').length;
    // Act
    const second = job();
    await enqueue(second);
    await deliver();
    // Assess
    expect(refusedStarts).toBe(1);
    expect(h.stack.slack.callsTo('chat.startStream')).toHaveLength(1);
    expect(botMessages(second)).toHaveLength(1);
  });

  it('does not remember a refusal tied to one channel', async () => {
    // Prepare
    h.stack.slack.failNext('chat.startStream', { error: 'channel_type_not_supported' });
    await enqueue(job());
    await deliver();
    // Act
    await enqueue(job());
    await deliver();
    // Assess
    expect(h.stack.slack.callsTo('chat.startStream')).toHaveLength(2);
  });

  it('with SLACK_STREAMING=native, posts a clear note instead of falling back, and completes', async () => {
    // Prepare
    build({ streaming: 'native' });
    h.stack.slack.disable('streaming');
    const j = job();
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(botMessages(j).map((m) => m.text)).toEqual([STREAMING_REFUSED_NOTE]);
    expect(h.stack.slack.callsTo('chat.update')).toEqual([]);
  });
});

describe('native streaming: Stop, crashes and lost answers', () => {
  it('aborts the model when the user presses Stop, keeps what was shown and remembers it', async () => {
    // Prepare: the user presses Stop right after the stream starts.
    const j = job();
    h.stack.openai!.setAnswer(answerOfLength(3_000));
    h.stack.openai!.setTokenDelay(5);
    await enqueue(j);
    // Act
    const { response } = await pressingStopOnStart(j);
    // Assess: done, no error, and the model was cut off early.
    expect(response.batchItemFailures).toEqual([]);
    const request = h.stack.openai!.requests[0]!;
    expect(request.abortedAt).toBeDefined();
    expect(request.tokensSent!).toBeLessThan(200);
    const appendsAfterStop = h.stack.slack.calls.filter(
      (c) => c.method.endsWith('Stream') && c.response.error === undefined && c.method !== 'chat.startStream',
    );
    expect(appendsAfterStop).toEqual([]);
    const [reply, ...others] = botMessages(j);
    expect(others).toEqual([]);
    expect(reply!.text).not.toContain(STOPPED_NOTICE);
    // The partial answer is in the thread's memory: the next question sees it.
    h.stack.openai!.setAnswer('ok');
    const follow = job({ threadTs: j.threadTs, text: 'and then?' });
    await enqueue(follow);
    await deliver();
    const memory = h.stack.openai!.requests[1]!.body.messages;
    expect(memory.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(String(memory[2]!.content).length).toBeGreaterThan(0);
  });

  it('ends as the user stopped it when Stop comes after the last append', async () => {
    // Prepare: a short answer, all of it in chat.startStream; Stop is pressed before chat.stopStream.
    const j = job();
    h.stack.openai!.setAnswer('A short answer.');
    await enqueue(j);
    // Act
    const { response } = await pressingStopOnStart(j);
    // Assess: done, no error, what was shown kept, and remembered.
    expect(response.batchItemFailures).toEqual([]);
    const [reply, ...others] = botMessages(j);
    expect(others).toEqual([]);
    expect(reply!.text.length).toBeGreaterThan(0);
    expect('A short answer.'.startsWith(reply!.text)).toBe(true);
    expect(h.stack.slack.callsTo('chat.stopStream').map((c) => c.response.error)).toEqual([
      'stopped_by_user',
    ]);
    h.stack.openai!.setAnswer('ok');
    await enqueue(job({ threadTs: j.threadTs, text: 'and then?' }));
    await deliver();
    expect(h.stack.openai!.requests[1]!.body.messages.map((m) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'user',
    ]);
  });

  it('after a crash mid-stream, the redelivery stops the stale stream and answers in it: one reply', async () => {
    // Prepare: what an attempt that died mid-stream leaves: an open stream and its ts in the claim.
    const j = job();
    const started = await streamLeftOpen(j);
    await withClaims(async (claims) => {
      await claims.claim(j.eventId);
      await claims.save(j.eventId, { status: 'answering', messageTs: [started.ts!], path: 'native' });
    });
    h.stack.openai!.setAnswer(ANSWER);
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [reply, ...others] = botMessages(j);
    expect(others).toEqual([]);
    expect(reply).toMatchObject({ ts: started.ts, streaming: 'stopped' });
    expect(reply!.text).toBe(toMrkdwn(ANSWER));
  });

  it('after a crash whose claim never recorded the stream, finds it in the thread: one reply', async () => {
    // Prepare: the stream started, but saving its ts failed before the crash.
    const j = job();
    h.stack.slack.seedMessage({ channel: j.channel, ts: j.ts, user: j.user, text: j.text });
    const started = await streamLeftOpen(j);
    await withClaims((claims) => claims.claim(j.eventId));
    h.stack.openai!.setAnswer(ANSWER);
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const replies = botMessages(j).filter((m) => m.ts !== j.ts);
    expect(replies.map((m) => m.ts)).toEqual([started.ts]);
    expect(replies[0]).toMatchObject({ streaming: 'stopped', text: toMrkdwn(ANSWER) });
  });

  it('rewrites the reply exactly when an append’s answer was lost', async () => {
    // Prepare: an append that Slack applied but whose answer came after the client's timeout.
    build({ slackTimeoutMs: 300 });
    const j = job();
    const answer = answerOfLength(2_000);
    h.stack.openai!.setAnswer(answer);
    h.stack.openai!.setTokenDelay(2);
    h.stack.slack.failNext('chat.appendStream', { lateMs: 1_000 });
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess: one message, whole and exact, and not left streaming.
    expect(response.batchItemFailures).toEqual([]);
    const [reply, ...others] = botMessages(j);
    expect(others).toEqual([]);
    expect(reply!.streaming).toBe('stopped');
    expect(reply!.text).toBe(toMrkdwn(answer));
    expect(h.stack.slack.callsTo('chat.update').length).toBeGreaterThan(0);
  });
});
