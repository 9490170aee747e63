/**
 * Local storage: an embedded dynalite (DynamoDB's API over LevelDB) on an OS-assigned
 * loopback port, persisting under a data directory, or any DynamoDB-compatible endpoint.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { CLIENTS_TABLE_KEY, GRANTS_TABLE_KEY } from '../../lambda/contract/tables.js';

export const IN_MEMORY = ':memory:';

export interface LocalDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/** Starts dynalite; dataDir ':memory:' keeps nothing. Fails clearly if another process holds the directory. */
export async function startDynalite(dataDir: string): Promise<LocalDynamo> {
  if (dataDir !== IN_MEMORY) mkdirSync(dataDir, { recursive: true });
  const server = dynalite({
    ...(dataDir === IN_MEMORY ? {} : { path: dataDir }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Creates a table if it is missing, with the string partition key the deployed table has. */
async function ensureTable(endpoint: string, tableName: string, key: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  } finally {
    client.destroy();
  }
}

export function ensureClientsTable(endpoint: string, tableName: string): Promise<void> {
  return ensureTable(endpoint, tableName, CLIENTS_TABLE_KEY);
}

export function ensureGrantsTable(endpoint: string, tableName: string): Promise<void> {
  return ensureTable(endpoint, tableName, GRANTS_TABLE_KEY);
}
