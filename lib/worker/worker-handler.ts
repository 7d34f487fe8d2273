import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { WorkerConfig } from '../config';
import { BadInputError } from '../errors';
import { inWorkspace, recordAnswered, recordFailure, recordRetry } from '../metrics';
import { decodeJob, type Job } from '../queue/job';
import { failedRecordDelaySeconds } from '../queue/retry-delay';
import type { RetryScheduler } from '../queue/sqs-retry-scheduler';
import type { FeedbackVotes } from '../store/feedback-votes';
import type { ToolPorts } from '../tools/tools-for-answer';
import type { AnswerDeps } from './answer-deps';
import { answerMention } from './answer-mention';
import { countVote } from './count-vote';
import { suggestPrompts } from './suggest-prompts';
import { singleWorkspace, type WorkspaceResolver, type WorkspaceSlack } from './workspace-slack';

/** What every job of an instance shares; `handlers/worker.ts` makes these once per cold start. */
export interface SharedWorkerDeps extends Pick<AnswerDeps, 'llm' | 'history' | 'claims'> {
  /** What the model's tools are built from, but the job's own Slack client and names (lib/tools). */
  tools: Omit<ToolPorts, 'slack' | 'names'>;
  config: WorkerConfig;
  retries: RetryScheduler;
  /** Feedback votes as each user's last click left them. */
  votes: FeedbackVotes;
  logger: Logger;
  /** EMF metrics (lib/metrics.ts). */
  metrics: Metrics;
  /** Overrides for tests and benchmarks (e.g. a shorter in-invocation backoff). */
  settings?: Partial<AnswerDeps['settings']>;
}

/**
 * What the worker handler is built from: the shared deps, and either the Slack ports of one
 * workspace, which serve every job, or where each job's ports come from (distribution mode: its
 * installation's token).
 */
export type WorkerDeps = SharedWorkerDeps &
  ({ workspaces: WorkspaceResolver } | (Omit<WorkspaceSlack, 'botUserId'> & { workspaces?: undefined }));

/**
 * Builds the worker Lambda handler: an SQS FIFO batch → one `answerMention` per record (or
 * `suggestPrompts` for a `prompts` job, `countVote` for a `feedback` one), in order, with partial
 * batch responses.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 *
 * Powertools' `SqsFifoPartialProcessorAsync` with `skipGroupOnError` fails a failed record and every
 * later record of its group (FIFO order), while other groups go on. Failed records are then made
 * visible again after a short delay (`ChangeMessageVisibility`) instead of the queue's visibility
 * timeout, which is long because it must be ≥ 6× the function timeout: a retry comes in seconds.
 * An unreadable job, a failure no retry can fix (a refused token) and any failure on the last
 * receive come back at once (delay 0, lib/queue/retry-delay.ts), so they reach the dead-letter
 * queue after `maxReceiveCount` quick receives instead of blocking their thread for minutes.
 */
export function createWorkerHandler(deps: WorkerDeps) {
  const { config, logger } = deps;
  const workspaces = deps.workspaces ?? singleWorkspace(deps, config.slack.botUserId, logger);
  const settings = {
    systemPrompt: config.openai.systemPrompt,
    historyTokenBudget: config.openai.historyTokenBudget,
    ...deps.settings,
  };
  /** One decoded job: a vote is counted; prompts and answers go through its workspace's ports. */
  const runJob = async (
    job: Job,
    record: SQSRecord,
    receiveCount: number,
    context: Context,
    logger: Logger,
  ): Promise<void> => {
    if (job.kind === 'feedback') {
      await countVote(job, { votes: deps.votes, metrics: deps.metrics, logger });
      return;
    }
    // Every Slack call of this job goes through its workspace's ports (one token).
    const slack = await workspaces.forJob(job, logger);
    if (!slack) {
      logger.info('the workspace has no installation; the job completes quietly', {
        enterprise: job.enterpriseId,
      });
      return;
    }
    if (job.kind === 'prompts') {
      await suggestPrompts(job, {
        assistant: slack.assistant,
        prompts: config.slack.suggestedPrompts,
        logger,
      });
      return;
    }
    const outcome = await answerMention(job, {
      llm: deps.llm,
      history: deps.history,
      claims: deps.claims,
      replies: slack.replies,
      context: slack.context,
      assistant: slack.assistant,
      governance: slack.governance,
      stillInstalled: () => workspaces.stillInstalled(job, logger),
      // The tools call Slack as the job's workspace: its own client and names.
      tools: { ...deps.tools, slack: () => slack.client, names: slack.context.names },
      logger,
      settings: { ...settings, botUserId: slack.botUserId },
      delivery: {
        receiveCount,
        maxReceiveCount: config.queue.maxReceiveCount,
        retryDelaySeconds: config.queue.retryDelaySeconds,
        remainingMs: () => context.getRemainingTimeInMillis(),
        firstReceivedAt: Number(record.attributes.ApproximateFirstReceiveTimestamp) || undefined,
      },
    });
    if (outcome === 'answered') recordAnswered(deps.metrics, Date.now() - job.receivedAt);
    if (outcome === 'failed') recordFailure(deps.metrics, 'gave_up');
  };

  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const delays = new Map<string, number>();
      const recordHandler = async (record: SQSRecord): Promise<void> => {
        const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
        let job: Job;
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
        // Metrics written for this job, its failure's included, name its workspace (lib/metrics.ts).
        await inWorkspace(job.teamId, () =>
          runJob(job, record, receiveCount, context, recordLogger).catch((error: unknown) => {
            const reason = (error as Error)?.name ?? 'Error';
            if (receiveCount >= config.queue.maxReceiveCount) recordFailure(deps.metrics, reason);
            else recordRetry(deps.metrics, reason);
            delays.set(
              record.messageId,
              failedRecordDelaySeconds(error, {
                receiveCount,
                maxReceiveCount: config.queue.maxReceiveCount,
                baseSeconds: config.queue.retryDelaySeconds,
              }),
            );
            recordLogger.error('record failed; it will be retried', { receiveCount, error: error as Error });
            throw error;
          }),
        );
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
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      await deps.retries.retryLater(
        event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({
          receiptHandle: r.receiptHandle,
          queueArn: r.eventSourceARN,
          // Later records of a failed group never ran: they follow their group's head.
          delaySeconds: delays.get(r.messageId) ?? config.queue.retryDelaySeconds,
        })),
      );
      return response;
    });
}
