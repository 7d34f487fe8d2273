import type { SQSClient } from '@aws-sdk/client-sqs';
import type { WorkerConfig } from '../../lib/config';
import { DEFAULT_SYSTEM_PROMPT } from '../../lib/config';
import { NOT_ENABLED_NOTE } from '../../lib/governance/allowlist';
import { createLogger } from '../../lib/logger';
import { createMetrics, METRIC } from '../../lib/metrics';
import type { AnswerJob } from '../../lib/queue/job';
import { sqsJobQueue } from '../../lib/queue/sqs-job-queue';
import { momentoEventClaims } from '../../lib/store/event-claims';
import { MomentoCache } from '../../lib/store/momento-cache';
import { createMomentoClient } from '../../lib/store/momento-client';
import { buildWorkerDeps } from '../../lib/worker/worker-deps';
import { createWorkerHandler } from '../../lib/worker/worker-handler';
import { lambdaContext } from '../../sandbox/lambda-context';
import { pollOnce } from '../../sandbox/local-event-source';
import { type LocalStack, startLocalStack } from '../../sandbox/local-stack';
import type { LocalFifoQueue } from '../../sandbox/peers/sqs-peer';
import { type SsmPeer, startSsmPeer } from '../../sandbox/peers/ssm-peer';
import { settlesWithin } from '../support/silent-server';
import { peerProvider } from '../support/ssm';

/**
 * The rollout guards through the whole worker: real SQS (fauxqs), Slack, OpenAI, Momento and SSM
 * peers. Who may use the bot, how much, and per-channel settings read from Parameter Store.
 */

const logger = createLogger('governance-test', { logLevel: 'SILENT' });
const SETTINGS = '/slack-gpt-bot/test/channel-settings';
// 22:00 UTC: today's counts reset in two hours.
const NOW = new Date('2026-12-02T22:00:00Z');

let stack: LocalStack;
let ssm: SsmPeer;
let sqs: SQSClient;
let queue: LocalFifoQueue;
let handler: ReturnType<typeof createWorkerHandler>;
let close: () => void = () => undefined;
let emf: string[] = [];
let n = 0;

beforeAll(async () => {
  [stack, ssm] = await Promise.all([startLocalStack(), startSsmPeer()]);
  sqs = stack.sqs.client();
});
afterAll(async () => {
  close();
  await Promise.all([stack.close(), ssm.close()]);
});
beforeEach(() => {
  stack.slack.reset();
  stack.openai!.reset();
  stack.momento!.resume();
  ssm.reset();
  emf = [];
});
afterEach(() => close());

/** A worker whose governance settings are `governance` (the rest as the local stack has it). */
function worker(governance: Partial<WorkerConfig['governance']> = {}, workerLogger = logger) {
  close();
  queue = stack.sqs.createFifoQueue(`governance-${++n}`);
  const config: WorkerConfig = {
    ...stack.workerConfig,
    // The shortest edit interval: a finished answer waits for the next edit slot.
    slack: { ...stack.workerConfig.slack, updateIntervalMs: 250 },
    queue: { url: queue.queueUrl, maxReceiveCount: 4, retryDelaySeconds: 10 },
    governance: { ...stack.workerConfig.governance, ...governance },
  };
  const deps = buildWorkerDeps(config, workerLogger, {
    sqs,
    parameters: peerProvider(ssm),
    metrics: createMetrics('SlackGptBot/test', 'slack-worker', { write: (line) => emf.push(line) }),
    now: () => NOW,
  });
  close = deps.close;
  handler = createWorkerHandler({ ...deps, settings: { llmBackoffMs: 10 } });
}

/** Another worker instance (its own clients) on the current queue, for questions that come at once. */
function lambda(governance: Partial<WorkerConfig['governance']>) {
  const deps = buildWorkerDeps(
    {
      ...stack.workerConfig,
      // No shared write budget: ten answers in one workspace at once would wait for its minute.
      slack: { ...stack.workerConfig.slack, updateIntervalMs: 250, sharedWriteBudget: false },
      queue: { url: queue.queueUrl, maxReceiveCount: 4, retryDelaySeconds: 10 },
      governance: { ...stack.workerConfig.governance, ...governance },
    },
    logger,
    {
      sqs,
      metrics: createMetrics('SlackGptBot/test', 'slack-worker', { write: (line) => emf.push(line) }),
      now: () => NOW,
    },
  );
  const previous = close;
  close = () => {
    previous();
    deps.close();
  };
  return createWorkerHandler({ ...deps, settings: { llmBackoffMs: 10 } });
}

