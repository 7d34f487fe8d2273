import type { SlackCallError } from '../../lib/errors';
import { createLogger } from '../../lib/logger';
import { admit, MAX_BUDGET_WAIT_MS } from '../../lib/reply/budgeted-write';
import { SLACK_WRITE_LIMITS } from '../../lib/reply/slack-tiers';
import {
  BudgetWaitError,
  budgetKey,
  type SharedLog,
  slidingMinuteBudget,
  type WriteRequest,
  waitForTurn,
} from '../../lib/reply/write-budget';

const logger = createLogger('write-budget-test', { logLevel: 'SILENT' });

/** An in-memory log implementing our own port (not Momento's SDK): appends are serialised. */
function memoryLog() {
  const logs = new Map<string, string[]>();
  let down = false;
  const log: SharedLog = {
    async append(key, entry, keep) {
      if (down) throw new Error('unreachable');
      const list = [...(logs.get(key) ?? []), entry].slice(-keep);
      logs.set(key, list);
      return [...list];
    },
    async remove(key, entry) {
      logs.set(
        key,
        (logs.get(key) ?? []).filter((e) => e !== entry),
      );
    },
  };
  return { log, logs, setDown: (value: boolean) => (down = value) };
}

function budgetAt(log: SharedLog, clock: { t: number }) {
  return slidingMinuteBudget(log, { logger, now: () => clock.t, random: () => 0 });
}

const req = (over: Partial<WriteRequest> = {}): WriteRequest => ({
  teamId: 'T1',
  channel: 'C1',
  method: 'chat.update',
  priority: 'final',
  ...over,
});

/** Every 60 s span of `times` holds at most `limit` of them. */
function maxInAnyMinute(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < sorted.length; i++) {
    const inSpan = sorted.filter((t) => t >= sorted[i]! && t < sorted[i]! + 60_000).length;
    most = Math.max(most, inSpan);
  }
  return most;
}

describe('waitForTurn', () => {
  const tier2 = { perMinute: 20, scope: 'team' as const };
  /** Final writes logged at these times. */
  const calls = (times: number[], final = true) => times.map((at) => ({ at, final }));

  it('admits while fewer than the limit were made in the minute before', () => {
    // Act / Assess
    expect(waitForTurn(calls(Array(19).fill(1_000)), 2_000, tier2, 'final')).toBe(0);
    // A minute and the 2 s by which a call may reach Slack later than it was admitted.
    expect(waitForTurn(calls(Array(20).fill(1_000)), 2_000, tier2, 'final')).toBe(61_000);
    expect(waitForTurn(calls(Array(20).fill(1_000)), 63_001, tier2, 'final')).toBe(0);
  });

  it('waits until the oldest calls in the way have left the minute', () => {
    // Prepare: 20 calls one second apart, from t = 0 s.
    const before = calls(Array.from({ length: 20 }, (_, i) => i * 1_000));
    // Act / Assess: at 25 s, the call made at 0 s leaves the minute (and its 2 s margin) at 62 s.
    expect(waitForTurn(before, 25_000, tier2, 'final')).toBe(37_000);
  });

  it('keeps room for final writes: streaming ones stop at their share', () => {
    // Act / Assess: 60 % of 20 is 12.
    expect(waitForTurn(calls(Array(11).fill(0), false), 100, tier2, 'streaming')).toBe(0);
    expect(waitForTurn(calls(Array(12).fill(0), false), 100, tier2, 'streaming')).toBeGreaterThan(0);
    expect(waitForTurn(calls(Array(12).fill(0), false), 100, tier2, 'final')).toBe(0);
  });

  it('leaves as much room for final writes as the last minute needed', () => {
    // Prepare: 12 final writes and 2 streaming ones in the last minute of a Tier 3 method (50).
    const tier3 = { perMinute: 50, scope: 'team' as const };
    const before = [...calls(Array(12).fill(0)), ...calls([1, 2], false)];
    // Act / Assess: streaming may use 30 (60 %) while 50 − 12 finals leave room: it goes.
    expect(waitForTurn(before, 100, tier3, 'streaming')).toBe(0);
    // 45 finals a minute leave streaming writes 5, all used: the next one waits.
    const busy = [...calls(Array(45).fill(0)), ...calls([1, 2, 3, 4, 5], false)];
    expect(waitForTurn(busy, 100, tier3, 'streaming')).toBeGreaterThan(0);
    expect(waitForTurn(busy.slice(0, 49), 100, tier3, 'final')).toBe(0);
  });

  it('holds chat.postMessage to its short burst in a channel as well as to its minute', () => {
    // Prepare
    const post = SLACK_WRITE_LIMITS['chat.postMessage']!;
    // Act / Assess: five in the last five seconds: the sixth waits for the oldest to leave them.
    expect(waitForTurn(calls([1_000, 1_100, 1_200, 1_300, 1_400]), 2_000, post, 'final')).toBe(4_167);
    expect(waitForTurn(calls([1_000, 1_100, 1_200, 1_300]), 2_000, post, 'final')).toBe(0);
  });
});

