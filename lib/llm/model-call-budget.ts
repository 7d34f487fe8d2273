/**
 * How many model requests one Slack event may cost, at most, across every retry layer. Each
 * layer multiplies the one above it, so they are set here together and checked against one cap:
 *
 * - the OpenAI SDK retries a request that failed before streaming (`maxRetries`: 1 retry → 2
 *   requests; https://github.com/openai/openai-node#retries),
 * - `answerMention` tries the model up to `attemptsPerInvocation` times in one invocation,
 * - SQS hands the record to the worker up to `maxReceiveCount` times before the dead-letter queue
 *   (`QUEUE_MAX_RECEIVE_COUNT`, the redrive policy in serverless.yml).
 *
 * With the defaults: 2 × 2 × 5 = 20 requests, the cap. A flood of N events can therefore never
 * cost more than 20 × N requests, whatever fails; config refuses a `QUEUE_MAX_RECEIVE_COUNT` that
 * would exceed it (lib/config.ts).
 */
export const MAX_MODEL_CALLS_PER_EVENT = 20;

/** The per-layer factors the worker is built with (lib/worker/worker-deps.ts, worker-handler.ts). */
export const MODEL_CALL_BUDGET = {
  /** OpenAI client `maxRetries`: retries of one request, on top of the first try. */
  sdkMaxRetries: 1,
  /** Model attempts within one worker invocation (answerMention `settings.llmAttempts`). */
  attemptsPerInvocation: 2,
} as const;

/** Requests one event may cost with these factors and `maxReceiveCount` receives. */
export function modelCallsPerEvent(maxReceiveCount: number, budget = MODEL_CALL_BUDGET): number {
  return (budget.sdkMaxRetries + 1) * budget.attemptsPerInvocation * maxReceiveCount;
}

/** The largest `maxReceiveCount` that keeps an event within {@link MAX_MODEL_CALLS_PER_EVENT}: 5. */
export const MAX_RECEIVES_WITHIN_BUDGET = Math.floor(MAX_MODEL_CALLS_PER_EVENT / modelCallsPerEvent(1));
