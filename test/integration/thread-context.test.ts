import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { PARTIAL_THREAD_NOTE } from '../../lib/context/gather-context';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { type AnswerJob, encodeJob, type JobFile } from '../../lib/queue/job';
import { buildWorkerDeps } from '../../lib/worker/worker-deps';
import { createWorkerHandler } from '../../lib/worker/worker-handler';
import { lambdaContext } from '../../sandbox/lambda-context';
import { pollOnce } from '../../sandbox/local-event-source';
import { type LocalStack, startLocalStack } from '../../sandbox/local-stack';
import { type Listening, listen } from '../../sandbox/peers/listen';
import type { ChatMessage } from '../../sandbox/peers/openai-peer';
import type { SlackFailure } from '../../sandbox/peers/slack-peer';
import type { LocalFifoQueue } from '../../sandbox/peers/sqs-peer';
import { waitFor } from '../support/wait-for';

const logger = createLogger('thread-context-test', { logLevel: 'SILENT' });
const CHANNEL = 'C0GENERAL';
const DM = 'D0DIRECT';

let stack: LocalStack;
let sqs: SQSClient;
let queue: LocalFifoQueue;
let deps: ReturnType<typeof buildWorkerDeps>;
let handler: ReturnType<typeof createWorkerHandler>;
let foreign: Listening;
let foreignRequests = 0;
let n = 0;

beforeAll(async () => {
  stack = await startLocalStack();
  sqs = stack.sqs.client();
  foreign = await listen((_req, res) => {
    foreignRequests++;
    res.end('not Slack');
  });
});
afterAll(async () => {
  deps?.close();
  await Promise.all([stack.close(), foreign.close()]);
});

/** A worker over a fresh queue; `openai` and `context` override the stack's settings. */
function build(
  overrides: { historyTokenBudget?: number; imageInput?: 'auto' | 'off'; contextTimeoutMs?: number } = {},
) {
  deps?.close();
  queue = stack.sqs.createFifoQueue(`context-${++n}`, { maxReceiveCount: 4 });
  const config = {
    ...stack.workerConfig,
    // The shortest edit spacing allowed: the final edit waits for it after the placeholder.
    // No shared write budget: this file's answers follow each other in one workspace within seconds
    // (test/integration/write-budget.test.ts covers the budget).
    slack: { ...stack.workerConfig.slack, updateIntervalMs: 250, sharedWriteBudget: false },
    openai: {
      ...stack.workerConfig.openai,
      historyTokenBudget: overrides.historyTokenBudget ?? stack.workerConfig.openai.historyTokenBudget,
      imageInput: overrides.imageInput ?? 'auto',
    },
    queue: { url: queue.queueUrl, maxReceiveCount: 4, retryDelaySeconds: 10 },
  };
  deps = buildWorkerDeps(config, logger, {
    sqs,
    metrics: createMetrics('test', 'slack-worker', { write: () => undefined }),
  });
  const context = { ...deps.context, timeoutMs: overrides.contextTimeoutMs ?? deps.context.timeoutMs };
  handler = createWorkerHandler({ ...deps, context, settings: { llmBackoffMs: 10 } });
}

beforeEach(() => {
  stack.slack.reset();
  stack.openai!.reset();
  stack.slack.seedUser({ id: 'U0ALICE', name: 'alice', realName: 'Alice Liddell', displayName: 'Alice' });
  stack.slack.seedUser({ id: 'U0BOB', name: 'bob', realName: 'Bob Builder' });
  stack.slack.seedUser({ id: 'U0ASKER', name: 'asker', displayName: 'Asker' });
  foreignRequests = 0;
  build();
});

