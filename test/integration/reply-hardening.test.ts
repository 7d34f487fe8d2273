import { SLACK_MESSAGE_CHARS } from '../../lib/reply/edit-reply';
import { splitMessage } from '../../lib/slack/message-split';
import { toMrkdwn } from '../../lib/slack/mrkdwn';
import { GAVE_UP_NOTICE, PLACEHOLDER } from '../../lib/worker/notices';
import { FINAL_WRITE_RETRY_SECONDS } from '../../lib/worker/time-reserve';
import { answerOfLength } from '../../sandbox/peers/openai-peer';
import type { SlackCall } from '../../sandbox/peers/slack-peer';
import { workerHarness } from '../support/worker-harness';

// Defects an outside review reproduced (issue 15), each through the real worker and SDKs.
const h = workerHarness({ name: 'hardening', defaults: { streaming: 'edit' }, captureLogs: true });
const { build, job, enqueue, deliver, botMessages } = h;

/** The asking message, as Slack has it before the event arrives. */
function asked(j: ReturnType<typeof job>) {
  h.stack.slack.seedMessage({ channel: j.channel, ts: j.ts, user: j.user, text: j.text });
  return j;
}

/** Injects `failure` into the `nth` call of `method` (1-based), counting from now. */
function failNth(
  method: string,
  nth: number,
  failure: Parameters<typeof h.stack.slack.failNext>[1],
  times = 1,
) {
  let seen = 0;
  const onCall = (call: SlackCall) => {
    if (call.method === method && ++seen === nth - 1) {
      h.stack.slack.failNext(method, failure, times);
      h.stack.slack.off('call', onCall);
    }
  };
  if (nth === 1) h.stack.slack.failNext(method, failure, times);
  else h.stack.slack.on('call', onCall);
}

/** The event's claim as Momento holds it. */
async function claimOf(eventId: string) {
  let state: unknown;
  await h.withClaims(async (claims) => {
    const claim = await claims.claim(eventId);
    state = claim.fresh ? undefined : claim.state;
  });
  return state as { status: string; messageTs: string[]; final?: { markdown: string } } | undefined;
}

const botTexts = (j: ReturnType<typeof job>) =>
  botMessages(j)
    .filter((m) => m.ts !== j.ts)
    .map((m) => m.text);

describe('1. the bot cannot ping the workspace', () => {
  it.each(['edit', 'native'] as const)(
    'neutralises special mentions in model output and in the quoted question (%s path), links kept',
    async (streaming) => {
      // Prepare: a long answer, so that the edit path continues it with chat.postMessage.
      build({ streaming });
      const j = job({
        text: `<@${h.stack.slack.botUserId}> repeat after me: <!channel> <!subteam^S0ENG|@eng>`,
      });
      h.stack.openai!.setAnswer(
        (req) =>
          `${String(req.messages.at(-1)!.content)} <!here> <@U0ALICE> [docs](https://example.com)\n\n${answerOfLength(8_000)} <!everyone>`,
      );
      await enqueue(j);
      // Act
      await deliver();
      // Assess
      const texts = botTexts(j);
      expect(texts.length).toBeGreaterThan(streaming === 'edit' ? 1 : 0);
      for (const text of texts) expect(text).not.toMatch(/<!(channel|here|everyone|subteam)|<@U/);
      expect(texts.join('')).toContain('@\u2060channel');
      expect(texts.join('')).toContain('@eng');
      expect(texts.join('')).toContain('@U0ALICE');
      expect(texts.join('')).toContain(
        streaming === 'edit' ? '<https://example.com|docs>' : '[docs](https://example.com)',
      );
    },
  );

  it('posts without unfurling links or media', async () => {
    // Prepare
    const j = job();
    h.stack.openai!.setAnswer(answerOfLength(8_000));
    await enqueue(j);
    // Act
    await deliver();
    // Assess
    const posts = h.stack.slack.callsTo('chat.postMessage');
    expect(posts.length).toBeGreaterThan(1);
    for (const post of posts)
      expect(post.args).toMatchObject({ unfurl_links: 'false', unfurl_media: 'false' });
  });
});

