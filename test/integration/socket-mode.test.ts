import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { TYPING_MARKER } from '../../lib/reply/edit-reply';
import { PLACEHOLDER } from '../../lib/worker/notices';
import { type SlackMessage, type SlackPeer, startSlackPeer } from '../../sandbox/peers/slack-peer';
import { botMessage, envelope, feedbackClick, mention } from '../support/slack-events';
import { waitFor } from '../support/wait-for';

/**
 * `npm run dev` (sandbox/dev.ts) as a developer runs it, in its own process, against the local
 * Slack peer standing in for Slack: `apps.connections.open` with the app-level token, a real
 * `@slack/socket-mode` client on the peer's WebSocket, events through the ingress's classification
 * and the local queue, answers through the Web API with the bot token.
 */

const ROOT = resolve(__dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

/** A child process with its output collected. */
function run(args: string[], env: Record<string, string>) {
  const child = spawn(TSX, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, exited, output: () => output };
}

let slack: SlackPeer;
let dev: ReturnType<typeof run>;

beforeAll(async () => {
  slack = await startSlackPeer();
  dev = run(['sandbox/dev.ts', '--no-env-file'], {
    SLACK_APP_TOKEN: slack.appToken,
    SLACK_BOT_TOKEN: slack.token,
    SLACK_API_URL: slack.url,
  });
  await waitFor('dev to connect', () => /Connected to/.test(dev.output()) || undefined, 25_000).catch(
    (error: Error) => {
      throw new Error(`${error.message}; output:\n${dev.output()}`);
    },
  );
}, 30_000);

afterAll(async () => {
  if (dev.child.exitCode === null) dev.child.kill('SIGKILL');
  await slack.close();
});

const botReplies = (channel: string, threadTs: string) =>
  slack.thread(channel, threadTs).filter((m) => m.user === slack.botUserId);
const complete = (m: SlackMessage) =>
  m.text !== PLACEHOLDER && !m.text.endsWith(TYPING_MARKER) && m.streaming !== 'in_progress';

describe('npm run dev: Socket Mode against the local Slack peer', () => {
  it('opens the connection with the app-level token and gets hello', () => {
    // Assess
    const opens = slack.callsTo('apps.connections.open');
    expect(opens.length).toBeGreaterThanOrEqual(1);
    expect(opens.every((c) => c.response.ok)).toBe(true);
    expect(slack.socketMode.connections).toBe(1);
    expect(slack.callsTo('auth.test')[0]?.response.user_id).toBe(slack.botUserId);
  });

  it('acknowledges a mention once it is queued and answers it once, completely, in its thread', async () => {
    // Prepare
    const body = mention({ text: `<@${slack.botUserId}> Is Socket Mode working?` });
    const event = body.event as { channel: string; ts: string };
    // Act
    const envelopeId = slack.socketMode.sendEvent(body);
    const ack = await slack.socketMode.waitForAck(envelopeId);
    const [reply] = await waitFor('a complete reply', () => {
      const replies = botReplies(event.channel, event.ts);
      return replies.length > 0 && replies.every(complete) ? replies : undefined;
    });
    // Assess
    expect(ack.envelope_id).toBe(envelopeId);
    expect(botReplies(event.channel, event.ts)).toHaveLength(1);
    expect(reply!.text).toContain('You said: "Is Socket Mode working?"');
    expect(dev.output()).toContain('acknowledged and queued');
  });

  it('gives one reply when Slack delivers the same event again (retry_attempt 1)', async () => {
    // Prepare
    const body = mention({ text: `<@${slack.botUserId}> once, please` });
    const event = body.event as { channel: string; ts: string };
    const first = slack.socketMode.sendEvent(body);
    await slack.socketMode.waitForAck(first);
    // Act
    const again = slack.socketMode.sendEvent(body, { retryAttempt: 1, retryReason: 'timeout' });
    await slack.socketMode.waitForAck(again);
    await waitFor('a complete reply', () => {
      const replies = botReplies(event.channel, event.ts);
      return replies.length > 0 && replies.every(complete) ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 500)); // room for a wrong second reply to start
    // Assess
    expect(botReplies(event.channel, event.ts)).toHaveLength(1);
    const started = [...slack.callsTo('chat.startStream'), ...slack.callsTo('chat.postMessage')].filter(
      (c) => c.args.channel === event.channel && c.args.thread_ts === event.ts,
    );
    expect(started).toHaveLength(1);
  });

  it('acknowledges a bot message without answering it', async () => {
    // Prepare
    const body = botMessage({ text: 'a message from another bot' });
    const event = body.event as { channel: string; ts: string };
    // Act
    const envelopeId = slack.socketMode.sendEvent(body);
    await slack.socketMode.waitForAck(envelopeId);
    await waitFor('the ignore line', () => /ignored: from a bot/.test(dev.output()) || undefined);
    // Assess
    expect(botReplies(event.channel, event.ts)).toHaveLength(0);
  });

  it('sets the suggested prompts when a user opens the assistant thread, posting nothing', async () => {
    // Prepare
    const threadTs = '1729999327.187299';
    const body = envelope({
      type: 'assistant_thread_started',
      assistant_thread: { user_id: 'U0ASKER', context: {}, channel_id: 'D0DIRECT', thread_ts: threadTs },
      event_ts: '1729999327.187300',
    });
    // Act
    const envelopeId = slack.socketMode.sendEvent(body);
    await slack.socketMode.waitForAck(envelopeId);
    const prompts = await waitFor('the suggested prompts', () =>
      slack.suggestedPrompts('D0DIRECT', threadTs),
    );
    // Assess
    expect(prompts.prompts.length).toBeGreaterThanOrEqual(1);
    expect(botReplies('D0DIRECT', threadTs)).toHaveLength(0);
  });

  it('acknowledges an interactive feedback click and records it through the ingress code path', async () => {
    // Prepare
    const click = feedbackClick({}, { value: 'bad' });
    const messageTs = (click.message as { ts: string }).ts;
    // Act
    const envelopeId = slack.socketMode.sendEvent(click, { type: 'interactive' });
    const ack = await slack.socketMode.waitForAck(envelopeId);
    await waitFor(
      'the feedback line',
      () => /feedback \(bad\) on an answer in C0GENERAL/.test(dev.output()) || undefined,
    );
    // Assess
    expect(ack.envelope_id).toBe(envelopeId);
    expect(
      slack
        .callsTo('chat.postMessage')
        .filter((c) => c.args.channel === 'C0GENERAL' && c.args.thread_ts === messageTs),
    ).toHaveLength(0);
  });

  it('disconnects and exits 0 on SIGTERM', async () => {
    // Act
    dev.child.kill('SIGTERM');
    const code = await dev.exited;
    // Assess
    expect(code).toBe(0);
    await waitFor(
      'the socket to close',
      () => (slack.socketMode.connections === 0 ? true : undefined),
      5_000,
    );
  });
});

describe('the local Slack peer: apps.connections.open', () => {
  it('hands out a ws://127.0.0.1 URL for the app-level token only', async () => {
    // Prepare
    const open = async (token: string) => {
      const response = await fetch(`${slack.url}apps.connections.open`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      return (await response.json()) as { ok: boolean; url?: string; error?: string };
    };
    // Act
    const withBotToken = await open(slack.token);
    const withAppToken = await open(slack.appToken);
    // Assess
    expect(withBotToken).toEqual({ ok: false, error: 'not_allowed_token_type' });
    expect(withAppToken.ok).toBe(true);
    expect(withAppToken.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[\w-]+&app_id=A0LOCAL$/);
  });
});

describe('npm run dev: configuration errors', () => {
  it('names the missing tokens and exits 2', async () => {
    // Act
    const bare = run(['sandbox/dev.ts', '--no-env-file'], {});
    const code = await bare.exited;
    // Assess
    expect(code).toBe(2);
    expect(bare.output()).toMatch(/SLACK_APP_TOKEN is not set/);
    expect(bare.output()).toMatch(/SLACK_BOT_TOKEN is not set/);
  });

  it('refuses a bot token given as the app-level token', async () => {
    // Act
    const wrong = run(['sandbox/dev.ts', '--no-env-file'], {
      SLACK_APP_TOKEN: slack.token,
      SLACK_BOT_TOKEN: slack.token,
    });
    const code = await wrong.exited;
    // Assess
    expect(code).toBe(2);
    expect(wrong.output()).toMatch(/SLACK_APP_TOKEN must be an app-level token \(xapp-…\)/);
  });
});