function job(overrides: Partial<AnswerJob> = {}): AnswerJob {
  const ts = `1700002${String(++n).padStart(3, '0')}.000100`;
  return {
    v: 1,
    eventId: `EvGOV${n}${Date.now()}`,
    teamId: `T0GOV${n}`,
    channel: 'C0GENERAL',
    threadTs: ts,
    ts,
    user: 'U0ASKER',
    text: `<@${stack.slack.botUserId}> How much is enough?`,
    isDm: false,
    receivedAt: Date.now(),
    ...overrides,
  };
}

/** Queues the job and runs the worker over it, as Lambda's event source mapping would. */
async function ask(j: AnswerJob) {
  await sqsJobQueue(sqs, queue.queueUrl).enqueue(j);
  const result = await pollOnce(sqs, queue, handler, { context: () => lambdaContext('worker', 120_000) });
  if (!result) throw new Error('nothing was on the queue');
  expect(result.response.batchItemFailures).toEqual([]);
}

const botMessages = (j: AnswerJob) =>
  stack.slack.thread(j.channel, j.threadTs).filter((m) => m.user === stack.slack.botUserId);
const metricLines = (name: string) =>
  emf.map((line) => JSON.parse(line) as Record<string, unknown>).filter((m) => name in m);

describe('who may use it', () => {
  it('refuses a mention in a channel not on the list: no model call, no public reply, one ephemeral note a day', async () => {
    // Prepare
    worker({ allowedChannels: ['C0PILOT'] });
    const first = job();
    const again = job({ teamId: first.teamId });
    // Act
    await ask(first);
    await ask(again);
    // Assess
    expect(stack.openai!.requests).toHaveLength(0);
    expect(botMessages(first)).toEqual([]);
    expect(botMessages(again)).toEqual([]);
    const notes = stack.slack.callsTo('chat.postEphemeral').map((c) => c.args);
    expect(notes).toEqual([{ channel: 'C0GENERAL', user: 'U0ASKER', text: NOT_ENABLED_NOTE }]);
    expect(stack.slack.callsTo('chat.postMessage')).toEqual([]);
    expect(metricLines('Refusals').map((m) => m.reason)).toEqual(['allowlist', 'allowlist']);
  });

  it('answers in a listed channel', async () => {
    // Prepare
    worker({ allowedChannels: ['C0PILOT'] });
    const j = job({ channel: 'C0PILOT' });
    // Act
    await ask(j);
    // Assess
    expect(stack.openai!.requests).toHaveLength(1);
    expect(botMessages(j)).toHaveLength(1);
  });

  it('refuses a DM from a user not on the list with an ephemeral note in the DM, and answers a listed user', async () => {
    // Prepare
    worker({ allowedUsers: ['U0BOSS'] });
    const stranger = job({ channel: 'D0STRANGER', isDm: true, user: 'U0STRANGER', text: 'hello?' });
    const boss = job({ channel: 'D0BOSS', isDm: true, user: 'U0BOSS', text: 'hello?' });
    // Act
    await ask(stranger);
    await ask(boss);
    // Assess
    expect(stack.slack.callsTo('chat.postEphemeral').map((c) => c.args)).toEqual([
      { channel: 'D0STRANGER', user: 'U0STRANGER', text: NOT_ENABLED_NOTE },
    ]);
    expect(botMessages(stranger)).toEqual([]);
    expect(stack.openai!.requests).toHaveLength(1);
    expect(botMessages(boss)).toHaveLength(1);
  });

  it('keeps DMs closed when only channels are listed, unless the list says dm', async () => {
    // Prepare
    worker({ allowedChannels: ['C0PILOT'] });
    const closed = job({ channel: 'D0ONE', isDm: true, user: 'U0ONE', text: 'hi' });
    // Act
    await ask(closed);
    worker({ allowedChannels: ['C0PILOT', 'dm'] });
    const open = job({ channel: 'D0TWO', isDm: true, user: 'U0TWO', text: 'hi' });
    await ask(open);
    // Assess
    expect(botMessages(closed)).toEqual([]);
    expect(botMessages(open)).toHaveLength(1);
  });
});

