import type { SQSClient } from '@aws-sdk/client-sqs';
import { awsHttpLimits } from '../aws-http-limits';
import type { Logger } from '../logger';

/** A received record to bring back after a delay. */
export interface RetryItem {
  receiptHandle: string;
  /** `arn:aws:sqs:…` of the queue it came from, as Lambda's SQS event gives it. */
  queueArn: string;
  delaySeconds: number;
}

/** Brings failed records back sooner than the queue's visibility timeout. */
export interface RetryScheduler {
  /** Best effort: on failure the records still come back, after the visibility timeout. */
  retryLater(items: RetryItem[]): Promise<void>;
}

/**
 * `ChangeMessageVisibility` takes whole seconds from 0 to 43,200 (12 hours).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
 */
const MAX_VISIBILITY_SECONDS = 43_200;
/** At most 10 entries per batch call. */
const BATCH = 10;

/**
 * Retries through SQS: sets the visibility timeout of each received record to its delay.
 *
 * Only a failed record needs SQS (the event source mapping receives and deletes), so
 * `@aws-sdk/client-sqs` (given by the Lambda runtime, not bundled) is `require`d and its client built
 * on the first one: ~60 ms not spent at every cold start. `require`, not `import()`, as in
 * lib/install/open-installation-store.ts. Best effort (without it the records come back after the
 * queue's visibility timeout), so it may cost seconds, never the invocation: 2 tries of at most
 * 1.5 s once connected. The client takes the standard AWS SDK settings; `useQueueUrlAsEndpoint:
 * false` honours `AWS_ENDPOINT_URL_SQS` over the host inside the queue URL.
 * @param queueUrl the queue's URL when known (QUEUE_URL); otherwise derived from the record's ARN.
 * @param client used instead of building one (and left open by `close`).
 */
export function sqsRetryScheduler(
  queueUrl: string | undefined,
  logger: Logger,
  client?: SQSClient,
): RetryScheduler & { close(): void } {
  let sqs = client;
  return {
    async retryLater(items) {
      if (items.length === 0) return;
      const url = queueUrl ?? queueUrlFromArn(items[0]!.queueArn);
      const entries = items.map((item, i) => ({
        Id: String(i),
        ReceiptHandle: item.receiptHandle,
        VisibilityTimeout: Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.round(item.delaySeconds))),
      }));
      try {
        const { ChangeMessageVisibilityBatchCommand, SQSClient: Client } =
          require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs');
        sqs ??= new Client({
          maxAttempts: 2,
          useQueueUrlAsEndpoint: false,
          requestHandler: awsHttpLimits({ connectionTimeoutMs: 500, requestTimeoutMs: 1_500 }),
        });
        for (let i = 0; i < entries.length; i += BATCH) {
          const out = await sqs.send(
            new ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: entries.slice(i, i + BATCH) }),
          );
          if (out.Failed?.length)
            logger.warn('could not shorten visibility of some records', { failed: out.Failed });
        }
      } catch (error) {
        logger.warn('could not shorten visibility of failed records', { error: error as Error });
      }
    },
    close() {
      if (!client) sqs?.destroy();
    },
  };
}

/** `arn:aws:sqs:REGION:ACCOUNT:NAME` → `https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`. */
function queueUrlFromArn(arn: string): string {
  const [, , , region, account, name] = arn.split(':');
  return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}
