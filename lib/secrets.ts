import { createHash } from 'node:crypto';
import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { SSMClientConfig } from '@aws-sdk/client-ssm';
import { awsHttpLimits } from './aws-http-limits';
import type { ParametersConfig } from './config';
import { type Env, trimmed } from './config-variables';
import { ParameterReadError } from './errors';

/**
 * A secret a function needs; `unlessSet` names a variable that makes it optional, `onlyIf` one
 * without which it is not needed at all (distribution mode's secrets need `SLACK_CLIENT_ID`);
 * `optional`: read when the parameter exists, nothing missing when it does not.
 */
export interface SecretSpec {
  name: string;
  unlessSet?: string;
  onlyIf?: string;
  optional?: boolean;
}

/** Distribution mode (SLACK_CLIENT_ID set): the OAuth secrets and the key tokens are stored under. */
const DISTRIBUTION = 'SLACK_CLIENT_ID';

/** The ingress verifies signatures; in distribution mode it also installs (OAuth) and stores tokens. */
export const INGRESS_SECRETS: readonly SecretSpec[] = [
  { name: 'SLACK_SIGNING_SECRET' },
  { name: 'SLACK_CLIENT_SECRET', onlyIf: DISTRIBUTION },
  { name: 'SLACK_STATE_SECRET', onlyIf: DISTRIBUTION },
  { name: 'TOKEN_ENCRYPTION_KEY', onlyIf: DISTRIBUTION },
];

/** The worker talks to Slack, OpenAI and Momento; local servers need no key. */
export const WORKER_SECRETS: readonly SecretSpec[] = [
  { name: 'SLACK_BOT_TOKEN', unlessSet: DISTRIBUTION },
  { name: 'OPENAI_API_KEY', unlessSet: 'OPENAI_BASE_URL' },
  { name: 'MOMENTO_API_KEY', unlessSet: 'MOMENTO_LOCAL_ENDPOINT' },
  // Refreshing rotating tokens needs the client secret; reading them, the key.
  { name: 'SLACK_CLIENT_SECRET', onlyIf: DISTRIBUTION },
  { name: 'TOKEN_ENCRYPTION_KEY', onlyIf: DISTRIBUTION },
  // The MCP servers and their headers (tokens) may be kept out of the function's environment.
  { name: 'MCP_SERVERS', optional: true },
];

/** Whether this environment needs the secret and lacks its variable. */
const lacks = (env: Env, spec: SecretSpec) =>
  (!spec.onlyIf || trimmed(env, spec.onlyIf)) && !trimmed(env, spec.name);

/**
 * The environment with the secrets that are not plain variables read from SSM Parameter Store:
 * `<SECRETS_PARAMETER_PATH><NAME>` SecureString parameters, decrypted, in one `GetParameters`
 * call (Powertools `getParametersByName` does so, in batches of 10, when every parameter is
 * decrypted: https://docs.powertools.aws.dev/lambda/typescript/latest/features/parameters/,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html).
 * Powertools caches each value for `maxAgeSeconds`; the first call after that reads again, which
 * is how a rotated key arrives without a deploy. A plain variable of the same name always wins.
 * Without a path nothing is read and `lib/config.ts` reports what is missing.
 * @throws {ParameterReadError} naming every required parameter that does not exist, or when
 *   Parameter Store cannot be read.
 */
export async function resolveSecrets(
  specs: readonly SecretSpec[],
  config: ParametersConfig,
  provider: () => SSMProvider,
): Promise<Env> {
  const { path, env } = config;
  // A secret that a set variable replaces (a local endpoint) is not read.
  const wanted = specs.filter((s) => lacks(env, s) && !(s.unlessSet && trimmed(env, s.unlessSet)));
  // An optional parameter is read only along with a secret that must be read.
  if (!path || !wanted.some((s) => !s.optional)) return env;
  const names = Object.fromEntries(wanted.map((s) => [`${path}${s.name}`, {}]));
  let values: Record<string, unknown>;
  try {
    values = (await provider().getParametersByName(names, {
      decrypt: true,
      maxAge: config.maxAgeSeconds,
      throwOnError: false,
    })) as Record<string, unknown>;
  } catch (cause) {
    throw new ParameterReadError(
      `could not read parameters ${Object.keys(names).join(', ')}: ${(cause as Error).message}`,
      Object.keys(names),
      { cause },
    );
  }
  const merged: Env = { ...env };
  const missing: string[] = [];
  for (const spec of wanted) {
    const value = values[`${path}${spec.name}`];
    if (typeof value === 'string' && value.trim() !== '') merged[spec.name] = value;
    else if (!spec.optional) missing.push(`${path}${spec.name}`);
  }
  if (missing.length > 0) {
    throw new ParameterReadError(
      `missing SecureString parameter(s) ${missing.join(', ')} (or set the variable itself)`,
      missing,
    );
  }
  return merged;
}