describe('per-channel settings from Parameter Store', () => {
  it('sends the channel’s system prompt, model and temperature to the model', async () => {
    // Prepare
    ssm.put(
      SETTINGS,
      'channels:\n  C0PIRATES:\n    systemPrompt: Answer like a pirate.\n    model: gpt-4.1-mini\n    temperature: 0.2\n',
      'String',
    );
    worker({ channelSettingsParameter: SETTINGS });
    const pirates = job({ channel: 'C0PIRATES' });
    const general = job();
    // Act
    await ask(pirates);
    await ask(general);
    // Assess
    const [toPirates, toGeneral] = stack.openai!.requests.map((r) => r.body);
    expect(toPirates?.messages[0]).toEqual({
      role: 'system',
      content: expect.stringMatching(new RegExp(`^${escapeRegExp('Answer like a pirate.')}`)),
    });
    expect(toPirates).toMatchObject({ model: 'gpt-4.1-mini', temperature: 0.2 });
    expect(toGeneral?.messages[0]).toEqual({
      role: 'system',
      content: expect.stringMatching(new RegExp(`^${escapeRegExp(DEFAULT_SYSTEM_PROMPT)}`)),
    });
    expect(toGeneral?.model).toBe('gpt-4o-mini');
  });

  it('keeps the defaults when the document is broken, and logs an ERROR naming the problem', async () => {
    // Prepare: a temperature out of range; the worker's logger at ERROR, its lines captured.
    ssm.put(SETTINGS, '{"channels": {"C0PIRATES": {"systemPrompt": "Arr.", "temperature": 7}}}', 'String');
    worker({ channelSettingsParameter: SETTINGS }, createLogger('governance-test', { logLevel: 'ERROR' }));
    const j = job({ channel: 'C0PIRATES' });
    // Powertools writes ERROR lines with console.error: to stderr.
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const capture = jest.spyOn(process.stderr, 'write').mockImplementation((chunk, ...rest) => {
      if (String(chunk).includes('channel settings')) return lines.push(String(chunk)) > 0;
      return write(chunk, ...(rest as []));
    });
    // Act
    try {
      await ask(j);
    } finally {
      capture.mockRestore();
    }
    // Assess
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'channel settings are invalid; using the defaults',
        parameter: SETTINGS,
        field: 'channels.C0PIRATES.temperature',
      }),
    );
    expect(lines.join('')).not.toContain('Arr.');
    const request = stack.openai!.requests[0]!.body;
    expect(request.messages[0]).toEqual({
      role: 'system',
      content: expect.stringMatching(new RegExp(`^${escapeRegExp(DEFAULT_SYSTEM_PROMPT)}`)),
    });
    expect(request.temperature).toBe(stack.workerConfig.openai.temperature);
    expect(botMessages(j)).toHaveLength(1);
  });

  it('answers with the defaults, asking Parameter Store once, while no settings parameter exists', async () => {
    // Prepare
    worker({ channelSettingsParameter: SETTINGS });
    // Act
    await ask(job());
    await ask(job());
    // Assess
    const defaults = expect.stringMatching(new RegExp(`^${escapeRegExp(DEFAULT_SYSTEM_PROMPT)}`));
    expect(stack.openai!.requests.map((r) => r.body.messages[0]?.content)).toEqual([defaults, defaults]);
    expect(ssm.calls.map((c) => c.operation)).toEqual(['GetParameter']);
  });
});

describe('per-channel settings while Parameter Store does not answer', () => {
  it('keeps the last good settings, and waits on the silent store once, not at every answer', async () => {
    // Prepare: the settings read once, cached for 1 ms; then SSM takes requests and stays silent.
    ssm.put(SETTINGS, 'channels:\n  C0PIRATES:\n    systemPrompt: Answer like a pirate.\n', 'String');
    worker({ channelSettingsParameter: SETTINGS, maxAgeSeconds: 0.001 });
    await ask(job({ channel: 'C0PIRATES' }));
    ssm.answerAfter(Number.POSITIVE_INFINITY);
    // Act: the first answer meets the silent store (bounded by the client's limits: 2 tries of
    // 1 s; the guard is far above that); the next ones do not ask it again for a while.
    await settlesWithin(ask(job({ channel: 'C0PIRATES' })), 15_000, 'an answer while SSM is silent');
    const calls = ssm.calls.length;
    await ask(job({ channel: 'C0PIRATES' }));
    await ask(job({ channel: 'C0PIRATES' }));
    // Assess
    // (The system prompt is followed by the tools note when tools are offered.)
    expect(stack.openai!.requests.map((r) => r.body.messages[0]?.content)).toEqual(
      Array(4).fill(expect.stringMatching(new RegExp(`^${escapeRegExp('Answer like a pirate.')}`))),
    );
    expect(ssm.calls).toHaveLength(calls);
  });
});

