import type { Message } from '@aws-sdk/client-sqs';
import { WebClient } from '@slack/web-api';
import { encodeJob } from '../../lib/queue/job';
import { SLACK_MESSAGE_CHARS } from '../../lib/reply/edit-reply';
import { splitMessage } from '../../lib/slack/message-split';
import { toMrkdwn } from '../../lib/slack/mrkdwn';
import { momentoEventClaims } from '../../lib/store/event-claims';
import { MomentoCache } from '../../lib/store/momento-cache';
import { createMomentoClient } from '../../lib/store/momento-client';
import { GAVE_UP_NOTICE, PLACEHOLDER, RETRYING_NOTICE } from '../../lib/worker/notices';
import { lambdaContext } from '../../sandbox/lambda-context';
import { pollOnce } from '../../sandbox/local-event-source';
import { toSqsEvent } from '../../sandbox/sqs-event';
import { workerHarness } from '../support/worker-harness';

// The edit path (post + chat.update); the native stream has its own tests.
const h = workerHarness({ name: 'worker', defaults: { streaming: 'edit' } });
const { build, job, enqueue, deliver, slackClient, withClaims, botMessages } = h;

describe('worker: a mention becomes one streamed, complete reply', () => {
  it('answers in the thread with the model’s text rendered as mrkdwn, and remembers the thread', async () => {
    // Prepare
    const first = job();
    h.stack.openai!.setAnswer('A **FIFO** queue keeps order.');
    await enqueue(first);
    // Act
    const { response } = await deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [reply, ...more] = botMessages(first);
    expect(more).toEqual([]);
    expect(reply!.text).toBe(toMrkdwn('A **FIFO** queue keeps order.'));
    expect(h.stack.slack.callsTo('chat.postMessage')[0]!.args.text).toBe(PLACEHOLDER);
    const request = h.stack.openai!.requests[0]!.body;
    expect(request.messages.at(-1)).toEqual({ role: 'user', content: 'What is a FIFO queue?' });
    expect(request.model).toBe('gpt-4o-mini');
  });

  it('sends the first question and answer to the model with the second question of a thread', async () => {
    // Prepare
    const first = job();
    const second = job({ threadTs: first.threadTs, text: `<@${h.stack.slack.botUserId}> and why?` });
    h.stack.openai!.setAnswer((req) => `answer ${req.messages.length}`);
    // Act
    await enqueue(first);
    await deliver();
    await enqueue(second);
    await deliver();
    // Assess
    const messages = h.stack.openai!.requests[1]!.body.messages.map((m) => [m.role, m.content]);
    expect(messages.slice(1)).toEqual([
      ['user', 'What is a FIFO queue?'],
      ['assistant', 'answer 2'],
      ['user', 'and why?'],
    ]);
    expect(botMessages(first).map((m) => m.text)).toEqual(['answer 2', 'answer 4']);
  });

  it('replies once when the same SQS record is delivered twice', async () => {
    // Prepare
    const j = job();
    await enqueue(j);
    const { event } = await deliver();
    // Act: at-least-once delivery hands the worker the same record again.
    const again = await h.handler(event, lambdaContext('worker', 120_000));
    // Assess
    expect(again?.batchItemFailures).toEqual([]);
    expect(botMessages(j)).toHaveLength(1);
    expect(h.stack.openai!.requests).toHaveLength(1);
  });

  it('resumes a crashed attempt by editing the reply it already posted', async () => {
    // Prepare: what an attempt that died after its placeholder leaves behind.
    const j = job();
    const slack = new WebClient(h.stack.slack.token, { slackApiUrl: h.stack.slack.url });
    const posted = await slack.chat.postMessage({
      channel: j.channel,
      thread_ts: j.threadTs,
      text: PLACEHOLDER,
    });
    const momento = createMomentoClient(h.stack.workerConfig.momento);
    const claims = momentoEventClaims(new MomentoCache(momento, h.stack.workerConfig.momento.cache));
    expect(await claims.claim(j.eventId)).toEqual({ fresh: true });
    await claims.save(j.eventId, { status: 'answering', messageTs: [posted.ts!] });
    momento.close();
    h.stack.openai!.setAnswer('The resumed answer.');
    const postsBefore = h.stack.slack.callsTo('chat.postMessage').length;
    await enqueue(j);
    // Act
    await deliver();
    // Assess
    expect(h.stack.slack.callsTo('chat.postMessage')).toHaveLength(postsBefore);
    expect(botMessages(j).map((m) => [m.ts, m.text])).toEqual([[posted.ts, 'The resumed answer.']]);
  });

  it('rewrites a saved final answer on redelivery without asking the model again', async () => {
    // Prepare: an attempt that finished the answer but failed to write it to Slack.
    const j = job();
    const posted = await slackClient().chat.postMessage({
      channel: j.channel,
      thread_ts: j.threadTs,
      text: 'partial …',
    });
    await withClaims((claims) =>
      claims.save(j.eventId, {
        status: 'answering',
        messageTs: [posted.ts!],
        final: { markdown: 'The **saved** answer.' },
      }),
    );
    await enqueue(j);
    // Act
    await deliver();
    // Assess
    expect(h.stack.openai!.requests).toHaveLength(0);
    expect(botMessages(j).map((m) => [m.ts, m.text])).toEqual([
      [posted.ts, toMrkdwn('The **saved** answer.')],
    ]);
  });

  it('posts the reply anew when the user deleted the message being edited', async () => {
    const j = job();
    const posted = await slackClient().chat.postMessage({
      channel: j.channel,
      thread_ts: j.threadTs,
      text: PLACEHOLDER,
    });
    await withClaims((claims) => claims.save(j.eventId, { status: 'answering', messageTs: [posted.ts!] }));
    await slackClient().chat.delete({ channel: j.channel, ts: posted.ts! });
    h.stack.openai!.setAnswer('Answer after a deletion.');
    await enqueue(j);
    const { response } = await deliver();
    expect(response.batchItemFailures).toEqual([]);
    expect(botMessages(j).map((m) => m.text)).toEqual(['Answer after a deletion.']);
  });

  it('shows the first text right after the first token and then edits at most once a second', async () => {
    // Prepare: 200 tokens at 20 ms each, about four seconds of streaming.
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`);
    h.stack.openai!.setAnswer(words.join(' '));
    h.stack.openai!.setTokenDelay(20);
    const j = job();
    await enqueue(j);
    // Act
    await deliver();
    // Assess
    const request = h.stack.openai!.requests[0]!;
    const updates = h.stack.slack.callsTo('chat.update');
    const first = updates[0]!;
    expect(first.at).toBeGreaterThanOrEqual(request.firstTokenAt!);
    // The first edit carries only the first few tokens: it did not wait for more text.
    expect(String(first.args.text).split(' ').length).toBeLessThanOrEqual(5);
    // Measured where the edits arrive, so allow for network jitter around the one-second spacing.
    const gaps = updates.slice(1).map((u, i) => u.at - updates[i]!.at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(900);
    const seconds = (request.finishedAt! - request.firstTokenAt!) / 1000;
    expect(updates.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    expect(updates.at(-1)!.args.text).toBe(words.join(' '));
    expect(botMessages(j)[0]!.text).toBe(words.join(' ')); // no typing marker left
  });

  it('delivers a 15,000-character Markdown answer whole, as mrkdwn, across messages', async () => {
    // Prepare
    const sections = Array.from(
      { length: 36 },
      (_, i) =>
        `## Section ${i}\n\nSome **bold ${i}** text and a [link ${i}](https://example.com/${i}). ${'Lorem ipsum dolor sit amet. '.repeat(12)}\n\n\`\`\`ts\nconst section${i} = ${i};\n\`\`\``,
    );
    const answer = sections.join('\n\n');
    expect(answer.length).toBeGreaterThan(15_000);
    h.stack.openai!.setAnswer(answer);
    const j = job();
    await enqueue(j);
    // Act
    await deliver();
    // Assess
    const texts = botMessages(j).map((m) => m.text);
    expect(texts).toEqual(splitMessage(toMrkdwn(answer), SLACK_MESSAGE_CHARS));
    expect(texts.length).toBeGreaterThanOrEqual(4);
    const whole = texts.join('\n');
    for (let i = 0; i < 36; i++) {
      expect(whole).toContain(`*bold ${i}*`);
      expect(whole).toContain(`<https://example.com/${i}|link ${i}>`);
      expect(whole).toContain(`const section${i} = ${i};`);
    }
    expect(whole).not.toContain('**');
  });

  it('answers without history when Momento is down', async () => {
    // Prepare
    h.stack.momento!.pause();
    h.stack.openai!.setAnswer('Still here.');
    const j = job();
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(botMessages(j).map((m) => m.text)).toEqual(['Still here.']);
    expect(h.stack.openai!.requests[0]!.body.messages).toHaveLength(2);
  });
});

