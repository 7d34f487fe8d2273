import type { DistributionConfig, Env } from './config-types';
import type { ConfigIssue } from './errors';

/**
 * Distribution mode: one deployment installed into many workspaces through Slack's OAuth v2 flow
 * (https://docs.slack.dev/authentication/installing-with-oauth), each installation's bot token
 * kept encrypted in DynamoDB. On when `SLACK_CLIENT_ID` is set; the other variables are then
 * required, and a single-workspace `SLACK_BOT_TOKEN` beside them is refused (one source of tokens).
 * Without `SLACK_CLIENT_ID` nothing here applies and single-workspace mode is exactly as before.
 */

/** Who reads the settings: the ingress signs install states, the worker does not. */
export type DistributionRole = 'ingress' | 'worker';

const NEEDED: Record<DistributionRole, readonly string[]> = {
  ingress: ['SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET', 'INSTALLATIONS_TABLE', 'TOKEN_ENCRYPTION_KEY'],
  // The worker refreshes rotating tokens (client secret) and reads installations.
  worker: ['SLACK_CLIENT_SECRET', 'INSTALLATIONS_TABLE', 'TOKEN_ENCRYPTION_KEY'],
};

/** Every OAuth-only variable: any of them without `SLACK_CLIENT_ID` is a half-done setup. */
const OAUTH_ONLY = ['SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET'] as const;

const value = (env: Env, name: string) => env[name]?.trim() || undefined;

/** 32 random bytes, base64 (`openssl rand -base64 32`): an AES-256 key. */
function keyIssue(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw) || Buffer.from(raw, 'base64').length !== 32)
    return 'must be 32 random bytes, base64 (openssl rand -base64 32)';
  return undefined;
}

/** Whether the environment asks for distribution mode. */
export function isDistribution(env: Env): boolean {
  return value(env, 'SLACK_CLIENT_ID') !== undefined;
}

/** What is missing or malformed for distribution mode, named by variable; empty when fine. */
export function distributionIssues(env: Env, role: DistributionRole): ConfigIssue[] {
  if (!isDistribution(env)) {
    return OAUTH_ONLY.filter((name) => value(env, name) !== undefined).map((name) => ({
      variable: 'SLACK_CLIENT_ID',
      problem: `is required with ${name} (distribution mode)`,
    }));
  }
  const issues: ConfigIssue[] = NEEDED[role]
    .filter((name) => value(env, name) === undefined)
    .map((variable) => ({ variable, problem: 'is required in distribution mode (SLACK_CLIENT_ID is set)' }));
  const keyProblem = keyIssue(value(env, 'TOKEN_ENCRYPTION_KEY'));
  if (keyProblem) issues.push({ variable: 'TOKEN_ENCRYPTION_KEY', problem: keyProblem });
  if (role === 'worker' && value(env, 'SLACK_BOT_TOKEN') !== undefined) {
    issues.push({
      variable: 'SLACK_BOT_TOKEN',
      problem:
        'must not be set in distribution mode (SLACK_CLIENT_ID is set): tokens come from installations',
    });
  }
  return issues;
}

/** The distribution settings, or undefined in single-workspace mode. Call after the issues are clear. */
export function distributionConfig(env: Env): DistributionConfig | undefined {
  if (!isDistribution(env)) return undefined;
  return {
    clientId: value(env, 'SLACK_CLIENT_ID')!,
    clientSecret: value(env, 'SLACK_CLIENT_SECRET')!,
    stateSecret: value(env, 'SLACK_STATE_SECRET') ?? '',
    installationsTable: value(env, 'INSTALLATIONS_TABLE')!,
    tokenEncryptionKey: Buffer.from(value(env, 'TOKEN_ENCRYPTION_KEY')!, 'base64'),
    apiUrl: value(env, 'SLACK_API_URL'),
  };
}
