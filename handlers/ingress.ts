import { SQSClient } from '@aws-sdk/client-sqs';
import { loadIngressConfig } from '../lib/config';
import { createIngressHandler } from '../lib/ingress/ingress-handler';
import { createLogger } from '../lib/logger';
import { sqsJobQueue } from '../lib/queue/sqs-job-queue';

/**
 * Lambda Function URL entry point: verifies Slack's signature and queues the event.
 * Everything is built once per cold start. The SQS client takes the standard AWS SDK settings
 * (`AWS_REGION`, `AWS_ENDPOINT_URL_SQS`, credentials); its timeouts keep a hung send well inside
 * Slack's 3-second window, so Slack gets a 503 and retries instead of timing out.
 * `useQueueUrlAsEndpoint: false`: send to the configured/regional SQS endpoint rather than the
 * host inside `QUEUE_URL`, so `AWS_ENDPOINT_URL_SQS` is honoured (local peers, VPC endpoints).
 */
const config = loadIngressConfig();
const logger = createLogger('slack-ingress');
const sqs = new SQSClient({
  maxAttempts: 2,
  useQueueUrlAsEndpoint: false,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1000 },
});

export const handler = createIngressHandler({ config, queue: sqsJobQueue(sqs, config.queueUrl), logger });
