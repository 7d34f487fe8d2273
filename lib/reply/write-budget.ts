import type { Logger } from '@aws-lambda-powertools/logger';
import type { MomentoCache } from '../history/momento-cache';

/**
 * Slack's limits are "per API method per workspace/team per app" (https://docs.slack.dev/apis/web-api/rate-limits),
 * shared by every Lambda instance writing into that workspace. A {@link WriteBudget} lets all
 * replies being written in one workspace share that budget through a counter in Momento.
 */

/** Who a write counts against: `team` (per workspace) or `channel` (`chat.postMessage`: ~1/s per channel). */
export type BudgetScope = 'team' | 'channel';

/** The documented limit of one method. */
export interface MethodBudget {
  perMinute: number;
  scope: BudgetScope;
  /**
   * This method's counting window, instead of {@link WriteBudgetOptions.windowMs}. A long window
   * allows bursts (a 60 s window lets a Tier 2 method make 10 calls at once), a short one a higher
   * sustained rate: see {@link allowancePerWindow}.
   */
  windowMs?: number;
}

/**
 * `final` writes (the complete answer, a stream's start and stop, a placeholder) may use the whole
 * window; `intermediate` ones (streaming edits and appends) only {@link WriteBudgetOptions.intermediateShare} of it.
 */
export type WritePriority = 'final' | 'intermediate';

/** One write about to be made. */
export interface WriteRequest {
  teamId: string;
  channel: string;
  method: string;
  priority: WritePriority;
}

/** The port: asks before each Slack write whether it fits the workspace's shared budget. */
export interface WriteBudget {
  /**
   * Takes one call of `method` from its window. Never throws: while the shared counter is
   * unreachable it grants everything (each reply's own pacing and Slack's `Retry-After` apply).
   * @returns 0 when the write may go now, otherwise milliseconds to wait before asking again.
   */
  take(request: WriteRequest): Promise<number>;
}

/** A shared counter per key and window: the part of Momento the budget needs. */
export interface WindowCounter {
  /** Adds `by` (may be negative) and returns the new value; a missing key counts from 0. */
  increment(key: string, by: number, ttlSeconds: number): Promise<number>;
}

/** Options of {@link sharedWriteBudget}. */
export interface WriteBudgetOptions {
  budgets: Readonly<Record<string, MethodBudget>>;
  /** Length of one counting window (`SLACK_BUDGET_WINDOW_MS`). */
  windowMs: number;
  /** Part of each window intermediate writes may use, 0 < share ≤ 1 (`SLACK_BUDGET_INTERMEDIATE_SHARE`). */
  intermediateShare: number;
  logger: Logger;
  /** The span Slack counts `perMinute` over: 60 s; tests compress it. */
  minuteMs?: number;
  /** After the counter fails, it is not asked again for this long. Default 30 s. */
  unreachableBackoffMs?: number;
  now?: () => number;
  random?: () => number;
}

/**
 * Calls allowed per window so that no 60-second span holds more than `perMinute`, however the
 * windows fall against the span: a span of 60 s touches at most `60/W + 1` windows of `W` s.
 * At least one (then the guarantee needs `W ≥ 60 s / (perMinute − 1)`).
 */
export function allowancePerWindow(perMinute: number, windowMs: number, minuteMs = 60_000): number {
  return Math.max(1, Math.floor((perMinute * windowMs) / (minuteMs + windowMs)));
}

/** How many calls of a window a write of `priority` may bring the count to. */
export function ceilingFor(allowance: number, priority: WritePriority, intermediateShare: number): number {
  return priority === 'final' ? allowance : Math.max(1, Math.floor(allowance * intermediateShare));
}

/**
 * Milliseconds until the next window starts, plus a spread of up to one call's share of the window,
 * so that the writers turned away do not all come back at the same instant.
 */
export function waitForNextWindow(now: number, windowMs: number, allowance: number, random: number): number {
  const rest = windowMs - (now % windowMs);
  return Math.ceil(rest + random * (windowMs / allowance));
}

/** The counter key of one method's window in one workspace (or channel). */
export function budgetKey(request: WriteRequest, scope: BudgetScope, window: number): string {
  const who = scope === 'channel' ? `${request.teamId}:${request.channel}` : request.teamId;
  return `slack-budget:${request.method}:${who}:${window}`;
}

/**
 * {@link WriteBudget} over a shared {@link WindowCounter}: fixed windows of `windowMs` per workspace
 * and method. A write increments its window's count; over its ceiling it gives the call back
 * (decrement) and waits for the next window. Methods without a budget always go.
 */
export function sharedWriteBudget(counter: WindowCounter, options: WriteBudgetOptions): WriteBudget {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const backoffMs = options.unreachableBackoffMs ?? 30_000;
  let unreachableUntil = 0;

  const fail = (error: unknown): number => {
    if (now() >= unreachableUntil) {
      options.logger.warn('write budget unavailable; each reply paces itself', { error: error as Error });
    }
    unreachableUntil = now() + backoffMs;
    return 0;
  };

  return {
    async take(request) {
      const budget = options.budgets[request.method];
      if (!budget || now() < unreachableUntil) return 0;
      const windowMs = budget.windowMs ?? options.windowMs;
      const ttlSeconds = Math.ceil((windowMs * 2) / 1000);
      const allowance = allowancePerWindow(budget.perMinute, windowMs, options.minuteMs);
      const ceiling = ceilingFor(allowance, request.priority, options.intermediateShare);
      const at = now();
      const key = budgetKey(request, budget.scope, Math.floor(at / windowMs));
      let count: number;
      try {
        count = await counter.increment(key, 1, ttlSeconds);
      } catch (error) {
        return fail(error);
      }
      if (count <= ceiling) return 0;
      // Give the call back, so a refused write does not use up the window of those that go.
      await counter.increment(key, -1, ttlSeconds).catch(fail);
      return waitForNextWindow(at, windowMs, allowance, random());
    },
  };
}

/** {@link WindowCounter} in Momento (`increment` with a TTL per key). */
export function momentoWindowCounter(cache: MomentoCache): WindowCounter {
  return {
    async increment(key, by, ttlSeconds) {
      const res = await cache.run('increment', (name) =>
        cache.client.increment(name, key, by, { ttl: ttlSeconds }),
      );
      return (res as unknown as { value(): number }).value();
    },
  };
}

/** No shared budget: every write goes (each reply's own interval and `Retry-After` apply). */
export const unlimitedWriteBudget: WriteBudget = { take: async () => 0 };

/** One reply's view of the budget: its workspace and channel are bound. */
export type ReplyBudget = (method: string, priority: WritePriority) => Promise<number>;

/** Binds a {@link WriteBudget} to one reply's workspace and channel. */
export function replyBudget(budget: WriteBudget, teamId: string, channel: string): ReplyBudget {
  return (method, priority) => budget.take({ teamId, channel, method, priority });
}

/** The `slackError` of the {@link SlackCallError} a streaming write gets when its turn has not come. */
export const BUDGET_WAIT = 'budget_wait';
