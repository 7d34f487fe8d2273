import { toMrkdwn } from '../../lib/slack/mrkdwn';
import { lambdaContext } from '../../sandbox/lambda-context';
import { answerOfLength } from '../../sandbox/peers/openai-peer';
import type { SlackCall } from '../../sandbox/peers/slack-peer';
import { workerHarness } from '../support/worker-harness';

// An answer must never take over another question's answer in the same thread, and a stream whose
// stop keeps failing must not stay "streaming" with part of the answer. Each case as a review
// reproduced it, through the real worker and SDKs.
const h = workerHarness({ name: 'ownership', defaults: { streaming: 'auto' } });
const { build, enqueue, deliver, redeliver, botMessages } = h;

/** Each test in its own workspace, so a remembered streaming refusal never carries over. */
let team = 0;
beforeEach(() => {
  team++;
});

/** Two questions in one thread: Alice asks first, Bob asks before Alice's answer starts. */
function twoQuestions() {
  const a = h.job({
    teamId: `T0OWN${team}`,
    user: 'U0ALICE',
    text: `<@${h.stack.slack.botUserId}> Question A?`,
  });
  const b = h.job({
    teamId: a.teamId,
    threadTs: a.threadTs,
    ts: `${a.ts.split('.')[0]}.000200`,
    user: 'U0BOB',
    text: `<@${h.stack.slack.botUserId}> Question B?`,
  });
  for (const j of [a, b])
    h.stack.slack.seedMessage({
      channel: j.channel,
      ts: j.ts,
      thread_ts: a.threadTs,
      user: j.user,
      text: j.text,
    });
  return { a, b };
}

const ANSWER_A = `Answer A. ${answerOfLength(1_500)}`;
const ANSWER_B = `Answer B. ${answerOfLength(1_500)}`;

/** The model answers each question with its own text, slowly enough for Stop to land mid-stream. */
function answers() {
  h.stack.openai!.setAnswer((req) =>
    String(req.messages.at(-1)!.content).includes('Question A') ? ANSWER_A : ANSWER_B,
  );
  h.stack.openai!.setTokenDelay(1);
}

/** Delivers the next record while the user presses Stop as soon as its stream starts. */
async function deliverPressingStop() {
  const onCall = (call: SlackCall) => {
    if (call.method === 'chat.startStream' && call.response.ok) {
      h.stack.slack.pressStop(String(call.args.channel), String(call.response.ts));
    }
  };
  h.stack.slack.on('call', onCall);
  try {
    return await deliver();
  } finally {
    h.stack.slack.off('call', onCall);
  }
}

/** Whether `texts` show `answer` whole and once, as streamed (Markdown) or rewritten (mrkdwn). */
function showsWholeOnce(texts: string[], answer: string): boolean {
  const shown = texts.join('').replace(/\s+/g, '');
  return shown === answer.replace(/\s+/g, '') || shown === toMrkdwn(answer).replace(/\s+/g, '');
}

/**
 * Asserts that Alice's stopped message in `a`'s thread is as she left it and that the bot's other
 * messages show Bob's answer whole and once; returns those other messages.
 */
function expectAliceKeptBobWhole(
  a: ReturnType<typeof twoQuestions>['a'],
  stoppedA: { ts: string; text: string },
) {
  const after = botMessages(a);
  expect(after.find((m) => m.ts === stoppedA.ts)).toMatchObject({ text: stoppedA.text, deleted: false });
  const bobs = after.filter((m) => m.ts !== stoppedA.ts);
  expect(
    showsWholeOnce(
      bobs.map((m) => m.text),
      ANSWER_B,
    ),
  ).toBe(true);
  return bobs;
}

