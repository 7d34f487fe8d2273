import { HistoryUnavailableError } from '../errors';
import type { Logger } from '../logger';
import type { AnswerJob } from '../queue/job';
import type { GovernanceStore } from './governance-store';
import { nextUtcMidnight, secondsToUtcMidnight, utcDay } from './utc-day';

/** Tokens per UTC day; `undefined` = unlimited. */
export interface DailyLimits {
  user: number | undefined;
  team: number | undefined;
}

/** Tokens one answer used, as the API reported them (or as estimated). */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** The decision for one question. */
export type QuotaDecision =
  | { allowed: true }
  | { allowed: false; scope: 'user' | 'team'; used: number; limit: number; resetsAt: Date };

/** What the quota steps need. */
export interface QuotaPorts {
  limits: DailyLimits;
  store: Pick<GovernanceStore, 'count' | 'add'>;
  /** Posts a reply in the question's thread. */
  replyInThread(channel: string, threadTs: string, text: string, eventId: string): Promise<unknown>;
  logger: Logger;
  now?: () => Date;
}

const keys = (job: AnswerJob, day: string) => ({
  user: `tokens:user:${job.teamId}:${job.user}:${day}`,
  team: `tokens:team:${job.teamId}:${day}`,
});

/** `Your daily limit … resets at 00:00 UTC (in 3 h 12 min).` */
export function overLimitReply(scope: 'user' | 'team', resetsAt: Date, now: Date): string {
  const minutes = Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 60_000));
  const wait = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  const whose = scope === 'user' ? 'You have' : 'This workspace has';
  return `:hourglass: ${whose} used today’s token allowance for this bot. It resets at 00:00 UTC (in ${wait}).`;
}

/**
 * The quota step of an answer, before anything is shown: a user or workspace already at its
 * daily limit gets a short reply in the thread saying when the count resets, and no model call.
 * Counts live in Momento per UTC day; Momento down: answer anyway (best effort, WARN).
 */
export async function checkDailyQuota(job: AnswerJob, ports: QuotaPorts): Promise<QuotaDecision> {
  const { limits, logger } = ports;
  if (limits.user === undefined && limits.team === undefined) return { allowed: true };
  const now = ports.now?.() ?? new Date();
  const key = keys(job, utcDay(now));
  let used: { user: number; team: number };
  try {
    const [user, team] = await Promise.all([
      limits.user === undefined ? 0 : ports.store.count(key.user),
      limits.team === undefined ? 0 : ports.store.count(key.team),
    ]);
    used = { user, team };
  } catch (error) {
    if (!(error instanceof HistoryUnavailableError)) throw error;
    logger.warn('Momento unavailable; answering without the daily quota check', { error });
    return { allowed: true };
  }
  for (const scope of ['user', 'team'] as const) {
    const limit = limits[scope];
    if (limit === undefined || used[scope] < limit) continue;
    const resetsAt = nextUtcMidnight(now);
    logger.info('question refused', { reason: `${scope}_quota`, used: used[scope], limit });
    // Best effort: the refusal stands whether or not the note could be posted (a retry of the
    // record checks again and tries the note again).
    await ports
      .replyInThread(job.channel, job.threadTs, overLimitReply(scope, resetsAt, now), job.eventId)
      .catch((error: Error) => logger.warn('could not post the daily-limit reply', { error }));
    return { allowed: false, scope, used: used[scope], limit, resetsAt };
  }
  return { allowed: true };
}

/**
 * Adds an answer's tokens to the user's and the workspace's count for today. Best effort: a
 * failure is logged, the answer is already delivered.
 */
export async function countDailyUsage(
  job: AnswerJob,
  usage: TokenUsage,
  ports: Pick<QuotaPorts, 'limits' | 'store' | 'logger' | 'now'>,
): Promise<void> {
  const { limits, logger } = ports;
  const tokens = usage.promptTokens + usage.completionTokens;
  if (tokens <= 0 || (limits.user === undefined && limits.team === undefined)) return;
  const now = ports.now?.() ?? new Date();
  const key = keys(job, utcDay(now));
  const ttl = secondsToUtcMidnight(now);
  try {
    await Promise.all([
      limits.user === undefined ? undefined : ports.store.add(key.user, tokens, ttl),
      limits.team === undefined ? undefined : ports.store.add(key.team, tokens, ttl),
    ]);
  } catch (error) {
    if (!(error instanceof HistoryUnavailableError)) throw error;
    logger.warn('Momento unavailable; this answer’s tokens were not counted', { tokens, error });
  }
}
