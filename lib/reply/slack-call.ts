import type { Logger } from '@aws-lambda-powertools/logger';
import { SlackCallError } from '../errors';
import { MIN_CALL_MS, withinTime } from './time-left';
import { BUDGET_WAIT, type ReplyBudget } from './write-budget';

/** What one write of a reply needs: its time, its workspace's budget, a logger. */
export interface WriteContext {
  budget?: ReplyBudget | undefined;
  timeLeftMs: () => number;
  sleep?: ((ms: number) => Promise<void>) | undefined;
  logger: Logger;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** A final write is tried at most this many times. */
const FINAL_WRITE_ATTEMPTS = 4;

/**
 * Makes one Slack write of a reply (both adapters' writes go through here): admitted by the
 * workspace's write budget, bounded by the time the invocation has left ({@link withinTime}), and,
 * for a final write, tried again after a transient failure — after Slack's `Retry-After` on a 429
 * (https://docs.slack.dev/apis/web-api/rate-limits), else after a short backoff — while the
 * invocation has time and `safeToRetry` allows (a write whose outcome is unknown may not be safe).
 * @param options `priority`: admitted as a final write although it is not (a stream's start);
 *   `marginMs`: time a retry must leave.
 * @throws {SlackCallError} the last failure; `no_time_left` is never retried.
 */
export async function writeToSlack<T>(
  ctx: WriteContext,
  method: string,
  fn: () => Promise<T>,
  options: {
    final: boolean;
    priority?: boolean;
    safeToRetry?: (error: SlackCallError) => boolean;
    marginMs?: number;
  },
): Promise<T> {
  const sleep = ctx.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      await admit(ctx, method, options.priority ?? options.final);
      return await withinTime(method, ctx.timeLeftMs(), fn);
    } catch (error) {
      if (!(error instanceof SlackCallError)) throw error;
      const waitMs =
        error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 250 * 2 ** attempt;
      const retry =
        options.final &&
        error.retryable &&
        error.slackError !== 'no_time_left' &&
        error.slackError !== BUDGET_WAIT &&
        (options.safeToRetry?.(error) ?? true) &&
        attempt < FINAL_WRITE_ATTEMPTS &&
        waitMs < ctx.timeLeftMs() - (options.marginMs ?? 0);
      if (!retry) throw error;
      ctx.logger.warn('Slack call failed; retrying', { method: error.method, waitMs, attempt });
      await sleep(waitMs);
    }
  }
}

/**
 * Waits for the workspace's write budget to admit one call of `method`. A streaming (intermediate)
 * write is not kept waiting: it fails with {@link BUDGET_WAIT} and the adapter skips its turn,
 * coalescing the text into a later write. A final write waits while the invocation has time; when
 * it has none left to wait, it goes anyway (Slack's `Retry-After` is the last word).
 * @throws {SlackCallError} `budget_wait` for an intermediate write whose turn has not come.
 */
export async function admit(
  ctx: Pick<WriteContext, 'budget' | 'timeLeftMs' | 'sleep'>,
  method: string,
  final: boolean,
): Promise<void> {
  if (!ctx.budget) return;
  const sleep = ctx.sleep ?? defaultSleep;
  for (;;) {
    const waitMs = await ctx.budget(method, final ? 'final' : 'intermediate');
    if (waitMs <= 0) return;
    if (!final) {
      throw new SlackCallError(method, {
        slackError: BUDGET_WAIT,
        retryable: true,
        retryAfterSeconds: waitMs / 1000,
      });
    }
    if (waitMs >= ctx.timeLeftMs() - 2 * MIN_CALL_MS) return;
    await sleep(waitMs);
  }
}

/**
 * Why a streaming write (an edit, an append) failed, and how long the next one should wait: the
 * workspace's budget turned it away (`budget`), Slack rate limited it (`ratelimited`, logged with
 * its `Retry-After`), or it failed otherwise (logged). Streaming writes are best effort: the final
 * write shows the whole answer anyway, so none of these fails the answer.
 */
export function streamingFailure(
  error: unknown,
  logger: Logger,
  now: number,
): { kind: 'budget' | 'ratelimited' | 'other'; until: number } {
  if (error instanceof SlackCallError && error.retryAfterSeconds !== undefined) {
    const until = now + error.retryAfterSeconds * 1000;
    if (error.slackError === BUDGET_WAIT) return { kind: 'budget', until };
    logger.warn('Slack rate limited a streaming write; pausing', {
      method: error.method,
      retryAfterSeconds: error.retryAfterSeconds,
    });
    return { kind: 'ratelimited', until };
  }
  logger.warn('streaming write failed', { error: error as Error });
  return { kind: 'other', until: now };
}
