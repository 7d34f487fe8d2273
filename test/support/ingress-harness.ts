import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createIngressHandler } from '../../lib/ingress/ingress-handler';
import type { Logger } from '../../lib/logger';
import { type JobQueue, sqsJobQueue } from '../../lib/queue/sqs-job-queue';
import { type LocalFifoQueue, type SqsPeer, startSqsPeer } from '../../sandbox/peers/sqs-peer';
import { lambdaContext } from './lambda-context';
import { SECRET } from './slack-events';

/**
 * The real ingress handler in front of a FIFO queue on fauxqs, reached with the real SQS client:
 * registers its own Jest hooks (the peer once per file, a fresh queue and handler per test).
 * `options` is read per test, so a test file may pass a logger it set up itself.
 */
export function ingressHarness(name: string, options: () => { logger: Logger }) {
  const h = {
    peer: undefined as unknown as SqsPeer,
    client: undefined as unknown as SQSClient,
    queue: undefined as unknown as LocalFifoQueue,
    handler: undefined as unknown as ReturnType<typeof createIngressHandler>,
    /** Invokes the handler as the Function URL would. */
    async call(event: APIGatewayProxyEventV2) {
      return (await h.handler(event, lambdaContext('ingress'))) as APIGatewayProxyStructuredResultV2;
    },
    /** The same ingress in front of another SQS client (one that cannot reach the queue, say). */
    handlerWith(client: SQSClient) {
      return build(sqsJobQueue(client, h.queue.queueUrl));
    },
    /** Receives what is on the queue (up to 10), with its FIFO system attributes. */
    async drain() {
      const out = await h.client.send(
        new ReceiveMessageCommand({
          QueueUrl: h.queue.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
        }),
      );
      return out.Messages ?? [];
    },
  };
  let current: { logger: Logger } | undefined;
  const build = (queue: JobQueue) =>
    createIngressHandler({
      config: {
        slackSigningSecret: SECRET,
        queueUrl: h.queue.queueUrl,
        botUserId: undefined,
      },
      queue,
      logger: current!.logger,
    });
  let n = 0;
  beforeAll(async () => {
    h.peer = await startSqsPeer();
    h.client = h.peer.client();
  });
  afterAll(() => h.peer.close());
  beforeEach(() => {
    h.queue = h.peer.createFifoQueue(`${name}-${++n}`);
    current = options();
    h.handler = build(sqsJobQueue(h.client, h.queue.queueUrl));
  });
  return h;
}
