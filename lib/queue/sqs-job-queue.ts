import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { awsHttpLimits } from '../aws-http-limits';
import { QueueSendError } from '../errors';
import { encodeJob, type Job } from './job';
import { messageGroupId, toSqsId } from './message-group-id';

/**
 * The ingress's SQS client. Its limits on one send: Slack wants its answer within 3 s
 * (https://docs.slack.dev/apis/events-api/), so a send that hangs must fail in time for
 * a 503, which Slack retries: 2 tries of at most 0.8 s once connected (0.5 s to connect), with the
 * SDK's short backoff between them, about 2 s in all. SQS answers a send in milliseconds.
 * It takes the standard AWS SDK settings (`AWS_REGION`, `AWS_ENDPOINT_URL_SQS`, credentials).
 * `useQueueUrlAsEndpoint: false`: send to the configured/regional SQS endpoint rather than the
 * host inside `QUEUE_URL`, so `AWS_ENDPOINT_URL_SQS` is honoured (local peers, VPC endpoints).
 */
export function ingressSqsClient(): SQSClient {
  return new SQSClient({
    maxAttempts: 2,
    useQueueUrlAsEndpoint: false,
    requestHandler: awsHttpLimits({ connectionTimeoutMs: 500, requestTimeoutMs: 800 }),
  });
}

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
