import { setTimeout as sleep } from 'node:timers/promises';
import { loadParametersConfig, loadWorkerConfig } from '../../lib/config';
import { ParameterReadError } from '../../lib/errors';
import { INGRESS_SECRETS, rebuiltOnRotation, resolveSecrets, WORKER_SECRETS } from '../../lib/secrets';
import { type SsmPeer, startSsmPeer } from '../../sandbox/peers/ssm-peer';
import { settlesWithin } from '../support/silent-server';
import { peerProvider } from '../support/ssm';
import { waitFor } from '../support/wait-for';

const PATH = '/slack-gpt-bot/test/';
let ssm: SsmPeer;

beforeAll(async () => {
  ssm = await startSsmPeer();
});
afterAll(() => ssm.close());
beforeEach(() => ssm.reset());

function putWorkerSecrets() {
  ssm.put(`${PATH}SLACK_BOT_TOKEN`, 'xoxb-from-ssm');
  ssm.put(`${PATH}OPENAI_API_KEY`, 'sk-from-ssm');
  ssm.put(`${PATH}MOMENTO_API_KEY`, 'momento-from-ssm');
}

describe('secrets from SSM Parameter Store', () => {
  it('reads every secret that is not a variable from SecureString parameters, in one decrypted GetParameters call', async () => {
    // Prepare
    putWorkerSecrets();
    const config = loadParametersConfig({ SECRETS_PARAMETER_PATH: '/slack-gpt-bot/test' });
    // Act
    const env = await resolveSecrets(WORKER_SECRETS, config, peerProvider(ssm));
    // Assess
    expect(env).toMatchObject({
      SLACK_BOT_TOKEN: 'xoxb-from-ssm',
      OPENAI_API_KEY: 'sk-from-ssm',
      MOMENTO_API_KEY: 'momento-from-ssm',
    });
    expect(ssm.calls).toEqual([
      {
        operation: 'GetParameters',
        body: {
          // MCP_SERVERS is optional: read along, absent here, nothing missing.
          Names: [
            `${PATH}SLACK_BOT_TOKEN`,
            `${PATH}OPENAI_API_KEY`,
            `${PATH}MOMENTO_API_KEY`,
            `${PATH}MCP_SERVERS`,
          ],
          WithDecryption: true,
        },
      },
    ]);
    expect(loadWorkerConfig(env).slack.botToken).toBe('xoxb-from-ssm');
  });

  it('lets a plain variable win over its parameter, and reads nothing when every secret is set', async () => {
    // Prepare
    putWorkerSecrets();
    const some = loadParametersConfig({ SECRETS_PARAMETER_PATH: PATH, SLACK_BOT_TOKEN: 'xoxb-plain' });
    const all = loadParametersConfig({ SECRETS_PARAMETER_PATH: PATH, SLACK_SIGNING_SECRET: 'plain-secret' });
    // Act
    const env = await resolveSecrets(WORKER_SECRETS, some, peerProvider(ssm));
    const callsForSome = ssm.calls.length;
    const ingressEnv = await resolveSecrets(INGRESS_SECRETS, all, peerProvider(ssm));
    // Assess
    expect(env.SLACK_BOT_TOKEN).toBe('xoxb-plain');
    expect(env.OPENAI_API_KEY).toBe('sk-from-ssm');
    expect(ssm.calls[0]?.body.Names).not.toContain(`${PATH}SLACK_BOT_TOKEN`);
    expect(ingressEnv.SLACK_SIGNING_SECRET).toBe('plain-secret');
    expect(ssm.calls).toHaveLength(callsForSome);
  });

  it('stops the cold start with an error naming each missing parameter', async () => {
    // Prepare
    ssm.put(`${PATH}SLACK_BOT_TOKEN`, 'xoxb-from-ssm');
    const config = loadParametersConfig({ SECRETS_PARAMETER_PATH: PATH });
    // Act
    const failure = await resolveSecrets(WORKER_SECRETS, config, peerProvider(ssm)).catch((e: unknown) => e);
    // Assess
    expect(failure).toBeInstanceOf(ParameterReadError);
    expect((failure as ParameterReadError).parameters).toEqual([
      `${PATH}OPENAI_API_KEY`,
      `${PATH}MOMENTO_API_KEY`,
    ]);
    expect((failure as Error).message).toContain(`${PATH}OPENAI_API_KEY`);
    expect((failure as Error).message).not.toContain('xoxb-from-ssm');
  });

  it('does not need a key that a local endpoint replaces', async () => {
    // Prepare
    ssm.put(`${PATH}SLACK_BOT_TOKEN`, 'xoxb-from-ssm');
    const config = loadParametersConfig({
      SECRETS_PARAMETER_PATH: PATH,
      OPENAI_BASE_URL: 'http://127.0.0.1:1/v1',
      MOMENTO_LOCAL_ENDPOINT: '127.0.0.1:1',
    });
    // Act
    const env = await resolveSecrets(WORKER_SECRETS, config, peerProvider(ssm));
    // Assess
    expect(env.SLACK_BOT_TOKEN).toBe('xoxb-from-ssm');
    expect(env.OPENAI_API_KEY).toBeUndefined();
  });
});

/**
 * A signing secret read once from the SSM peer and cached for 1 ms, so the next call reads again;
 * `stale` collects the re-reads that failed while the values read first were kept.
 */
