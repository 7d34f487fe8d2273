import { setTimeout as sleepFor } from 'node:timers/promises';
import { ErrorCode, type WebAPICallError } from '@slack/web-api';
import { SlackCallError, type SlackErrorCategory } from '../errors';

/** Errors Slack answers that another try can fix. */
const RETRYABLE_SLACK_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/**
 * The token or the app is broken: no event can be answered until someone fixes it.
 * https://docs.slack.dev/reference/methods/chat.postMessage#errors
 */
const AUTH_ERRORS = new Set([
  'not_authed',
  'invalid_auth',
  'token_revoked',
  'token_expired',
  'account_inactive',
  'missing_scope',
  'no_permission',
  'org_login_required',
  'ekm_access_denied',
  'team_access_not_granted',
  'invalid_token',
]);

/** Nothing can be written in this one conversation; other conversations are fine. */
const CONVERSATION_ERRORS = new Set([
  'not_in_channel',
  'is_archived',
  'channel_not_found',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'thread_locked',
  'cannot_reply_to_message',
]);

/**
 * Rate limits Slack answers in the body rather than with HTTP 429: chat.postMessage's
 * `rate_limited` ("Application has posted too many messages",
 * https://docs.slack.dev/reference/methods/chat.postMessage#errors). Nothing was done: another try
 * after a second (Slack's pace for posts in a channel) may work.
 */
const BODY_RATE_LIMITS = new Set(['rate_limited', 'ratelimited']);

function categorise(slackError: string | undefined): SlackErrorCategory {
  if (RETRYABLE_SLACK_ERRORS.has(slackError ?? '')) return 'transient';
  if (AUTH_ERRORS.has(slackError ?? '')) return 'auth';
  if (CONVERSATION_ERRORS.has(slackError ?? '')) return 'conversation';
  return 'request';
}

/**
 * The Web API call layer in one: every Slack call of the bot goes through here. What the call
 * throws is sorted into a {@link SlackCallError}; with `timeLeftMs`, the call is bounded by it
 * (see {@link withinTime}).
 */
export async function call<T>(method: string, fn: () => Promise<T>, timeLeftMs?: number): Promise<T> {
  if (timeLeftMs !== undefined) return withinTime(method, timeLeftMs, () => call(method, fn));
  try {
    return await fn();
  } catch (cause) {
    const error = cause as WebAPICallError & { retryAfter?: number; data?: { error?: string } };
    const slackError = error.code === ErrorCode.PlatformError ? error.data?.error : undefined;
    if (error.code === ErrorCode.RateLimitedError || BODY_RATE_LIMITS.has(slackError ?? '')) {
      // A 429 proves the call was not made.
      throw new SlackCallError(
        method,
        { slackError: 'ratelimited', retryable: true, retryAfterSeconds: error.retryAfter ?? 1 },
        { cause },
      );
    }
    if (error.code === ErrorCode.PlatformError) {
      const category = categorise(slackError);
      throw new SlackCallError(
        method,
        { slackError, retryable: category === 'transient', category },
        { cause },
      );
    }
    // RequestError / HTTPError: the network, a timeout or a 5xx. Slack may have done the work.
    const failure =
      error.code === ErrorCode.HTTPError
        ? 'http_error'
        : /timeout/i.test(error.message ?? '')
          ? 'timeout'
          : 'request_error';
    throw new SlackCallError(method, { slackError: failure, retryable: true, uncertain: true }, { cause });
  }
}

/** A Slack call is not started with less time than this left: it could not finish anyway. */
export const MIN_CALL_MS = 300;

/** Not sent: the invocation has less time left than a call needs. Retry in the next invocation. */
export class NoTimeLeftError extends SlackCallError {
  constructor(method: string) {
    super(method, { retryable: true });
  }
}

/** Sent, but no answer came within the time there was for it: Slack may have done the work. */
export class CallTimeoutError extends SlackCallError {
  constructor(method: string) {
    super(method, { slackError: 'timeout', retryable: true, uncertain: true });
  }
}

/** Slack said `ok` but named no message (`ts`): whether and where it was posted is unknown. */
export class MissingTsError extends SlackCallError {
  constructor(method: string) {
    super(method, { retryable: true, uncertain: true });
  }
}

/**
 * Runs a call within `timeLeftMs`. The Web API client's own timeout is fixed when it is built; an
 * invocation near its end has less, and Lambda kills it mid-call otherwise.
 * @throws {NoTimeLeftError} (not sent) or {@link CallTimeoutError} (sent, outcome unknown).
 */
export async function withinTime<T>(method: string, timeLeftMs: number, fn: () => Promise<T>): Promise<T> {
  if (timeLeftMs < MIN_CALL_MS) throw new NoTimeLeftError(method);
  const deadline = new AbortController();
  const timeout = sleepFor(timeLeftMs, undefined, { signal: deadline.signal }).then(() => {
    throw new CallTimeoutError(method);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    deadline.abort();
    timeout.catch(() => undefined);
  }
}

/**
 * What a failed call is known by in logs and degrade paths: Slack's error code, `ratelimited`,
 * `timeout`, `no_time_left` or `request_error`.
 */
export function slackErrorCode(error: unknown): string {
  if (error instanceof NoTimeLeftError) return 'no_time_left';
  if (error instanceof SlackCallError) return error.slackError ?? 'request_error';
  return 'request_error';
}
