import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOCAL_AWS_CREDENTIALS } from '../../sandbox/peers/sqs-peer';
import { type SsmPeer, startSsmPeer } from '../../sandbox/peers/ssm-peer';
import { runToExit, shellEnv } from '../support/run-command';
import { PROJECT_ROOT } from '../support/serverless-package';

/** `npm run secrets`, run as a user would, against the local SSM peer. */

let ssm: SsmPeer;
let scratch: string;
beforeAll(async () => {
  ssm = await startSsmPeer();
  scratch = mkdtempSync(path.join(tmpdir(), 'put-secrets-'));
});
afterAll(async () => {
  await ssm.close();
  rmSync(scratch, { recursive: true, force: true });
});

const tsx = path.join(PROJECT_ROOT, 'node_modules/.bin/tsx');
const run = (args: string[], env: Record<string, string>) =>
  runToExit<{ path: string; put: string[]; skipped: string[] }>(tsx, ['sandbox/put-secrets.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: shellEnv({
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
      ...env,
    }),
  });

describe('npm run secrets', () => {
  it('puts each set secret as a SecureString under the stage path, overwriting, and never prints a value', async () => {
    // Prepare
    ssm.put('/slack-gpt-bot/prod/SLACK_BOT_TOKEN', 'xoxb-old');
    const env = { SLACK_SIGNING_SECRET: 'signing-value', SLACK_BOT_TOKEN: 'xoxb-new-value' };
    // Act
    const result = await run(['--stage', 'prod', '--no-env-file'], env);
    // Assess
    expect(result.code).toBe(0);
    expect(result.summary).toEqual({
      path: '/slack-gpt-bot/prod/',
      put: ['/slack-gpt-bot/prod/SLACK_SIGNING_SECRET', '/slack-gpt-bot/prod/SLACK_BOT_TOKEN'],
      skipped: ['OPENAI_API_KEY', 'MOMENTO_API_KEY', 'MCP_SERVERS'],
    });
    expect(ssm.get('/slack-gpt-bot/prod/SLACK_BOT_TOKEN')).toMatchObject({
      type: 'SecureString',
      value: 'xoxb-new-value',
      version: 2,
    });
    expect(ssm.get('/slack-gpt-bot/prod/SLACK_SIGNING_SECRET')?.value).toBe('signing-value');
    expect(result.stdout + result.stderr).not.toMatch(/signing-value|xoxb-new-value/);
  });

  it('refuses a broken channel settings file, naming the problem, and puts nothing', async () => {
    // Prepare
    const file = path.join(scratch, 'settings.yaml');
    writeFileSync(file, 'channels:\n  C1:\n    temperature: 9\n');
    const before = ssm.calls.length;
    // Act
    const result = await run(['--stage', 'qa', '--no-env-file', '--channel-settings', file], {
      SLACK_BOT_TOKEN: 'xoxb-qa',
    });
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('channels.C1.temperature');
    expect(ssm.calls.length).toBe(before);
  });
});
