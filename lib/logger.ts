import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Creates the project's structured JSON logger (Powertools Logger).
 * Level comes from `POWERTOOLS_LOG_LEVEL` / `AWS_LAMBDA_LOG_LEVEL`, read by Powertools itself.
 * Keys we use: `eventId`, `team`, `channel`, `thread`, `reason`. Never pass tokens or secrets;
 * prompts and answers only at debug level.
 *
 * @example
 * const logger = createLogger('ingress');
 * logger.info('queued', { eventId, channel });
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

export type { Logger };
