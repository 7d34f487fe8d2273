import { loadWorkerConfig } from '../../lib/config';
import { DEFAULT_SUGGESTED_PROMPTS } from '../../lib/config-variables';
import { ConfigError } from '../../lib/errors';

const base = { SLACK_BOT_TOKEN: 'xoxb-1', OPENAI_API_KEY: 'sk-1', MOMENTO_API_KEY: 'm-1' };

function problem(env: Record<string, string>): string | undefined {
  try {
    loadWorkerConfig({ ...base, ...env });
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message;
  }
}

describe('SUGGESTED_PROMPTS', () => {
  it('defaults to at most four prompts, each with a title and a message', () => {
    // Act
    const { suggestedPrompts } = loadWorkerConfig(base).slack;
    // Assess
    expect(suggestedPrompts).toEqual(DEFAULT_SUGGESTED_PROMPTS);
    expect(suggestedPrompts.length).toBeGreaterThanOrEqual(1);
    expect(suggestedPrompts.length).toBeLessThanOrEqual(4);
  });

  it('takes a JSON array of {title, message}', () => {
    // Prepare
    const prompts = [{ title: 'Hi', message: 'Say hi' }];
    // Act
    const config = loadWorkerConfig({ ...base, SUGGESTED_PROMPTS: JSON.stringify(prompts) });
    // Assess
    expect(config.slack.suggestedPrompts).toEqual(prompts);
  });

  it.each([
    ['not JSON', '[{title', /SUGGESTED_PROMPTS must be a JSON array/],
    [
      'five prompts',
      JSON.stringify(Array(5).fill({ title: 't', message: 'm' })),
      /SUGGESTED_PROMPTS must hold at most 4/,
    ],
    ['an empty array', '[]', /SUGGESTED_PROMPTS must hold at least one/],
    ['a prompt without a message', JSON.stringify([{ title: 't' }]), /SUGGESTED_PROMPTS prompt 1 /],
    [
      'a prompt with an unknown key',
      JSON.stringify([{ title: 't', message: 'm', x: 1 }]),
      /SUGGESTED_PROMPTS prompt 1 /,
    ],
  ])('names the variable when it is %s', (_what, value, expected) => {
    // Act / Assess
    expect(problem({ SUGGESTED_PROMPTS: value })).toMatch(expected);
  });
});
