import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { toSqsEvent } from './sqs-event';

/** A worker handler as Lambda calls it. */
export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

/** What one poll did. */
export interface PollResult {
  event: SQSEvent;
  response: SQSBatchResponse;
  /** Message ids deleted (succeeded). */
  deleted: string[];
}

/**
 * One turn of a Lambda SQS event source mapping, done locally: receive a batch (long polling up to
 * `waitSeconds`), invoke the handler with a real-shaped event, delete the records it did not
 * report as failed. Failed records reappear after their visibility timeout, and SQS's redrive
 * policy moves them to the DLQ after `maxReceiveCount` receives, as in AWS.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 * @returns undefined when no message arrived.
 */
export async function pollOnce(
  sqs: SQSClient,
  queue: { queueUrl: string; queueArn: string },
  handler: SqsBatchHandler,
  options: { context: () => Context; maxMessages?: number; waitSeconds?: number },
): Promise<PollResult | undefined> {
  const received = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queue.queueUrl,
      MaxNumberOfMessages: options.maxMessages ?? 10,
      WaitTimeSeconds: options.waitSeconds ?? 0,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  const messages = received.Messages ?? [];
  if (messages.length === 0) return undefined;
  const event = toSqsEvent(messages, queue.queueArn);
  let response: SQSBatchResponse;
  try {
    response = (await handler(event, options.context())) ?? { batchItemFailures: [] };
  } catch {
    // A thrown invocation fails the whole batch, as in Lambda.
    response = { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
  }
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const done = event.Records.filter((r) => !failed.has(r.messageId));
  if (done.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.queueUrl,
        Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
      }),
    );
  }
  return { event, response, deleted: done.map((r) => r.messageId) };
}

/** A running local event source mapping. */
export interface EventSourceMapping {
  /** Stops polling and waits for invocations in progress to finish. */
  stop(): Promise<void>;
}

/**
 * Polls a FIFO queue continuously and invokes the handler, like Lambda's event source mapping:
 * `pollers` receive loops run at once, and because SQS FIFO hands out a message group to one
 * receiver at a time, different threads are answered concurrently while each thread stays in
 * order. `batchSize` 1 matches serverless.yml.
 */
export function startEventSourceMapping(
  sqs: SQSClient,
  queue: { queueUrl: string; queueArn: string },
  handler: SqsBatchHandler,
  options: {
    context: () => Context;
    pollers?: number;
    batchSize?: number;
    /** Long-poll wait; also bounds how long `stop()` takes. */
    waitSeconds?: number;
    onResult?: (result: PollResult) => void;
    onError?: (error: unknown) => void;
  },
): EventSourceMapping {
  let running = true;
  const loop = async () => {
    while (running) {
      try {
        const result = await pollOnce(sqs, queue, handler, {
          context: options.context,
          maxMessages: options.batchSize ?? 1,
          waitSeconds: options.waitSeconds ?? 1,
        });
        if (result) options.onResult?.(result);
      } catch (error) {
        if (!running) break;
        options.onError?.(error);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const loops = Array.from({ length: options.pollers ?? 4 }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
