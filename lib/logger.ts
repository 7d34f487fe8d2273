import { Logger } from '@aws-lambda-powertools/logger';

/** A log level name as Powertools takes it. */
export type LogLevelName = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/**
 * Creates the project's structured JSON logger (Powertools Logger).
 * Level: `options.logLevel`, else `POWERTOOLS_LOG_LEVEL` / `AWS_LAMBDA_LOG_LEVEL` (read by
 * Powertools itself). Set it here rather than with `setLogLevel()` later: Powertools resets the
 * level to the constructor's on every warm invocation (debug log sampling).
 * Keys we use: `eventId`, `team`, `channel`, `thread`, `reason`. Never pass tokens or secrets;
 * prompts and answers only at debug level. Entries are written through {@link logReplacer}: an
 * error's text-carrying fields never reach the log, and no field is longer than
 * {@link MAX_LOGGED_FIELD_CHARS}, whatever level.
 *
 * @example
 * const logger = createLogger('ingress');
 * logger.info('queued', { eventId, channel });
 */
export function createLogger(serviceName: string, options: { logLevel?: LogLevelName } = {}): Logger {
  return new Logger({
    serviceName,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    // Children made with createChild() inherit it.
    jsonReplacerFn: logReplacer,
  });
}

/**
 * Error fields that are safe to log: identifiers, codes and flags of our errors
 * (lib/errors.ts), the OpenAI SDK's (`status`, `code`, `type`, `param`, `requestID`), Slack's
 * (`code`, `retryAfter`) and Node's (`errno`, `syscall`). Only their string, number or boolean
 * values are kept.
 */
const SAFE_ERROR_FIELDS = new Set([
  'code',
  'status',
  'statusCode',
  'type',
  'param',
  'requestID',
  'method',
  'slackError',
  // SlackCallError's category (being added in parallel): a fixed word, not text.
  'category',
  'retryable',
  'uncertain',
  'retryAfter',
  'retryAfterSeconds',
  'delaySeconds',
  'field',
  'reason',
  'errno',
  'syscall',
]);

/** Our errors carry the model's text in these (e.g. `LlmError.partialText`): logged as lengths. */
const TEXT_FIELDS = ['partialText'] as const;

/** A logged error: what Powertools' own formatter writes, minus anything that could hold text. */
interface SafeError {
  name: string;
  message: string;
  stack?: string;
  cause?: SafeError | string;
  [field: string]: unknown;
}

function safeError(error: Error, depth = 0): SafeError {
  const out: SafeError = { name: error.name, message: error.message };
  if (typeof error.stack === 'string') out.stack = error.stack;
  for (const [key, value] of Object.entries(error)) {
    if (!SAFE_ERROR_FIELDS.has(key)) continue;
    if (['string', 'number', 'boolean'].includes(typeof value)) out[key] = value;
  }
  for (const key of TEXT_FIELDS) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (typeof value === 'string') out[`${key}Chars`] = value.length;
  }
  // ConfigError: variable names and problems, no values.
  if (Array.isArray((error as unknown as { issues?: unknown }).issues) && error.name === 'ConfigError') {
    out.issues = (error as unknown as { issues: unknown[] }).issues;
  }
  const { cause } = error;
  if (cause instanceof Error && depth < 5) out.cause = safeError(cause, depth + 1);
  else if (cause !== undefined) out.cause = typeof cause;
  return out;
}

/**
 * A `JSON.stringify` replacer for Powertools' `jsonReplacerFn`: every `Error` in a log entry, and
 * down its `cause` chain, is written as name, message, stack and the fields in
 * {@link SAFE_ERROR_FIELDS} only. Powertools' default writes every enumerable property, which put
 * `LlmError.partialText` (the user's partial answer) and SDK response bodies into WARN and ERROR
 * logs: user text must never reach them. Text fields become lengths (`partialTextChars`).
 */
export function safeErrorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? safeError(value) : value;
}

/**
 * The longest string a log entry holds in any one field (the message, a key's value, an error's
 * message or stack, an array's item): longer ones are cut, with their length. A request may carry
 * up to 1 MB of signed, attacker-chosen text (a feedback click's `type`, say); copied whole into a
 * log line it costs ingestion and hides the line (CloudWatch Logs cuts events past 256 KB:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html).
 */
export const MAX_LOGGED_FIELD_CHARS = 2_000;

/** `value` cut to {@link MAX_LOGGED_FIELD_CHARS} with its length, when longer. */
export function capLoggedText(value: string): string {
  return value.length <= MAX_LOGGED_FIELD_CHARS
    ? value
    : `${value.slice(0, MAX_LOGGED_FIELD_CHARS)}…[cut: ${value.length} characters]`;
}

/**
 * The logger's `jsonReplacerFn`: errors through {@link safeErrorReplacer}, and every string, at
 * any depth, capped by {@link capLoggedText}. JSON.stringify calls it for every value, the ones
 * it returns included, so the fields of a written error are capped too.
 */
export function logReplacer(key: string, value: unknown): unknown {
  if (typeof value === 'string') return capLoggedText(value);
  return safeErrorReplacer(key, value);
}

export type { Logger };
