import { BadInputError, RetryLaterError, SlackCallError } from '../errors';

/**
 * How long a failed record waits before its next receive: `baseSeconds`, doubled on each receive
 * (10 s, 20 s, 40 s, … as configured).
 */
export function retryDelaySeconds(baseSeconds: number, receiveCount: number): number {
  return baseSeconds * 2 ** (Math.max(1, receiveCount) - 1);
}

/**
 * Seconds until a failed record is received again (its `ChangeMessageVisibility`):
 * - 0 after the last receive (`receiveCount >= maxReceiveCount`): SQS moves the record to the
 *   dead-letter queue on the next receive, so a backoff would only delay the alarm
 *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html);
 * - 0 for a failure no retry can fix: Slack refusing the bot's token or scopes (every event fails
 *   until someone fixes the app) and input that cannot be read; its receives are used up in seconds
 *   and it reaches the dead-letter queue at once;
 * - what a {@link RetryLaterError} asks for;
 * - otherwise the doubling backoff of {@link retryDelaySeconds}.
 */
export function failedRecordDelaySeconds(
  error: unknown,
  delivery: { receiveCount: number; maxReceiveCount: number; baseSeconds: number },
): number {
  const unfixable =
    (error instanceof SlackCallError && error.category === 'auth') || error instanceof BadInputError;
  if (delivery.receiveCount >= delivery.maxReceiveCount || unfixable) return 0;
  if (error instanceof RetryLaterError) return error.delaySeconds;
  return retryDelaySeconds(delivery.baseSeconds, delivery.receiveCount);
}
