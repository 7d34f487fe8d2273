import { performance } from 'node:perf_hooks';
import { signSlackBody } from '../lib/slack/signature';

/** What one signed POST got back. */
export interface SlackDelivery {
  status: number;
  /** Milliseconds from sending the request to reading the whole response. */
  ms: number;
  /** The response body as text. */
  body: string;
}

/** The URL did not answer: nothing listens there, the name does not resolve, or it timed out. */
export class UnreachableUrlError extends Error {
  readonly url: string;
  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot reach ${url}: ${reason}`, options);
    this.name = 'UnreachableUrlError';
    this.url = url;
  }
}

/** Options of {@link postSlackEvent}. */
export interface PostOptions {
  /** The app's signing secret. */
  secret: string;
  /** Send as Slack's n-th retry of this delivery (`x-slack-retry-num`). */
  retryNum?: number;
  /** Default 10 s: far above Slack's own 3 s, so a slow ingress shows as slow rather than failed. */
  timeoutMs?: number;
}

/**
 * Interactivity payload types (https://docs.slack.dev/interactivity/handling-user-interaction):
 * Slack POSTs these to the interactivity request URL as a form body, not as JSON.
 */
const INTERACTION_TYPES = new Set([
  'block_actions',
  'block_suggestion',
  'interactive_message',
  'message_action',
  'shortcut',
  'view_closed',
  'view_submission',
]);

/** Whether `body` is an interactivity payload (sent as `payload=<JSON>`) rather than an Events API body. */
export function isInteractionPayload(body: unknown): boolean {
  const type = (body as { type?: unknown } | null)?.type;
  return typeof type === 'string' && INTERACTION_TYPES.has(type);
}

/** The bytes and content type Slack would send for `body`. */
export function encodeSlackBody(body: unknown): { raw: string; contentType: string } {
  if (typeof body === 'string') return { raw: body, contentType: 'application/json' };
  if (isInteractionPayload(body)) {
    // https://docs.slack.dev/interactivity/handling-user-interaction#payloads
    const raw = new URLSearchParams({ payload: JSON.stringify(body) }).toString();
    return { raw, contentType: 'application/x-www-form-urlencoded' };
  }
  return { raw: JSON.stringify(body), contentType: 'application/json' };
}

/**
 * POSTs a Slack Events API body as Slack does: signed with the current timestamp
 * (https://api.slack.com/authentication/verifying-requests-from-slack), JSON, Slack's user agent,
 * and for a retry `x-slack-retry-num` with `x-slack-retry-reason: http_timeout`. An interactivity
 * payload (e.g. a `block_actions` feedback click) goes as Slack sends those: a form body
 * `payload=<JSON>`, signed the same way over the exact bytes sent.
 * @throws {UnreachableUrlError} when no HTTP answer came.
 */
export async function postSlackEvent(
  url: string,
  body: unknown,
  options: PostOptions,
): Promise<SlackDelivery> {
  const { raw, contentType } = encodeSlackBody(body);
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': contentType,
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': signSlackBody(options.secret, timestamp, raw),
  };
  if (options.retryNum) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body: raw,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return { status: response.status, ms: performance.now() - started, body: text };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if ((error as Error).name === 'TimeoutError')
      throw new UnreachableUrlError(url, `no answer within ${timeoutMs / 1000} s`, { cause: error });
    throw new UnreachableUrlError(url, cause?.code ?? cause?.message ?? (error as Error).message, {
      cause: error,
    });
  }
}
