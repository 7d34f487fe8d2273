import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The DynamoDB client of the installation store, built on first use: only distribution mode
 * loads `@aws-sdk/client-dynamodb` (the Lambda runtime provides it; it is not in the bundle), so
 * single-workspace cold starts do not pay for it. It takes the AWS SDK's own settings: `AWS_REGION`,
 * credentials, and `AWS_ENDPOINT_URL_DYNAMODB` for a local DynamoDB
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 *
 * Explicit limits: the ingress answers Slack within 3 s, so a read is given up after 1 s and tried
 * once more. `throwOnRequestTimeout`: without it @smithy/node-http-handler only logs a warning
 * when `requestTimeout` passes and keeps waiting (its NodeHttpHandlerOptions says so).
 */
export function createDynamoDbClient(): DynamoDBClient {
  // `require`, not `import()`: esbuild keeps an external `import()` as is, which would load the
  // SDK's ES module build (see lib/worker/worker-deps.ts for the same choice with SQS).
  const { DynamoDBClient: Client } =
    require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  return new Client({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1_000, throwOnRequestTimeout: true },
  });
}
