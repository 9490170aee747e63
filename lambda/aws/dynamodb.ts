/** The DynamoDB document client the adapters share, and what a retried write can tell. */
import { isDeepStrictEqual } from 'node:util';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../contract/environment.js';
import { BOUNDED_SDK_OPTIONS } from './sdk-options.js';

/** Bounded retries and timeouts (BOUNDED_SDK_OPTIONS): a slow table yields a prompt 503. */
export function createDocumentClient(endpoint = process.env[ENV.dynamodbEndpoint]): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ ...(endpoint ? { endpoint } : {}), ...BOUNDED_SDK_OPTIONS });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

const sharedClients = new Map<string, DynamoDBDocumentClient>();

/**
 * The one document client a process uses for an endpoint: every store in a function shares its
 * connection pool, so a cold start builds one SDK client and opens one TLS connection, not one
 * per table or port. Keyed by endpoint so a process (a test) that points elsewhere gets its own.
 */
export function sharedDocumentClient(endpoint = process.env[ENV.dynamodbEndpoint]): DynamoDBDocumentClient {
  const key = endpoint ?? '';
  let client = sharedClients.get(key);
  if (!client) {
    client = createDocumentClient(endpoint);
    sharedClients.set(key, client);
  }
  return client;
}

/**
 * Whether a stored item is exactly the one a put wrote, as the document client marshals it
 * (undefined values removed). Tells a retried put that met its own first attempt's item from
 * one that met someone else's.
 */
export function isItemWritten(stored: object | undefined, written: object): boolean {
  return stored !== undefined && isDeepStrictEqual(stored, JSON.parse(JSON.stringify(written)));
}

export interface PutIfAbsent {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** The partition key attribute the condition names. */
  key: string;
  item: Record<string, unknown>;
  /** Reads the item now under the key (consistently), when the condition failed. */
  readBack: () => Promise<object | undefined>;
}

/**
 * Writes an item unless its key is taken, and says which: 'taken' only when another item holds
 * the key. The SDK retries a write whose answer was lost (a dropped connection, a timeout), so
 * the condition can fail on the very item this put's first attempt wrote: such a failure is
 * read back before it is believed. Any other error propagates.
 */
export async function putIfAbsent(put: PutIfAbsent): Promise<'written' | 'taken'> {
  try {
    await put.documentClient.send(
      new PutCommand({
        TableName: put.tableName,
        Item: put.item,
        ConditionExpression: 'attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': put.key },
      }),
    );
    return 'written';
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return isItemWritten(await put.readBack(), put.item) ? 'written' : 'taken';
  }
}
