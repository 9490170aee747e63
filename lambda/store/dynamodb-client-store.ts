/**
 * DynamoDB adapter of the ClientStore port: the only code that touches the clients table.
 * Table faults surface as UnavailableError so that callers answer 503 (or deny) without
 * leaking SDK details.
 *
 * The SDK retries a write whose answer was lost (a dropped connection, a timeout), so a
 * conditional create can fail its condition on the very item its own first attempt wrote:
 * such a failure is read back before it is believed.
 *
 * Registration activation (domain/client-activity.ts): a client stored with a deadline in the
 * table's TTL attribute that has passed is not there, for every read, whether or not DynamoDB has
 * deleted it yet; the attribute never leaves this adapter. The first record of use removes it in
 * the same write that records the use, and a replacement (RFC 7592) keeps it.
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
import { CLIENTS_TABLE_KEY, CLIENTS_TABLE_TTL_ATTRIBUTE } from '../contract/tables.js';
import { isActivationExpired, type StoredClient, withoutDeadline } from '../domain/client-activity.js';
import {
  type ClientActivityStore,
  ClientExistsError,
  type ClientManagementStore,
  type RegisteredClient,
} from '../domain/clients.js';
import { UnavailableError } from '../domain/oauth-error.js';

/** DynamoDB's limit for a partition key value. */
const MAX_KEY_BYTES = 2048;

/** A replacement races at most this many times with a first token removing the deadline it carries over. */
const REPLACE_ATTEMPTS = 3;

export class DynamoDbClientStore implements ClientManagementStore, ClientActivityStore {
  constructor(
    private readonly tableName: string,
    private readonly documentClient: DynamoDBDocumentClient = sharedDocumentClient(),
    /** The clock activation deadlines are read against, in seconds. */
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async create(client: RegisteredClient): Promise<void> {
    const outcome = await putIfAbsent({
      documentClient: this.documentClient,
      tableName: this.tableName,
      key: CLIENTS_TABLE_KEY,
      item: { ...client },
      readBack: () => this.item(client.client_id),
    }).catch((error: unknown) => {
      if (error instanceof UnavailableError) throw error;
      throw new UnavailableError('The client registry could not be written; try again.');
    });
    if (outcome === 'taken') throw new ClientExistsError(client.client_id);
  }

  async getById(clientId: string): Promise<RegisteredClient | undefined> {
    const stored = await this.read(clientId);
    return stored && withoutDeadline(stored);
  }

  /** The item as stored, deadline and all; undefined when absent or past its activation deadline. */
  private async read(clientId: string): Promise<StoredClient | undefined> {
    const item = await this.item(clientId);
    return item && !isActivationExpired(item, this.now()) ? item : undefined;
  }

  /** The item under the key, exactly as stored. */
  private async item(clientId: string): Promise<StoredClient | undefined> {
    // A key DynamoDB cannot hold cannot name a stored client; asking would only earn a ValidationException.
    if (clientId.length === 0 || Buffer.byteLength(clientId) > MAX_KEY_BYTES) return undefined;
    try {
      const { Item } = await this.documentClient.send(
        new GetCommand({ TableName: this.tableName, Key: { [CLIENTS_TABLE_KEY]: clientId }, ConsistentRead: true }),
      );
      return Item as StoredClient | undefined;
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

  /**
   * A put replaces the item whole, so two concurrent updates never merge into a third record. It
   * must not drop an activation deadline (registering and then updating would make a never-used
   * client permanent), yet the caller's record does not carry it: the put is conditioned on the
   * deadline it assumes (none, first), and on a failed condition the item is read to learn it.
   */
  async replace(client: RegisteredClient, expectedTokenHash: string): Promise<boolean> {
    let deadline: number | undefined;
    for (let attempt = 1; ; attempt++) {
      const replaced = await this.guarded(() =>
        this.documentClient.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...withoutDeadline(client),
              ...(deadline !== undefined ? { [CLIENTS_TABLE_TTL_ATTRIBUTE]: deadline } : {}),
            },
            ConditionExpression:
              deadline === undefined
                ? '#token = :expected AND attribute_not_exists(#ttl)'
                : '#token = :expected AND #ttl = :ttl',
            ExpressionAttributeNames: { '#token': 'registration_token_hash', '#ttl': CLIENTS_TABLE_TTL_ATTRIBUTE },
            ExpressionAttributeValues: {
              ':expected': expectedTokenHash,
              ...(deadline !== undefined ? { ':ttl': deadline } : {}),
            },
          }),
        ),
      );
      if (replaced || attempt === REPLACE_ATTEMPTS) return replaced;
      const stored = await this.read(client.client_id);
      if (stored?.registration_token_hash !== expectedTokenHash) return false;
      deadline = stored[CLIENTS_TABLE_TTL_ATTRIBUTE];
    }
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

  /**
   * One write records the use and removes any activation deadline; its old value, returned by the
   * same request, says whether this write was the activation. A deleted client is not brought
   * back by a late record of its use.
   */
  async recordUse(clientId: string, now: number): Promise<boolean> {
    let activated = false;
    await this.guarded(async () => {
      const { Attributes } = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [CLIENTS_TABLE_KEY]: clientId },
          UpdateExpression: 'SET #used = :now REMOVE #ttl',
          ConditionExpression: 'attribute_exists(#key)',
          ExpressionAttributeNames: {
            '#used': 'last_used_at',
            '#ttl': CLIENTS_TABLE_TTL_ATTRIBUTE,
            '#key': CLIENTS_TABLE_KEY,
          },
          ExpressionAttributeValues: { ':now': now },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      activated = Attributes?.[CLIENTS_TABLE_TTL_ATTRIBUTE] !== undefined;
    });
    return activated;
  }
}
