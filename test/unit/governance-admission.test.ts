import { NOT_ENABLED_NOTE } from '../../lib/governance/allowlist';
import type { ChannelSettings, ChannelSettingsSource } from '../../lib/governance/channel-settings';
import { createGovernance, type GovernancePorts } from '../../lib/governance/governance';
import { answerJob } from '../support/fakes';
import { RecordingLogger } from '../support/recording-logger';
import { memoryGovernanceStore } from '../support/store-fakes';

/**
 * The rollout guards (lib/governance/governance.ts) over an in-memory {@link GovernanceStore} and
 * {@link ChannelSettingsSource}: who is answered, how much of today's allowance a question holds
 * and gives back, what a refused asker is told, and which channel settings an answer gets.
 */

const NOW = new Date('2026-12-02T22:00:00Z');
const job = answerJob();

function guards(options: Partial<GovernancePorts> & { settings?: Record<string, ChannelSettings> } = {}) {
  const memory = memoryGovernanceStore();
  const logger = new RecordingLogger();
  const notes: Array<{ channel: string; user: string; text: string }> = [];
  const replies: Array<{ channel: string; threadTs: string; text: string }> = [];
  const settings = options.settings ?? {};
  const channelSettings: ChannelSettingsSource = { forChannel: async (channel) => settings[channel] };
  const governance = createGovernance({
    policy: { channels: [], users: [] },
    limits: { user: 10_000, team: 50_000 },
    store: memory.store,
    channelSettings,
    postEphemeral: async (note) => {
      notes.push(note);
    },
    replyInThread: async (channel, threadTs, text) => {
      replies.push({ channel, threadTs, text });
    },
    estimate: () => 4_000,
    now: () => NOW,
    ...options,
  });
  const used = (scope: 'user' | 'team') =>
    memory.counters.get(
      scope === 'user' ? `tokens:user:T0LOCAL:U0ASKER:2026-12-02` : `tokens:team:T0LOCAL:2026-12-02`,
    ) ?? 0;
  /** An earlier question today that used `tokens`. */
  const spent = async (tokens: number) => {
    const earlier = answerJob({ eventId: `Ev0EARLIER${tokens}` });
    await governance.admit(earlier, { resumed: false, logger });
    await governance.record(earlier, { usage: { promptTokens: tokens, completionTokens: 0 } }, { logger });
  };
  return { governance, memory, logger, notes, replies, used, spent };
}

describe('createGovernance: the daily allowance', () => {
  it('admits a question under the limits, holds its estimate, then counts what the answer really used', async () => {
    // Prepare
    const g = guards();
    // Act
    const admission = await g.governance.admit(job, { resumed: false, logger: g.logger });
    const held = [g.used('user'), g.used('team')];
    await g.governance.record(
      job,
      { usage: { promptTokens: 1_200, completionTokens: 300 } },
      { logger: g.logger },
    );
    await g.governance.release(job, { logger: g.logger });
    // Assess
    expect(admission).toEqual({ allowed: true, channel: undefined });
    expect(held).toEqual([4_000, 4_000]);
    expect([g.used('user'), g.used('team')]).toEqual([1_500, 1_500]);
  });

  it('refuses a user who has used today’s allowance, says when it resets, and holds nothing', async () => {
    // Prepare
    const g = guards();
    await g.spent(10_000);
    // Act
    const admission = await g.governance.admit(job, { resumed: false, logger: g.logger });
    // Assess
    expect(admission).toEqual({ allowed: false, reason: 'user_quota' });
    expect(g.replies).toEqual([
      {
        channel: job.channel,
        threadTs: job.threadTs,
        text: expect.stringContaining('resets at 00:00 UTC (in 2 h'),
      },
    ]);
    expect(g.used('user')).toBe(10_000);
  });

  it('admits one of two questions asked at once by a user just under the limit', async () => {
    // Prepare
    const g = guards();
    await g.spent(9_999);
    const [a, b] = [answerJob({ eventId: 'Ev0A' }), answerJob({ eventId: 'Ev0B' })];
    // Act
    const admissions = await Promise.all([
      g.governance.admit(a, { resumed: false, logger: g.logger }),
      g.governance.admit(b, { resumed: false, logger: g.logger }),
    ]);
    // Assess
    expect(admissions.filter((x) => x.allowed)).toHaveLength(1);
    expect(g.used('user')).toBe(9_999 + 4_000);
  });

  it('gives back what a question held when it ends without an answer', async () => {
    // Prepare
    const g = guards();
    await g.governance.admit(job, { resumed: false, logger: g.logger });
    // Act
    await g.governance.release(job, { logger: g.logger });
    // Assess
    expect([g.used('user'), g.used('team')]).toEqual([0, 0]);
  });

  it('answers without counting when Momento is down', async () => {
    // Prepare
    const g = guards();
    g.memory.down = true;
    // Act
    const admission = await g.governance.admit(job, { resumed: false, logger: g.logger });
    await g.governance.record(job, { usage: { promptTokens: 1, completionTokens: 1 } }, { logger: g.logger });
    // Assess
    expect(admission.allowed).toBe(true);
    expect(g.logger.at('WARN').map((e) => e.message)).toContain(
      'Momento unavailable; answering without the daily quota check',
    );
  });
});

describe('createGovernance: who is answered, and how', () => {
  it('tells a user outside the allowlist privately, once a day per channel', async () => {
    // Prepare
    const g = guards({ policy: { channels: [], users: ['U0SOMEONE'] } });
    // Act
    const first = await g.governance.admit(job, { resumed: false, logger: g.logger });
    const again = await g.governance.admit(answerJob({ eventId: 'Ev0AGAIN' }), {
      resumed: false,
      logger: g.logger,
    });
    // Assess
    expect([first, again]).toEqual([
      { allowed: false, reason: 'user_not_allowed' },
      { allowed: false, reason: 'user_not_allowed' },
    ]);
    expect(g.notes).toEqual([{ channel: job.channel, user: job.user, text: NOT_ENABLED_NOTE }]);
    expect(g.used('user')).toBe(0);
  });

  it('answers with the channel’s own settings, and a resumed question without checking it again', async () => {
    // Prepare
    const channel = { systemPrompt: 'Answer in French.', model: 'gpt-small' };
    const g = guards({ policy: { channels: [], users: ['U0SOMEONE'] }, settings: { C0GENERAL: channel } });
    // Act
    const resumed = await g.governance.admit(job, { resumed: true, logger: g.logger });
    const elsewhere = await g.governance.admit(answerJob({ channel: 'C0OTHER' }), {
      resumed: true,
      logger: g.logger,
    });
    // Assess
    expect(resumed).toEqual({ allowed: true, channel });
    expect(elsewhere).toEqual({ allowed: true, channel: undefined });
    expect(g.notes).toEqual([]);
    expect(g.used('user')).toBe(0);
  });
});