/** Posts the asking message into Slack (as the user did) and returns its job. */
function ask(input: {
  channel?: string;
  threadTs?: string;
  text: string;
  files?: Array<Record<string, unknown>>;
}) {
  const channel = input.channel ?? CHANNEL;
  const isDm = channel.startsWith('D');
  const message = stack.slack.seedMessage({
    channel,
    ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
    user: 'U0ASKER',
    text: input.text,
    ...(input.files ? { files: input.files } : {}),
  });
  const job: AnswerJob = {
    v: 1,
    eventId: `EvCONTEXT${++n}${Date.now()}`,
    teamId: stack.slack.teamId,
    channel,
    threadTs: input.threadTs ?? message.ts,
    ts: message.ts,
    user: 'U0ASKER',
    text: input.text,
    isDm,
    botUserId: stack.slack.botUserId,
    receivedAt: Date.now(),
    ...(input.files ? { files: input.files.map(jobFile) } : {}),
  };
  return job;
}

/** A Slack file object as the job carries it. */
function jobFile(f: Record<string, unknown>): JobFile {
  return {
    id: String(f.id),
    name: String(f.name),
    mimetype: String(f.mimetype),
    size: Number(f.size),
    urlPrivate: String(f.url_private),
  };
}

/** Runs the worker on one job, as the event source mapping would. */
async function answer(job: AnswerJob) {
  await sqs.send(
    new (await import('@aws-sdk/client-sqs')).SendMessageCommand({
      QueueUrl: queue.queueUrl,
      MessageBody: encodeJob(job),
      MessageGroupId: job.threadTs,
      MessageDeduplicationId: job.eventId,
    }),
  );
  const result = await pollOnce(sqs, queue, handler, { context: () => lambdaContext('worker', 120_000) });
  expect(result?.response.batchItemFailures).toEqual([]);
}

const textOf = (m: ChatMessage) =>
  typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('');
/** Role and text of each message the model got in request `i`, system prompt left out. */
const sent = (i = 0) =>
  stack.openai!.requests[i]!.body.messages.slice(1).map((m) => [m.role, textOf(m)] as [string, string]);
const bot = `<@UBOT0LOCAL>`;

