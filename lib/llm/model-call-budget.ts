/**
 * How many model requests one Slack event may cost, at most, across every retry layer and every
 * round of tool calls. Each layer multiplies the one above it, so they are set here together and
 * checked against one cap:
 *
 * - the OpenAI SDK retries a request that failed before streaming (`maxRetries`: 1 retry → 2
 *   requests; https://github.com/openai/openai-node#retries),
 * - one answer is a loop of model calls: each round may ask for tools, whose results go back in
 *   the next call (lib/tools/agent-loop.ts). At most `AGENT_MAX_STEPS` calls make an answer, and
 *   the invocation may try a failed call again `attemptsPerInvocation - 1` times in all (not per
 *   round): `AGENT_MAX_STEPS + attemptsPerInvocation - 1` calls per invocation,
 * - SQS hands the record to the worker up to `maxReceiveCount` times before the dead-letter queue
 *   (`QUEUE_MAX_RECEIVE_COUNT`, the redrive policy in serverless.yml); a redelivery may repeat the
 *   lookups (never the reply).
 *
 * With the defaults: 2 × (4 + 2 − 1) × 5 = 50 requests, the cap. A flood of N events can
 * therefore never cost more than 50 × N requests, whatever fails; config refuses an
 * `AGENT_MAX_STEPS` or `QUEUE_MAX_RECEIVE_COUNT` that would exceed it (lib/config.ts).
 */
export const MAX_MODEL_CALLS_PER_EVENT = 50;

/** Model calls that make one answer by default (`AGENT_MAX_STEPS`). */
export const DEFAULT_AGENT_MAX_STEPS = 4;

/** The per-layer factors the worker is built with (lib/worker/worker-deps.ts, answer-mention.ts). */
export const MODEL_CALL_BUDGET = {
  /** OpenAI client `maxRetries`: retries of one request, on top of the first try. */
  sdkMaxRetries: 1,
  /** Tries of a failed model call within one invocation, counted over the whole loop. */
  attemptsPerInvocation: 2,
  /** Wait before the second try; doubled before each next one. */
  backoffMs: 1_000,
} as const;

/** Requests one event may cost with `maxReceiveCount` receives and `maxSteps` rounds. */
export function modelCallsPerEvent(maxReceiveCount: number, maxSteps = DEFAULT_AGENT_MAX_STEPS): number {
  const perInvocation = maxSteps + MODEL_CALL_BUDGET.attemptsPerInvocation - 1;
  return (MODEL_CALL_BUDGET.sdkMaxRetries + 1) * perInvocation * maxReceiveCount;
}

/** The largest `maxReceiveCount` that keeps an event within {@link MAX_MODEL_CALLS_PER_EVENT}: 5. */
export const MAX_RECEIVES_WITHIN_BUDGET = Math.floor(MAX_MODEL_CALLS_PER_EVENT / modelCallsPerEvent(1));
