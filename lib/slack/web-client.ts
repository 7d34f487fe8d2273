import { LogLevel, WebClient } from '@slack/web-api';

// Its own module: importing it loads the SDK, which the ingress must not do at cold start, and the
// ingress reaches web-api-call.ts and tools/tool.ts (test/integration/cold-start-imports.test.ts).

/**
 * A Web API client with the bot's limits; `token` undefined for oauth.v2.access. The default is ten
 * retries over ~30 minutes; a worker invocation has two minutes. No client retries at all: a post
 * retried after a timeout may appear twice. The reply adapters retry what is safe to retry (edits,
 * and posts after a 429 or after finding them absent from the thread). 429s come back to us with
 * Retry-After, so streaming edits are skipped, not queued up.
 *
 * With `signal`, its HTTP requests end when it aborts: `@slack/web-api` 8 takes no per-call signal,
 * only a `fetch` of our own (https://docs.slack.dev/tools/node-slack-sdk/web-api, "Custom fetch"),
 * so this one wraps the global fetch.
 */
export function slackWebClient(
  token: string | undefined,
  options: { apiUrl: string | undefined; timeoutMs?: number; signal?: AbortSignal },
): WebClient {
  const { signal } = options;
  return new WebClient(token, {
    slackApiUrl: options.apiUrl,
    timeout: options.timeoutMs,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
    fetch:
      signal &&
      ((url, init) =>
        fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal })),
  });
}

/**
 * A WebClient for one tool call: the same token and API URL as `client` (the job's own), whose
 * HTTP requests end when `signal` aborts (Stop, or the call's time).
 */
export function abortableClient(client: WebClient, signal: AbortSignal): WebClient {
  return slackWebClient(client.token, { apiUrl: client.slackApiUrl, signal });
}