describe('the model sees the thread as people see it', () => {
  it('reads the whole thread on a first mention: earlier messages in order, authors named, question marked', async () => {
    // Prepare
    const parent = stack.slack.seedMessage({
      channel: CHANNEL,
      user: 'U0ALICE',
      text: 'The API is down since 9:00',
    });
    stack.slack.seedMessage({
      channel: CHANNEL,
      thread_ts: parent.ts,
      user: 'U0BOB',
      text: 'I restarted the pods, <@U0ALICE> can you check?',
    });
    const job = ask({ threadTs: parent.ts, text: `${bot} summarise this` });
    // Act
    await answer(job);
    // Assess
    expect(sent()).toEqual([
      ['user', 'Alice: The API is down since 9:00'],
      ['user', 'Bob Builder: I restarted the pods, @Alice can you check?'],
      ['user', 'The question Asker asks you now:\nsummarise this'],
    ]);
    // Slack calls for a fresh thread: one page of replies, one users.info per person not cached.
    expect(stack.slack.callsTo('conversations.replies')).toHaveLength(1);
    expect(
      stack.slack
        .callsTo('users.info')
        .map((c) => c.args.user)
        .sort(),
    ).toEqual(['U0ALICE', 'U0ASKER', 'U0BOB']);
  });

  it('adds only what was posted since on a later mention, and sends nothing twice', async () => {
    // Prepare: a first answer in the thread.
    const parent = stack.slack.seedMessage({ channel: CHANNEL, user: 'U0ALICE', text: 'Deploy failed' });
    stack.slack.seedMessage({
      channel: CHANNEL,
      thread_ts: parent.ts,
      user: 'U0BOB',
      text: 'Looking into it',
    });
    await answer(ask({ threadTs: parent.ts, text: `${bot} why?` }));
    stack.slack.seedMessage({
      channel: CHANNEL,
      thread_ts: parent.ts,
      user: 'U0BOB',
      text: 'It was the config',
    });
    stack.slack.seedMessage({ channel: CHANNEL, thread_ts: parent.ts, user: 'U0ALICE', text: 'Fixed now' });
    const callsBefore = stack.slack.calls.length;
    const second = ask({ threadTs: parent.ts, text: `${bot} so what was it?` });
    // Act
    await answer(second);
    // Assess
    const messages = sent(1);
    const firstAnswer = messages[3];
    expect(messages.map(([role, text]) => `${role} ${text.split('\n')[0]}`)).toEqual([
      'user Alice: Deploy failed',
      'user Bob Builder: Looking into it',
      'user Asker: why?',
      `assistant ${firstAnswer![1].split('\n')[0]}`,
      'user Bob Builder: It was the config',
      'user Alice: Fixed now',
      'user The question Asker asks you now:',
    ]);
    const texts = messages.map(([, text]) => text);
    expect(new Set(texts).size).toBe(texts.length);
    // Slack calls for a known thread: one read since the last question; names came from the cache.
    const calls = stack.slack.calls
      .slice(callsBefore)
      .filter((c) => c.method === 'conversations.replies' || c.method === 'users.info');
    expect(calls.map((c) => c.method)).toEqual(['conversations.replies']);
    expect(calls[0]!.args.oldest).toBe(stack.slack.thread(CHANNEL, parent.ts)[2]!.ts);
  });

  it('keeps the newest messages of a long thread within the token budget, and reads it page by page', async () => {
    // Prepare: 250 messages (two pages of 200) of ~40 tokens each, a 600-token budget.
    build({ historyTokenBudget: 600 });
    const parent = stack.slack.seedMessage({ channel: CHANNEL, user: 'U0ALICE', text: 'message 0' });
    for (let i = 1; i < 250; i++) {
      const text = `message ${i}: ${'words that take tokens '.repeat(8)}`;
      stack.slack.seedMessage({
        channel: CHANNEL,
        thread_ts: parent.ts,
        user: i % 2 ? 'U0BOB' : 'U0ALICE',
        text,
      });
    }
    const job = ask({ threadTs: parent.ts, text: `${bot} what is the latest?` });
    // Act
    await answer(job);
    // Assess
    const messages = sent();
    expect(stack.slack.callsTo('conversations.replies')).toHaveLength(2);
    expect(messages.at(-1)![1]).toContain('what is the latest?');
    expect(messages.at(-2)![1]).toContain('message 249:');
    expect(messages.length).toBeGreaterThan(5);
    expect(messages.length).toBeLessThan(20);
    expect(messages.some(([, text]) => text.includes('message 0'))).toBe(false);
  });

  it('cuts an 18,000-character log pasted before the question, and still sends the memory and the smaller messages', async () => {
    // Prepare: a first answer in the thread (memory), then a short message and a pasted log.
    const parent = stack.slack.seedMessage({ channel: CHANNEL, user: 'U0ALICE', text: 'Deploy failed' });
    stack.slack.seedMessage({
      channel: CHANNEL,
      thread_ts: parent.ts,
      user: 'U0BOB',
      text: 'Looking into it',
    });
    await answer(ask({ threadTs: parent.ts, text: `${bot} why?` }));
    stack.slack.seedMessage({
      channel: CHANNEL,
      thread_ts: parent.ts,
      user: 'U0BOB',
      text: 'Here is the log',
    });
    const log = Array.from(
      { length: 700 },
      (_, i) => `09:${String(i % 60).padStart(2, '0')} ERROR job ${i} failed`,
    )
      .join('\n')
      .slice(0, 18_000);
    stack.slack.seedMessage({ channel: CHANNEL, thread_ts: parent.ts, user: 'U0BOB', text: log });
    // Act
    await answer(ask({ threadTs: parent.ts, text: `${bot} what went wrong?` }));
    // Assess: nothing older is hidden by the log, which is there, cut with a marker.
    const messages = sent(1).map(([role, text]) => `${role} ${text.split('\n')[0]}`);
    expect(messages.slice(0, 3)).toEqual([
      'user Alice: Deploy failed',
      'user Bob Builder: Looking into it',
      'user Asker: why?',
    ]);
    expect(messages.slice(4)).toEqual([
      'user Bob Builder: Here is the log',
      'user Bob Builder: 09:00 ERROR job 0 failed',
      'user The question Asker asks you now:',
    ]);
    expect(sent(1).at(-2)![1]).toMatch(
      new RegExp(
        `\\[… cut here: only the first \\d+ of ${`Bob Builder: ${log}`.length} characters of this message fit\\]$`,
      ),
    );
  });

  it.each<[string, SlackFailure]>([
    ['missing_scope', { error: 'missing_scope' }],
    ['not_in_channel', { error: 'not_in_channel' }],
    ['a 429', { rateLimited: { retryAfter: 30 } }],
    ['a timeout', { lateMs: 3_000 }],
  ])('answers from what it has when reading the thread meets %s', async (_name, failure) => {
    // Prepare: the context's deadline falls long after the call starts (a loaded machine included),
    // and, for the timeout, long before Slack's late answer.
    const late = 'lateMs' in failure;
    build({ contextTimeoutMs: late ? 1_500 : 10_000 });
    const parent = stack.slack.seedMessage({ channel: CHANNEL, user: 'U0ALICE', text: 'context' });
    stack.slack.failNext('conversations.replies', failure);
    const job = ask({ threadTs: parent.ts, text: `${bot} still there?` });
    // Act
    await answer(job);
    // Assess
    // The model is told the thread could not be read whole.
    expect(sent()).toEqual([['user', `still there?\n\n${PARTIAL_THREAD_NOTE}`]]);
    const replies = stack.slack.thread(CHANNEL, parent.ts).filter((m) => m.user === stack.slack.botUserId);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain('You said: "still there?');
    // A call given up on still ends: wait for it, so it is not counted in the next test.
    await waitFor(
      'the thread read to end',
      () => stack.slack.callsTo('conversations.replies').length > 0,
      10_000,
    );
  });

  it('takes names from Momento after a cold start, and ids when users.info is refused', async () => {
    // Prepare: one answer caches Alice's name; a new worker (cold start) answers in another thread.
    const first = stack.slack.seedMessage({ channel: CHANNEL, user: 'U0ALICE', text: 'hello' });
    await answer(ask({ threadTs: first.ts, text: `${bot} hi` }));
    build();
    const second = stack.slack.seedMessage({ channel: CHANNEL, user: 'U0ALICE', text: 'again' });
    stack.slack.seedMessage({ channel: CHANNEL, thread_ts: second.ts, user: 'U0NEW', text: 'me too' });
    stack.slack.failNext('users.info', { error: 'missing_scope' }, 5);
    const callsBefore = stack.slack.callsTo('users.info').length;
    // Act
    await answer(ask({ threadTs: second.ts, text: `${bot} who is here?` }));
    // Assess
    expect(sent(1).slice(0, 2)).toEqual([
      ['user', 'Alice: again'],
      ['user', '<@U0NEW>: me too'],
    ]);
    expect(
      stack.slack
        .callsTo('users.info')
        .slice(callsBefore)
        .map((c) => c.args.user),
    ).toEqual(['U0NEW']);
  });

  it('reads a DM thread like a channel thread', async () => {
    // Prepare: the user's earlier DM, then a reply to it in its thread.
    const parent = stack.slack.seedMessage({
      channel: DM,
      user: 'U0ASKER',
      text: 'my build log is attached',
    });
    const job = ask({ channel: DM, threadTs: parent.ts, text: 'what failed?' });
    // Act
    await answer(job);
    // Assess
    expect(sent()).toEqual([
      ['user', 'Asker: my build log is attached'],
      ['user', 'The question Asker asks you now:\nwhat failed?'],
    ]);
  });

  it('answers a top-level DM from memory alone, without reading Slack', async () => {
    // Prepare
    const job = ask({ channel: DM, text: 'hello there' });
    // Act
    await answer(job);
    // Assess
    expect(sent()).toEqual([['user', 'hello there']]);
    expect(stack.slack.callsTo('conversations.replies')).toHaveLength(0);
  });
});

