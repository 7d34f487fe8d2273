import { ErrorCode, type WebAPICallError, type WebClient } from '@slack/web-api';
import { SlackCallError } from '../errors';

/** What the worker needs from Slack to show an answer: post, edit and delete thread messages. */
export interface ReplySurface {
  /** Posts `text` in the thread; returns the new message's `ts`. */
  post(channel: string, threadTs: string, text: string): Promise<string>;
  update(channel: string, ts: string, text: string): Promise<void>;
  remove(channel: string, ts: string): Promise<void>;
}

/**
 * The Slack Web API as a reply surface. Build the client with `rejectRateLimitedCalls: true`
 * so a 429 surfaces here with its `Retry-After` instead of stalling the client's queue: the
 * caller decides whether to skip an update or wait (https://api.slack.com/docs/rate-limits).
 */
export function slackReplySurface(client: WebClient): ReplySurface {
  return {
    async post(channel, threadTs, text) {
      const res = await call('chat.postMessage', () =>
        client.chat.postMessage({ channel, thread_ts: threadTs, text, mrkdwn: true, unfurl_links: false }),
      );
      if (!res.ts) throw new SlackCallError('chat.postMessage', { slackError: 'no_ts', retryable: true });
      return res.ts;
    },
    async update(channel, ts, text) {
      await call('chat.update', () => client.chat.update({ channel, ts, text }));
    },
    async remove(channel, ts) {
      await call('chat.delete', () => client.chat.delete({ channel, ts }));
    },
  };
}

/** Errors Slack answers that another try can fix. */
const RETRYABLE_SLACK_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

async function call<T>(method: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (cause) {
    const error = cause as WebAPICallError & { retryAfter?: number; data?: { error?: string } };
    switch (error.code) {
      case ErrorCode.RateLimitedError:
        throw new SlackCallError(
          method,
          { slackError: 'ratelimited', retryable: true, retryAfterSeconds: error.retryAfter ?? 1 },
          { cause },
        );
      case ErrorCode.PlatformError: {
        const slackError = error.data?.error;
        throw new SlackCallError(
          method,
          { slackError, retryable: RETRYABLE_SLACK_ERRORS.has(slackError ?? '') },
          { cause },
        );
      }
      default:
        // RequestError / HTTPError: the network or a 5xx.
        throw new SlackCallError(method, { slackError: error.code, retryable: true }, { cause });
    }
  }
}
