/**
 * DynamoDB adapter of ClientDeletions (domain/client-management.ts): a client deleted through
 * RFC 7592 leaves one grants-table item, `deleted#<SHA-256 of its client_id>`, until every
 * access token issued before the deletion has expired (then the TTL removes it). The token
 * authorizer's grant reader (dynamodb-grant-status-reader.ts) reads it beside the grant, so the
 * client's access tokens stop within the grant-status cache period, as a revocation's do.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { sharedDocumentClient } from '../aws/dynamodb.js';
import { GRANT_KEY_PREFIXES, GRANTS_TABLE_KEY, GRANTS_TABLE_TTL_ATTRIBUTE } from '../contract/tables.js';
import type { ClientDeletions } from '../domain/client-management.js';
import { UnavailableError } from '../domain/oauth-error.js';

/** The attribute holding when the client was deleted (seconds since the epoch). */
export const DELETED_AT = 'deleted_at';

/** The key of a deleted client's item: a digest, so no client id (a URL, say) is a key. */
export function deletedClientKey(clientId: string): string {
  return `${GRANT_KEY_PREFIXES.deletedClient}${createHash('sha256').update(clientId).digest('base64url')}`;
}

export class DynamoDbClientDeletions implements ClientDeletions {
  constructor(
    private readonly tableName: string,
    private readonly documentClient: DynamoDBDocumentClient = sharedDocumentClient(),
  ) {}

  async record(clientId: string, now: number, keepUntil: number): Promise<void> {
    try {
      await this.documentClient.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [GRANTS_TABLE_KEY]: deletedClientKey(clientId),
            [DELETED_AT]: now,
            [GRANTS_TABLE_TTL_ATTRIBUTE]: keepUntil,
          },
        }),
      );
    } catch (error) {
      const unavailable = new UnavailableError('The client could not be deleted; try again.');
      unavailable.cause = error;
      throw unavailable;
    }
  }
}
