/**
 * DynamoDB adapter of ConsentWithdrawals (domain/consent-memory.ts): one grants-table item per
 * person and client whose access was withdrawn (the connected apps page, the admin CLI), under
 * `consent#<digest of both>`, so no subject or client id appears in a key. It lives as long as a
 * remembered approval can (then the TTL removes it): an approval older than that is gone anyway.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { sharedDocumentClient } from '../aws/dynamodb.js';
import { DEFAULT_LIFETIMES } from '../contract/environment.js';
import { GRANT_KEY_PREFIXES, GRANTS_TABLE_KEY, GRANTS_TABLE_TTL_ATTRIBUTE } from '../contract/tables.js';
import type { ConsentWithdrawals } from '../domain/consent-memory.js';
import { UnavailableError } from '../domain/oauth-error.js';

const WITHDRAWN_AT = 'withdrawn_at';

function keyOf(subject: string, clientId: string): string {
  const digest = createHash('sha256').update(`${subject}\u0000${clientId}`).digest('base64url');
  return `${GRANT_KEY_PREFIXES.consentWithdrawal}${digest}`;
}

export class DynamoDbConsentWithdrawals implements ConsentWithdrawals {
  constructor(
    private readonly tableName: string,
    private readonly documentClient: DynamoDBDocumentClient = sharedDocumentClient(),
  ) {}

  async withdrawnAt(subject: string, clientId: string): Promise<number | undefined> {
    try {
      const { Item } = await this.documentClient.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [GRANTS_TABLE_KEY]: keyOf(subject, clientId) },
          // Read just after a withdrawal on the page: a stale read would let the approval through.
          ConsistentRead: true,
          ProjectionExpression: '#at',
          ExpressionAttributeNames: { '#at': WITHDRAWN_AT },
        }),
      );
      const at = Item?.[WITHDRAWN_AT];
      return typeof at === 'number' ? at : undefined;
    } catch (error) {
      const unavailable = new UnavailableError('Authorization state could not be read; try again.');
      unavailable.cause = error;
      throw unavailable;
    }
  }

  /** Records that this person withdrew this client's access now (a later withdrawal replaces it). */
  async withdraw(subject: string, clientId: string, now: number): Promise<void> {
    await this.documentClient.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          [GRANTS_TABLE_KEY]: keyOf(subject, clientId),
          [WITHDRAWN_AT]: now,
          [GRANTS_TABLE_TTL_ATTRIBUTE]: now + DEFAULT_LIFETIMES.consentMemory,
        },
      }),
    );
  }
}