/** A real PNG (6 × 4 pixels), whose bytes the test can compare. */
const PNG = readFileSync(resolve(__dirname, '../../events/files/architecture.png'));

describe('the model sees the files attached to the question', () => {
  it('sends an image of a mention as a data URL part with its exact bytes, and remembers a stand-in', async () => {
    // Prepare
    const file = stack.slack.seedFile({ name: 'diagram.png', mimetype: 'image/png', bytes: PNG });
    const job = ask({ text: `${bot} what is in this diagram?`, files: [file] });
    // Act
    await answer(job);
    await answer(ask({ threadTs: job.threadTs, text: `${bot} and the colours?` }));
    // Assess
    const [image, ...more] = stack.openai!.requests[0]!.images;
    expect(more).toEqual([]);
    expect(image!.mimetype).toBe('image/png');
    expect(image!.bytes.equals(PNG)).toBe(true);
    expect(stack.slack.downloads).toEqual([expect.objectContaining({ authorized: true, status: 200 })]);
    // The follow-up gets the stand-in, not the image again.
    expect(stack.openai!.requests[1]!.images).toEqual([]);
    expect(sent(1)[0]![1]).toBe('what is in this diagram?\n[image: diagram.png]');
  });

  it('sends an image and inlines a text file of a DM', async () => {
    // Prepare
    const image = stack.slack.seedFile({ name: 'screen.webp', mimetype: 'image/webp', bytes: PNG });
    const notes = stack.slack.seedFile({
      name: 'notes.md',
      mimetype: 'text/markdown',
      bytes: '# Notes\nuse ```fences```',
    });
    const job = ask({ channel: DM, text: 'see attached', files: [image, notes] });
    // Act
    await answer(job);
    // Assess
    // Labelled WEBP, its bytes are a PNG: sent as what it is.
    expect(stack.openai!.requests[0]!.images[0]).toMatchObject({ mimetype: 'image/png' });
    expect(stack.openai!.requests[0]!.images[0]!.bytes.equals(PNG)).toBe(true);
    const [, question] = sent().at(-1)!;
    expect(question).toBe('see attached\n\nAttached file notes.md:\n````\n# Notes\nuse ```fences```\n````');
    const reply = stack.slack.thread(DM, job.threadTs).find((m) => m.user === stack.slack.botUserId)!;
    expect(reply.text).toMatch(/I saw \*+1 image\*+, the text of notes\.md\./);
  });

  it('cuts a text file to the token budget with a marker', async () => {
    // Prepare
    build({ historyTokenBudget: 400 });
    const log = stack.slack.seedFile({
      name: 'app.log',
      mimetype: 'text/plain',
      bytes: 'line of log\n'.repeat(5_000),
    });
    const job = ask({ text: `${bot} what went wrong?`, files: [log] });
    // Act
    await answer(job);
    // Assess
    const [, question] = sent().at(-1)!;
    expect(question).toMatch(/\[… cut here: only the first \d+ of 60000 characters fit\]$/);
    expect(question.length).toBeLessThan(2_000);
  });

  it('keeps the thread when a large text file is attached: the file takes its share, not all', async () => {
    // Prepare: a thread of 20 messages and a question with a 30 KB log attached.
    const parent = stack.slack.seedMessage({ channel: CHANNEL, user: 'U0ALICE', text: 'the queue stalls' });
    for (let i = 1; i < 20; i++) {
      stack.slack.seedMessage({ channel: CHANNEL, thread_ts: parent.ts, user: 'U0BOB', text: `note ${i}` });
    }
    const log = stack.slack.seedFile({
      name: 'app.log',
      mimetype: 'text/plain',
      bytes: 'line of log\n'.repeat(2_500),
    });
    const job = ask({
      threadTs: parent.ts,
      text: `${bot} summarise this thread, log attached`,
      files: [log],
    });
    // Act
    await answer(job);
    // Assess: the newest thread messages are there beside the cut file.
    const messages = sent();
    expect(
      messages.filter(([role, text]) => role === 'user' && /note \d+/.test(text)).length,
    ).toBeGreaterThan(5);
    expect(messages.at(-1)![1]).toMatch(/cut here/);
  });

  it('names a file it cannot read, and an image when image input is off', async () => {
    // Prepare
    build({ imageInput: 'off' });
    const pdf = stack.slack.seedFile({ name: 'report.pdf', mimetype: 'application/pdf', bytes: '%PDF-1.7' });
    const png = stack.slack.seedFile({ name: 'chart.png', mimetype: 'image/png', bytes: PNG });
    const job = ask({ text: `${bot} summarise`, files: [pdf, png] });
    // Act
    await answer(job);
    // Assess
    expect(sent().at(-1)![1]).toBe(
      'summarise\n\n(A PDF named report.pdf (application/pdf) was attached but not read.)\n\n' +
        '(An image named chart.png was attached but not shown to you (image input is off).)',
    );
    expect(stack.openai!.requests[0]!.images).toEqual([]);
    expect(stack.slack.downloads).toEqual([]);
  });

  it('names files served as an HTML sign-in page as unreadable (an image/png, a text file), and answers', async () => {
    // Prepare
    const signIn = '<!DOCTYPE html><html><head><title>Sign in | Slack</title></head><body></body></html>';
    const image = stack.slack.seedFile({ name: 'screenshot.png', mimetype: 'image/png', bytes: signIn });
    const notes = stack.slack.seedFile({ name: 'notes.txt', mimetype: 'text/plain', bytes: signIn });
    const job = ask({ text: `${bot} what does this show?`, files: [image, notes] });
    // Act
    await answer(job);
    // Assess: no image sent, the files named as unreadable, a real answer (not "please rephrase").
    expect(stack.openai!.requests).toHaveLength(1);
    expect(stack.openai!.requests[0]!.images).toEqual([]);
    expect(sent().at(-1)![1]).toBe(
      'what does this show?\n\n(An image named screenshot.png was attached but could not be read.)\n\n' +
        '(A file named notes.txt was attached but not read (too large, unreadable or binary).)',
    );
    const replies = stack.slack.thread(CHANNEL, job.threadTs).filter((m) => m.user === stack.slack.botUserId);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain('You said: "what does this show?');
  });

  it('answers once more without the images, naming them, when the model refuses an image', async () => {
    // Prepare: a PNG cut short: its first bytes say PNG, the model cannot decode it.
    const broken = stack.slack.seedFile({
      name: 'broken.png',
      mimetype: 'image/png',
      bytes: PNG.subarray(0, 40),
    });
    const job = ask({ text: `${bot} what is this?`, files: [broken] });
    // Act
    await answer(job);
    // Assess: refused with the image, answered without it; one reply, a real answer.
    const [refused, retried, ...more] = stack.openai!.requests;
    expect(more).toEqual([]);
    expect(refused!.images).toHaveLength(1);
    expect(retried!.images).toEqual([]);
    expect(sent(1).at(-1)![1]).toBe(
      'what is this?\n\n(An image named broken.png was attached but could not be shown to you.)',
    );
    const replies = stack.slack.thread(CHANNEL, job.threadTs).filter((m) => m.user === stack.slack.botUserId);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain('You said: "what is this?');
  });

  it('refuses a url_private on another host, and a redirect to another host', async () => {
    // Prepare
    const elsewhere = {
      id: 'F0FOREIGN',
      name: 'a.png',
      mimetype: 'image/png',
      size: 10,
      urlPrivate: `${foreign.origin}/a.png`,
    };
    const redirected = stack.slack.seedFile({
      name: 'b.txt',
      mimetype: 'text/plain',
      bytes: 'x',
      redirectTo: `${foreign.origin}/b.txt`,
    });
    const job = { ...ask({ text: `${bot} look` }), files: [elsewhere, jobFile(redirected)] };
    // Act
    await answer(job);
    // Assess
    expect(foreignRequests).toBe(0);
    expect(stack.slack.downloads.map((d) => d.status)).toEqual([302]);
    expect(sent().at(-1)![1]).toBe(
      'look\n\n(An image named a.png was attached but could not be read.)\n\n' +
        '(A file named b.txt was attached but not read (too large, unreadable or binary).)',
    );
  });
});
