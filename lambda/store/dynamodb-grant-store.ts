/**
 * DynamoDB adapter of the GrantStore port. One table, keyed by `pk` = `<kind>#<id>`, with a TTL
 * attribute (`expires_at`) for clean-up only. A grant is one item (`grant#<grant id>`), so
 * spending its code or rotating its refresh token is one conditional UpdateItem: dynalite has no
 * transactions, and none are needed.
 *
 * When the answer to a write is lost and the SDK retries it, the retry meets what the first
 * attempt wrote: a put then finds its own item and succeeds; a redemption or rotation finds its
 * condition no longer holds and reports a refusal, which the token service reads as a reuse: the
 * code or refresh token whose spending was not heard of is spent, never issued twice (within the
 * reuse grace window a rotation's retry is answered with a new token of the same grant).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent, sharedDocumentClient } from '../aws/dynamodb.js';
import { GRANT_KEY_PREFIXES, GRANTS_TABLE_KEY, GRANTS_TABLE_TTL_ATTRIBUTE } from '../contract/tables.js';
import type { CodeRedemption, GrantRecord, GrantStore, PendingSignIn, Rotation, Written } from '../domain/grants.js';
import { UnavailableError } from '../domain/oauth-error.js';

/** DynamoDB's limit for a partition key value. */
const MAX_KEY_BYTES = 2048;

function storableKey(pk: string): boolean {
  return Buffer.byteLength(pk) <= MAX_KEY_BYTES;
}

const key = {
  pending: (id: string) => `${GRANT_KEY_PREFIXES.pending}${id}`,
  grant: (id: string) => `${GRANT_KEY_PREFIXES.grant}${id}`,
};

