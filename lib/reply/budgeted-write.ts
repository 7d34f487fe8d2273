import { setTimeout as sleepFor } from 'node:timers/promises';
import { SlackCallError } from '../errors';
import { MIN_CALL_MS, NoTimeLeftError, withinTime } from '../slack/web-api-call';
import type { ReplyAdapterOptions } from './answer-reply';
import { BudgetWaitError, type WritePriority } from './write-budget';

/**
 * A final write waits at most this long for the workspace's budget. Longer, and the record goes
 * back to the queue for that long instead of sleeping in a billed invocation (its claim holds the
 * answer, so the redelivery only writes it).
 */
export const MAX_BUDGET_WAIT_MS = 5_000;
/** A final write is tried at most this many times. */
const FINAL_WRITE_ATTEMPTS = 4;

/** What one write of a reply needs: its time, its workspace's budget, a logger. */
export type WriteContext = Pick<
  ReplyAdapterOptions,
  'budget' | 'maxBudgetWaitMs' | 'timeLeftMs' | 'sleep' | 'logger'
>;

/** How one write is made. */
export interface WriteOptions {
  /** Final writes wait for the budget and retry transient failures; streaming ones do neither. */
  final: boolean;
  /** Budget priority; default `final` for final writes, `streaming` otherwise. */
  priority?: WritePriority;
  /** Longest wait for the budget; default the context's (streaming writes never wait). */
  maxWaitMs?: number;
  /** Whether a failed attempt may be made again (a write whose outcome is unknown may not). */
  safeToRetry?: (error: SlackCallError) => boolean;
  /** Time a retry must leave. */
  marginMs?: number;
}

/**
 * Makes one Slack write of a reply (every write of both adapters goes through here): admitted by
 * the workspace's write budget, bounded by the time the invocation has left, and, for a final
 * write, tried again after a transient failure — after Slack's `Retry-After` on a 429
 * (https://docs.slack.dev/apis/web-api/rate-limits), else after a short backoff — while the
 * invocation has time and `safeToRetry` allows.
 * @throws {SlackCallError} the last failure; {@link NoTimeLeftError} and {@link BudgetWaitError}
 *   are never retried here (they go back to the queue).
 */
export async function writeToSlack<T>(
  ctx: WriteContext,
  method: string,
  fn: () => Promise<T>,
  options: WriteOptions,
): Promise<T> {
  const sleep = ctx.sleep ?? ((ms: number) => sleepFor(ms));
  for (let attempt = 1; ; attempt++) {
    try {
      await admit(ctx, method, options);
      return await withinTime(method, ctx.timeLeftMs(), fn);
    } catch (error) {
      if (!(error instanceof SlackCallError)) throw error;
      const waitMs =
        error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 250 * 2 ** attempt;
      const retry =
        options.final &&
        error.retryable &&
        !(error instanceof NoTimeLeftError) &&
        !(error instanceof BudgetWaitError) &&
        (options.safeToRetry?.(error) ?? true) &&
        attempt < FINAL_WRITE_ATTEMPTS &&
        waitMs <= (options.maxWaitMs ?? ctx.maxBudgetWaitMs ?? MAX_BUDGET_WAIT_MS) &&
        waitMs < ctx.timeLeftMs() - (options.marginMs ?? 0);
      if (!retry) throw error;
      ctx.logger.warn('Slack call failed; retrying', { method: error.method, waitMs, attempt });
      await sleep(waitMs);
    }
  }
}

/**
 * Waits for the workspace's write budget to admit one call of `method`. A streaming write is not
 * kept waiting: it fails at once and the adapter skips its turn, coalescing the text into a later
 * write. A final write waits up to `maxWaitMs` within the time left.
 * @throws {BudgetWaitError} when the turn is further away than this write may wait.
 */
export async function admit(
  ctx: Pick<WriteContext, 'budget' | 'timeLeftMs' | 'sleep' | 'maxBudgetWaitMs'>,
  method: string,
  options: Pick<WriteOptions, 'final' | 'priority' | 'maxWaitMs'>,
): Promise<void> {
  if (!ctx.budget) return;
  const sleep = ctx.sleep ?? ((ms: number) => sleepFor(ms));
  const priority = options.priority ?? (options.final ? 'final' : 'streaming');
  const maxWaitMs = options.final ? (options.maxWaitMs ?? ctx.maxBudgetWaitMs ?? MAX_BUDGET_WAIT_MS) : 0;
  let waited = 0;
  for (;;) {
    const waitMs = await ctx.budget(method, priority);
    if (waitMs <= 0) return;
    if (waited + waitMs > maxWaitMs || waitMs >= ctx.timeLeftMs() - 2 * MIN_CALL_MS) {
      throw new BudgetWaitError(method, waitMs);
    }
    await sleep(waitMs);
    waited += waitMs;
  }
}