describe('an answer never takes over another question’s answer', () => {
  it('a redelivered answer leaves the stopped answer of an earlier question alone', async () => {
    // Prepare: Alice's answer streams and she presses Stop: her message stays, untagged.
    const { a, b } = twoQuestions();
    answers();
    await enqueue(a);
    await deliverPressingStop();
    const [stoppedA] = botMessages(a);
    expect(stoppedA?.streaming).toBe('stopped_by_user');
    // Bob's model fails on every try of the first receive: the record goes back to the queue.
    h.stack.openai!.failNext({ status: 500 }, 4);
    await enqueue(b);
    const first = await deliver();
    expect(first.response.batchItemFailures).toHaveLength(1);
    // Act: the redelivery, with the model back.
    const again = await redeliver(first, 2);
    // Assess: Alice's message is as she stopped it; Bob's answer is one reply of its own.
    expect(again.batchItemFailures).toEqual([]);
    expectAliceKeptBobWhole(a, stoppedA!);
  });

  it('a redelivery that searches the thread leaves alone an earlier question’s stream, whatever its receive time', async () => {
    // Prepare: Alice presses Stop on her stream (her message stays, untagged).
    const { a, b } = twoQuestions();
    answers();
    await enqueue(a);
    const firstA = await deliverPressingStop();
    const [stoppedA] = botMessages(a);
    expect(stoppedA?.streaming).toBe('stopped_by_user');
    // Bob's model fails on every try: his record goes back. His claim then loses its last save (the
    // hand-back), so his redelivery searches the thread.
    h.stack.openai!.failNext({ status: 500 }, 4);
    await enqueue(b);
    const firstB = await deliver();
    expect(firstB.response.batchItemFailures).toHaveLength(1);
    await h.withClaims(async (claims) => {
      const claim = await claims.claim(b.eventId);
      if (claim.fresh) throw new Error('Bob’s claim should exist');
      await claims.save(b.eventId, { ...claim.state, handedBack: false });
    });
    // Act: the redelivery's record says it was first received with Alice's (one batch of the
    // thread, or a redrive from the dead-letter queue): before her stream was created.
    const firstReceived = firstA.event.Records[0]!.attributes.ApproximateFirstReceiveTimestamp;
    const again = await h.handler(
      {
        Records: firstB.event.Records.map((r) => ({
          ...r,
          attributes: {
            ...r.attributes,
            ApproximateReceiveCount: '2',
            ApproximateFirstReceiveTimestamp: firstReceived,
          },
        })),
      },
      lambdaContext('worker', 120_000),
    );
    // Assess
    expect(again?.batchItemFailures).toEqual([]);
    expectAliceKeptBobWhole(a, stoppedA!);
  });

  it('a stream start whose answer was lost finds its own stream, not the earlier question’s stopped one', async () => {
    // Prepare: Alice stops her answer; Bob's stream starts, but Slack's answer comes too late.
    build({ slackTimeoutMs: 300 });
    const { a, b } = twoQuestions();
    answers();
    await enqueue(a);
    await deliverPressingStop();
    const [stoppedA] = botMessages(a);
    h.stack.slack.failNext('chat.startStream', { lateMs: 1_000 });
    await enqueue(b);
    // Act
    const { response } = await deliver();
    // Assess: Bob's whole answer, not 9 characters "stopped by the user"; Alice's untouched.
    expect(response.batchItemFailures).toEqual([]);
    const bobs = expectAliceKeptBobWhole(a, stoppedA!);
    expect(bobs.filter((m) => m.streaming === 'in_progress' || m.streaming === 'stopped_by_user')).toEqual(
      [],
    );
  });
});

describe('a stream whose stop keeps failing', () => {
  it('goes back to the queue instead of showing part of the answer forever; the redelivery stops and rewrites it', async () => {
    // Prepare: every chat.stopStream of the first receive answers HTTP 500.
    const j = h.job({ teamId: `T0OWN${team}` });
    h.stack.openai!.setAnswer('A full answer, in several words.');
    h.stack.slack.failNext('chat.stopStream', { status: 500 }, 1_000);
    await enqueue(j);
    // Act
    const first = await deliver();
    // Assess: not done; the stream waits for the redelivery.
    expect(first.response.batchItemFailures).toHaveLength(1);
    // Act: Slack recovers; the redelivery.
    h.stack.slack.recover();
    const again = await redeliver(first, 2);
    // Assess: one reply, the whole answer, nothing streaming.
    expect(again.batchItemFailures).toEqual([]);
    const messages = botMessages(j);
    expect(messages.map((m) => m.text)).toEqual(['A full answer, in several words.']);
    expect(messages[0]!.streaming).toBe('stopped');
  });
});
