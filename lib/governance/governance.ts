import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { ChatAnswer } from '../llm/openai-chat';
import type { Logger } from '../logger';
import { recordRefusal } from '../metrics';
import type { AnswerJob } from '../queue/job';
import { type AllowlistPorts, checkAllowlist } from './allowlist';
import type { ChannelSettings, ChannelSettingsSource } from './channel-settings';
import { type QuotaPorts, type QuotaReservation, reserveDailyQuota, settleDailyUsage } from './daily-quota';
import type { GovernanceStore } from './governance-store';

/** Whether to answer, and with which per-channel settings. */
export type Admission =
  | { allowed: true; channel?: ChannelSettings | undefined }
  | { allowed: false; reason: 'channel_not_allowed' | 'user_not_allowed' | 'user_quota' | 'team_quota' };

/**
 * The rollout guards as one port of the answer use case: `admit` at the very start (after the
 * event is claimed, before anything is shown), `record` after the answer, `release` whenever the
 * question ends (it gives back what `admit` reserved and `record` did not settle).
 */
export interface Governance {
  /**
   * Allowlist, then daily quota (reserving the question's estimated tokens), then the channel's
   * settings. A refused question has been told (ephemeral note or thread reply) when this returns.
   * `resumed`: an earlier attempt already passed the checks and showed a reply, so only the
   * settings are looked up (and nothing is reserved).
   */
  admit(job: AnswerJob, context: { resumed: boolean; logger: Logger }): Promise<Admission>;
  /**
   * Counts an answer's tokens against today's quotas, settling what its admission reserved.
   * Never throws for Momento.
   */
  record(job: AnswerJob, answer: Pick<ChatAnswer, 'usage'>, context: { logger: Logger }): Promise<void>;
  /** Gives back what the admission reserved, unless `record` settled it. Never throws for Momento. */
  release(job: AnswerJob, context: { logger: Logger }): Promise<void>;
}

/** What the guards are built from (lib/worker/worker-deps.ts wires the real adapters). */
export interface GovernancePorts extends AllowlistPorts, QuotaPorts {
  store: GovernanceStore;
  channelSettings?: ChannelSettingsSource | undefined;
  /** Tokens to reserve for a question at admission (`estimateAnswerTokens`); default 0. */
  estimate?: (job: AnswerJob) => number;
  metrics?: Metrics | undefined;
}

/** Builds the {@link Governance} port. */
export function createGovernance(ports: GovernancePorts): Governance {
  const { metrics } = ports;
  // What each admitted question of this instance holds, until it is settled or given back.
  const reserved = new Map<string, QuotaReservation>();
  const settle = async (job: AnswerJob, tokens: number, logger: Logger) => {
    const reservation = reserved.get(job.eventId);
    reserved.delete(job.eventId);
    await settleDailyUsage(job, tokens, reservation, ports, logger);
  };
  return {
    async admit(job, { resumed, logger }) {
      if (!resumed) {
        const allowed = await checkAllowlist(job, ports, logger);
        if (!allowed.allowed) {
          if (metrics) recordRefusal(metrics, 'allowlist');
          return allowed;
        }
        const admitted = await reserveDailyQuota(job, ports.estimate?.(job) ?? 0, ports, logger);
        if (!admitted.allowed) {
          const reason = admitted.scope === 'user' ? 'user_quota' : 'team_quota';
          if (metrics) recordRefusal(metrics, reason);
          return { allowed: false, reason };
        }
        if (admitted.reservation) reserved.set(job.eventId, admitted.reservation);
      }
      return { allowed: true, channel: await ports.channelSettings?.forChannel(job.channel) };
    },
    record: (job, { usage }, { logger }) =>
      settle(job, usage ? usage.promptTokens + usage.completionTokens : 0, logger),
    async release(job, { logger }) {
      if (reserved.has(job.eventId)) await settle(job, 0, logger);
    },
  };
}
