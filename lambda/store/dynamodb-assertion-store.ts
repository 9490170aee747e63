/**
 * Spent private_key_jwt assertion ids (domain/client-assertion.ts AssertionReplayStore) in the
 * grants table, under `jti#sha256:<base64url of SHA-256 of client_id, newline, jti>` (hashed: a
 * jti is the client's text and may be long), with the TTL attribute set to when the assertion
 * stops being acceptable. One conditional PutItem per assertion (aws/dynamodb.ts putIfAbsent):
 * the write that finds the key taken is the replay. Each write carries a random `attempt`, so a
 * retried write that meets its own first attempt is told apart from a concurrent replay of the
 * same assertion (whose item would otherwise be identical).
 *
 * DynamoDB's TTL deletes late, so an id stays spent a little longer than its assertion lives;
 * a later assertion reusing it is refused until then, which only a misbehaving client sees.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent, sharedDocumentClient } from '../aws/dynamodb.js';
import { GRANT_KEY_PREFIXES, GRANTS_TABLE_KEY, GRANTS_TABLE_TTL_ATTRIBUTE } from '../contract/tables.js';
import type { AssertionReplayStore } from '../domain/client-assertion.js';
import { UnavailableError } from '../domain/oauth-error.js';

/** The grants-table key of a client's (or, under `idjag#`, an identity provider's) spent jti. */
export function assertionKey(clientId: string, jti: string, prefix: string = GRANT_KEY_PREFIXES.assertion): string {
  const digest = createHash('sha256').update(`${clientId}\n${jti}`, 'utf8').digest('base64url');
  return `${prefix}sha256:${digest}`;
}

export class DynamoDbAssertionStore implements AssertionReplayStore {
  constructor(
    private readonly tableName: string,
    private readonly documentClient: DynamoDBDocumentClient = sharedDocumentClient(),
    /** `jti#` for client assertions; `idjag#` for ID-JAG assertions (keyed by their issuer). */
    private readonly prefix: string = GRANT_KEY_PREFIXES.assertion,
  ) {}

  async spend(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    const key = assertionKey(clientId, jti, this.prefix);
    try {
      const outcome = await putIfAbsent({
        documentClient: this.documentClient,
        tableName: this.tableName,
        key: GRANTS_TABLE_KEY,
        item: { [GRANTS_TABLE_KEY]: key, [GRANTS_TABLE_TTL_ATTRIBUTE]: expiresAt, attempt: randomUUID() },
        readBack: async () =>
          (
            await this.documentClient.send(
              new GetCommand({ TableName: this.tableName, Key: { [GRANTS_TABLE_KEY]: key }, ConsistentRead: true }),
            )
          ).Item,
      });
      return outcome === 'written';
    } catch {
      throw new UnavailableError('The client assertion could not be recorded; try again.');
    }
  }
}
