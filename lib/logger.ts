import { Logger } from '@aws-lambda-powertools/logger';
import { ConfigError } from './errors';

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
  // `LlmError.partialText` is the model's text: logged as its length.
  const { partialText } = error as { partialText?: unknown };
  if (typeof partialText === 'string') out.partialTextChars = partialText.length;
  // Variable names and problems, no values.
  if (error instanceof ConfigError) out.issues = error.issues;
  const { cause } = error;
  if (cause instanceof Error && depth < 5) out.cause = safeError(cause, depth + 1);
  else if (cause !== undefined) out.cause = typeof cause;
  return out;
}

/**
 * The longest string a log entry holds in any one field (the message, a key's value, an error's
 * message or stack, an array's item): longer ones are cut, with their length. A request may carry
 * up to 1 MB of signed, attacker-chosen text (a feedback click's `type`, say); copied whole into a
 * log line it costs ingestion and hides the line (CloudWatch Logs cuts events past 256 KB:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html).
 */
export const MAX_LOGGED_FIELD_CHARS = 2_000;

/**
 * The logger's `jsonReplacerFn`. Every `Error` in a log entry, and down its `cause` chain, is
 * written as name, message, stack and the fields in {@link SAFE_ERROR_FIELDS} only: Powertools'
 * default writes every enumerable property, which put `LlmError.partialText` (the user's partial
 * answer) and SDK response bodies into WARN and ERROR logs. Every string, at any depth, is cut to
 * {@link MAX_LOGGED_FIELD_CHARS}; JSON.stringify calls this for the values it returns too, so the
 * fields of a written error are cut as well.
 */
export function logReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.length > MAX_LOGGED_FIELD_CHARS) {
    return `${value.slice(0, MAX_LOGGED_FIELD_CHARS)}…[cut: ${value.length} characters]`;
  }
  return value instanceof Error ? safeError(value) : value;
}

export type { Logger };
