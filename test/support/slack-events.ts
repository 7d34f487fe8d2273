import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { signSlackBody } from '../../lib/slack/signature';

/** Factories for Slack Events API bodies and the Function URL events that carry them. */

export const TEAM = 'T0LOCAL';
export const BOT_USER = 'UBOT0LOCAL';
export const SECRET = 'test-signing-secret';

let counter = 0;
const nextTs = () =>
  `1700000${String(100 + ++counter).padStart(3, '0')}.000${String(counter).padStart(3, '0')}`;

type Event = Record<string, unknown>;

/** An `event_callback` envelope around `event`, with a unique `event_id`. */
export function envelope(event: Event, overrides: Event = {}): Event {
  return {
    token: 'deprecated-verification-token',
    team_id: TEAM,
    api_app_id: 'A0LOCAL',
    event,
    type: 'event_callback',
    event_id: `Ev${Date.now().toString(36).toUpperCase()}${++counter}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: TEAM, user_id: BOT_USER, is_bot: true, is_enterprise_install: false }],
    ...overrides,
  };
}

/** A channel `app_mention`. */
export function mention(overrides: Event = {}): Event {
  const ts = nextTs();
  return envelope({
    type: 'app_mention',
    user: 'U0ASKER',
    text: `<@${BOT_USER}> what is a FIFO queue?`,
    ts,
    channel: 'C0GENERAL',
    event_ts: ts,
    ...overrides,
  });
}

/** A direct message to the bot. */
export function dm(overrides: Event = {}): Event {
  const ts = nextTs();
  return envelope({
    type: 'message',
    channel_type: 'im',
    user: 'U0ASKER',
    text: 'hello bot',
    ts,
    channel: 'D0DIRECT',
    event_ts: ts,
    ...overrides,
  });
}

/** A message posted by a bot (ours or another) in a DM. */
export function botMessage(overrides: Event = {}): Event {
  return dm({ subtype: 'bot_message', bot_id: 'B0OTHER', user: undefined, ...overrides });
}

/** An edit: Slack sends `message` with `subtype: message_changed`. */
export function edit(): Event {
  const ts = nextTs();
  return envelope({
    type: 'message',
    subtype: 'message_changed',
    channel_type: 'im',
    channel: 'D0DIRECT',
    hidden: true,
    message: { type: 'message', user: 'U0ASKER', text: 'edited', ts },
    previous_message: { type: 'message', user: 'U0ASKER', text: 'original', ts },
    ts: nextTs(),
    event_ts: ts,
  });
}

/** Options for a signed Function URL event. */
export interface SignOptions {
  secret?: string;
  /** Epoch seconds used in the signature; defaults to now. */
  timestamp?: number;
  retryNum?: number;
  base64?: boolean;
  method?: string;
  headers?: Record<string, string>;
  /** Sign something else than what is sent (to forge a mismatch). */
  signBody?: string;
}

/** A Lambda Function URL event (payload 2.0) carrying `body`, signed as Slack would. */
export function functionUrlEvent(body: unknown, options: SignOptions = {}): APIGatewayProxyEventV2 {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': signSlackBody(options.secret ?? SECRET, timestamp, options.signBody ?? raw),
    ...(options.retryNum
      ? { 'x-slack-retry-num': String(options.retryNum), 'x-slack-retry-reason': 'http_timeout' }
      : {}),
    ...options.headers,
  };
  const method = options.method ?? 'POST';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: 'local.lambda-url.us-east-1.on.aws',
      domainPrefix: 'local',
      http: {
        method,
        path: '/',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent']!,
      },
      requestId: `req-${++counter}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: options.base64 ? Buffer.from(raw, 'utf8').toString('base64') : raw,
    isBase64Encoded: Boolean(options.base64),
  };
}

/**
 * A `block_actions` payload for a click on the answer's feedback buttons, as Slack sends it to the
 * interactivity request URL (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload).
 */
export function feedbackClick(overrides: Event = {}, action: Event = {}): Event {
  const ts = nextTs();
  return {
    type: 'block_actions',
    user: { id: 'U0ASKER', username: 'asker', name: 'asker', team_id: TEAM },
    api_app_id: 'A0LOCAL',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: ts, channel_id: 'C0GENERAL', is_ephemeral: false },
    trigger_id: '1234.5678.abcd',
    team: { id: TEAM, domain: 'local-workspace' },
    channel: { id: 'C0GENERAL', name: 'general' },
    message: { type: 'message', user: BOT_USER, ts, thread_ts: '1700000000.000100', text: 'the answer' },
    response_url: 'https://hooks.slack.com/actions/T0LOCAL/1/abc',
    actions: [
      {
        type: 'feedback_buttons',
        action_id: 'answer_feedback',
        block_id: 'feedback',
        value: 'good',
        text: { type: 'plain_text', text: '👍' },
        action_ts: `${Math.floor(Date.now() / 1000)}.000100`,
        ...action,
      },
    ],
    ...overrides,
  };
}

/** A Function URL event carrying an interactivity payload as Slack does: a signed form body `payload=<JSON>`. */
export function interactionEvent(payload: unknown, options: SignOptions = {}): APIGatewayProxyEventV2 {
  const raw =
    typeof payload === 'string' ? payload : `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return functionUrlEvent(raw, {
    ...options,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
  });
}
