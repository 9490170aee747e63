/**
 * Local storage: an embedded dynalite (DynamoDB's API over LevelDB) on an OS-assigned
 * loopback port, persisting under a data directory, or any DynamoDB-compatible endpoint.
 *
 * While an embedded dynalite with a data directory runs, a manifest in that directory
 * (contract/local-storage.ts) names its endpoint and the tables made in it, for the admin
 * CLI's `--local`; it is removed when dynalite stops.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  type AttributeValue,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { GRANTS_BY_SUBJECT_INDEX } from '../../lambda/contract/grants-index.js';
import { LOCAL_STORAGE_FILE, type LocalStorageManifest } from '../../lambda/contract/local-storage.js';
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
  const endpoint = `http://127.0.0.1:${port}`;
  const manifest = dataDir === IN_MEMORY ? undefined : join(dataDir, LOCAL_STORAGE_FILE);
  if (manifest) {
    writeManifest(manifest, { endpoint, pid: process.pid, tables: {} });
    manifests.set(endpoint, manifest);
  }
  return {
    endpoint,
    close: () =>
      new Promise<void>((resolve) => {
        if (manifest) {
          manifests.delete(endpoint);
          rmSync(manifest, { force: true });
        }
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** The manifest file of each embedded dynalite this process runs with a data directory, by endpoint. */
const manifests = new Map<string, string>();

function writeManifest(file: string, manifest: LocalStorageManifest): void {
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
}

/** Adds a table to the manifest of the embedded dynalite at `endpoint`, if this process runs one there. */
function recordTable(endpoint: string, role: keyof LocalStorageManifest['tables'], tableName: string): void {
  const file = manifests.get(endpoint);
  if (!file) return;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as LocalStorageManifest;
  writeManifest(file, { ...manifest, tables: { ...manifest.tables, [role]: tableName } });
}

function clientsTable(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [{ AttributeName: CLIENTS_TABLE_KEY, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: CLIENTS_TABLE_KEY, KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** The grants table as deployed (lib/gateway-tables.ts): its key, and the by-subject index. */
function grantsTable(tableName: string): CreateTableCommandInput {
  const index = GRANTS_BY_SUBJECT_INDEX;
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: GRANTS_TABLE_KEY, AttributeType: 'S' },
      { AttributeName: index.partitionKey, AttributeType: 'S' },
      { AttributeName: index.sortKey, AttributeType: 'N' },
    ],
    KeySchema: [{ AttributeName: GRANTS_TABLE_KEY, KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: [
      {
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projected] },
      },
    ],
  };
}

/** Creates a table if it is missing; true when it was already there. */
async function createTable(client: DynamoDBClient, table: CreateTableCommandInput): Promise<boolean> {
  try {
    await client.send(new CreateTableCommand(table));
    return false;
  } catch (error) {
    if (error instanceof ResourceInUseException) return true;
    throw error;
  }
}

/** Every item of a table, as stored (a local table is small). */
async function scanAll(client: DynamoDBClient, tableName: string): Promise<Array<Record<string, AttributeValue>>> {
  const items: Array<Record<string, AttributeValue>> = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** A table's status, or undefined when there is none by that name. */
async function status(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return Table?.TableStatus;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; !(await condition()); attempt++) {
    if (attempt === 100) throw new Error('the local grants table did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A grants table made before the by-subject index existed gets it. dynalite cannot add an index
 * to a table (UpdateTable creates none), so the table is made again with its items copied over:
 * local sign-ins survive the upgrade.
 */
async function addMissingIndex(client: DynamoDBClient, table: CreateTableCommandInput): Promise<void> {
  const name = table.TableName as string;
  const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
  const wanted = table.GlobalSecondaryIndexes?.map((index) => index.IndexName) ?? [];
  const present = new Set(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName));
  if (wanted.every((index) => present.has(index))) return;
  const items = await scanAll(client, name);
  await client.send(new DeleteTableCommand({ TableName: name }));
  await until(async () => (await status(client, name)) === undefined);
  await client.send(new CreateTableCommand(table));
  await until(async () => (await status(client, name)) === 'ACTIVE');
  for (const item of items) await client.send(new PutItemCommand({ TableName: name, Item: item }));
}

export async function ensureClientsTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint });
  try {
    await createTable(client, clientsTable(tableName));
    recordTable(endpoint, 'clients', tableName);
  } finally {
    client.destroy();
  }
}

export async function ensureGrantsTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint });
  try {
    const table = grantsTable(tableName);
    if (await createTable(client, table)) await addMissingIndex(client, table);
    recordTable(endpoint, 'grants', tableName);
  } finally {
    client.destroy();
  }
}
