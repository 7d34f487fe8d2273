import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QueueSendError } from '../errors';
import { encodeJob, type Job } from './job';
import { messageGroupId, toSqsId } from './message-group-id';

/** Where the ingress puts jobs. */
export interface JobQueue {
  /**
   * Sends one job. Resolves only once SQS accepted it (a duplicate within SQS's five-minute
   * deduplication window is accepted and dropped by SQS).
   * @throws {QueueSendError} when the job was not queued.
   */
  enqueue(job: Job): Promise<void>;
}

/**
 * A FIFO queue on SQS: `MessageGroupId` = the thread (one thread answered in order, threads in
 * parallel) and `MessageDeduplicationId` = Slack's `event_id`, so a Slack retry of an event that
 * was already queued is dropped by SQS, and one whose first delivery failed is kept.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html
 */
export function sqsJobQueue(client: SQSClient, queueUrl: string): JobQueue {
  return {
    async enqueue(job) {
      try {
        await client.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: encodeJob(job),
            MessageGroupId: groupOf(job),
            MessageDeduplicationId: toSqsId(job.eventId),
          }),
        );
      } catch (cause) {
        throw new QueueSendError(`SQS SendMessage failed: ${(cause as Error).name}`, { cause });
      }
    },
  };
}

/**
 * The FIFO group of a job: its thread (a prompts job without a thread, on the agent view, by its
 * DM channel); a feedback vote by its message and user, so one person's clicks on one answer are
 * counted in order and never wait behind an answer being written.
 */
function groupOf(job: Job): string {
  if (job.kind === 'feedback') return messageGroupId(job.teamId, job.channel, `${job.messageTs}:${job.user}`);
  return messageGroupId(job.teamId, job.channel, job.threadTs ?? 'messages');
}
