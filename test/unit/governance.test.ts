import { decideAllowlist } from '../../lib/governance/allowlist';
import { parseChannelSettings } from '../../lib/governance/channel-settings';
import {
  COMPLETION_ALLOWANCE_TOKENS,
  estimateAnswerTokens,
  overLimitReply,
} from '../../lib/governance/daily-quota';
import { nextUtcMidnight, secondsToUtcMidnight, utcDay } from '../../lib/governance/utc-day';
import { IMAGE_TOKENS_ESTIMATE } from '../../lib/llm/prompt';

describe('decideAllowlist', () => {
  const everyone = { channels: [], users: [] };
  const inChannel = { channel: 'C1', user: 'U1', isDm: false };
  const inDm = { channel: 'D1', user: 'U1', isDm: true };

  it('lets everyone in everywhere when both lists are empty', () => {
    expect(decideAllowlist(everyone, inChannel)).toEqual({ allowed: true });
    expect(decideAllowlist(everyone, inDm)).toEqual({ allowed: true });
  });

  it('refuses a channel not on the channel list', () => {
    expect(decideAllowlist({ channels: ['C2'], users: [] }, inChannel)).toEqual({
      allowed: false,
      reason: 'channel_not_allowed',
    });
  });

  it('lets DMs through a channel list only when it says dm', () => {
    expect(decideAllowlist({ channels: ['C1'], users: [] }, inDm).allowed).toBe(false);
    expect(decideAllowlist({ channels: ['C1', 'dm'], users: [] }, inDm).allowed).toBe(true);
  });

  it('refuses a user not on the user list, in channels and DMs alike', () => {
    const policy = { channels: [], users: ['U2'] };
    expect(decideAllowlist(policy, inChannel)).toEqual({ allowed: false, reason: 'user_not_allowed' });
    expect(decideAllowlist(policy, inDm)).toEqual({ allowed: false, reason: 'user_not_allowed' });
  });
});

describe('UTC days', () => {
  it('names the day and counts the seconds to its end', () => {
    // Prepare
    const now = new Date('2026-12-31T23:59:30.500Z');
    // Assess
    expect(utcDay(now)).toBe('2026-12-31');
    expect(nextUtcMidnight(now).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(secondsToUtcMidnight(now)).toBe(30);
  });
});

describe('overLimitReply', () => {
  it('says when the count resets, in UTC and as a wait', () => {
    const now = new Date('2026-12-02T23:15:00Z');
    expect(overLimitReply('user', nextUtcMidnight(now), now)).toBe(
      ':hourglass: You have used today’s token allowance for this bot. It resets at 00:00 UTC (in 45 min).',
    );
  });
});

describe('parseChannelSettings', () => {
  it('reads YAML and JSON alike', () => {
    const yaml = 'channels:\n  C1:\n    systemPrompt: Be brief.\n    temperature: 0.5\n';
    const json = '{"channels": {"C1": {"systemPrompt": "Be brief.", "temperature": 0.5}}}';
    expect(parseChannelSettings(yaml)).toEqual({ C1: { systemPrompt: 'Be brief.', temperature: 0.5 } });
    expect(parseChannelSettings(json)).toEqual(parseChannelSettings(yaml));
  });

  it.each([
    ['channels: [', 'document'],
    ['{"channels": {"C1": {"temperature": 3}}}', 'channels.C1.temperature'],
    ['{"channels": {"general": {"systemPrompt": "x"}}}', 'channels.general'],
    ['{"channels": {"C1": {"systemPromt": "typo"}}}', 'channels.C1'],
    ['{"chanels": {}}', 'channels'],
  ])('names the problem in %s', (text, field) => {
    expect(() => parseChannelSettings(text)).toThrow(expect.objectContaining({ field }));
  });

  it('says where a document is broken without quoting it (it may hold system prompts)', () => {
    // Prepare
    const text = 'channels:\n  C1:\n    systemPrompt: "Our secret launch plan is Zephyr\n    temperature: [';
    // Act
    let message = '';
    try {
      parseChannelSettings(text);
    } catch (error) {
      message = (error as Error).message;
    }
    // Assess
    expect(message).toMatch(/at line \d+, column \d+/);
    expect(message).not.toContain('Zephyr');
  });
});

describe('estimateAnswerTokens', () => {
  it('reserves the prompt at most (bytes of system prompt and question, the history budget, images) and an allowance for the answer', () => {
    // Prepare
    const prompt = { systemPrompt: 'Be brief.', historyTokenBudget: 3_000 };
    const file = (mimetype: string) => ({ id: 'F1', name: 'f', mimetype, size: 1 });
    // Act
    const plain = estimateAnswerTokens({ text: '日本語?' }, prompt);
    const withFiles = estimateAnswerTokens(
      { text: '日本語?', files: [file('image/png'), file('text/plain'), file('image/jpeg')] },
      prompt,
    );
    // Assess: '日本語?' is 10 UTF-8 bytes, 'Be brief.' 9.
    expect(plain).toBe(9 + 10 + 3_000 + COMPLETION_ALLOWANCE_TOKENS);
    expect(withFiles - plain).toBe(2 * IMAGE_TOKENS_ESTIMATE);
  });
});
