import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { SlackCallError } from '../errors';
import { type MethodLimit, MINUTE_MS, SLACK_WRITE_LIMITS, STREAMING_SHARE } from './slack-tiers';

/**
 * `final` writes (a complete answer, a stream's start and stop, a placeholder) may use the whole
 * limit; `streaming` ones (edits and appends of a growing answer) only {@link STREAMING_SHARE} of it.
 */
export type WritePriority = 'final' | 'streaming';

/** One write about to be made. */
export interface WriteRequest {
  teamId: string;
  channel: string;
  method: string;
  priority: WritePriority;
}

/** Asks before each Slack write whether it fits the workspace's shared budget. */
export type WriteBudget = ReturnType<typeof slidingMinuteBudget>;

/** A shared, ordered log per key: the part of Momento the budget needs. */
export interface SharedLog {
  /**
   * Appends `entry` at the end of the log at `key`, keeping its newest `keep` entries, and returns
   * the whole log, oldest first (appends are ordered by the store: each writer sees all before it).
   */
  append(key: string, entry: string, keep: number, ttlSeconds: number): Promise<string[]>;
  /** Removes `entry` from the log at `key`. */
  remove(key: string, entry: string): Promise<void>;
}

/** Options of {@link slidingMinuteBudget}. */
export interface WriteBudgetOptions {
  logger: Logger;
  /** Default: Slack's published limits ({@link SLACK_WRITE_LIMITS}). */
  limits?: Readonly<Record<string, MethodLimit>>;
  /** The span Slack counts "per minute" over: 60 s; a benchmark or test may compress it. */
  minuteMs?: number;
  now?: () => number;
  random?: () => number;
}

/** After the log fails, it is not asked again for this long. */
const UNREACHABLE_BACKOFF_MS = 30_000;
/** Part added to every span the budget counts over (2 s of Slack's minute). */
const SEND_MARGIN = 1 / 30;

/** A call in the shared log: when it was admitted, and whether it was a final write. */
export interface LoggedCall {
  at: number;
  final: boolean;
}

/**
 * Whether a write may go, given the calls logged before it (oldest first), and if not, how long
 * until it could. A final write goes while fewer than the limit were made in the minute before it
 * (and fewer than a burst's count in its span). A streaming write goes while fewer than its share
 * of the limit were made, and only while that leaves room for as many final writes as the last
 * minute needed: when answers end often, their growing text waits, never their ends.
 * @returns 0 to go now, otherwise milliseconds until enough earlier calls have left their span.
 */
export function waitForTurn(
  before: readonly LoggedCall[],
  now: number,
  limit: MethodLimit,
  priority: WritePriority,
  minuteMs = MINUTE_MS,
): number {
  // A call is logged when admitted and counted by Slack when it arrives: its minute is stretched a
  // little, so that a call sent late and the next sent early are never seen within one minute.
  const minute = Math.round(minuteMs * (1 + SEND_MARGIN));
  const finals = before.filter((c) => c.final && c.at > now - minute).length;
  const ceiling =
    priority === 'final'
      ? limit.perMinute
      : Math.min(Math.max(1, Math.floor(limit.perMinute * STREAMING_SHARE)), limit.perMinute - finals);
  const spans = [{ count: ceiling, ms: minute }];
  if (limit.burst) {
    spans.push({
      count: limit.burst.count,
      ms: Math.round(((limit.burst.ms * minuteMs) / MINUTE_MS) * (1 + SEND_MARGIN)),
    });
  }
  let wait = 0;
  for (const span of spans) {
    const inSpan = before
      .map((c) => c.at)
      .filter((t) => t > now - span.ms)
      .sort((a, b) => a - b);
    // The oldest calls that must leave the span before this one fits in it.
    const over = Math.min(inSpan.length - 1, inSpan.length - span.count);
    if (inSpan.length >= span.count && over >= 0) wait = Math.max(wait, inSpan[over]! + span.ms - now);
  }
  return Math.max(0, Math.ceil(wait));
}

