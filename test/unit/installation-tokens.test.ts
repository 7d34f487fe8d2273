import { SlackCallError } from '../../lib/errors';
import type { InstallationStore } from '../../lib/install/dynamodb-installations';
import type { Installation } from '../../lib/install/installation';
import {
  INSTALLATION_CACHE_MS,
  installationTokens,
  REFRESH_RETRY_MS,
} from '../../lib/install/installation-tokens';
import type { RefreshedTokens } from '../../lib/install/token-refresher';
import { RecordingLogger } from '../support/recording-logger';

// The refresh of a rotating bot token, over an in-memory store and a scripted oauth.v2.access:
// what a job gets when the refresh fails while the token in hand still works, and when the store
// fails to keep the new pair. (The DynamoDB lease and Slack's single-use refresh tokens are tested
// through the real SDK in test/integration/distribution-tokens.test.ts.)

const HOUR = 60 * 60_000;
const QUERY = { teamId: 'T0ROT' };

/** An installation whose token expires in `expiresInMs`, due for refresh (within two hours). */
function rotating(now: number, expiresInMs: number): Installation {
  return {
    key: 'team:T0ROT',
    teamId: 'T0ROT',
    isEnterpriseInstall: false,
    botUserId: 'UBOT',
    scopes: [],
    botToken: 'xoxe.xoxb-old',
    refreshToken: 'xoxe-1-old',
    expiresAt: now + expiresInMs,
    version: 1,
    installedAt: now - HOUR,
  };
}

/** One installation in memory, with the lease and a save that can be made to fail. */
function memoryStore(installation: Installation, saveFailures = 0) {
  let item = { ...installation };
  let lease: string | undefined;
  const saves: RefreshedTokens[] = [];
  let failuresLeft = saveFailures;
  const store: InstallationStore = {
    find: async () => ({ ...item }),
    summary: async () => item,
    get: async () => ({ ...item }),
    save: async () => item,
    remove: async () => true,
    async takeRefreshLease(_key, version, holder) {
      if (lease || version !== item.version) return false;
      lease = holder;
      return true;
    },
    async saveRefreshed(_key, holder, tokens) {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('ProvisionedThroughputExceededException');
      }
      if (lease !== holder) return undefined;
      saves.push(tokens);
      lease = undefined;
      item = { ...item, ...tokens, version: item.version + 1 };
      return { ...item };
    },
    async releaseRefreshLease(_key, holder) {
      if (lease === holder) lease = undefined;
    },
  };
  return { store, saves };
}

/** oauth.v2.access as scripted: each call takes the next outcome. */
function refresher(...outcomes: Array<RefreshedTokens | Error>) {
  const calls: string[] = [];
  return {
    calls,
    async refresh(refreshToken: string) {
      calls.push(refreshToken);
      const next = outcomes.shift();
      if (!next) throw new Error('no more outcomes scripted');
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

const refused = () =>
  new SlackCallError('oauth.v2.access', {
    slackError: 'invalid_refresh_token',
    retryable: false,
    category: 'auth',
  });
const unreachable = () =>
  new SlackCallError('oauth.v2.access', { slackError: 'http_503', retryable: true, category: 'transient' });

describe('a rotating token whose refresh fails', () => {
  it('answers with the token in hand while it still works, and tries again a minute later, not at every job', async () => {
    // Prepare: the token expires in an hour (due for refresh); Slack is down for the first try.
    let now = 1_800_000_000_000;
    const { store } = memoryStore(rotating(now, HOUR));
    const slack = refresher(unreachable(), {
      botToken: 'xoxe.xoxb-new',
      refreshToken: 'xoxe-1-new',
      expiresAt: now + 12 * HOUR,
    });
    const tokens = installationTokens({
      store,
      refresher: slack,
      now: () => now,
      sleep: async () => undefined,
    });
    const logger = new RecordingLogger();
    // Act
    const first = await tokens.resolve(QUERY, logger);
    now += 10_000;
    const meanwhile = await tokens.resolve(QUERY, logger);
    now += REFRESH_RETRY_MS;
    const later = await tokens.resolve(QUERY, logger);
    // Assess
    expect(first?.botToken).toBe('xoxe.xoxb-old');
    expect(meanwhile?.botToken).toBe('xoxe.xoxb-old');
    expect(later?.botToken).toBe('xoxe.xoxb-new');
    expect(slack.calls).toEqual(['xoxe-1-old', 'xoxe-1-old']);
    expect(logger.at('WARN')).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('could not refresh'),
        installation: 'team:T0ROT',
      }),
    ]);
  });

  it('says at ERROR when Slack refuses the refresh token, and still answers while the token works', async () => {
    // Prepare
    const now = 1_800_000_000_000;
    const { store } = memoryStore(rotating(now, HOUR));
    const tokens = installationTokens({ store, refresher: refresher(refused()), now: () => now });
    const logger = new RecordingLogger();
    // Act
    const installation = await tokens.resolve(QUERY, logger);
    // Assess
    expect(installation?.botToken).toBe('xoxe.xoxb-old');
    expect(logger.at('ERROR')).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('reinstall'),
        slackError: 'invalid_refresh_token',
      }),
    ]);
  });

  it('fails the job as a refused token once the token has run out', async () => {
    // Prepare: two minutes left, less than a job needs.
    const now = 1_800_000_000_000;
    const { store } = memoryStore(rotating(now, 2 * 60_000));
    const tokens = installationTokens({ store, refresher: refresher(refused()), now: () => now });
    // Act
    const failure = await tokens.resolve(QUERY, new RecordingLogger()).catch((e: unknown) => e);
    // Assess
    expect(failure).toBeInstanceOf(SlackCallError);
    expect(failure).toMatchObject({ retryable: false, category: 'auth' });
  });
});

describe('a refreshed pair', () => {
  it('is saved although the store fails twice: the spent refresh token is never the only one left', async () => {
    // Prepare
    const now = 1_800_000_000_000;
    const { store, saves } = memoryStore(rotating(now, HOUR), 2);
    const fresh = { botToken: 'xoxe.xoxb-new', refreshToken: 'xoxe-1-new', expiresAt: now + 12 * HOUR };
    const waits: number[] = [];
    const tokens = installationTokens({
      store,
      refresher: refresher(fresh),
      now: () => now,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    // Act
    const installation = await tokens.resolve(QUERY, new RecordingLogger());
    // Assess
    expect(installation?.botToken).toBe('xoxe.xoxb-new');
    expect(saves).toEqual([fresh]);
    expect(waits).toHaveLength(2);
  });

  it('is cached for a minute, not read again at every job', async () => {
    // Prepare
    let now = 1_800_000_000_000;
    const { store } = memoryStore(rotating(now, 12 * HOUR));
    let reads = 0;
    const counted: InstallationStore = {
      ...store,
      find: async (q) => {
        reads++;
        return store.find(q);
      },
    };
    const tokens = installationTokens({ store: counted, refresher: refresher(), now: () => now });
    // Act
    await tokens.resolve(QUERY, new RecordingLogger());
    now += INSTALLATION_CACHE_MS - 1;
    await tokens.resolve(QUERY, new RecordingLogger());
    now += 2;
    await tokens.resolve(QUERY, new RecordingLogger());
    // Assess
    expect(reads).toBe(2);
  });
});
