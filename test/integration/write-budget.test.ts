import type { WorkerConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import type { ReplyOpener } from '../../lib/reply/open-reply';
import { slidingMinuteBudget } from '../../lib/reply/write-budget';
import { MomentoCache } from '../../lib/store/momento-cache';
import { createMomentoClient } from '../../lib/store/momento-client';
import { momentoSharedLog } from '../../lib/store/shared-log';
import { buildWorkerDeps } from '../../lib/worker/worker-deps';
import { type LocalStack, startLocalStack } from '../../sandbox/local-stack';

// Slack's "per minute" is compressed to 3 s for the budget, and a little less for the peer (Slack's
// documented numbers are floors; a loaded machine may delay a call between its admission and the
// peer), so that a run over several of Slack's minutes takes seconds.
const MINUTE_MS = 3_000;
const UPDATES_PER_MINUTE = 10;
const logger = createLogger('write-budget-test', { logLevel: 'SILENT' });
let stack: LocalStack;
const built: Array<{ close(): void }> = [];

beforeAll(async () => {
  stack = await startLocalStack({
    slackLimits: {
      rateLimits: { 'chat.update': { perMinute: UPDATES_PER_MINUTE } },
      rateLimitMinuteMs: MINUTE_MS * 0.85,
      // Channels `CA…` are in workspace TA, the others in TB.
      teamOfChannel: (channel) => (channel.startsWith('CA') ? 'TA' : 'TB'),
    },
  });
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.slack.reset();
  stack.momento!.resume();
});
afterEach(() => {
  for (const deps of built.splice(0)) deps.close();
});

/** One worker ("Lambda instance") with its own Slack and Momento clients. */
function worker(budget: 'shared' | 'off'): ReplyOpener {
  const base = stack.workerConfig;
  const config: WorkerConfig = {
    ...base,
    slack: {
      ...base.slack,
      streaming: 'edit',
      updateIntervalMs: 250,
      sharedWriteBudget: budget === 'shared',
    },
  };
  const deps = buildWorkerDeps(config, logger, {
    writeBudget: {
      minuteMs: MINUTE_MS,
      limits: { 'chat.update': { perMinute: UPDATES_PER_MINUTE, scope: 'team' } },
    },
    // EMF lines are checked in governance.test.ts; here they would only be noise.
    metrics: createMetrics('test', 'slack-worker', { write: () => undefined }),
  });
  built.push(deps);
  return deps.replies;
}

let thread = 0;
/** Streams a 12-word answer into a new thread of `channel` over ~1.2 s, then finishes it. */
async function answer(replies: ReplyOpener, channel: string, teamId: string): Promise<string> {
  const ts = `1700002${String(++thread).padStart(3, '0')}.000100`;
  stack.slack.seedMessage({ channel, ts, user: 'U0ASKER', text: 'question' });
  const target = {
    eventId: `EvBUDGET${thread}`,
    teamId,
    channel,
    threadTs: ts,
    ts,
    user: 'U0ASKER',
    isDm: false,
    botUserId: stack.slack.botUserId,
  };
  const reply = await replies.open(
    target,
    { lookInThread: false },
    {
      timeLeftMs: () => 60_000,
      onMessages: async () => undefined,
      logger,
    },
  );
  await reply.open();
  const words = Array.from({ length: 12 }, (_, i) => `word${i}`);
  for (let i = 1; i <= words.length; i++) {
    reply.show(words.slice(0, i).join(' '));
    await new Promise((r) => setTimeout(r, 100));
  }
  const full = words.join(' ');
  await reply.finish(full);
  return ts;
}

const finalTexts = (channel: string, ts: string) =>
  stack.slack
    .thread(channel, ts)
    .filter((m) => m.user === stack.slack.botUserId)
    .map((m) => m.text);
const rateLimited = () => stack.slack.calls.filter((c) => c.status === 429).length;

describe('one Slack write budget per workspace, shared through Momento', () => {
  it('gets 429s when six replies in one workspace each pace only themselves', async () => {
    // Prepare: the control case, two workers without the shared budget.
    const [a, b] = [worker('off'), worker('off')];
    // Act
    await Promise.all([a, a, a, b, b, b].map((w, i) => answer(w, `CA${i}`, 'TA').catch(() => '')));
    // Assess
    expect(rateLimited()).toBeGreaterThan(0);
  });

  it('keeps six replies from two workers in one workspace under the limit, every final text complete', async () => {
    // Prepare
    const [a, b] = [worker('shared'), worker('shared')];
    // Act
    const threads = await Promise.all([a, a, a, b, b, b].map((w, i) => answer(w, `CA${i}`, 'TA')));
    // Assess
    expect(rateLimited()).toBe(0);
    threads.forEach((ts, i) => {
      expect(finalTexts(`CA${i}`, ts)).toEqual([Array.from({ length: 12 }, (_, k) => `word${k}`).join(' ')]);
    });
  });

  it('does not count one workspace against another', async () => {
    // Prepare: two budgets on separate Momento clients, as two Lambda instances have.
    const budgets = [0, 1].map(() =>
      slidingMinuteBudget(
        momentoSharedLog(new MomentoCache(createMomentoClient(stack.workerConfig.momento), 'budget-test')),
        { logger },
      ),
    );
    const take = (i: number, teamId: string) =>
      budgets[i % 2]!.take({ teamId, channel: 'C1', method: 'chat.update', priority: 'final' });
    // Act: Tier 3 allows 50 a minute; both instances take from the same log.
    const busy: number[] = [];
    for (let i = 0; i < 51; i++) busy.push(await take(i, `TBUSY${process.pid}`));
    const quiet = await take(0, `TQUIET${process.pid}`);
    // Assess
    expect(busy.filter((w) => w === 0)).toHaveLength(50);
    expect(busy[50]).toBeGreaterThan(0);
    expect(quiet).toBe(0);
  });

  it('falls back to per-reply pacing when Momento is unreachable, and the answer is complete', async () => {
    // Prepare
    const replies = worker('shared');
    stack.momento!.pause();
    // Act
    const ts = await answer(replies, 'CB1', 'TB');
    // Assess
    expect(finalTexts('CB1', ts)).toEqual([Array.from({ length: 12 }, (_, k) => `word${k}`).join(' ')]);
  });
});
