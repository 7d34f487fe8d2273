import { Logger } from '@aws-lambda-powertools/logger';

/** A log level name as Powertools takes it. */
export type LogLevelName = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/**
 * Creates the project's structured JSON logger (Powertools Logger).
 * Level: `options.logLevel`, else `POWERTOOLS_LOG_LEVEL` / `AWS_LAMBDA_LOG_LEVEL` (read by
 * Powertools itself). Set it here rather than with `setLogLevel()` later: Powertools resets the
 * level to the constructor's on every warm invocation (debug log sampling).
 * Keys we use: `eventId`, `team`, `channel`, `thread`, `reason`. Never pass tokens or secrets;
 * prompts and answers only at debug level.
 *
 * @example
 * const logger = createLogger('ingress');
 * logger.info('queued', { eventId, channel });
 */
export function createLogger(serviceName: string, options: { logLevel?: LogLevelName } = {}): Logger {
  return new Logger({ serviceName, ...(options.logLevel ? { logLevel: options.logLevel } : {}) });
}

export type { Logger };
