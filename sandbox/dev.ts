import { LogLevel, WebClient } from '@slack/web-api';
import { createLogger } from '../lib/logger';
import { parseCli, runCli, UsageError, untilSignal } from './cli';
import { startLocalBot } from './run-local';
import { type BridgedEvent, startSocketModeBridge } from './socket-mode-bridge';
import { formatMs, styleFor } from './terminal';

/**
 * `npm run dev`: the bot in a real Slack workspace without deploying anything. Socket Mode
 * (`SLACK_APP_TOKEN`) brings the events to this machine; they go through the ingress's
 * classification onto the local queue (fauxqs), and the real worker answers through the Slack Web
 * API with `SLACK_BOT_TOKEN`. OpenAI and Momento are the real ones when configured, local peers
 * otherwise. `SLACK_API_URL` points it at another Web API (the tests use the local Slack peer).
 */

const USAGE = `usage: npm run dev [-- [--logs] [--no-env-file]]

  Needs SLACK_APP_TOKEN (xapp-…, scope connections:write) and SLACK_BOT_TOKEN (xoxb-…) in the
  environment or .env, and Socket Mode enabled in the Slack app (Settings → Socket Mode).

  --logs         show the handlers' logs (POWERTOOLS_LOG_LEVEL, default INFO)
  --no-env-file  do not read .env`;

/** Checks the two tokens, naming whichever is missing or of the wrong kind. */
function tokens(env: NodeJS.ProcessEnv): { appToken: string; botToken: string } {
  const appToken = env.SLACK_APP_TOKEN?.trim() ?? '';
  const botToken = env.SLACK_BOT_TOKEN?.trim() ?? '';
  const problems: string[] = [];
  if (!appToken) {
    problems.push(
      'SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…) with the scope ' +
        'connections:write (Slack app → Basic Information → App-Level Tokens), and Socket Mode ' +
        'enabled (Settings → Socket Mode)',
    );
  } else if (!appToken.startsWith('xapp-')) {
    problems.push(`SLACK_APP_TOKEN must be an app-level token (xapp-…), not ${appToken.slice(0, 5)}…`);
  }
  if (!botToken) {
    problems.push(
      'SLACK_BOT_TOKEN is not set: the worker replies with the bot token (OAuth & Permissions → Bot User OAuth Token, xoxb-…)',
    );
  } else if (!botToken.startsWith('xoxb-')) {
    problems.push(`SLACK_BOT_TOKEN must be a bot token (xoxb-…), not ${botToken.slice(0, 5)}…`);
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n       '));
  return { appToken, botToken };
}

/** The bot's own user id (to strip its mention and ignore its own messages), from `auth.test`. */
async function botIdentity(botToken: string, slackApiUrl: string | undefined) {
  const slack = new WebClient(botToken, {
    ...(slackApiUrl ? { slackApiUrl } : {}),
    retryConfig: { retries: 1 },
    timeout: 10_000,
    logLevel: LogLevel.ERROR,
  });
  try {
    const auth = await slack.auth.test();
    return { userId: String(auth.user_id), team: String(auth.team ?? auth.team_id), user: String(auth.user) };
  } catch (cause) {
    const code = (cause as { data?: { error?: string } }).data?.error ?? (cause as Error).message;
    throw new UsageError(`SLACK_BOT_TOKEN was refused by ${slackApiUrl ?? 'Slack'} (auth.test: ${code})`, {
      cause,
    });
  }
}

async function main(): Promise<number> {
  const cli = parseCli(
    {
      options: {
        logs: { type: 'boolean' },
      },
    },
    USAGE,
  );
  if (!cli) return 0;
  const { values, envFile } = cli;
  const { appToken, botToken } = tokens(process.env);
  const slackApiUrl = process.env.SLACK_API_URL?.trim() || undefined;
  const identity = await botIdentity(botToken, slackApiUrl);
  const s = styleFor(process.stdout);

  const bot = await startLocalBot({
    slack: 'real',
    serveIngress: false,
    userEnv: { ...process.env, SLACK_BOT_USER_ID: process.env.SLACK_BOT_USER_ID?.trim() || identity.userId },
    logLevel: values.logs ? process.env.POWERTOOLS_LOG_LEVEL?.trim() || 'INFO' : 'WARN',
  });
  const received = new Map<string, { at: number; label: string }>();
  bot.onJob((job) => {
    const seen = job.eventId === undefined ? undefined : received.get(job.eventId);
    if (!seen) return;
    if (job.done)
      console.log(`${s.green('✓')} answered ${seen.label} in ${formatMs(performance.now() - seen.at)}`);
    else
      console.log(
        `${s.yellow('↻')} ${seen.label} failed; the queue retries it (receive ${job.receiveCount})`,
      );
  });
  const onEvent = (event: BridgedEvent) => {
    const label = `${event.eventType ?? 'event'} in ${event.channel ?? '?'} (thread ${event.threadTs ?? '?'})`;
    if (event.outcome === 'answer' && event.eventId) {
      received.set(event.eventId, { at: performance.now(), label });
      console.log(`${s.cyan('←')} ${label}: acknowledged and queued`);
    } else if (event.outcome === 'feedback') {
      console.log(
        `${s.cyan('←')} feedback (${event.reason}) on an answer in ${event.channel}: acknowledged and recorded`,
      );
    } else if (event.outcome === 'unqueued') {
      console.log(`${s.red('✗')} ${label}: not queued (${event.reason}); not acknowledged, Slack resends it`);
    } else {
      console.log(s.dim(`· ${event.outcome === 'rejected' ? 'rejected' : 'ignored'}: ${event.reason}`));
    }
  };

  let bridge: Awaited<ReturnType<typeof startSocketModeBridge>>;
  try {
    bridge = await startSocketModeBridge({
      appToken,
      slackApiUrl,
      queue: bot.queue,
      botUserId: bot.env.SLACK_BOT_USER_ID,
      logger: createLogger('socket-mode'),
      onEvent,
    });
  } catch (cause) {
    await bot.close();
    const code = (cause as { data?: { error?: string } }).data?.error ?? (cause as Error).message;
    throw new UsageError(
      `SLACK_APP_TOKEN was refused (apps.connections.open: ${code}); is Socket Mode enabled in the app?`,
      {
        cause,
      },
    );
  }

  console.log(
    s.bold(`Connected to ${identity.team} with Socket Mode as @${identity.user} (${identity.userId}).`),
  );
  if (envFile) console.log(s.dim(`  read ${envFile}`));
  for (const [name, where] of Object.entries(bot.services)) console.log(`  ${name.padEnd(9)} ${where}`);
  console.log('Mention the bot in a channel it was invited to, or send it a DM. Ctrl-C stops.');

  await untilSignal();
  console.log('\nstopping…');
  await bridge.stop();
  await bot.close();
  return 0;
}

runCli(main);
