import { loadIngressConfig, loadParametersConfig, loadWorkerConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';

const worker = {
  SLACK_BOT_TOKEN: 'xoxb-1',
  OPENAI_API_KEY: 'sk-1',
  MOMENTO_API_KEY: 'momento-key',
};

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => i.variable);
    throw error;
  }
  return [];
}

describe('loadIngressConfig', () => {
  it('names every missing variable', () => {
    expect(() => loadIngressConfig({})).toThrow(/SLACK_SIGNING_SECRET is required; QUEUE_URL is required/);
  });

  it('rejects a queue URL that is not a URL', () => {
    expect(issuesOf(() => loadIngressConfig({ SLACK_SIGNING_SECRET: 's', QUEUE_URL: 'queue' }))).toEqual([
      'QUEUE_URL',
    ]);
  });

  it('loads a valid environment', () => {
    expect(loadIngressConfig({ SLACK_SIGNING_SECRET: 's', QUEUE_URL: 'https://sqs/1/q.fifo' })).toEqual({
      slackSigningSecret: 's',
      queueUrl: 'https://sqs/1/q.fifo',
      botUserId: undefined,
    });
  });
});

describe('loadWorkerConfig', () => {
  it("shares Slack's tiers per workspace by default, with one switch to turn it off", () => {
    // Act / Assess
    expect(loadWorkerConfig(worker).slack.sharedWriteBudget).toBe(true);
    expect(loadWorkerConfig({ ...worker, SLACK_WRITE_BUDGET: 'off' }).slack.sharedWriteBudget).toBe(false);
  });

  it('names a malformed write budget switch', () => {
    // Act / Assess
    expect(issuesOf(() => loadWorkerConfig({ ...worker, SLACK_WRITE_BUDGET: 'sometimes' }))).toEqual([
      'SLACK_WRITE_BUDGET',
    ]);
  });

  it('applies defaults and converts MOMENTO_TTL hours to seconds', () => {
    const config = loadWorkerConfig({ ...worker, MOMENTO_TTL: '2' });
    expect(config.momento.ttlSeconds).toBe(7200);
    expect(config.openai.model).toBe('gpt-4o-mini');
    expect(config.slack.updateIntervalMs).toBe(1000);
  });

  it('names each missing variable', () => {
    expect(issuesOf(() => loadWorkerConfig({}))).toEqual([
      'SLACK_BOT_TOKEN',
      'OPENAI_API_KEY',
      'MOMENTO_API_KEY',
    ]);
  });

  it('accepts a local Momento and OpenAI-compatible server instead of keys', () => {
    const config = loadWorkerConfig({
      SLACK_BOT_TOKEN: 'x',
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      MOMENTO_LOCAL_ENDPOINT: '127.0.0.1:9090',
    });
    expect(config.momento.localEndpoint).toEqual({ hostname: '127.0.0.1', port: 9090 });
    expect(config.openai.baseUrl).toBe('http://127.0.0.1:11434/v1');
  });

  it.each([
    ['OPENAI_API_TEMPERATURE', '3'],
    ['OPENAI_API_TEMPERATURE', 'warm'],
    ['MOMENTO_TTL', '-1'],
    ['MOMENTO_LOCAL_ENDPOINT', 'localhost'],
    ['SLACK_API_URL', 'http://127.0.0.1:1/api'],
    ['QUEUE_MAX_RECEIVE_COUNT', '2.5'],
  ])('rejects a malformed %s (%s)', (variable, value) => {
    expect(issuesOf(() => loadWorkerConfig({ ...worker, [variable]: value }))).toEqual([variable]);
  });
});

describe('rollout settings', () => {
  it('reads the allowlists and daily limits, empty meaning no restriction', () => {
    // Act
    const open = loadWorkerConfig(worker).governance;
    const closed = loadWorkerConfig({
      ...worker,
      ALLOWED_CHANNELS: ' C1, C2 ,,dm',
      ALLOWED_USERS: 'U1',
      USER_DAILY_TOKEN_LIMIT: '20000',
      TEAM_DAILY_TOKEN_LIMIT: '',
    }).governance;
    // Assess
    expect(open).toMatchObject({
      allowedChannels: [],
      allowedUsers: [],
      userDailyTokenLimit: undefined,
      teamDailyTokenLimit: undefined,
    });
    expect(closed).toMatchObject({
      allowedChannels: ['C1', 'C2', 'dm'],
      allowedUsers: ['U1'],
      userDailyTokenLimit: 20000,
      teamDailyTokenLimit: undefined,
    });
  });

  it('names a limit that is not a whole number above 0', () => {
    expect(
      issuesOf(() =>
        loadWorkerConfig({ ...worker, USER_DAILY_TOKEN_LIMIT: '1.5', TEAM_DAILY_TOKEN_LIMIT: '-1' }),
      ),
    ).toEqual(['USER_DAILY_TOKEN_LIMIT', 'TEAM_DAILY_TOKEN_LIMIT']);
  });

  it('normalises the secrets path and names a relative one', () => {
    expect(loadParametersConfig({ SECRETS_PARAMETER_PATH: '/slack-gpt-bot/prod' }).path).toBe(
      '/slack-gpt-bot/prod/',
    );
    expect(loadParametersConfig({}).path).toBeUndefined();
    expect(issuesOf(() => loadParametersConfig({ SECRETS_PARAMETER_PATH: 'slack-gpt-bot/prod' }))).toEqual([
      'SECRETS_PARAMETER_PATH',
    ]);
  });
});