describe('worker: failures', () => {
  it('completes at once when Slack refuses the reply for good (not_in_channel)', async () => {
    h.stack.slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    const j = job();
    await enqueue(j);
    const { response } = await deliver();
    expect(response.batchItemFailures).toEqual([]);
    expect(h.stack.openai!.requests).toHaveLength(0);
  });

  it('retries a Slack 5xx on the first post through the queue, and tells the user on the last receive', async () => {
    // Prepare
    h.stack.slack.failNext('chat.postMessage', { status: 500 });
    const j = job();
    await enqueue(j);
    // Act: not the last receive → the record fails and comes back soon.
    const first = await deliver();
    // Assess
    expect(first.response.batchItemFailures).toHaveLength(1);
    expect(botMessages(j)).toEqual([]); // a post after a 5xx is not retried blindly: it could double
    // Act: the same failure on the last receive.
    build({ maxReceiveCount: 1 });
    h.stack.slack.failNext('chat.postMessage', { status: 500 });
    const k = job();
    await enqueue(k);
    const last = await deliver();
    // Assess: completed, and the user sees why nothing came.
    expect(last.response.batchItemFailures).toEqual([]);
    expect(botMessages(k).map((m) => m.text)).toEqual([GAVE_UP_NOTICE]);
  });

  it('stops a stalled stream before the invocation runs out and retries through the queue', async () => {
    // Prepare: the model sends nothing for 5 s per token; the invocation has 5 s left.
    h.stack.openai!.setTokenDelay(5_000);
    const j = job();
    await enqueue(j);
    // Act
    const started = Date.now();
    const result = await pollOnce(h.sqs, h.queue, h.handler, {
      context: () => lambdaContext('worker', 5_000),
    });
    // Assess: gave up after ~2 s (5 s minus the 3 s reserve a short invocation keeps), within the
    // invocation, said so, asked to be retried.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result!.response.batchItemFailures).toHaveLength(1);
    expect(botMessages(j).map((m) => m.text)).toEqual([RETRYING_NOTICE]);
  });

  it('retries a model 500 soon, saying so in the reply, then shows an error on the last receive', async () => {
    // Prepare
    build({ maxReceiveCount: 2 });
    h.stack.openai!.failNext({ status: 500 }, 1000);
    const j = job();
    await enqueue(j);
    // Act
    const first = await deliver();
    // Assess: failed, visible again within seconds rather than the queue's timeout.
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: first.event.Records[0]!.messageId }]);
    expect(botMessages(j).map((m) => m.text)).toEqual([RETRYING_NOTICE]);
    const inflight = h.stack.sqs.server.inspectQueue(h.queue.queueName)!.messages.inflight[0]!;
    expect(inflight.visibilityDeadline - Date.now()).toBeLessThanOrEqual(10_000);
    // Act: the last receive.
    const handle = inflight.receiptHandle;
    expect(handle).toBeTruthy();
    const event = {
      Records: [
        {
          ...first.event.Records[0]!,
          attributes: { ...first.event.Records[0]!.attributes, ApproximateReceiveCount: '2' },
        },
      ],
    };
    const last = await h.handler(event, lambdaContext('worker', 120_000));
    // Assess: the job completes with a clear error in the same message.
    expect(last?.batchItemFailures).toEqual([]);
    expect(botMessages(j).map((m) => m.text)).toEqual([GAVE_UP_NOTICE]);
  });

  it.each([
    ['an error frame mid-stream', { errorFrameAfterTokens: 3 }],
    ['a dropped socket', { dropAfterTokens: 3 }],
  ])('never shows %s as a complete answer, and retries it within the invocation', async (_name, fault) => {
    // Prepare
    h.stack.openai!.setAnswer('one two three four five six');
    h.stack.openai!.failNext(fault);
    const j = job();
    await enqueue(j);
    // Act
    const { response } = await deliver();
    // Assess: the second try succeeded and replaced the partial text.
    expect(response.batchItemFailures).toEqual([]);
    expect(h.stack.openai!.requests.length).toBe(2);
    expect(botMessages(j).map((m) => m.text)).toEqual(['one two three four five six']);
  });

  it('shows a partial answer as interrupted when the stream keeps breaking on the last receive', async () => {
    build({ maxReceiveCount: 1 });
    h.stack.openai!.setAnswer('one two three four five six');
    h.stack.openai!.failNext({ dropAfterTokens: 3 }, 10);
    const j = job();
    await enqueue(j);
    await deliver();
    const [reply] = botMessages(j);
    expect(reply!.text).toMatch(/^one two/);
    expect(reply!.text).toContain('interrupted');
    expect(reply!.text).not.toBe('one two three four five six');
  });

  it('shows a clear error and completes on a permanent error (401)', async () => {
    h.stack.openai!.failNext({ status: 401 });
    const j = job();
    await enqueue(j);
    const { response } = await deliver();
    expect(response.batchItemFailures).toEqual([]);
    expect(botMessages(j)[0]!.text).toContain('API key was refused');
    expect(h.stack.openai!.requests).toHaveLength(1);
  });

  it('honours Slack 429 on streaming edits and still ends with the full answer', async () => {
    // Prepare
    build({ updateIntervalMs: 100 });
    const words = Array.from({ length: 60 }, (_, i) => `w${i}`);
    h.stack.openai!.setAnswer(words.join(' '));
    h.stack.openai!.setTokenDelay(20);
    h.stack.slack.failNext('chat.update', { rateLimited: { retryAfter: 1 } }, 1);
    const j = job();
    await enqueue(j);
    // Act
    await deliver();
    // Assess: after the 429, no edit came before Retry-After passed.
    const updates = h.stack.slack.callsTo('chat.update');
    const limited = updates.findIndex((u) => u.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    const next = updates[limited + 1];
    expect(next).toBeDefined();
    expect(next!.at - updates[limited]!.at).toBeGreaterThanOrEqual(950);
    expect(botMessages(j)[0]!.text).toBe(words.join(' '));
  });

  it('reports a failed record and the later records of its group failed, and answers other groups', async () => {
    // Prepare: one batch as Lambda delivers it from a FIFO queue: group A = [ok, unreadable, ok], group B = [ok].
    const a1 = job();
    const a3 = job({ threadTs: a1.threadTs });
    const b1 = job();
    const groupA = `T0LOCAL:C0GENERAL:${a1.threadTs}`;
    const message = (body: string, group: string, id: string): Message => ({
      MessageId: id,
      ReceiptHandle: `handle-${id}`,
      Body: body,
      Attributes: { ApproximateReceiveCount: '1', MessageGroupId: group },
    });
    const event = toSqsEvent(
      [
        message(encodeJob(a1), groupA, 'a1'),
        message('{"v":1,"eventId":"broken"}', groupA, 'a2'),
        message(encodeJob(a3), groupA, 'a3'),
        message(encodeJob(b1), `T0LOCAL:C0GENERAL:${b1.threadTs}`, 'b1'),
      ],
      h.queue.queueArn,
    );
    // Act
    const response = await h.handler(event, lambdaContext('worker', 120_000));
    // Assess
    expect(response?.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['a2', 'a3']);
    expect(botMessages(a1)).toHaveLength(1);
    expect(botMessages(a3)).toHaveLength(1); // the same thread: still only a1's reply
    expect(botMessages(b1)).toHaveLength(1);
    expect(h.stack.openai!.requests).toHaveLength(2);
  });
});
