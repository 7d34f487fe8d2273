import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { WorkerConfig } from '../config';
import { BadInputError, RetryLaterError } from '../errors';
import { decodeJob } from '../queue/job';
import { type AnswerDeps, answerMention } from './answer-mention';

/** What the worker handler is built from; `handlers/worker.ts` makes these once per cold start. */
export interface WorkerDeps
  extends Pick<AnswerDeps, 'surface' | 'llm' | 'history' | 'claims' | 'countTokens'> {
  config: WorkerConfig;
  sqs: SQSClient;
  logger: Logger;
  /** Overrides for tests and benchmarks (e.g. a shorter in-invocation backoff). */
  settings?: Partial<AnswerDeps['settings']>;
}

/**
 * Builds the worker Lambda handler: an SQS FIFO batch → one `answerMention` per record, in order,
 * with partial batch responses.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 *
 * Powertools' `SqsFifoPartialProcessorAsync` with `skipGroupOnError` fails a failed record and every
 * later record of its group (FIFO order), while other groups go on. Failed records are then made
 * visible again after a short delay (`ChangeMessageVisibility`) instead of the queue's visibility
 * timeout, which is long because it must be ≥ 6× the function timeout: a retry comes in seconds.
 * An unreadable job goes to the dead-letter queue at once (delay 0 on every receive).
 */
export function createWorkerHandler(deps: WorkerDeps) {
  const { config, logger } = deps;
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const delays = new Map<string, number>();
      const recordHandler = async (record: SQSRecord): Promise<void> => {
        const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
        const defaultDelay = config.queue.retryDelaySeconds * 2 ** (receiveCount - 1);
        let job: ReturnType<typeof decodeJob>;
        try {
          job = decodeJob(record.body);
        } catch (error) {
          if (error instanceof BadInputError) {
            logger.error('unreadable job; sending it to the dead-letter queue', {
              messageId: record.messageId,
              field: error.field,
              detail: error.message,
            });
            delays.set(record.messageId, 0);
          }
          throw error;
        }
        const recordLogger = logger.createChild({
          persistentKeys: {
            eventId: job.eventId,
            team: job.teamId,
            channel: job.channel,
            thread: job.threadTs,
          },
        });
        try {
          await answerMention(job, {
            surface: deps.surface,
            llm: deps.llm,
            history: deps.history,
            claims: deps.claims,
            countTokens: deps.countTokens,
            logger: recordLogger,
            settings: {
              systemPrompt: config.openai.systemPrompt,
              historyTokenBudget: config.openai.historyTokenBudget,
              updateIntervalMs: config.slack.updateIntervalMs,
              botUserId: config.slack.botUserId,
              ...deps.settings,
            },
            delivery: {
              receiveCount,
              maxReceiveCount: config.queue.maxReceiveCount,
              retryDelaySeconds: config.queue.retryDelaySeconds,
              remainingMs: () => context.getRemainingTimeInMillis(),
            },
          });
        } catch (error) {
          delays.set(record.messageId, error instanceof RetryLaterError ? error.delaySeconds : defaultDelay);
          recordLogger.error('record failed; it will be retried', { receiveCount, error: error as Error });
          throw error;
        }
      };

      const response = await processPartialResponse(
        event,
        recordHandler,
        new SqsFifoPartialProcessorAsync(),
        {
          context,
          skipGroupOnError: true,
          throwOnFullBatchFailure: false,
        },
      );
      await retrySooner(deps, event.Records, response.batchItemFailures, delays);
      return response;
    });
}

/** Makes failed records visible again after their delay rather than the full visibility timeout. */
async function retrySooner(
  deps: WorkerDeps,
  records: SQSRecord[],
  failures: SQSBatchResponse['batchItemFailures'],
  delays: Map<string, number>,
): Promise<void> {
  if (failures.length === 0) return;
  const failed = new Set(failures.map((f) => f.itemIdentifier));
  const entries = records
    .filter((r) => failed.has(r.messageId))
    .map((r, i) => ({
      Id: String(i),
      ReceiptHandle: r.receiptHandle,
      VisibilityTimeout: delays.get(r.messageId) ?? deps.config.queue.retryDelaySeconds,
    }));
  const queueUrl = deps.config.queue.url ?? queueUrlFromArn(records[0]!.eventSourceARN);
  try {
    // At most 10 entries per call; a Lambda SQS batch for FIFO is at most 10 records.
    for (let i = 0; i < entries.length; i += 10) {
      const out = await deps.sqs.send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries.slice(i, i + 10) }),
      );
      if (out.Failed?.length)
        deps.logger.warn('could not shorten visibility of some records', { failed: out.Failed });
    }
  } catch (error) {
    // The records are still retried, after the queue's visibility timeout.
    deps.logger.warn('could not shorten visibility of failed records', { error: error as Error });
  }
}

/** `arn:aws:sqs:REGION:ACCOUNT:NAME` → `https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`. */
export function queueUrlFromArn(arn: string): string {
  const [, , , region, account, name] = arn.split(':');
  return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}
