/**
 * DynamoDB adapter of the GrantStore port. One table, keyed by `pk` = `<kind>#<id or hash>`,
 * with a TTL attribute (`expires_at`) for clean-up only. Single-item conditional writes give
 * the atomicity we need (dynalite has no transactions, and none are needed).
 *
 * When the answer to a write is lost and the SDK retries it, the retry meets what the first
 * attempt wrote: a put then finds its own item and succeeds; a consume finds the item already
 * used and reports a replay, so a code or refresh token whose spending was not heard of is
 * spent, and the grant's family revoked, never issued twice.
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
import { GRANT_KEY_PREFIXES, GRANTS_TABLE_KEY, GRANTS_TABLE_TTL_ATTRIBUTE } from '../contract/tables.js';
import type {
  AuthorizationCodeRecord,
  Consumed,
  ConsumeExpectations,
  GrantStore,
  PendingAuthorization,
  RefreshTokenRecord,
} from '../domain/grants.js';
import { UnavailableError } from '../domain/oauth-error.js';

/** DynamoDB's limit for a partition key value. */
const MAX_KEY_BYTES = 2048;

function storableKey(pk: string): boolean {
  return Buffer.byteLength(pk) <= MAX_KEY_BYTES;
}

const key = {
  pending: (id: string) => `${GRANT_KEY_PREFIXES.pending}${id}`,
  code: (hash: string) => `${GRANT_KEY_PREFIXES.code}${hash}`,
  refresh: (hash: string) => `${GRANT_KEY_PREFIXES.refresh}${hash}`,
  family: (id: string) => `${GRANT_KEY_PREFIXES.family}${id}`,
};

type Item<T> = T & { [GRANTS_TABLE_KEY]: string };

function strip<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const { [GRANTS_TABLE_KEY]: _key, ...record } = item;
  return record as T;
}

