import { SQSClient } from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';

/** A FIFO queue (and its dead-letter queue) on the local SQS peer. */
export interface LocalFifoQueue {
  queueUrl: string;
  queueArn: string;
  queueName: string;
  dlqUrl: string;
  dlqName: string;
  maxReceiveCount: number;
}

/** The local SQS peer: fauxqs in this process, spoken to by the real `@aws-sdk/client-sqs`. */
export interface SqsPeer {
  /** `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_SQS` or the client's `endpoint`. */
  endpoint: string;
  server: FauxqsServer;
  /** A client already pointed at the peer, with dummy credentials. */
  client(): SQSClient;
  /**
   * Creates a FIFO queue with a FIFO dead-letter queue and a redrive policy, as `serverless.yml`
   * does in AWS. Deduplication is by `MessageDeduplicationId` only (no content-based dedupe).
   */
  createFifoQueue(
    name: string,
    options?: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number },
  ): LocalFifoQueue;
  /** Every message in a queue, without receiving it: ready, delayed and in flight. */
  countMessages(queueName: string): { ready: number; inflight: number; delayed: number };
  close(): Promise<void>;
}

/** Dummy credentials: fauxqs does not check signatures, but the SDK insists on signing. */
export const LOCAL_AWS_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_AWS_REGION = 'us-east-1';

/**
 * Starts fauxqs on a free loopback port.
 * Gotcha (PLATFORM.md): fauxqs returns queue URLs on `sqs.us-east-1.localhost`, which does not
 * resolve here, and accepts only that exact URL; so clients keep the URL as `QueueUrl` and get
 * the peer's address as an explicit `endpoint`.
 */
export async function startSqsPeer(): Promise<SqsPeer> {
  const server = await startFauxqs({ port: 0, logger: false });
  // It listens on 127.0.0.1; its queue URLs name `sqs.<region>.localhost` (a valid URL host).
  const endpoint = `http://127.0.0.1:${server.port}`;
  const clients: SQSClient[] = [];
  return {
    endpoint,
    server,
    client() {
      const client = new SQSClient({
        endpoint,
        region: LOCAL_AWS_REGION,
        credentials: LOCAL_AWS_CREDENTIALS,
      });
      clients.push(client);
      return client;
    },
    createFifoQueue(name, options = {}) {
      const base = name.replace(/\.fifo$/, '');
      const maxReceiveCount = options.maxReceiveCount ?? 4;
      const dlq = server.createQueue(`${base}-dlq.fifo`, {
        attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
      });
      const queue = server.createQueue(`${base}.fifo`, {
        attributes: {
          FifoQueue: 'true',
          ContentBasedDeduplication: 'false',
          VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount }),
        },
      });
      return {
        queueUrl: queue.queueUrl,
        queueArn: queue.queueArn,
        queueName: queue.queueName,
        dlqUrl: dlq.queueUrl,
        dlqName: dlq.queueName,
        maxReceiveCount,
      };
    },
    countMessages(queueName) {
      const q = server.inspectQueue(queueName);
      if (!q) throw new Error(`no queue named ${queueName}`);
      return {
        ready: q.messages.ready.length,
        inflight: q.messages.inflight.length,
        delayed: q.messages.delayed.length,
      };
    },
    async close() {
      for (const c of clients) c.destroy();
      await server.stop();
    },
  };
}