/** An UpdateItem of one grant: SET/REMOVE clauses and a condition, with its names and values. */
interface GrantUpdate {
  update: string;
  condition: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

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
   * One conditional UpdateItem of a grant. On success, the grant as it was before; when the
   * condition fails, the grant as it is now (read only on that losing path), or missing.
   */
  private async updateGrant(grantId: string, write: GrantUpdate): Promise<Written> {
    const pk = key.grant(grantId);
    try {
      const { Attributes } = await this.run(() =>
        this.documentClient.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { [GRANTS_TABLE_KEY]: pk },
            UpdateExpression: write.update,
            ConditionExpression: `attribute_exists(#pk) AND ${write.condition}`,
            ExpressionAttributeNames: { '#pk': GRANTS_TABLE_KEY, ...write.names },
            ExpressionAttributeValues: write.values,
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      return { outcome: 'written', before: strip<GrantRecord>(Attributes) as GrantRecord };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get<GrantRecord>(pk);
      return existing ? { outcome: 'refused', record: existing } : { outcome: 'missing' };
    }
  }

  /** An update that undoes this request's own write, if it is still the last one; failures are swallowed. */
  private async undo(grantId: string, write: GrantUpdate): Promise<void> {
    try {
      await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [GRANTS_TABLE_KEY]: key.grant(grantId) },
          UpdateExpression: write.update,
          ConditionExpression: write.condition,
          ExpressionAttributeNames: write.names,
          ExpressionAttributeValues: write.values,
        }),
      );
    } catch {
      // Not our write any more, or a table fault while already answering 503: nothing more to do.
    }
  }

  putPending(pending: PendingSignIn): Promise<void> {
    return this.put(key.pending(pending.id), pending);
  }

  getPending(id: string): Promise<PendingSignIn | undefined> {
    if (!storableKey(key.pending(id))) return Promise.resolve(undefined);
    return this.get(key.pending(id));
  }

  takePending(id: string): Promise<PendingSignIn | undefined> {
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
      return strip<PendingSignIn>(Attributes);
    });
  }

  createGrant(grant: GrantRecord): Promise<void> {
    return this.put(key.grant(grant.grant_id), grant);
  }

  getGrant(grantId: string): Promise<GrantRecord | undefined> {
    return this.get(key.grant(grantId));
  }

  redeemCode(r: CodeRedemption): Promise<Written> {
    const conditions = [
      '#code = :code',
      'attribute_not_exists(#redeemed)',
      'attribute_not_exists(#revoked)',
      '#codeExpires > :now',
      '#client = :client',
      '#challenge = :challenge',
      // RFC 6749 4.1.3: the redirect_uri exactly as in the authorization request, or none in either.
      r.redirectUri !== undefined ? '#redirect = :redirect' : '#inRequest = :false',
      ...(r.resource !== undefined ? ['#resource = :resource'] : []),
    ];
    const names: Record<string, string> = {
      '#code': 'code_hash',
      '#redeemed': 'code_redeemed_at',
      '#revoked': 'revoked_at',
      '#codeExpires': 'code_expires_at',
      '#client': 'client_id',
      '#challenge': 'code_challenge',
      '#expires': GRANTS_TABLE_TTL_ATTRIBUTE,
      '#used': 'last_used_at',
      ...(r.redirectUri !== undefined ? { '#redirect': 'redirect_uri' } : { '#inRequest': 'redirect_uri_in_request' }),
      ...(r.resource !== undefined ? { '#resource': 'resource' } : {}),
      ...(r.refreshHash !== undefined ? { '#refresh': 'refresh_hashes' } : {}),
    };
    const values: Record<string, unknown> = {
      ':code': r.codeHash,
      ':now': r.now,
      ':client': r.clientId,
      ':challenge': r.codeChallenge,
      ':expiresAt': r.expiresAt,
      ...(r.redirectUri !== undefined ? { ':redirect': r.redirectUri } : { ':false': false }),
      ...(r.resource !== undefined ? { ':resource': r.resource } : {}),
      ...(r.refreshHash !== undefined ? { ':refresh': [r.refreshHash] } : {}),
    };
    const sets = ['#redeemed = :now', '#expires = :expiresAt', '#used = :now'];
    if (r.refreshHash !== undefined) sets.push('#refresh = :refresh');
    return this.updateGrant(r.grantId, {
      update: `SET ${sets.join(', ')}`,
      condition: conditions.join(' AND '),
      names,
      values,
    });
  }

  releaseCode(grantId: string, redeemedAt: number, codeExpiresAt: number): Promise<void> {
    return this.undo(grantId, {
      update: 'REMOVE #redeemed, #refresh, #used SET #expires = :codeExpires',
      condition: '#redeemed = :at',
      names: {
        '#redeemed': 'code_redeemed_at',
        '#refresh': 'refresh_hashes',
        '#used': 'last_used_at',
        '#expires': GRANTS_TABLE_TTL_ATTRIBUTE,
      },
      values: { ':at': redeemedAt, ':codeExpires': codeExpiresAt },
    });
  }

  /** The conditions every use of a grant's refresh token shares: this client's, live, in time. */
  private static liveFor(r: Rotation) {
    return {
      condition: '#client = :client AND attribute_not_exists(#revoked) AND #expires > :now AND #grantExpires > :now',
      names: {
        '#client': 'client_id',
        '#revoked': 'revoked_at',
        '#expires': GRANTS_TABLE_TTL_ATTRIBUTE,
        '#grantExpires': 'grant_expires_at',
      },
      values: { ':client': r.clientId, ':now': r.now },
    };
  }

  rotateRefreshToken(r: Rotation): Promise<Written> {
    const live = DynamoDbGrantStore.liveFor(r);
    return this.updateGrant(r.grantId, {
      update: 'SET #previous = #current, #current = :new, #rotated = :now, #expires = :expiresAt, #used = :now',
      condition: `${live.condition} AND contains(#current, :presented)`,
      names: {
        ...live.names,
        '#current': 'refresh_hashes',
        '#previous': 'previous_hashes',
        '#rotated': 'rotated_at',
        '#used': 'last_used_at',
      },
      values: { ...live.values, ':new': [r.newHash], ':presented': r.presentedHash, ':expiresAt': r.expiresAt },
    });
  }

  addRefreshSibling(r: Rotation & { rotatedAfter: number; maxSiblings: number }): Promise<Written> {
    const live = DynamoDbGrantStore.liveFor(r);
    return this.updateGrant(r.grantId, {
      update: 'SET #current = list_append(#current, :new), #used = :now',
      condition: `${live.condition} AND contains(#previous, :presented) AND #rotated >= :after AND size(#current) < :max`,
      names: {
        ...live.names,
        '#current': 'refresh_hashes',
        '#previous': 'previous_hashes',
        '#rotated': 'rotated_at',
        '#used': 'last_used_at',
      },
      values: {
        ...live.values,
        ':new': [r.newHash],
        ':presented': r.presentedHash,
        ':after': r.rotatedAfter,
        ':max': r.maxSiblings,
      },
    });
  }

  releaseRotation(r: Rotation, before: GrantRecord): Promise<void> {
    const restore: string[] = ['#current = :oldCurrent', '#expires = :oldExpires'];
    const remove: string[] = [];
    const values: Record<string, unknown> = {
      ':oldCurrent': before.refresh_hashes ?? [],
      ':oldExpires': before.expires_at,
      ':new': r.newHash,
      ':one': 1,
      ':now': r.now,
    };
    if (before.previous_hashes) {
      restore.push('#previous = :oldPrevious');
      values[':oldPrevious'] = before.previous_hashes;
    } else remove.push('#previous');
    if (before.rotated_at !== undefined) {
      restore.push('#rotated = :oldRotated');
      values[':oldRotated'] = before.rotated_at;
    } else remove.push('#rotated');
    if (before.last_used_at !== undefined) {
      restore.push('#used = :oldUsed');
      values[':oldUsed'] = before.last_used_at;
    } else remove.push('#used');
    return this.undo(r.grantId, {
      update: `SET ${restore.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
      // Only while this rotation is still the last write: its new token the only current one.
      condition: 'contains(#current, :new) AND size(#current) = :one AND #rotated = :now',
      names: {
        '#current': 'refresh_hashes',
        '#previous': 'previous_hashes',
        '#rotated': 'rotated_at',
        '#used': 'last_used_at',
        '#expires': GRANTS_TABLE_TTL_ATTRIBUTE,
      },
      values,
    });
  }

  revokeGrant(grantId: string, now: number): Promise<void> {
    return this.run(async () => {
      try {
        await this.documentClient.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { [GRANTS_TABLE_KEY]: key.grant(grantId) },
            // The first revocation's time stays; revoking again is harmless.
            UpdateExpression: 'SET #revoked = if_not_exists(#revoked, :now)',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': GRANTS_TABLE_KEY, '#revoked': 'revoked_at' },
            ExpressionAttributeValues: { ':now': now },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    });
  }

  async revokeGrantByRefreshToken(grantId: string, clientId: string, tokenHash: string, now: number): Promise<boolean> {
    try {
      await this.run(() =>
        this.documentClient.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { [GRANTS_TABLE_KEY]: key.grant(grantId) },
            UpdateExpression: 'SET #revoked = if_not_exists(#revoked, :now)',
            ConditionExpression:
              'attribute_exists(#pk) AND #client = :client AND (contains(#current, :hash) OR contains(#previous, :hash))',
            ExpressionAttributeNames: {
              '#pk': GRANTS_TABLE_KEY,
              '#revoked': 'revoked_at',
              '#client': 'client_id',
              '#current': 'refresh_hashes',
              '#previous': 'previous_hashes',
            },
            ExpressionAttributeValues: { ':now': now, ':client': clientId, ':hash': tokenHash },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
