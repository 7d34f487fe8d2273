import { SlackCallError } from '../../lib/errors';
import { createLogger } from '../../lib/logger';
import { admit } from '../../lib/reply/slack-call';
import {
  allowancePerWindow,
  BUDGET_WAIT,
  budgetKey,
  ceilingFor,
  sharedWriteBudget,
  type WindowCounter,
  waitForNextWindow,
} from '../../lib/reply/write-budget';

const logger = createLogger('write-budget-test', { logLevel: 'SILENT' });

/** An in-memory counter implementing our own port (not Momento's SDK). */
function memoryCounter() {
  const values = new Map<string, number>();
  let down = false;
  const counter: WindowCounter = {
    async increment(key, by) {
      if (down) throw new Error('unreachable');
      const value = (values.get(key) ?? 0) + by;
      values.set(key, value);
      return value;
    },
  };
  return {
    counter,
    values,
    setDown(value: boolean) {
      down = value;
    },
  };
}

function budgetAt(counter: WindowCounter, clock: { t: number }, share = 0.6) {
  return sharedWriteBudget(counter, {
    budgets: {
      'chat.update': { perMinute: 50, scope: 'team' },
      'chat.postMessage': { perMinute: 60, scope: 'channel' },
    },
    windowMs: 10_000,
    intermediateShare: share,
    logger,
    now: () => clock.t,
    random: () => 0,
  });
}

const req = (over: Partial<Parameters<ReturnType<typeof sharedWriteBudget>['take']>[0]> = {}) => ({
  teamId: 'T1',
  channel: 'C1',
  method: 'chat.update',
  priority: 'final' as const,
  ...over,
});

describe('allowancePerWindow', () => {
  it.each([
    [50, 10_000, 7],
    [100, 10_000, 14],
    [20, 10_000, 2],
    [60, 10_000, 8],
    [1, 10_000, 1],
  ])(
    'keeps any 60 s span within %d a minute with %d ms windows: %d per window',
    (perMinute, windowMs, expected) => {
      // Act
      const allowance = allowancePerWindow(perMinute, windowMs);
      // Assess: a 60 s span touches at most 60/W + 1 windows.
      expect(allowance).toBe(expected);
      if (perMinute > 1) expect(allowance * (60_000 / windowMs + 1)).toBeLessThanOrEqual(perMinute);
    },
  );
});

describe('ceilingFor', () => {
  it('gives final writes the whole window and intermediate ones their share, at least one', () => {
    // Act / Assess
    expect(ceilingFor(7, 'final', 0.6)).toBe(7);
    expect(ceilingFor(7, 'intermediate', 0.6)).toBe(4);
    expect(ceilingFor(1, 'intermediate', 0.5)).toBe(1);
  });
});

describe('waitForNextWindow', () => {
  it('waits until the next window, spread by up to one call of the window', () => {
    // Act / Assess
    expect(waitForNextWindow(12_500, 10_000, 5, 0)).toBe(7_500);
    expect(waitForNextWindow(12_500, 10_000, 5, 0.5)).toBe(8_500);
  });
});

describe('budgetKey', () => {
  it('counts per workspace, or per workspace and channel', () => {
    // Act / Assess
    expect(budgetKey(req(), 'team', 3)).toBe('slack-budget:chat.update:T1:3');
    expect(budgetKey(req({ method: 'chat.postMessage' }), 'channel', 3)).toBe(
      'slack-budget:chat.postMessage:T1:C1:3',
    );
  });
});

