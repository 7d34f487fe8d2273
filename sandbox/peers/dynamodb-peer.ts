import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION } from './sqs-peer';

/** The local DynamoDB: dynalite (npm) in this process, spoken to by the real `@aws-sdk/client-dynamodb`. */
export interface DynamoDbPeer {
  /** `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_DYNAMODB`. */
  endpoint: string;
  /** A client pointed at the peer, with dummy credentials and the store's own limits. */
  client(): DynamoDBClient;
  /** Creates the installations table as serverless.yml defines it (key `pk`, TTL on `ttl`). */
  createInstallationsTable(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts dynalite (https://www.npmjs.com/package/dynalite) in memory on a free loopback port. It
 * answers the DynamoDB JSON protocol with DynamoDB's own validation, conditional writes included,
 * and needs no Java and no native build (its LevelDB binding ships prebuilt; memory mode uses
 * memory-level). Tables are created instantly (`createTableMs: 0`).
 */
export async function startDynamoDbPeer(): Promise<DynamoDbPeer> {
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  const client = () => {
    const c = new DynamoDBClient({
      endpoint,
      region: LOCAL_AWS_REGION,
      credentials: LOCAL_AWS_CREDENTIALS,
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 500, requestTimeout: 2_000, throwOnRequestTimeout: true },
    });
    clients.push(c);
    return c;
  };
  return {
    endpoint,
    client,
    async createInstallationsTable(name) {
      const admin = client();
      await admin.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      );
      await admin
        .send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
          }),
        )
        // dynalite does not implement TTL; the used-state marks simply stay.
        .catch(() => undefined);
    },
    async close() {
      for (const c of clients) c.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
