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

function categorise(slackError: string | undefined): SlackErrorCategory {
  if (RETRYABLE_SLACK_ERRORS.has(slackError ?? '')) return 'transient';
  if (AUTH_ERRORS.has(slackError ?? '')) return 'auth';
  if (CONVERSATION_ERRORS.has(slackError ?? '')) return 'conversation';
  return 'request';
}

/** Runs one Web API call and sorts what it throws into a {@link SlackCallError}. */
export async function call<T>(method: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (cause) {
    const error = cause as WebAPICallError & { retryAfter?: number; data?: { error?: string } };
    switch (error.code) {
      case ErrorCode.RateLimitedError:
        // A 429 proves the call was not made.
        throw new SlackCallError(
          method,
          { slackError: 'ratelimited', retryable: true, retryAfterSeconds: error.retryAfter ?? 1 },
          { cause },
        );
      case ErrorCode.PlatformError: {
        const slackError = error.data?.error;
        const category = categorise(slackError);
        throw new SlackCallError(
          method,
          { slackError, retryable: category === 'transient', category },
          { cause },
        );
      }
      default:
        // RequestError / HTTPError: the network, a timeout or a 5xx. Slack may have done the work.
        throw new SlackCallError(
          method,
          { slackError: error.code, retryable: true, uncertain: true },
          { cause },
        );
    }
  }
}
