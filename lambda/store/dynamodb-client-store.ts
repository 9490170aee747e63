/**
 * DynamoDB adapter of the ClientStore port: the only code that touches the clients table.
 * Table faults surface as UnavailableError so that callers answer 503 (or deny) without
 * leaking SDK details.
 *
 * The SDK retries a write whose answer was lost (a dropped connection, a timeout), so a
 * conditional create can fail its condition on the very item its own first attempt wrote:
 * such a failure is read back before it is believed.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { putIfAbsent, sharedDocumentClient } from '../aws/dynamodb.js';
import { CLIENTS_TABLE_KEY } from '../contract/tables.js';
import {
  type ClientActivityStore,
  ClientExistsError,
  type ClientManagementStore,
  type RegisteredClient,
} from '../domain/clients.js';
import { UnavailableError } from '../domain/oauth-error.js';

/** DynamoDB's limit for a partition key value. */
const MAX_KEY_BYTES = 2048;

export class DynamoDbClientStore implements ClientManagementStore, ClientActivityStore {
  constructor(
    private readonly tableName: string,
    private readonly documentClient: DynamoDBDocumentClient = sharedDocumentClient(),
  ) {}

  async create(client: RegisteredClient): Promise<void> {
    const outcome = await putIfAbsent({
      documentClient: this.documentClient,
      tableName: this.tableName,
      key: CLIENTS_TABLE_KEY,
      item: { ...client },
      readBack: () => this.getById(client.client_id),
    }).catch((error: unknown) => {
      if (error instanceof UnavailableError) throw error;
      throw new UnavailableError('The client registry could not be written; try again.');
    });
    if (outcome === 'taken') throw new ClientExistsError(client.client_id);
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
