import { StoreUnavailableError } from '../errors';
import { IMAGE_TOKENS_ESTIMATE } from '../llm/prompt';
import type { Logger } from '../logger';
import type { AnswerJob } from '../queue/job';
import type { GovernanceStore } from './governance-store';
import { nextUtcMidnight, secondsToUtcMidnight, utcDay } from './utc-day';

/** Tokens per UTC day; `undefined` = unlimited. */
export interface DailyLimits {
  user: number | undefined;
  team: number | undefined;
}

/** What the quota steps need. */
export interface QuotaPorts {
  limits: DailyLimits;
  store: Pick<GovernanceStore, 'add'>;
  /** Posts a reply in the question's thread. */
  replyInThread(channel: string, threadTs: string, text: string, eventId: string): Promise<unknown>;
  now?: () => Date;
}

/** The counts kept: those with a limit. */
const limited = (limits: DailyLimits) =>
  (['user', 'team'] as const).filter((scope) => limits[scope] !== undefined);

const keys = (job: AnswerJob, day: string) => ({
  user: `tokens:user:${job.teamId}:${job.user}:${day}`,
  team: `tokens:team:${job.teamId}:${day}`,
});

/** `Your daily limit … resets at 00:00 UTC (in 3 h 12 min).` */
export function overLimitReply(scope: 'user' | 'team', resetsAt: Date, now: Date): string {
  const minutes = Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 60_000));
  const wait = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  const whose = scope === 'user' ? 'You have' : 'This workspace has';
  return (
    `:hourglass: ${whose} used today’s token allowance for this bot. It resets at 00:00 UTC (in ` +
    `${wait}).`
  );
}

/**
 * Tokens reserved for an answer's completion at admission. We do not cap the answer's length; a
 * chat answer is a few hundred tokens, and one that writes more adds its excess to the count
 * afterwards, so a quota still holds within about one answer.
 */
export const COMPLETION_ALLOWANCE_TOKENS = 1_000;

/**
 * What one question may cost at most, as far as it is known before its context is gathered: the
 * system prompt and the question (in UTF-8 bytes: o200k never makes more tokens than bytes), the
 * whole history budget (memory, thread and inlined files share it), each attached image at
 * {@link IMAGE_TOKENS_ESTIMATE}, and {@link COMPLETION_ALLOWANCE_TOKENS}. Reserving more than an
 * answer uses only delays questions asked at the same moment; reserving less lets them overshoot.
 */
export function estimateAnswerTokens(
  job: Pick<AnswerJob, 'text' | 'files'>,
  prompt: { systemPrompt: string; historyTokenBudget: number },
): number {
  const images = (job.files ?? []).filter((f) => f.mimetype.toLowerCase().startsWith('image/')).length;
  return (
    Buffer.byteLength(prompt.systemPrompt, 'utf8') +
    Buffer.byteLength(job.text, 'utf8') +
    prompt.historyTokenBudget +
    images * IMAGE_TOKENS_ESTIMATE +
    COMPLETION_ALLOWANCE_TOKENS
  );
}

/** Tokens an admitted question holds against today's counts until its answer is counted. */
export interface QuotaReservation {
  tokens: number;
  /** The UTC day the tokens were added to: settled on that day's counts. */
  day: string;
}

/** The decision for one question, with the reservation it holds when admitted. */
type QuotaDecision =
  | { allowed: true; reservation?: QuotaReservation }
  | { allowed: false; scope: 'user' | 'team' };

/**
 * The quota step of an answer, before anything is shown. It reserves `estimate` tokens on the
 * user's and the workspace's count for today at once (Momento's atomic increment) and admits the
 * question if each count was below its limit before the reservation: questions asked together see
 * each other's reservations, so a user one token under the limit gets one answer, not ten. The
 * reservation is settled to the real usage after the answer, or given back, by
 * {@link settleDailyUsage}. A refused question gives it back at once and gets a short
 * reply in the thread saying when the count resets, and no model call.
 * Counts live in Momento per UTC day; Momento down: answer anyway (best effort, WARN).
 */
export async function reserveDailyQuota(
  job: AnswerJob,
  estimate: number,
  ports: QuotaPorts,
  logger: Logger,
): Promise<QuotaDecision> {
  const scopes = limited(ports.limits);
  if (scopes.length === 0) return { allowed: true };
  const now = ports.now?.() ?? new Date();
  const day = utcDay(now);
  const key = keys(job, day);
  const ttl = secondsToUtcMidnight(now);
  const added = await Promise.allSettled(scopes.map((scope) => ports.store.add(key[scope], estimate, ttl)));
  const give = (which: ReadonlyArray<'user' | 'team'>) =>
    Promise.all(which.map((scope) => ports.store.add(key[scope], -estimate, ttl))).catch((error: Error) =>
      logger.warn('Momento unavailable; a quota reservation was not given back', { tokens: estimate, error }),
    );
  const failed = added.find((r) => r.status === 'rejected');
  if (failed) {
    if (!(failed.reason instanceof StoreUnavailableError)) throw failed.reason;
    await give(scopes.filter((_, i) => added[i]!.status === 'fulfilled'));
    logger.warn('Momento unavailable; answering without the daily quota check', { error: failed.reason });
    return { allowed: true };
  }
  for (const [i, scope] of scopes.entries()) {
    const limit = ports.limits[scope]!;
    const used = (added[i] as PromiseFulfilledResult<number>).value - estimate;
    if (used < limit) continue;
    await give(scopes);
    logger.info('question refused', { reason: `${scope}_quota`, used, limit });
    // Best effort: the refusal stands whether or not the note could be posted (a retry of the
    // record checks again and tries the note again).
    await ports
      .replyInThread(job.channel, job.threadTs, overLimitReply(scope, nextUtcMidnight(now), now), job.eventId)
      .catch((error: Error) => logger.warn('could not post the daily-limit reply', { error }));
    return { allowed: false, scope };
  }
  return { allowed: true, reservation: { tokens: estimate, day } };
}

/**
 * Settles an answer on today's counts: adds the `tokens` it used, less what its question reserved
 * (the difference may be negative; 0 tokens gives the reservation back: the question was not
 * answered). Best effort: a failure is logged, the answer is already delivered.
 */
export async function settleDailyUsage(
  job: AnswerJob,
  tokens: number,
  reservation: QuotaReservation | undefined,
  ports: QuotaPorts,
  logger: Logger,
): Promise<void> {
  const scopes = limited(ports.limits);
  const delta = Math.max(0, tokens) - (reservation?.tokens ?? 0);
  if (delta === 0 || scopes.length === 0) return;
  const now = ports.now?.() ?? new Date();
  const key = keys(job, reservation?.day ?? utcDay(now));
  const ttl = secondsToUtcMidnight(now);
  try {
    await Promise.all(scopes.map((scope) => ports.store.add(key[scope], delta, ttl)));
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    logger.warn('Momento unavailable; this answer’s tokens were not counted', { tokens: delta, error });
  }
}