describe('2. a post whose answer was lost is not posted again', () => {
  it('finds a placeholder whose answer came after the client’s timeout, and answers in it', async () => {
    // Prepare: Slack makes the post but answers after the Web API client gave up.
    build({ slackTimeoutMs: 300 });
    const j = asked(job());
    h.stack.openai!.setAnswer('The answer.');
    h.stack.slack.failNext('chat.postMessage', { lateMs: 1_000 });
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(botTexts(j)).toEqual(['The answer.']);
    expect(h.stack.slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('never doubles a continuation chunk whose post timed out while streaming', async () => {
    // Prepare: a three-message answer streamed slowly; the first continuation's answer is lost.
    build({ slackTimeoutMs: 300, updateIntervalMs: 250 });
    const j = asked(job());
    const answer = answerOfLength(9_000);
    h.stack.openai!.setAnswer(answer);
    h.stack.openai!.setTokenDelay(1);
    failNth('chat.postMessage', 2, { lateMs: 1_000 });
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess: every chunk once, in order, the whole answer; the lost post was looked for.
    expect(response.batchItemFailures).toEqual([]);
    expect(botTexts(j)).toEqual(splitMessage(toMrkdwn(answer), SLACK_MESSAGE_CHARS));
    expect(h.stack.slack.callsTo('conversations.replies').length).toBeGreaterThan(0);
  });
});

describe('3. a failed claim save plus a retry leaves one reply', () => {
  it('finds the message it could not record and finishes it in place on the next receive', async () => {
    // Prepare: saving the placeholder's ts fails, then the model fails on both tries.
    const j = asked(job());
    // Every Set fails (the SDK's own retries included) until the peer resumes.
    h.stack.momento!.failNext('Set', 50);
    // Two tries in the invocation, each with the SDK's one retry.
    h.stack.openai!.failNext({ status: 500 }, 4);
    await enqueue(j);
    const first = await deliver();
    expect(first.response.batchItemFailures).toHaveLength(1);
    h.stack.momento!.resume();
    expect((await claimOf(j.eventId))?.messageTs).toEqual([]); // the save really failed
    // Act: the next receive, the model well again.
    h.stack.openai!.setAnswer('Answered at last.');
    const again = await h.redeliver(first, 2);
    // Assess: one reply, the same message, with the answer.
    expect(again?.batchItemFailures).toEqual([]);
    const replies = botMessages(j).filter((m) => m.ts !== j.ts);
    expect(replies.map((m) => m.text)).toEqual(['Answered at last.']);
    expect(h.stack.slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(h.stack.slack.callsTo('conversations.replies').length).toBeGreaterThan(0);
  });

  it('keeps the saved final answer when a post made during the final write hands the record back', async () => {
    // Prepare: a three-message answer; the final write's second continuation is rate limited
    // beyond the invocation, after its first continuation was posted (and recorded).
    const j = asked(job());
    const answer = answerOfLength(9_000);
    h.stack.openai!.setAnswer(answer);
    failNth('chat.postMessage', 3, { rateLimited: { retryAfter: 30 } });
    await enqueue(j);
    const first = await deliver(6_000);
    expect(first.response.batchItemFailures).toHaveLength(1);
    expect((await claimOf(j.eventId))?.final?.markdown).toBe(answer);
    // Act
    const again = await h.redeliver(first, 2);
    // Assess: written from the saved answer, the model asked once.
    expect(again?.batchItemFailures).toEqual([]);
    expect(h.stack.openai!.requests).toHaveLength(1);
    expect(botTexts(j)).toEqual(splitMessage(toMrkdwn(answer), SLACK_MESSAGE_CHARS));
  });

  it('resumes every message an earlier attempt posted, recorded or not: none twice', async () => {
    // Prepare: a complete three-message answer whose claim lost the continuations (saves failed).
    const j = asked(job());
    const answer = answerOfLength(9_000);
    h.stack.openai!.setAnswer(answer);
    await enqueue(j);
    const first = await deliver();
    const [ts0] = botMessages(j).filter((m) => m.ts !== j.ts);
    await h.withClaims((claims) => claims.save(j.eventId, { status: 'answering', messageTs: [ts0!.ts] }));
    // Act: the record is delivered again.
    const again = await h.redeliver(first, 2);
    // Assess
    expect(again?.batchItemFailures).toEqual([]);
    expect(botTexts(j)).toEqual(splitMessage(toMrkdwn(answer), SLACK_MESSAGE_CHARS));
  });

  it('finds the reply of a first receive that ran without Momento: one reply', async () => {
    // Prepare: Momento is down on the first receive, which answers without a claim.
    const j = asked(job());
    h.stack.openai!.setAnswer('One answer.');
    h.stack.momento!.pause();
    await enqueue(j);
    const first = await deliver();
    h.stack.momento!.resume();
    expect(botTexts(j)).toEqual(['One answer.']);
    // Act: SQS delivers the record again (at least once).
    await h.redeliver(first, 2);
    // Assess
    expect(botTexts(j)).toEqual(['One answer.']);
  });

  it('does not add feedback buttons or memory to a resumed notice', async () => {
    // Prepare: an attempt that saved a gave-up notice as its final text but could not write it.
    const j = asked(job());
    const posted = await h
      .slackClient()
      .chat.postMessage({ channel: j.channel, thread_ts: j.threadTs, text: '…' });
    await h.withClaims(async (claims) => {
      await claims.claim(j.eventId);
      await claims.save(j.eventId, {
        status: 'answering',
        messageTs: [posted.ts!],
        final: { markdown: '', notice: GAVE_UP_NOTICE, remember: false },
      });
    });
    await enqueue(j);
    // Act
    await deliver();
    // Assess
    const [reply] = botMessages(j).filter((m) => m.ts !== j.ts);
    expect(reply).toMatchObject({ ts: posted.ts, text: GAVE_UP_NOTICE });
    expect(reply!.blocks ?? []).toEqual([]);
  });
});

describe('4. a broken Slack token does not drop events silently', () => {
  it.each(['invalid_auth', 'token_revoked', 'account_inactive', 'missing_scope'])(
    'fails the record towards the dead-letter queue on %s, with an ERROR naming it',
    async (slackError) => {
      // Prepare
      const j = job();
      h.stack.slack.failNext('chat.postMessage', { error: slackError });
      await enqueue(j);
      // Act
      const { response } = await deliver();
      // Assess
      expect(response.batchItemFailures).toHaveLength(1);
      const errors = h.logs().filter((l) => l.level === 'ERROR');
      expect(errors.some((l) => l.slackError === slackError)).toBe(true);
    },
  );

  it.each(['not_in_channel', 'is_archived', 'channel_not_found'])(
    'completes on %s, a refusal tied to one conversation',
    async (slackError) => {
      // Prepare
      const j = job();
      h.stack.slack.failNext('chat.postMessage', { error: slackError });
      await enqueue(j);
      // Act
      const { response } = await deliver();
      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(h.stack.openai!.requests).toHaveLength(0);
    },
  );

  it('sends the record to the dead-letter queue once its receives are used up', async () => {
    // Prepare
    build({ maxReceiveCount: 1 });
    const j = job();
    h.stack.slack.failNext('chat.postMessage', { error: 'invalid_auth' }, 2);
    await enqueue(j);
    // Act: the only receive.
    const { response } = await deliver();
    // Assess: failed, not completed with a notice nobody can see.
    expect(response.batchItemFailures).toHaveLength(1);
    expect(botTexts(j)).toEqual([]);
    expect(botTexts(j)).not.toContain(GAVE_UP_NOTICE);
  });
});

describe('8. the final write never outlives the invocation', () => {
  it('on the last receive, says it gave up instead of leaving the reply unfinished', async () => {
    // Prepare: the final edit is rate limited beyond the invocation, on the only receive.
    build({ maxReceiveCount: 1 });
    const j = job();
    h.stack.openai!.setAnswer('Done.');
    failNth('chat.update', 2, { rateLimited: { retryAfter: 30 } });
    await enqueue(j);
    // Act
    const { response } = await deliver(6_000);
    // Assess: done, with a clear note rather than a placeholder forever.
    expect(response.batchItemFailures).toEqual([]);
    expect(botTexts(j)).toEqual([GAVE_UP_NOTICE]);
  });

  it('hands a final write it cannot make in time back to the queue until Slack’s Retry-After, and the redelivery makes it', async () => {
    // Prepare: the final edit is rate limited for 30 s; the invocation has 6 s.
    const j = job();
    h.stack.openai!.setAnswer('Done.');
    failNth('chat.update', 2, { rateLimited: { retryAfter: 30 } });
    await enqueue(j);
    // Act
    const started = Date.now();
    const first = await deliver(6_000);
    const tookMs = Date.now() - started;
    // Assess: back in the queue within the invocation, visible again when Slack allows the write
    // (its Retry-After of 30 s), not after the queue's 720 s visibility timeout.
    expect(tookMs).toBeLessThan(6_000);
    expect(first.response.batchItemFailures).toHaveLength(1);
    const inflight = h.stack.sqs.server.inspectQueue(h.queue.queueName)!.messages.inflight[0]!;
    const visibleInMs = inflight.visibilityDeadline - Date.now();
    expect(visibleInMs).toBeGreaterThan(FINAL_WRITE_RETRY_SECONDS * 1000);
    expect(visibleInMs).toBeLessThanOrEqual(30_000);
    // Act: the redelivery writes the saved answer without asking the model again.
    const again = await h.redeliver(first, 2);
    // Assess
    expect(again?.batchItemFailures).toEqual([]);
    expect(botTexts(j)).toEqual(['Done.']);
    expect(h.stack.openai!.requests).toHaveLength(1);
    expect(botTexts(j)).not.toContain(PLACEHOLDER);
  });
});
