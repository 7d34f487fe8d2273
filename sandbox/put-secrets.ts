import { readFileSync } from 'node:fs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { loadSecretVariables } from '../lib/config';
import { BadInputError } from '../lib/errors';
import { parseChannelSettings } from '../lib/governance/channel-settings';
import { INGRESS_SECRETS, type SecretSpec, WORKER_SECRETS } from '../lib/secrets';
import { parseCli, runCli, UsageError } from './cli';

/**
 * `npm run secrets -- --stage prod`: copies the secrets from `.env` (or the shell) to SSM
 * Parameter Store as SecureString parameters under `/slack-gpt-bot/<stage>/`, where the deployed
 * functions read them (lib/secrets.ts, serverless.yml). Overwrites: run it again to rotate a key;
 * the functions pick the new value up within PARAMETERS_MAX_AGE_SECONDS. Optionally puts the
 * per-channel settings file after validating it. Prints names and versions, never values.
 * PutParameter: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
 */
const USAGE = `usage: npm run secrets -- --stage <stage> [--region <region>] [--path </prefix/>]
                           [--channel-settings <file.yaml|json>] [--no-env-file]

Puts SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, OPENAI_API_KEY and MOMENTO_API_KEY from .env as
SecureString parameters under /slack-gpt-bot/<stage>/ (or --path), overwriting older values.
AWS credentials and region come from the usual AWS settings (AWS_PROFILE, AWS_REGION, …).`;

const SERVICE = 'slack-gpt-bot';

async function main(): Promise<number> {
  const cli = parseCli(
    {
      options: {
        stage: { type: 'string' },
        region: { type: 'string' },
        path: { type: 'string' },
        'channel-settings': { type: 'string' },
      },
    },
    USAGE,
  );
  if (!cli) return 0;
  const { stage, region, path: pathOption } = cli.values;
  if (!stage && !pathOption) throw new UsageError(`--stage is required\n\n${USAGE}`);
  const path = pathOption ? pathOption.replace(/\/?$/, '/') : `/${SERVICE}/${stage}/`;
  if (!path.startsWith('/')) throw new UsageError('--path must start with /');

  // Distribution mode's secrets only when SLACK_CLIENT_ID says the deployment distributes.
  const applies = (spec: SecretSpec) => !spec.onlyIf || Boolean(process.env[spec.onlyIf]?.trim());
  const names = [...new Set([...INGRESS_SECRETS, ...WORKER_SECRETS].filter(applies).map((s) => s.name))];
  const values = loadSecretVariables(names);
  const parameters: Array<{ name: string; value: string; type: 'SecureString' | 'String' }> = Object.entries(
    values,
  ).map(([name, value]) => ({ name: `${path}${name}`, value, type: 'SecureString' }));
  const settingsFile = cli.values['channel-settings'];
  if (settingsFile) {
    const text = readFileSync(settingsFile, 'utf8');
    try {
      parseChannelSettings(text); // nothing broken reaches the bot
    } catch (cause) {
      if (!(cause instanceof BadInputError)) throw cause;
      throw new UsageError(`${settingsFile}: ${cause.message}`, { cause });
    }
    parameters.push({ name: `${path}CHANNEL_SETTINGS`, value: text, type: 'String' });
  }
  const missing = names.filter((name) => !(name in values));
  if (parameters.length === 0) {
    throw new UsageError(`nothing to put: none of ${names.join(', ')} is set (in .env or the shell)`);
  }

  const ssm = new SSMClient({ ...(region ? { region } : {}), maxAttempts: 3 });
  for (const p of parameters) {
    const { Version } = await ssm.send(
      new PutParameterCommand({ Name: p.name, Value: p.value, Type: p.type, Overwrite: true }),
    );
    console.log(`put ${p.name} (${p.type}, version ${Version})`);
  }
  for (const name of missing) console.log(`skipped ${path}${name}: ${name} is not set`);
  console.log(`summary ${JSON.stringify({ path, put: parameters.map((p) => p.name), skipped: missing })}`);
  ssm.destroy();
  return 0;
}

runCli(main);
