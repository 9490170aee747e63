/**
 * DynamoDB adapter of the ClientStore port: the only code that touches the clients table.
 * Table faults surface as UnavailableError so that callers answer 503 (or deny) without
 * leaking SDK details.
 *
 * The SDK retries a write whose answer was lost (a dropped connection, a timeout), so a
 * conditional create can fail its condition on the very item its own first attempt wrote:
 * such a failure is read back before it is believed.
 */
import { isDeepStrictEqual } from 'node:util';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BOUNDED_SDK_OPTIONS } from '../aws/sdk-options.js';
import { UnavailableError } from '../domain/oauth-error.js';
import {
  type ClientActivityStore,
  ClientExistsError,
  type ClientManagementStore,
  type RegisteredClient,
} from './client-store.js';

/** Bounded retries and timeouts (BOUNDED_SDK_OPTIONS): a slow table yields a prompt 503. */
export function createDocumentClient(endpoint = process.env.DYNAMODB_ENDPOINT): DynamoDBDocumentClient {
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
export function sharedDocumentClient(endpoint = process.env.DYNAMODB_ENDPOINT): DynamoDBDocumentClient {
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

/** The clients table's partition key; the construct and the local server create the table with it. */
export const CLIENTS_TABLE_KEY = 'client_id';

/** DynamoDB's limit for a partition key value. */
const MAX_KEY_BYTES = 2048;

export class DynamoDbClientStore implements ClientManagementStore, ClientActivityStore {
  constructor(
    private readonly tableName: string,
    private readonly documentClient: DynamoDBDocumentClient = sharedDocumentClient(),
  ) {}

  async create(client: RegisteredClient): Promise<void> {
    try {
      await this.documentClient.send(
        new PutCommand({
          TableName: this.tableName,
          Item: client,
          ConditionExpression: 'attribute_not_exists(#key)',
          ExpressionAttributeNames: { '#key': CLIENTS_TABLE_KEY },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) {
        throw new UnavailableError('The client registry could not be written; try again.');
      }
      // A lost answer to our own first attempt: the retry met the item that attempt wrote.
      if (isItemWritten(await this.getById(client.client_id), client)) return;
      throw new ClientExistsError(client.client_id);
    }
  }

  async getById(clientId: string): Promise<RegisteredClient | undefined> {
    // A key DynamoDB cannot hold cannot name a stored client; asking would only earn a ValidationException.
    if (clientId.length === 0 || Buffer.byteLength(clientId) > MAX_KEY_BYTES) return undefined;
    try {
      const { Item } = await this.documentClient.send(
        new GetCommand({ TableName: this.tableName, Key: { [CLIENTS_TABLE_KEY]: clientId }, ConsistentRead: true }),
      );
      return Item as RegisteredClient | undefined;
    } catch {
      throw new UnavailableError('The client registry could not be read; try again.');
    }
  }

  /** A write conditioned on the stored registration token hash; false when the condition fails. */
  private async guarded(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new UnavailableError('The client registry could not be written; try again.');
    }
  }

  replace(client: RegisteredClient, expectedTokenHash: string): Promise<boolean> {
    return this.guarded(() =>
      this.documentClient.send(
        new PutCommand({
          TableName: this.tableName,
          // A put replaces the item whole: two concurrent updates never merge into a third record.
          Item: client,
          ConditionExpression: '#token = :expected',
          ExpressionAttributeNames: { '#token': 'registration_token_hash' },
          ExpressionAttributeValues: { ':expected': expectedTokenHash },
        }),
      ),
    );
  }

  remove(clientId: string, expectedTokenHash: string): Promise<boolean> {
    return this.guarded(() =>
      this.documentClient.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [CLIENTS_TABLE_KEY]: clientId },
          ConditionExpression: '#token = :expected',
          ExpressionAttributeNames: { '#token': 'registration_token_hash' },
          ExpressionAttributeValues: { ':expected': expectedTokenHash },
        }),
      ),
    );
  }

  async recordUse(clientId: string, now: number): Promise<void> {
    // A deleted client is not brought back by a late record of its use.
    await this.guarded(() =>
      this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [CLIENTS_TABLE_KEY]: clientId },
          UpdateExpression: 'SET #used = :now',
          ConditionExpression: 'attribute_exists(#key)',
          ExpressionAttributeNames: { '#used': 'last_used_at', '#key': CLIENTS_TABLE_KEY },
          ExpressionAttributeValues: { ':now': now },
        }),
      ),
    );
  }
}
