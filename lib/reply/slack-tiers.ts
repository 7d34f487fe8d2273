/**
 * Slack's published rate limits for the methods a reply writes with. Limits are "per API method
 * per workspace per app" (https://docs.slack.dev/apis/web-api/rate-limits), so every Lambda
 * instance writing into one workspace shares them; the shared write budget (write-budget.ts)
 * counts each method against these numbers over a sliding minute.
 *
 * The tiers are floors for planning ("20+ per minute"): the budget uses them in full, never halved.
 */

/** The documented limit of one method. */
export interface MethodLimit {
  /** Calls in any 60-second span. */
  perMinute: number;
  /** `team`: per workspace; `channel`: per workspace and channel (`chat.postMessage`). */
  scope: 'team' | 'channel';
  /** A shorter span with its own cap, for a method documented as "about one a second". */
  burst?: { count: number; ms: number };
}

/** Tier 2 (https://docs.slack.dev/apis/web-api/rate-limits#tiers): 20+ per minute. */
const TIER_2 = 20;
/** Tier 3: 50+ per minute. */
const TIER_3 = 50;
/** Tier 4: 100+ per minute. */
const TIER_4 = 100;

/**
 * The reply's writes and their limits, each from its method page:
 * - `chat.startStream`, `chat.stopStream`: Tier 2 (https://docs.slack.dev/reference/methods/chat.startStream,
 *   https://docs.slack.dev/reference/methods/chat.stopStream);
 * - `chat.update`, `chat.delete`: Tier 3 (https://docs.slack.dev/reference/methods/chat.update);
 * - `chat.appendStream`: Tier 4 (https://docs.slack.dev/reference/methods/chat.appendStream);
 * - `chat.postMessage`: the "Special" tier: "generally allows posting one message per second per
 *   channel", "short bursts >1 allowed" (https://docs.slack.dev/apis/web-api/rate-limits, Overview).
 *   Counted per channel as 60 a minute with at most 5 within any 5 seconds.
 * `assistant.threads.setStatus` ("Special", not tiered) is not counted: it is one best-effort call per
 * answer.
 */
export const SLACK_WRITE_LIMITS: Readonly<Record<string, MethodLimit>> = {
  'chat.startStream': { perMinute: TIER_2, scope: 'team' },
  'chat.stopStream': { perMinute: TIER_2, scope: 'team' },
  'chat.update': { perMinute: TIER_3, scope: 'team' },
  'chat.delete': { perMinute: TIER_3, scope: 'team' },
  'chat.appendStream': { perMinute: TIER_4, scope: 'team' },
  'chat.postMessage': { perMinute: 60, scope: 'channel', burst: { count: 5, ms: 5_000 } },
};

/**
 * The part of a method's limit that streaming writes (edits and appends of a growing answer) may
 * use: the rest is kept for what must be written — final texts, stream starts and stops — so a busy
 * workspace slows the growing answers down before it delays any answer's end.
 */
export const STREAMING_SHARE = 0.6;

/** The span Slack counts "per minute" over. */
export const MINUTE_MS = 60_000;