describe('budgetKey', () => {
  it('counts per workspace, or per workspace and channel', () => {
    // Act / Assess
    expect(budgetKey(req(), SLACK_WRITE_LIMITS['chat.update']!)).toBe('slack-writes:chat.update:T1');
    expect(budgetKey(req({ method: 'chat.postMessage' }), SLACK_WRITE_LIMITS['chat.postMessage']!)).toBe(
      'slack-writes:chat.postMessage:T1:C1',
    );
  });
});

describe('slidingMinuteBudget', () => {
  it('uses Slack’s Tier 2 in full: 20 stream starts at once, the 21st when the first leaves the minute', async () => {
    // Prepare
    const { log } = memoryLog();
    const clock = { t: 100_000 };
    const budget = budgetAt(log, clock);
    // Act
    const waits: number[] = [];
    for (let i = 0; i < 21; i++) waits.push(await budget.take(req({ method: 'chat.startStream' })));
    clock.t = 162_001;
    const later = await budget.take(req({ method: 'chat.startStream' }));
    // Assess
    expect(waits.slice(0, 20).every((w) => w === 0)).toBe(true);
    expect(waits[20]).toBe(62_000);
    expect(later).toBe(0);
  });

  it('never lets any 60 s span hold more than the tier, however the calls fall', async () => {
    // Prepare: writers asking at random moments over five minutes, each going when admitted.
    const { log } = memoryLog();
    const clock = { t: 0 };
    const budget = budgetAt(log, clock);
    const made: number[] = [];
    let seed = 7;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    // Act
    for (let i = 0; i < 2_000; i++) {
      clock.t += Math.floor(random() * 400);
      if ((await budget.take(req())) === 0) made.push(clock.t);
    }
    // Assess: Tier 3 is 50 a minute, and it is used (more than 4 minutes' worth in ~6.7 minutes).
    expect(maxInAnyMinute(made)).toBeLessThanOrEqual(50);
    expect(made.length).toBeGreaterThan(200);
  });

  it('never lets one workspace slow another, and counts chat.postMessage per channel', async () => {
    // Prepare
    const { log } = memoryLog();
    const budget = budgetAt(log, { t: 0 });
    for (let i = 0; i < 50; i++) await budget.take(req({ teamId: 'TBUSY' }));
    for (let i = 0; i < 5; i++) await budget.take(req({ method: 'chat.postMessage', channel: 'CBUSY' }));
    // Act
    const busy = await budget.take(req({ teamId: 'TBUSY' }));
    const quiet = await budget.take(req({ teamId: 'TQUIET' }));
    const busyChannel = await budget.take(req({ method: 'chat.postMessage', channel: 'CBUSY' }));
    const otherChannel = await budget.take(req({ method: 'chat.postMessage', channel: 'COTHER' }));
    // Assess
    expect(busy).toBeGreaterThan(0);
    expect(quiet).toBe(0);
    expect(busyChannel).toBeGreaterThan(0);
    expect(otherChannel).toBe(0);
  });

  it('takes a refused write out of the log again, so it does not hold back those that go', async () => {
    // Prepare
    const { log, logs } = memoryLog();
    const clock = { t: 0 };
    const budget = budgetAt(log, clock);
    for (let i = 0; i < 20; i++) await budget.take(req({ method: 'chat.startStream' }));
    // Act
    for (let i = 0; i < 5; i++) await budget.take(req({ method: 'chat.startStream' }));
    // Assess
    expect(logs.get('slack-writes:chat.startStream:T1')).toHaveLength(20);
  });

  it('lets methods without a limit go without asking the log', async () => {
    // Prepare
    const { log, logs } = memoryLog();
    const budget = budgetAt(log, { t: 0 });
    // Act
    const wait = await budget.take(req({ method: 'assistant.threads.setStatus' }));
    // Assess
    expect(wait).toBe(0);
    expect(logs.size).toBe(0);
  });

  it('grants everything while the log is unreachable, and asks it again after a while', async () => {
    // Prepare
    const { log, logs, setDown } = memoryLog();
    const clock = { t: 0 };
    const budget = budgetAt(log, clock);
    setDown(true);
    // Act
    const whileDown = [];
    for (let i = 0; i < 60; i++) whileDown.push(await budget.take(req()));
    setDown(false);
    const soonAfter = await budget.take(req());
    clock.t = 31_000;
    const later = await budget.take(req());
    // Assess
    expect(whileDown.every((w) => w === 0)).toBe(true);
    expect(soonAfter).toBe(0);
    expect(logs.get('slack-writes:chat.update:T1')).toHaveLength(1);
    expect(later).toBe(0);
  });
});