describe('how much: daily token quotas', () => {
  it('refuses a user over their daily limit with a reply saying when it resets, without a model call', async () => {
    // Prepare: the first answer uses more than 10 tokens.
    worker({ userDailyTokenLimit: 10 });
    const first = job({ user: 'U0HEAVY' });
    const second = job({ user: 'U0HEAVY', teamId: first.teamId });
    // Act
    await ask(first);
    await ask(second);
    // Assess
    expect(stack.openai!.requests).toHaveLength(1);
    expect(botMessages(second).map((m) => m.text)).toEqual([
      ':hourglass: You have used today’s token allowance for this bot. It resets at 00:00 UTC (in 2 h 0 min).',
    ]);
    expect(metricLines('Refusals').map((m) => m.reason)).toEqual(['user_quota']);
  });

  it('still refuses on a redelivery, and when the limit reply cannot be posted', async () => {
    // Prepare: a user over the limit; an earlier attempt at the event got as far as its claim only;
    // the limit reply is rate limited.
    worker({ userDailyTokenLimit: 10 });
    const first = job({ user: 'U0HEAVY' });
    await ask(first);
    const second = job({ user: 'U0HEAVY', teamId: first.teamId });
    const momento = createMomentoClient(stack.workerConfig.momento);
    const claims = momentoEventClaims(new MomentoCache(momento, stack.workerConfig.momento.cache));
    await claims.claim(second.eventId);
    stack.slack.failNext('chat.postMessage', { rateLimited: { retryAfter: 1 } });
    // Act: the record completes (the refusal stands) without a model call.
    await ask(second);
    // Assess
    expect(stack.openai!.requests).toHaveLength(1);
    expect(botMessages(second)).toEqual([]);
  });

  it('refuses everyone in a workspace over its limit, while another workspace is answered', async () => {
    // Prepare
    worker({ teamDailyTokenLimit: 10 });
    const first = job({ user: 'U0FIRST' });
    const colleague = job({ user: 'U0COLLEAGUE', teamId: first.teamId });
    const elsewhere = job({ user: 'U0COLLEAGUE' });
    // Act
    await ask(first);
    await ask(colleague);
    await ask(elsewhere);
    // Assess
    expect(botMessages(colleague).map((m) => m.text)).toEqual([
      ':hourglass: This workspace has used today’s token allowance for this bot. It resets at 00:00 UTC (in 2 h 0 min).',
    ]);
    expect(botMessages(elsewhere)).toHaveLength(1);
    expect(stack.openai!.requests).toHaveLength(2);
  });

  it('counts estimated tokens when the server reports no usage', async () => {
    // Prepare
    worker({ userDailyTokenLimit: 10 });
    stack.openai!.failNext({ omitUsage: true });
    const first = job({ user: 'U0NOUSAGE' });
    const second = job({ user: 'U0NOUSAGE', teamId: first.teamId });
    // Act
    await ask(first);
    await ask(second);
    // Assess
    expect(stack.openai!.requests[0]!.body.stream_options).toEqual({ include_usage: true });
    expect(stack.openai!.requests).toHaveLength(1);
    expect(botMessages(second)[0]?.text).toContain('resets at 00:00 UTC');
    expect(metricLines('PromptTokens')[0]?.PromptTokens).toBeGreaterThan(0);
  });

  it('answers when Momento is down (the count is best effort)', async () => {
    // Prepare
    worker({ userDailyTokenLimit: 10, teamDailyTokenLimit: 10 });
    stack.momento!.pause();
    const j = job({ user: 'U0MOMENTODOWN' });
    // Act
    await ask(j);
    // Assess
    expect(stack.openai!.requests).toHaveLength(1);
    expect(botMessages(j)).toHaveLength(1);
  });
});