/** How long an invocation waits for a re-read of the parameters before going on without it. */
const REREAD_WAIT_MS = 250;

/**
 * After a re-read fails, the values in use are kept this long before Parameter Store is asked
 * again: while it is down or slow, invocations do not each start a read (as the Momento-backed
 * write budget backs off, lib/reply/write-budget.ts).
 */
const REREAD_BACKOFF_MS = 30_000;

/**
 * Something built from the environment with its secrets (a handler and its clients), rebuilt
 * when a secret's value changes. With every secret in the environment (or no parameter path) it
 * is built at once and a configuration error throws here; otherwise it is built after the first
 * read, and an error (a missing parameter) rejects every call until it is fixed: the CommonJS
 * bundle cannot hold Lambda's init for a read, so the first invocation reports it. Each call
 * checks the secrets: free while Powertools' cache is fresh, one `GetParameters` call after
 * `maxAgeSeconds`; if a value changed (a rotated key), the next invocation runs on freshly built
 * clients. Concurrent calls share one read. A failed re-read keeps the values in use for
 * {@link REREAD_BACKOFF_MS} without asking again.
 *
 * @example
 * const current = rebuiltOnRotation(WORKER_SECRETS, loadParametersConfig(), (env) => build(env));
 * export const handler = async (event, context) => (await current())(event, context);
 */
export function rebuiltOnRotation<T>(
  specs: readonly SecretSpec[],
  config: ParametersConfig,
  build: (env: Env) => T,
  options: {
    provider?: () => SSMProvider;
    /** A re-read failed after a successful one; the current values stay in use. */
    onStaleRead?: (error: unknown) => void;
  } = {},
): () => Promise<T> {
  if (!config.path || specs.every((spec) => spec.optional || !lacks(config.env, spec))) {
    // Nothing to read (an optional parameter is read only along with the secrets): build now, so a
    // bad configuration fails the module's init (Lambda's cold start) at once.
    const value = build(config.env);
    return () => Promise.resolve(value);
  }
  const getProvider = options.provider ?? lazyParameterProvider();
  let built: { fingerprint: string; value: T } | undefined;
  let inflight: Promise<T> | undefined;
  let rereadAfter = 0;
  const refresh = async () => {
    let env: Env;
    try {
      env = await resolveSecrets(specs, config, getProvider);
    } catch (error) {
      // Parameter Store throttled or down after the cache expired: the keys in use still work,
      // so keep answering with them rather than failing every request until it recovers.
      if (!built) throw error;
      rereadAfter = Date.now() + REREAD_BACKOFF_MS;
      options.onStaleRead?.(error);
      return built.value;
    }
    const fingerprint = createHash('sha256')
      .update(specs.map((s) => env[s.name] ?? '').join('\0'))
      .digest('hex');
    if (built?.fingerprint !== fingerprint) built = { fingerprint, value: build(env) };
    return built.value;
  };
  return () => {
    if (built && Date.now() < rereadAfter) return Promise.resolve(built.value);
    inflight ??= refresh().finally(() => {
      inflight = undefined;
    });
    const refreshing = inflight;
    // Once built, an invocation waits on Parameter Store at most REREAD_WAIT_MS: past that it runs
    // on what it has while the read goes on, and a rotated value is used from the next invocation.
    // The ingress must answer Slack within 3 s whatever SSM does.
    const current = built;
    if (!current) return refreshing;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(current.value), REREAD_WAIT_MS);
    });
    return Promise.race([refreshing, waited]).finally(() => clearTimeout(timer));
  };
}

/**
 * Limits of the SSM client behind Parameter Store reads (secrets, channel settings): a read that
 * hangs must not eat the ingress's 3 seconds, nor hold a cold start: 2 tries of at most 1 s once
 * connected (0.5 s to connect), about 2 s in all. Parameter Store answers in milliseconds.
 */
const SSM_LIMITS = { maxAttempts: 2, connectionTimeoutMs: 500, requestTimeoutMs: 1_000 };

/**
 * A Parameter Store provider, built on first use, with {@link SSM_LIMITS} enforced (lib/aws-http-limits.ts).
 * The SSM client takes the standard AWS settings (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL_SSM`
 * for a local peer); `overrides` add to them (tests).
 */
export function lazyParameterProvider(overrides: SSMClientConfig = {}): () => SSMProvider {
  let provider: SSMProvider | undefined;
  return () => {
    // Loaded on first use: a run with every secret in the environment never loads the SSM client.
    const { SSMProvider: Provider } =
      require('@aws-lambda-powertools/parameters/ssm') as typeof import('@aws-lambda-powertools/parameters/ssm');
    const { maxAttempts, ...limits } = SSM_LIMITS;
    provider ??= new Provider({
      clientConfig: { maxAttempts, requestHandler: awsHttpLimits(limits), ...overrides },
    });
    return provider;
  };
}