describe('sharedWriteBudget', () => {
  it('admits a window of writes per workspace, then makes the next wait for the next window', async () => {
    // Prepare
    const { counter } = memoryCounter();
    const clock = { t: 100_000 };
    const budget = budgetAt(counter, clock);
    // Act
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) waits.push(await budget.take(req()));
    clock.t = 110_000;
    const nextWindow = await budget.take(req());
    // Assess
    expect(waits.slice(0, 7)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(waits[7]).toBe(10_000);
    expect(nextWindow).toBe(0);
  });

  it('keeps room for final writes: intermediate ones stop at their share', async () => {
    // Prepare
    const { counter } = memoryCounter();
    const budget = budgetAt(counter, { t: 0 });
    // Act
    const intermediate: number[] = [];
    for (let i = 0; i < 5; i++) intermediate.push(await budget.take(req({ priority: 'intermediate' })));
    const finals: number[] = [];
    for (let i = 0; i < 4; i++) finals.push(await budget.take(req()));
    // Assess: 4 of 7 for intermediate writes, the refused one gave its call back, 3 left for finals.
    expect(intermediate.map((w) => w === 0)).toEqual([true, true, true, true, false]);
    expect(finals.map((w) => w === 0)).toEqual([true, true, true, false]);
  });

  it('never lets one workspace slow another', async () => {
    // Prepare
    const { counter } = memoryCounter();
    const budget = budgetAt(counter, { t: 0 });
    for (let i = 0; i < 7; i++) await budget.take(req({ teamId: 'TBUSY' }));
    // Act
    const busy = await budget.take(req({ teamId: 'TBUSY' }));
    const quiet = await budget.take(req({ teamId: 'TQUIET' }));
    // Assess
    expect(busy).toBeGreaterThan(0);
    expect(quiet).toBe(0);
  });

  it("counts a method with its own window over that window (Tier 2's bursts)", async () => {
    // Prepare: 20 a minute in windows of 60 s: 10 per window.
    const { counter } = memoryCounter();
    const clock = { t: 0 };
    const budget = sharedWriteBudget(counter, {
      budgets: { 'chat.startStream': { perMinute: 20, scope: 'team', windowMs: 60_000 } },
      windowMs: 10_000,
      intermediateShare: 0.6,
      logger,
      now: () => clock.t,
      random: () => 0,
    });
    // Act
    const burst: number[] = [];
    for (let i = 0; i < 11; i++) burst.push(await budget.take(req({ method: 'chat.startStream' })));
    // Assess
    expect(burst.filter((w) => w === 0)).toHaveLength(10);
    expect(burst[10]).toBe(60_000);
  });

  it('counts chat.postMessage per channel', async () => {
    // Prepare
    const { counter } = memoryCounter();
    const budget = budgetAt(counter, { t: 0 });
    for (let i = 0; i < 8; i++) await budget.take(req({ method: 'chat.postMessage', channel: 'CBUSY' }));
    // Act
    const busy = await budget.take(req({ method: 'chat.postMessage', channel: 'CBUSY' }));
    const other = await budget.take(req({ method: 'chat.postMessage', channel: 'COTHER' }));
    // Assess
    expect(busy).toBeGreaterThan(0);
    expect(other).toBe(0);
  });

  it('lets methods without a budget go without asking the counter', async () => {
    // Prepare
    const { counter, values } = memoryCounter();
    const budget = budgetAt(counter, { t: 0 });
    // Act
    const wait = await budget.take(req({ method: 'assistant.threads.setStatus' }));
    // Assess
    expect(wait).toBe(0);
    expect(values.size).toBe(0);
  });

  it('grants everything while the counter is unreachable, and asks it again after a while', async () => {
    // Prepare
    const { counter, values, setDown } = memoryCounter();
    const clock = { t: 0 };
    const budget = budgetAt(counter, clock);
    setDown(true);
    // Act
    const whileDown = [];
    for (let i = 0; i < 20; i++) whileDown.push(await budget.take(req()));
    setDown(false);
    const soonAfter = await budget.take(req());
    clock.t = 31_000;
    const later = await budget.take(req());
    // Assess
    expect(whileDown.every((w) => w === 0)).toBe(true);
    expect(soonAfter).toBe(0);
    expect([...values.values()]).toEqual([1]);
    expect(later).toBe(0);
  });
});

describe('admit (how the reply adapters use the budget)', () => {
  it('turns a streaming write away with budget_wait and the time to wait, without sleeping', async () => {
    // Prepare
    const slept: number[] = [];
    const o = {
      budget: async () => 2_500,
      timeLeftMs: () => 60_000,
      sleep: async (ms: number) => void slept.push(ms),
    };
    // Act
    const error = await admit(o, 'chat.update', false).catch((e: SlackCallError) => e);
    // Assess
    expect(error).toBeInstanceOf(SlackCallError);
    expect((error as SlackCallError).slackError).toBe(BUDGET_WAIT);
    expect((error as SlackCallError).retryAfterSeconds).toBe(2.5);
    expect(slept).toEqual([]);
  });

  it('makes a final write wait for its turn, and go anyway when the invocation has no time to wait', async () => {
    // Prepare
    const answers = [3_000, 0];
    const slept: number[] = [];
    const waiting = {
      budget: async () => answers.shift()!,
      timeLeftMs: () => 60_000,
      sleep: async (ms: number) => void slept.push(ms),
    };
    const late = { budget: async () => 3_000, timeLeftMs: () => 2_000, sleep: waiting.sleep };
    // Act
    await admit(waiting, 'chat.update', true);
    await admit(late, 'chat.update', true);
    // Assess
    expect(slept).toEqual([3_000]);
  });
});