export class DynamoDbGrantStore implements GrantStore {
  constructor(
    private readonly tableName: string,
    private readonly documentClient: DynamoDBDocumentClient = sharedDocumentClient(),
  ) {}

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw error;
      throw new UnavailableError('Authorization state could not be read or written; try again.');
    }
  }

  private async put<T extends object>(pk: string, record: T): Promise<void> {
    const item: Item<T> = { ...record, [GRANTS_TABLE_KEY]: pk };
    // Values are 256-bit random: a collision is practically impossible, and never overwrites.
    const outcome = await this.run(() =>
      putIfAbsent({
        documentClient: this.documentClient,
        tableName: this.tableName,
        key: GRANTS_TABLE_KEY,
        item,
        readBack: () => this.getItem(pk),
      }),
    );
    // Another item under the same random key: practically never; a new request draws new values.
    if (outcome === 'taken') throw new UnavailableError('Authorization state could not be written; try again.');
  }

  private getItem(pk: string): Promise<Record<string, unknown> | undefined> {
    return this.run(async () => {
      const { Item } = await this.documentClient.send(
        new GetCommand({ TableName: this.tableName, Key: { [GRANTS_TABLE_KEY]: pk }, ConsistentRead: true }),
      );
      return Item;
    });
  }

  private async get<T>(pk: string): Promise<T | undefined> {
    return strip<T>(await this.getItem(pk));
  }

  /**
   * Sets `attribute` to now unless it is already set, and only if the item meets `expect`: exactly
   * one caller wins, and a refused caller writes nothing.
   */
  private async consume<T>(
    pk: string,
    attribute: string,
    now: number,
    expect: ConsumeExpectations = {},
  ): Promise<Consumed<T>> {
    const names: Record<string, string> = { '#pk': GRANTS_TABLE_KEY, '#used': attribute };
    const values: Record<string, unknown> = { ':now': now };
    const conditions = ['attribute_exists(#pk)', 'attribute_not_exists(#used)'];
    Object.entries(expect.equals ?? {}).forEach(([name, value], index) => {
      names[`#e${index}`] = name;
      values[`:e${index}`] = value;
      conditions.push(`#e${index} = :e${index}`);
    });
    if (expect.validAt !== undefined) {
      names['#expires'] = GRANTS_TABLE_TTL_ATTRIBUTE;
      values[':validAt'] = expect.validAt;
      conditions.push('#expires > :validAt');
    }
    try {
      const { Attributes } = await this.run(() =>
        this.documentClient.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { [GRANTS_TABLE_KEY]: pk },
            UpdateExpression: 'SET #used = :now',
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { outcome: 'consumed', record: strip<T>(Attributes) as T };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Only the losing path pays for a read: unknown, already used (a replay), or refused.
      const existing = await this.getItem(pk);
      if (!existing) return { outcome: 'missing' };
      const record = strip<T>(existing) as T;
      return existing[attribute] !== undefined ? { outcome: 'replayed', record } : { outcome: 'refused', record };
    }
  }

  /**
   * Clears the `attribute` mark that consume() set at `at`, only if it is still that mark. A
   * failure is swallowed: the caller is already answering 503, and the code or token then stays
   * spent, as it would have without this attempt.
   */
  private async release(pk: string, attribute: string, at: number): Promise<void> {
    try {
      await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [GRANTS_TABLE_KEY]: pk },
          UpdateExpression: 'REMOVE #used',
          ConditionExpression: '#used = :at',
          ExpressionAttributeNames: { '#used': attribute },
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch {
      // ConditionalCheckFailed (not our mark, or gone) or a table fault: nothing more to do.
    }
  }

  putPending(pending: PendingAuthorization): Promise<void> {
    return this.put(key.pending(pending.id), pending);
  }

  getPending(id: string): Promise<PendingAuthorization | undefined> {
    if (!storableKey(key.pending(id))) return Promise.resolve(undefined);
    return this.get(key.pending(id));
  }

  takePending(id: string): Promise<PendingAuthorization | undefined> {
    // Ids come from browsers (state, cookies): one DynamoDB cannot hold names nothing stored.
    if (!storableKey(key.pending(id))) return Promise.resolve(undefined);
    return this.run(async () => {
      const { Attributes } = await this.documentClient.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [GRANTS_TABLE_KEY]: key.pending(id) },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return strip<PendingAuthorization>(Attributes);
    });
  }

  putCode(codeHash: string, record: AuthorizationCodeRecord): Promise<void> {
    return this.put(key.code(codeHash), record);
  }

  getCode(codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    return this.get(key.code(codeHash));
  }

  redeemCode(codeHash: string, now: number, expect?: ConsumeExpectations): Promise<Consumed<AuthorizationCodeRecord>> {
    return this.consume(key.code(codeHash), 'redeemed_at', now, expect);
  }

  releaseCode(codeHash: string, redeemedAt: number): Promise<void> {
    return this.release(key.code(codeHash), 'redeemed_at', redeemedAt);
  }

  putRefreshToken(tokenHash: string, record: RefreshTokenRecord): Promise<void> {
    return this.put(key.refresh(tokenHash), record);
  }

  getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    return this.get(key.refresh(tokenHash));
  }

  useRefreshToken(tokenHash: string, now: number): Promise<Consumed<RefreshTokenRecord>> {
    return this.consume(key.refresh(tokenHash), 'used_at', now);
  }

  releaseRefreshToken(tokenHash: string, usedAt: number): Promise<void> {
    return this.release(key.refresh(tokenHash), 'used_at', usedAt);
  }

  revokeFamily(familyId: string, expiresAt: number): Promise<void> {
    return this.run(async () => {
      // A plain put: revoking twice is harmless, and the marker outlives every token of the family.
      await this.documentClient.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [GRANTS_TABLE_KEY]: key.family(familyId), revoked: true, [GRANTS_TABLE_TTL_ATTRIBUTE]: expiresAt },
        }),
      );
    });
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    return (await this.get(key.family(familyId))) !== undefined;
  }
}
