import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsHttpLimits } from '../aws-http-limits';
import type { DistributionConfig } from '../config';
import { aesGcmTokenCipher } from './token-cipher';

/**
 * Opens the DynamoDB installation store, and a `close` that destroys the client if this call built
 * it (one handed in stays the caller's). The store's module and `@aws-sdk/client-dynamodb` (given
 * by the Lambda runtime, not bundled) are `require`d on the call: a single-workspace deployment
 * never calls this, so neither Lambda's cold start loads the DynamoDB SDK (15 packages, ~40 ms).
 * `require`, not `import()`: esbuild keeps an external `import()` as is, which would load the SDK's
 * ES module build (lib/queue/sqs-retry-scheduler.ts makes the same choice for SQS).
 *
 * The client takes the AWS SDK's own settings (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL_DYNAMODB`
 * for a local DynamoDB: https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 * The ingress answers Slack within 3 s, so a read is given up after 1 s and tried once more.
 */
export function openInstallationStore(
  config: Pick<DistributionConfig, 'installationsTable' | 'tokenEncryptionKey'>,
  client?: DynamoDBClient,
) {
  const { DynamoDBClient: Client } =
    require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  const { dynamoDbInstallations } =
    require('./dynamodb-installations') as typeof import('./dynamodb-installations');
  const dynamodb =
    client ??
    new Client({
      maxAttempts: 2,
      requestHandler: awsHttpLimits({ connectionTimeoutMs: 500, requestTimeoutMs: 1_000 }),
    });
  return {
    store: dynamoDbInstallations(
      dynamodb,
      config.installationsTable,
      aesGcmTokenCipher(config.tokenEncryptionKey),
    ),
    close: () => {
      if (!client) dynamodb.destroy();
    },
  };
}