describe('how much, when questions come at once', () => {
  it('holds a user one token under the limit to one more answer when ten questions come at once', async () => {
    // Prepare: one answer, to learn what an answer costs as counted; then a limit one token above.
    worker({ userDailyTokenLimit: 1_000_000 });
    const first = job({ user: 'U0BURST' });
    await ask(first);
    const [stream] = metricLines('TimeToComplete');
    const spent = Number(stream!.PromptTokens) + Number(stream!.CompletionTokens);
    worker({ userDailyTokenLimit: spent + 1 });
    const lambdas = Array.from({ length: 10 }, () => lambda({ userDailyTokenLimit: spent + 1 }));
    const burst = lambdas.map(() => job({ user: 'U0BURST', teamId: first.teamId }));
    for (const j of burst) await sqsJobQueue(sqs, queue.queueUrl).enqueue(j);
    // Act: ten receives at once, one question each, as ten Lambda instances take them.
    const results = await Promise.all(
      lambdas.map((handle) =>
        pollOnce(sqs, queue, handle, { context: () => lambdaContext('worker', 120_000), maxMessages: 1 }),
      ),
    );
    // Assess: one more answer; nine told the allowance is used; every record done.
    expect(results.map((r) => r?.response.batchItemFailures)).toEqual(Array(10).fill([]));
    expect(stack.openai!.requests).toHaveLength(2);
    const told = burst.filter((j) => botMessages(j)[0]?.text.includes('resets at 00:00 UTC'));
    expect(told).toHaveLength(9);
    expect(metricLines('Refusals').map((m) => m.reason)).toEqual(Array(9).fill('user_quota'));
  });

  it('settles each answer to its real usage: answers go on until what they really used reaches the limit', async () => {
    // Prepare: what one answer costs; a workspace limit of two and a half answers.
    worker({ teamDailyTokenLimit: 1_000_000 });
    const probe = job({ user: 'U0PROBE' });
    await ask(probe);
    const [stream] = metricLines('TimeToComplete');
    const spent = Number(stream!.PromptTokens) + Number(stream!.CompletionTokens);
    worker({ teamDailyTokenLimit: Math.floor(spent * 2.5) });
    const next = () => job({ user: 'U0STEADY', teamId: probe.teamId });
    // Act: one question after another (each reserves far more than an answer uses).
    const asked = [next(), next(), next()];
    for (const j of asked) await ask(j);
    // Assess: two more answers fit what was really used; the third is refused.
    expect(stack.openai!.requests).toHaveLength(3);
    expect(botMessages(asked[2]!)[0]?.text).toContain('resets at 00:00 UTC');
  });

  it('gives the reservation back when the answer fails for good', async () => {
    // Prepare: what one answer costs, then a limit one token above it; the next model call fails.
    worker({ userDailyTokenLimit: 1_000_000 });
    const probe = job({ user: 'U0FAILS' });
    await ask(probe);
    const [stream] = metricLines('TimeToComplete');
    const spent = Number(stream!.PromptTokens) + Number(stream!.CompletionTokens);
    worker({ userDailyTokenLimit: spent + 1 });
    stack.openai!.failNext({ status: 401 });
    const failed = job({ user: 'U0FAILS', teamId: probe.teamId });
    const after = job({ user: 'U0FAILS', teamId: probe.teamId });
    // Act
    await ask(failed);
    await ask(after);
    // Assess: the failed question cost nothing, so the next one is answered.
    expect(stack.openai!.requests).toHaveLength(3);
    expect(botMessages(after)[0]?.text).not.toContain('resets at 00:00 UTC');
  });
});

describe('metrics of a real answer', () => {
  it('writes EMF lines with the answer, its timings and its tokens', async () => {
    // Prepare
    worker();
    // Act
    await ask(job());
    // Assess
    const [stream] = metricLines('TimeToComplete');
    const [answered] = metricLines('Answers');
    expect(stream).toMatchObject({ service: 'slack-worker', PromptTokens: expect.any(Number) });
    expect(stream?.CompletionTokens).toBeGreaterThan(0);
    expect(stream?.TimeToFirstToken).toEqual(expect.any(Number));
    expect(answered).toMatchObject({ Answers: 1, TimeToAnswer: expect.any(Number) });
    expect(answered?._aws).toMatchObject({
      CloudWatchMetrics: [{ Namespace: 'SlackGptBot/test', Dimensions: [['service']] }],
    });
    const [path] = metricLines(METRIC.streamingPath);
    expect(path).toMatchObject({ path: expect.stringMatching(/^(native|edit)$/) });
  });

  it('counts Slack’s 429s on the reply’s writes by method', async () => {
    // Prepare: the reply's first write is rate limited (and then written).
    worker();
    stack.slack.failNext('chat.startStream', { rateLimited: { retryAfter: 1 } });
    // Act
    await ask(job());
    // Assess
    expect(metricLines(METRIC.slackRateLimited)).toEqual([
      expect.objectContaining({ method: 'chat.startStream' }),
    ]);
  });
});

/** `text` as a literal in a RegExp (the system prompt is followed by the tools note when tools are offered). */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