/** A log entry `<epoch ms>:<f|s>:<id>` as a {@link LoggedCall}. */
function readEntry(entry: string): LoggedCall {
  const [at = '0', kind] = entry.split(':');
  return { at: Number(at), final: kind !== 's' };
}

/** The log key of one method's calls in one workspace (or channel). */
export function budgetKey(request: WriteRequest, limit: MethodLimit): string {
  const who = limit.scope === 'channel' ? `${request.teamId}:${request.channel}` : request.teamId;
  return `slack-writes:${request.method}:${who}`;
}

/**
 * One budget of Slack writes per workspace and method, shared by every Lambda instance writing
 * there (see slack-tiers.ts): a sliding minute over a {@link SharedLog}, so that no 60-second span
 * ever holds more than the documented number. A write appends itself to the log first, then counts
 * what was logged before it; over the limit, it takes itself out again and waits until the oldest
 * calls in its way have left their minute. Appending first means two writers at the same instant
 * cannot both pass: the later one counts the earlier (at worst both wait). Methods without a limit
 * always go.
 */
export function slidingMinuteBudget(log: SharedLog, options: WriteBudgetOptions) {
  const limits = options.limits ?? SLACK_WRITE_LIMITS;
  const minuteMs = options.minuteMs ?? MINUTE_MS;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  let unreachableUntil = 0;

  const fail = (error: unknown): number => {
    if (now() >= unreachableUntil) {
      options.logger.warn('write budget unavailable; each reply paces itself', { error: error as Error });
    }
    unreachableUntil = now() + UNREACHABLE_BACKOFF_MS;
    return 0;
  };

  return {
    /**
     * Takes one call of `method` from its budget. Never throws: while the shared log is
     * unreachable it grants everything (each reply's own pacing and Slack's `Retry-After` apply).
     * @returns 0 when the write may go now, otherwise milliseconds to wait before asking again.
     */
    async take(request: WriteRequest): Promise<number> {
      const limit = limits[request.method];
      if (!limit || now() < unreachableUntil) return 0;
      const key = budgetKey(request, limit);
      const at = now();
      const entry = `${at}:${request.priority === 'final' ? 'f' : 's'}:${randomUUID()}`;
      let entries: string[];
      try {
        // Room for every call of a minute and as many refused ones still on their way out.
        entries = await log.append(key, entry, limit.perMinute * 4, Math.ceil((2 * minuteMs) / 1000));
      } catch (error) {
        return fail(error);
      }
      const mine = entries.lastIndexOf(entry);
      const before = entries.slice(0, Math.max(0, mine)).map(readEntry);
      const wait =
        mine < 0 ? minuteMs / limit.perMinute : waitForTurn(before, at, limit, request.priority, minuteMs);
      if (wait === 0) return 0;
      // Out of the log again, so a refused write does not hold back those that go.
      await log.remove(key, entry).catch(fail);
      // Spread those turned away over one call's share of the minute, so they do not all come back at once.
      return wait + Math.ceil(random() * (minuteMs / limit.perMinute / 4));
    },
  };
}

/** One reply's view of the budget: its workspace and channel are bound. */
export type ReplyBudget = (method: string, priority: WritePriority) => Promise<number>;

/** Binds a {@link WriteBudget} to one reply's workspace and channel. */
export function replyBudget(budget: WriteBudget, teamId: string, channel: string): ReplyBudget {
  return (method, priority) => budget.take({ teamId, channel, method, priority });
}

/**
 * Not sent: the workspace's shared write budget (or the reply's own pacing, which keeps Slack's
 * `Retry-After`) has no room for this write for `waitMs`, longer than it may wait. A streaming
 * write skips its turn; a final write hands the answer back to the queue for that long.
 */
export class BudgetWaitError extends SlackCallError {
  readonly waitMs: number;
  constructor(method: string, waitMs: number) {
    super(method, { retryable: true, retryAfterSeconds: waitMs / 1000 });
    this.waitMs = waitMs;
  }
}
