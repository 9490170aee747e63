/**
 * DynamoDB adapter of grant-status.ts's GrantStateReader: one GetItem of `grant#<id>`, reading
 * only the three fields that decide (revoked_at, expires_at, grant_expires_at), never a hash.
 * Strongly consistent, so a revocation written a moment ago is seen by the next read: the bound
 * is the cache period alone, not the cache period plus replication. Given the token's client, a
 * second GetItem, in parallel, of `deleted#<digest>` (dynamodb-client-deletions.ts): a client
 * deleted through RFC 7592 reads as a revoked grant. It needs dynamodb:GetItem on the grants
 * table, confined by dynamodb:LeadingKeys to `grant#*` and `deleted#*`.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { sharedDocumentClient } from '../aws/dynamodb.js';
import { GRANT_KEY_PREFIXES, GRANTS_TABLE_KEY, GRANTS_TABLE_TTL_ATTRIBUTE } from '../contract/tables.js';
import type { GrantState, GrantStateReader } from '../domain/grant-status.js';
import { DELETED_AT, deletedClientKey } from './dynamodb-client-deletions.js';

export class DynamoDbGrantStateReader implements GrantStateReader {
  constructor(
    private readonly tableName: string,
    private readonly documentClient: DynamoDBDocumentClient = sharedDocumentClient(),
  ) {}

  /** Errors propagate: the check turns them into GrantStatusUnavailableError (fail closed). */
  async read(grantId: string, clientId?: string): Promise<GrantState | undefined> {
    const [state, deletedAt] = await Promise.all([
      this.readGrant(grantId),
      clientId === undefined ? undefined : this.readDeletion(clientId),
    ]);
    if (!state || deletedAt === undefined) return state;
    return { ...state, revoked_at: Math.min(state.revoked_at ?? deletedAt, deletedAt) };
  }

  private async readDeletion(clientId: string): Promise<number | undefined> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [GRANTS_TABLE_KEY]: deletedClientKey(clientId) },
        ConsistentRead: true,
        ProjectionExpression: '#deleted',
        ExpressionAttributeNames: { '#deleted': DELETED_AT },
      }),
    );
    const at = Item?.[DELETED_AT];
    return typeof at === 'number' ? at : undefined;
  }

  private async readGrant(grantId: string): Promise<GrantState | undefined> {
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [GRANTS_TABLE_KEY]: `${GRANT_KEY_PREFIXES.grant}${grantId}` },
        ConsistentRead: true,
        ProjectionExpression: '#revoked, #expires, #grantExpires',
        ExpressionAttributeNames: {
          '#revoked': 'revoked_at',
          '#expires': GRANTS_TABLE_TTL_ATTRIBUTE,
          '#grantExpires': 'grant_expires_at',
        },
      }),
    );
    if (!Item) return undefined;
    const { revoked_at: revokedAt, expires_at: expiresAt, grant_expires_at: grantExpiresAt } = Item;
    // A record without its deadlines is not one this gateway wrote: treat it as no grant.
    if (typeof expiresAt !== 'number' || typeof grantExpiresAt !== 'number') return undefined;
    return {
      expires_at: expiresAt,
      grant_expires_at: grantExpiresAt,
      ...(revokedAt !== undefined ? { revoked_at: Number(revokedAt) } : {}),
    };
  }
}
