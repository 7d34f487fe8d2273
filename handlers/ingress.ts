import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { loadIngressConfig, loadParametersConfig } from '../lib/config';
import { createIngressHandler } from '../lib/ingress/ingress-handler';
import { createLogger } from '../lib/logger';
import { ingressSqsClient, sqsJobQueue } from '../lib/queue/sqs-job-queue';
import { INGRESS_SECRETS, rebuiltOnRotation } from '../lib/secrets';

/**
 * Lambda Function URL entry point: verifies Slack's signature and queues the event.
 * Everything is built once per cold start. The SQS client (`ingressSqsClient`) takes the standard
 * AWS SDK settings; its enforced timeouts keep a hung send well inside Slack's 3-second window, so
 * Slack gets a 503 and retries instead of timing out.
 * The signing secret comes from the environment or, in AWS, from Parameter Store (lib/secrets.ts):
 * read once at init, re-read after its cache age, the handler rebuilt only if it changed.
 */
const logger = createLogger('slack-ingress');
const sqs = ingressSqsClient();
const current = rebuiltOnRotation(
  INGRESS_SECRETS,
  loadParametersConfig(),
  (env) => {
    const config = loadIngressConfig(env);
    return createIngressHandler({ config, queue: sqsJobQueue(sqs, config.queueUrl), logger });
  },
  {
    onStaleRead: (error) =>
      logger.warn('could not re-read parameters; keeping the current values', { error: error as Error }),
  },
);
// Start reading at init (Lambda gives init a full CPU); a failure is reported by the invocation.
current().catch((error: Error) => logger.error('cold start failed', { error }));

export const handler = async (event: APIGatewayProxyEventV2, context: Context) =>
  (await current())(event, context);
