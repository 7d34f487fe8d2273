import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The project root, where `serverless.yml` lives. */
export const PROJECT_ROOT = path.resolve(__dirname, '../..');

/** A CloudFormation resource as `serverless package` writes it. */
export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
}

/** The parts of a CloudFormation template the checks read. */
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, { Value: unknown; Description?: string }>;
}

/** What `serverless package` produced. */
export interface PackagedService {
  /** `.serverless/` */
  dir: string;
  /** `cloudformation-template-update-stack.json`, the template `serverless deploy` would apply. */
  template: CfnTemplate;
  /** osls's output (its log goes to stderr), for a failing test's message. */
  log: string;
}

/** The secrets; in AWS they live in Parameter Store, never in the template. */
export const SECRET_VARIABLES = [
  'SLACK_SIGNING_SECRET',
  'SLACK_BOT_TOKEN',
  'OPENAI_API_KEY',
  'MOMENTO_API_KEY',
  // Distribution mode's secrets.
  'SLACK_CLIENT_SECRET',
  'SLACK_STATE_SECRET',
  'TOKEN_ENCRYPTION_KEY',
  // Optional: the MCP servers and their headers (lib/secrets.ts WORKER_SECRETS).
  'MCP_SERVERS',
];

/** Names read with `${env:NAME}` / `${env:NAME, default}` in `serverless.yml`. */
export function envVariablesOfServerlessYml(): string[] {
  const yml = readFileSync(path.join(PROJECT_ROOT, 'serverless.yml'), 'utf8');
  return [...new Set([...yml.matchAll(/\$\{env:([A-Za-z0-9_]+)/g)].map((m) => m[1]!))];
}

/**
 * Runs `serverless package` (osls, from node_modules) offline: telemetry off and no AWS
 * credentials at all, not even a profile file. Every `${env:…}` that `serverless.yml` reads is
 * set, to `env`'s value or to empty, and no secret is set unless `env` has it, so neither a developer's shell nor their `.env` (loaded by
 * `useDotenv`, which never overrides a variable already set) changes what gets packaged.
 */
export async function packageService(options: {
  stage: string;
  region: string;
  env: Record<string, string>;
}): Promise<PackagedService> {
  const { stdout, stderr } = await runServerless(['package'], options);
  const dir = path.join(PROJECT_ROOT, '.serverless');
  const template = JSON.parse(
    readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as CfnTemplate;
  return { dir, template, log: stderr + stdout };
}

/**
 * `serverless print --format json` offline, as {@link packageService} runs `package`: the
 * configuration with every variable resolved, e.g. to see what `--param` values become. Quick
 * (no bundling).
 */
export async function printService(options: {
  stage: string;
  region: string;
  env: Record<string, string>;
  /** `--param="name=value"` for each entry. */
  params?: Record<string, string>;
}): Promise<Record<string, unknown>> {
  const params = Object.entries(options.params ?? {}).map(([name, value]) => `--param=${name}=${value}`);
  const { stdout } = await runServerless(['print', '--format', 'json', ...params], options);
  return JSON.parse(stdout.slice(stdout.indexOf('{'))) as Record<string, unknown>;
}

async function runServerless(
  command: string[],
  options: { stage: string; region: string; env: Record<string, string> },
): Promise<{ stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^AWS_/.test(name)) delete env[name];
  }
  for (const name of envVariablesOfServerlessYml()) env[name] = '';
  // A fresh clone has no secret set: packaging must not need one (they are read at run time).
  for (const name of SECRET_VARIABLES) delete env[name];
  Object.assign(env, options.env, {
    SLS_TELEMETRY_DISABLED: '1',
    AWS_CONFIG_FILE: path.join(PROJECT_ROOT, '.serverless-no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(PROJECT_ROOT, '.serverless-no-aws-credentials'),
  });
  const cli = require.resolve('osls/bin/serverless.js');
  const args = [...command, '--stage', options.stage, '--region', options.region];
  return await run(process.execPath, [cli, ...args], {
    cwd: PROJECT_ROOT,
    env,
    timeout: 100_000,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`serverless ${command[0]} failed: ${error.stderr ?? ''}${error.stdout ?? ''}`, {
      cause: error,
    });
  });
}
