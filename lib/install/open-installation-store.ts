import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DistributionConfig } from '../config';
import type { InstallationStore, SingleUseMarks } from './dynamodb-installations';
import { aesGcmTokenCipher } from './token-cipher';

/** The installation store and a way to let go of the client it built. */
export interface OpenedInstallationStore {
  store: InstallationStore & SingleUseMarks;
  /** Destroys the DynamoDB client if this call built it (one handed in stays the caller's). */
  close(): void;
}

/**
 * Opens the DynamoDB installation store. The store's module and `@aws-sdk/client-dynamodb` are
 * `require`d here, on the call, not imported: a single-workspace deployment never calls this, so
 * neither Lambda's cold start loads the DynamoDB SDK (15 packages from node_modules, ~40 ms).
 */
export function openInstallationStore(
  config: Pick<DistributionConfig, 'installationsTable' | 'tokenEncryptionKey'>,
  client?: DynamoDBClient,
): OpenedInstallationStore {
  const { createDynamoDbClient } = require('./dynamodb-client') as typeof import('./dynamodb-client');
  const { dynamoDbInstallations } =
    require('./dynamodb-installations') as typeof import('./dynamodb-installations');
  const dynamodb = client ?? createDynamoDbClient();
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