async function readOnceThenExpire() {
  ssm.put(`${PATH}SLACK_SIGNING_SECRET`, 'first');
  const config = loadParametersConfig({
    SECRETS_PARAMETER_PATH: PATH,
    PARAMETERS_MAX_AGE_SECONDS: '0.001',
  });
  const stale: unknown[] = [];
  const current = rebuiltOnRotation(
    INGRESS_SECRETS,
    config,
    (env) => ({ secret: env.SLACK_SIGNING_SECRET }),
    {
      provider: peerProvider(ssm),
      onStaleRead: (error) => stale.push(error),
    },
  );
  return { current, stale, before: await current() };
}

describe('a rotated key', () => {
  it('is served from the cache within its age: one read for many invocations', async () => {
    // Prepare
    ssm.put(`${PATH}SLACK_SIGNING_SECRET`, 'first');
    const config = loadParametersConfig({ SECRETS_PARAMETER_PATH: PATH });
    const current = rebuiltOnRotation(
      INGRESS_SECRETS,
      config,
      (env) => ({ secret: env.SLACK_SIGNING_SECRET }),
      {
        provider: peerProvider(ssm),
      },
    );
    // Act
    const results = await Promise.all([current(), current()]);
    const later = await current();
    // Assess
    expect(results[0]).toEqual({ secret: 'first' });
    expect(later).toBe(results[0]);
    expect(ssm.calls).toHaveLength(1);
  });

  it('rebuilds what depends on it once the cached value has expired', async () => {
    // Prepare: an age of 1 ms, so the next call reads again.
    ssm.put(`${PATH}SLACK_SIGNING_SECRET`, 'first');
    const config = loadParametersConfig({
      SECRETS_PARAMETER_PATH: PATH,
      PARAMETERS_MAX_AGE_SECONDS: '0.001',
    });
    let builds = 0;
    const current = rebuiltOnRotation(
      INGRESS_SECRETS,
      config,
      (env) => ({ secret: env.SLACK_SIGNING_SECRET, build: ++builds }),
      { provider: peerProvider(ssm) },
    );
    const before = await current();
    // Act
    await sleep(5);
    const unchanged = await current();
    ssm.put(`${PATH}SLACK_SIGNING_SECRET`, 'rotated');
    await sleep(5);
    const after = await current();
    // Assess
    expect(before).toEqual({ secret: 'first', build: 1 });
    expect(unchanged).toBe(before);
    expect(after).toEqual({ secret: 'rotated', build: 2 });
  });

  it('keeps the values it has when a re-read fails, and says so', async () => {
    // Prepare
    const { current, stale, before } = await readOnceThenExpire();
    ssm.remove(`${PATH}SLACK_SIGNING_SECRET`);
    await sleep(5);
    // Act
    const after = await current();
    // Assess
    expect(after).toBe(before);
    expect(stale).toEqual([expect.any(ParameterReadError)]);
  });

  it('fails while no read has succeeded, and recovers once the parameter exists', async () => {
    // Prepare
    const config = loadParametersConfig({ SECRETS_PARAMETER_PATH: PATH });
    const current = rebuiltOnRotation(INGRESS_SECRETS, config, (env) => env, { provider: peerProvider(ssm) });
    // Act
    const first = await current().catch((e: unknown) => e);
    ssm.put(`${PATH}SLACK_SIGNING_SECRET`, 'created later');
    const second = await current();
    // Assess
    expect(first).toBeInstanceOf(ParameterReadError);
    expect(second.SLACK_SIGNING_SECRET).toBe('created later');
  });

  it('fails a cold start clearly, and within the client’s limits, when Parameter Store never answers', async () => {
    // Prepare: SSM takes the request and stays silent.
    ssm.put(`${PATH}SLACK_SIGNING_SECRET`, 'first');
    ssm.answerAfter(Number.POSITIVE_INFINITY);
    const config = loadParametersConfig({ SECRETS_PARAMETER_PATH: PATH });
    const current = rebuiltOnRotation(INGRESS_SECRETS, config, (env) => env, { provider: peerProvider(ssm) });
    // Act: guarded far above the limits (2 tries of 1 s), far below what SSM's silence would take.
    const failure = await settlesWithin(current(), 10_000, 'the cold start').catch((e: unknown) => e);
    // Assess: the parameters named; the SDK's request timeout is what stopped it.
    expect(failure).toBeInstanceOf(ParameterReadError);
    expect((failure as ParameterReadError).parameters).toEqual([`${PATH}SLACK_SIGNING_SECRET`]);
    expect(causes(failure)).toContain('TimeoutError');
  });

  it('keeps the values it has when a re-read never answers, and does not ask again for a while', async () => {
    // Prepare: a first read, then SSM silent once the cached value has expired.
    const { current, stale, before } = await readOnceThenExpire();
    ssm.answerAfter(Number.POSITIVE_INFINITY);
    await sleep(5);
    // Act: the invocation during the silent re-read runs on what it has; the re-read gives up.
    const during = await current();
    await waitFor('the re-read to give up', () => stale.length > 0, 10_000);
    const calls = ssm.calls.length;
    const later = await current();
    const latest = await current();
    // Assess
    expect([during, later, latest]).toEqual([before, before, before]);
    expect(causes(stale[0])).toContain('TimeoutError');
    expect(ssm.calls).toHaveLength(calls);
  });
});

/** The names down an error's `cause` chain. */
function causes(error: unknown): string[] {
  const names: string[] = [];
  for (let e = error as { name?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    names.push(String(e.name));
  }
  return names;
}
