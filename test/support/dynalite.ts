/**
 * dynalite as a suite fixture: one in-memory DynamoDB per suite, with the clients and grants
 * tables created as the deployed stack keys them (lib/local/dynamodb.ts), a document client built
 * the way the functions build theirs, and the environment that points a function at it.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createDocumentClient } from '../../lambda/aws/dynamodb.js';
import { ENV } from '../../lambda/contract/environment.js';
import {
  ensureClientsTable,
  ensureGrantsTable,
  IN_MEMORY,
  type LocalDynamo,
  startDynalite,
} from '../../lib/local/dynamodb.js';

/** A running dynalite; read it only from tests and hooks that run after its beforeAll. */
export interface Dynalite {
  readonly endpoint: string;
  /** Straight to the tables (createDocumentClient, as a function has it): what is really stored. */
  readonly documents: DynamoDBDocumentClient;
  readonly clientsTable: string;
  readonly grantsTable: string;
  /** The variables a function reads to use these tables: table names and endpoint. */
  env(): Record<string, string>;
}

/**
 * Starts dynalite in the suite's beforeAll (in the order hooks are registered) with both tables,
 * named `<name>-clients` and `<name>-grants`; closes it in the afterAll.
 */
export function useDynalite(name: string): Dynalite {
  const clientsTable = `${name}-clients`;
  const grantsTable = `${name}-grants`;
  let dynamo: LocalDynamo | undefined;
  let documents: DynamoDBDocumentClient | undefined;
  beforeAll(async () => {
    dynamo = await startDynalite(IN_MEMORY);
    await ensureClientsTable(dynamo.endpoint, clientsTable);
    await ensureGrantsTable(dynamo.endpoint, grantsTable);
    documents = createDocumentClient(dynamo.endpoint);
  });
  afterAll(async () => {
    documents?.destroy();
    await dynamo?.close();
  });
  const running = (): { dynamo: LocalDynamo; documents: DynamoDBDocumentClient } => {
    if (!dynamo || !documents) throw new Error('dynalite is not running: its beforeAll has not run or failed');
    return { dynamo, documents };
  };
  return {
    get endpoint() {
      return running().dynamo.endpoint;
    },
    get documents() {
      return running().documents;
    },
    clientsTable,
    grantsTable,
    env: () => ({
      [ENV.tableName]: clientsTable,
      [ENV.grantsTableName]: grantsTable,
      [ENV.dynamodbEndpoint]: running().dynamo.endpoint,
    }),
  };
}

/** An endpoint where a DynamoDB was and no longer is: every request to it fails to connect. */
export async function closedDynamoEndpoint(): Promise<string> {
  const dead = await startDynalite(IN_MEMORY);
  await dead.close();
  return dead.endpoint;
}