describe('admit (how the reply adapters use the budget)', () => {
  it('turns a streaming write away with the time to wait, without sleeping', async () => {
    // Prepare
    const slept: number[] = [];
    const o = {
      budget: async () => 2_500,
      timeLeftMs: () => 60_000,
      sleep: async (ms: number) => void slept.push(ms),
    };
    // Act
    const error = await admit(o, 'chat.update', { final: false }).catch((e: SlackCallError) => e);
    // Assess
    expect(error).toBeInstanceOf(BudgetWaitError);
    expect((error as SlackCallError).retryAfterSeconds).toBe(2.5);
    expect(slept).toEqual([]);
  });

  it('makes a final write wait a few seconds at most: longer, it goes back to the queue', async () => {
    // Prepare
    const answers = [3_000, 0];
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);
    const waiting = { budget: async () => answers.shift()!, timeLeftMs: () => 60_000, sleep };
    const tooLong = { budget: async () => MAX_BUDGET_WAIT_MS + 1, timeLeftMs: () => 60_000, sleep };
    const lastReceive = { ...tooLong, maxBudgetWaitMs: Number.POSITIVE_INFINITY, budget: waiting.budget };
    answers.push(MAX_BUDGET_WAIT_MS + 1, 0);
    // Act
    await admit(waiting, 'chat.update', { final: true });
    const handedBack = await admit(tooLong, 'chat.update', { final: true }).catch((e: unknown) => e);
    await admit(lastReceive, 'chat.update', { final: true });
    // Assess
    expect(handedBack).toBeInstanceOf(BudgetWaitError);
    expect(slept).toEqual([3_000, MAX_BUDGET_WAIT_MS + 1]);
  });

  it('never waits longer than the invocation has left', async () => {
    // Prepare
    const late = { budget: async () => 3_000, timeLeftMs: () => 2_000, sleep: async () => undefined };
    // Act
    const error = await admit(late, 'chat.update', { final: true }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(BudgetWaitError);
  });
});
