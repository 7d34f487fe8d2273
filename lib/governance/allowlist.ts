import { StoreUnavailableError } from '../errors';
import type { Logger } from '../logger';
import type { AnswerJob } from '../queue/job';
import type { GovernanceStore } from './governance-store';
import { secondsToUtcMidnight, utcDay } from './utc-day';

/** Who may use the bot; an empty list means no restriction. */
export interface AllowlistPolicy {
  /** Channel ids (`ALLOWED_CHANNELS`); the entry `dm` lets DMs through a non-empty list. */
  channels: readonly string[];
  /** User ids (`ALLOWED_USERS`), checked in channels and DMs alike. */
  users: readonly string[];
}

/** The decision for one question. */
type AllowlistDecision =
  | { allowed: true }
  | { allowed: false; reason: 'channel_not_allowed' | 'user_not_allowed' };

/**
 * Decides whether the bot answers here, for this user. A DM has no channel an admin would list
 * (each DM has its own `D…` id), so a non-empty channel list lets DMs through only when it holds
 * `dm` (or the DM's id): restricting channels does not silently leave DMs open.
 */
export function decideAllowlist(
  policy: AllowlistPolicy,
  who: { channel: string; user: string; isDm: boolean },
): AllowlistDecision {
  const { channels, users } = policy;
  if (channels.length > 0 && !channels.includes(who.channel) && !(who.isDm && channels.includes('dm'))) {
    return { allowed: false, reason: 'channel_not_allowed' };
  }
  if (users.length > 0 && !users.includes(who.user)) return { allowed: false, reason: 'user_not_allowed' };
  return { allowed: true };
}

/** The note the asker sees, only them, at most once per channel per day. */
export const NOT_ENABLED_NOTE =
  'Sorry, I am not enabled here for you. Ask whoever runs this bot in your workspace if you need me.';

/** What the allowlist step needs. */
export interface AllowlistPorts {
  policy: AllowlistPolicy;
  store: Pick<GovernanceStore, 'markOnce'>;
  /** `chat.postEphemeral`; `threadTs` only when the thread already exists. */
  postEphemeral(note: { channel: string; user: string; text: string; threadTs?: string }): Promise<void>;
  now?: () => Date;
}

/**
 * The allowlist step of an answer: refuses without a model call and without any public message;
 * the asker gets one ephemeral note per user, channel and UTC day (a Momento mark with a TTL to
 * the day's end), so a user who keeps asking is not spammed. Momento down: the note is sent
 * anyway (a rare repeat beats silence). A failed note is logged; the refusal stands.
 */
export async function checkAllowlist(
  job: AnswerJob,
  ports: AllowlistPorts,
  logger: Logger,
): Promise<AllowlistDecision> {
  const decision = decideAllowlist(ports.policy, job);
  if (decision.allowed) return decision;
  const now = ports.now?.() ?? new Date();
  logger.info('question refused', { reason: decision.reason, user: job.user });
  let first = true;
  try {
    first = await ports.store.markOnce(
      `refusal-note:${job.teamId}:${job.channel}:${job.user}:${utcDay(now)}`,
      secondsToUtcMidnight(now),
    );
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    logger.warn('Momento unavailable; sending the refusal note without the once-a-day check', { error });
  }
  if (!first) return decision;
  try {
    await ports.postEphemeral({
      channel: job.channel,
      user: job.user,
      text: NOT_ENABLED_NOTE,
      // "Ephemeral messages in threads are only shown if there is already an active thread."
      // https://docs.slack.dev/reference/methods/chat.postEphemeral
      ...(job.threadTs !== job.ts ? { threadTs: job.threadTs } : {}),
    });
  } catch (error) {
    logger.warn('could not send the refusal note', { error: error as Error });
  }
  return decision;
}
