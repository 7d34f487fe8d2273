import type * as z from 'zod';

/**
 * The project's error hierarchy: one base class, typed subclasses that carry data and `cause`.
 * Callers branch with `instanceof`, never on message text.
 */

/** Base of every error this project throws on purpose. */
export abstract class AppError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** One problem with one environment variable. */
export interface ConfigIssue {
  /** The variable's name, e.g. `SLACK_SIGNING_SECRET`. */
  variable: string;
  /** What is wrong with it, e.g. `is required`. */
  problem: string;
}

/** The environment is missing or has malformed variables; the message names every one of them. */
export class ConfigError extends AppError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(`Invalid configuration: ${issues.map((i) => `${i.variable} ${i.problem}`).join('; ')}`);
    this.issues = issues;
  }
}

/** Why a Slack request signature was refused. Logged, never sent back to the caller. */
export type SignatureFailure =
  | 'missing_signature'
  | 'missing_timestamp'
  | 'malformed_timestamp'
  | 'stale_timestamp'
  | 'future_timestamp'
  | 'malformed_signature'
  | 'signature_mismatch';

/** A request did not prove it came from Slack. */
export class SignatureError extends AppError {
  readonly reason: SignatureFailure;
  constructor(reason: SignatureFailure) {
    super(`Slack signature rejected: ${reason}`);
    this.reason = reason;
  }
}

/** A request or message body that cannot be understood; `field` names what was wrong. */
export class BadInputError extends AppError {
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

/**
 * `value` read by `schema`; a misfit throws a {@link BadInputError} naming the path of its first
 * problem (after `prefix`, when given), or `whole` when the problem is the value itself.
 */
export function parseInput<T extends z.ZodType>(
  schema: T,
  value: unknown,
  whole: string,
  prefix?: string,
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = [...(prefix ? [prefix] : []), ...(issue?.path ?? [])].join('.') || whole;
  throw new BadInputError(field, issue?.message ?? 'unexpected shape', { cause: result.error });
}

/** Sending a job to the queue failed; the event was NOT queued. */
export class QueueSendError extends AppError {}

/**
 * The language model failed. `retryable` sorts it: rate limits, 5xx and connection failures are
 * worth another try; bad requests, auth failures and content filters are not.
 */
export class LlmError extends AppError {
  readonly retryable: boolean;
  readonly status: number | undefined;
  /**
   * Text already streamed before the failure (never shown as a complete answer). Not enumerable:
   * it is the model's answer to a user, and loggers and serialisers that walk an error's own
   * enumerable properties must not write it (lib/logger.ts logs its length only).
   */
  declare readonly partialText: string;
  constructor(
    message: string,
    details: { retryable: boolean; status?: number; partialText?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = details.retryable;
    this.status = details.status;
    Object.defineProperty(this, 'partialText', {
      value: details.partialText ?? '',
      enumerable: false,
      writable: false,
    });
  }
}

/** The model API refused the `tools` of a request (a 400 about tools): answer without them. */
export class ToolsRefusedError extends LlmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { retryable: false, status: 400 }, options);
  }
}

/**
 * How a Slack refusal is handled:
 * - `transient`: rate limits, 5xx, network errors, timeouts; another try may work.
 * - `auth`: the token or the app's configuration is broken (`invalid_auth`, `token_revoked`,
 *   `account_inactive`, `missing_scope`, …): every event fails until someone fixes it, so the record
 *   must reach the dead-letter queue and its alarm.
 * - `conversation`: a refusal tied to one conversation (`not_in_channel`, `is_archived`,
 *   `channel_not_found`, …): nothing can be posted there, the event is done.
 * - `request`: anything else Slack refused for this request.
 */
export type SlackErrorCategory = 'transient' | 'auth' | 'conversation' | 'request';

/** A Slack Web API call failed. `retryable` is true for rate limits, 5xx and network errors. */
export class SlackCallError extends AppError {
  readonly method: string;
  readonly slackError: string | undefined;
  readonly retryable: boolean;
  readonly category: SlackErrorCategory;
  /**
   * True when Slack may have done the work although no answer came back (a timeout, a dropped
   * connection, a 5xx): a post may exist, an append may have been applied.
   */
  readonly uncertain: boolean;
  /** Seconds Slack asked us to wait (`Retry-After` on HTTP 429), when it was rate limited. */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    method: string,
    details: {
      slackError?: string;
      retryable: boolean;
      category?: SlackErrorCategory;
      uncertain?: boolean;
      retryAfterSeconds?: number;
    },
    options?: { cause?: unknown },
  ) {
    super(`Slack ${method} failed: ${details.slackError ?? 'request error'}`, options);
    this.method = method;
    this.slackError = details.slackError;
    this.retryable = details.retryable;
    this.category = details.category ?? (details.retryable ? 'transient' : 'request');
    this.uncertain = details.uncertain ?? false;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/**
 * A record should be tried again soon: the worker shortens its visibility to `delaySeconds`
 * (`ChangeMessageVisibility`) instead of waiting out the queue's long visibility timeout.
 */
export class RetryLaterError extends AppError {
  readonly delaySeconds: number;
  constructor(message: string, delaySeconds: number, options?: { cause?: unknown }) {
    super(message, options);
    this.delaySeconds = delaySeconds;
  }
}

/**
 * A Momento-backed store (thread memory, claims, quotas, caches, counters) could not be reached or answered
 * an error.
 */
export class StoreUnavailableError extends AppError {}

/**
 * Secrets could not be read from SSM Parameter Store at cold start (missing parameters, no
 * permission, no network). `parameters` names every one of them; their values never appear.
 */
export class ParameterReadError extends AppError {
  readonly parameters: string[];
  constructor(message: string, parameters: string[], options?: { cause?: unknown }) {
    super(message, options);
    this.parameters = parameters;
  }
}
