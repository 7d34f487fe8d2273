import { LogLevel, WebClient } from '@slack/web-api';

/**
 * A WebClient for one tool call: the same token and API URL as `client` (the job's own), whose
 * HTTP requests end when `signal` aborts (Stop, or the call's time). `@slack/web-api` 8 takes no
 * per-call signal, only a `fetch` of our own (https://docs.slack.dev/tools/node-slack-sdk/web-api,
 * "Custom fetch"), so the call's client wraps the global fetch. Like the worker's client: no client
 * retries, 429s come back at once.
 */
export function abortableClient(client: WebClient, signal: AbortSignal): WebClient {
  return new WebClient(client.token, {
    slackApiUrl: client.slackApiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
    fetch: (url, init) =>
      fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
  });
}
