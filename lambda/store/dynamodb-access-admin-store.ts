/**
 * DynamoDB adapter of the AccessAdminStore port (domain/access-admin.ts), for the admin CLI: it
 * runs with the operator's own credentials, never inside a function, so IAM is its
 * authentication (the README lists the actions it needs).
 *
 * A person's grants are one Query of the grants table's by-subject index (contract/grants-index.ts);
 * a client's are a paged Scan of the grants table with a filter, since the table has one index
 * only (DynamoDB adds at most one per table update; see that module). Reads name the attributes
 * they show, so no code or refresh-token hash, client secret or registration-token hash is read.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { GRANTS_BY_SUBJECT_INDEX } from '../contract/grants-index.js';
import {
  CLIENTS_TABLE_KEY,
  CLIENTS_TABLE_TTL_ATTRIBUTE,
  GRANT_KEY_PREFIXES,
  GRANTS_TABLE_KEY,
} from '../contract/tables.js';
import {
  type AccessAdminStore,
  AdminInputError,
  type ClientSummary,
  type GrantSummary,
  type Page,
  type Revocation,
} from '../domain/access-admin.js';
import { isActivationExpired, type StoredClient } from '../domain/client-activity.js';
import { DynamoDbConsentWithdrawals } from './dynamodb-consent-withdrawals.js';

/** DynamoDB's limit for a partition key value. */
const MAX_KEY_BYTES = 2048;

const CLIENT_ATTRIBUTES = [
  CLIENTS_TABLE_KEY,
  'client_name',
  'client_id_issued_at',
  'last_used_at',
  'token_endpoint_auth_method',
  'redirect_uris',
  CLIENTS_TABLE_TTL_ATTRIBUTE,
] as const;

const GRANT_ATTRIBUTES = [
  ...new Set<string>([
    GRANTS_BY_SUBJECT_INDEX.partitionKey,
    GRANTS_BY_SUBJECT_INDEX.sortKey,
    ...GRANTS_BY_SUBJECT_INDEX.projected,
  ]),
];

/** A projection of `attributes`, each by a placeholder name (some are reserved words). */
function projection(attributes: readonly string[]): { expression: string; names: Record<string, string> } {
  const names = Object.fromEntries(attributes.map((name, index) => [`#a${index}`, name]));
  return { expression: Object.keys(names).join(', '), names };
}

function storableKey(value: string): boolean {
  return value.length > 0 && Buffer.byteLength(value) <= MAX_KEY_BYTES;
}

/** The page token is the last key read, as base64url JSON: only a client_id, and a string. */
function encodeNext(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

function decodeNext(token: string): Record<string, string> {
  try {
    const key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (
      typeof key === 'object' &&
      key !== null &&
      Object.keys(key).length === 1 &&
      typeof (key as Record<string, unknown>)[CLIENTS_TABLE_KEY] === 'string'
    )
      return key as Record<string, string>;
  } catch {
    // Not JSON: refused below.
  }
  throw new AdminInputError('The page token is not one `clients list` printed.');
}

export class DynamoDbAccessAdminStore implements AccessAdminStore {
  constructor(
    private readonly tables: { clients: string; grants: string },
    private readonly documentClient: DynamoDBDocumentClient,
    /** The clock activation deadlines are read against, in seconds. */
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.withdrawals = new DynamoDbConsentWithdrawals(tables.grants, documentClient);
  }

  private readonly withdrawals: DynamoDbConsentWithdrawals;

  private summary(item: Record<string, unknown>): ClientSummary {
    const stored = item as unknown as StoredClient;
    const deadline = stored[CLIENTS_TABLE_TTL_ATTRIBUTE];
    return {
      client_id: stored.client_id,
      ...(stored.client_name !== undefined ? { client_name: stored.client_name } : {}),
      client_id_issued_at: stored.client_id_issued_at,
      ...(stored.last_used_at !== undefined ? { last_used_at: stored.last_used_at } : {}),
      ...(stored.token_endpoint_auth_method !== undefined
        ? { token_endpoint_auth_method: stored.token_endpoint_auth_method }
        : {}),
      ...(stored.redirect_uris !== undefined ? { redirect_uris: stored.redirect_uris } : {}),
      ...(deadline !== undefined
        ? { activation_deadline: deadline, activation_expired: isActivationExpired(stored, this.now()) }
        : {}),
    };
  }

  async listClients(limit: number, next?: string): Promise<Page<ClientSummary>> {
    const { expression, names } = projection(CLIENT_ATTRIBUTES);
    const page = await this.documentClient.send(
      new ScanCommand({
        TableName: this.tables.clients,
        Limit: limit,
        ProjectionExpression: expression,
        ExpressionAttributeNames: names,
        ...(next !== undefined ? { ExclusiveStartKey: decodeNext(next) } : {}),
      }),
    );
    const token = encodeNext(page.LastEvaluatedKey);
    return { items: (page.Items ?? []).map((item) => this.summary(item)), ...(token ? { next: token } : {}) };
  }

  async getClient(clientId: string): Promise<ClientSummary | undefined> {
    if (!storableKey(clientId)) return undefined;
    const { expression, names } = projection(CLIENT_ATTRIBUTES);
    const { Item } = await this.documentClient.send(
      new GetCommand({
        TableName: this.tables.clients,
        Key: { [CLIENTS_TABLE_KEY]: clientId },
        ProjectionExpression: expression,
        ExpressionAttributeNames: names,
        ConsistentRead: true,
      }),
    );
    return Item ? this.summary(Item) : undefined;
  }

  async deleteClient(clientId: string): Promise<boolean> {
    if (!storableKey(clientId)) return false;
    const { Attributes } = await this.documentClient.send(
      new DeleteCommand({
        TableName: this.tables.clients,
        Key: { [CLIENTS_TABLE_KEY]: clientId },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }

  async grantsOfSubject(subject: string): Promise<GrantSummary[]> {
    const index = GRANTS_BY_SUBJECT_INDEX;
    const { expression, names } = projection(GRANT_ATTRIBUTES);
    const grants: GrantSummary[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documentClient.send(
        new QueryCommand({
          TableName: this.tables.grants,
          IndexName: index.name,
          KeyConditionExpression: '#subject = :subject',
          ProjectionExpression: expression,
          ExpressionAttributeNames: { ...names, '#subject': index.partitionKey },
          ExpressionAttributeValues: { ':subject': subject },
          ScanIndexForward: false,
          ExclusiveStartKey: start,
        }),
      );
      grants.push(...((page.Items ?? []) as GrantSummary[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return grants;
  }

  async grantsOfClient(clientId: string): Promise<GrantSummary[]> {
    const { expression, names } = projection(GRANT_ATTRIBUTES);
    const grants: GrantSummary[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documentClient.send(
        new ScanCommand({
          TableName: this.tables.grants,
          // Pending requests carry a client_id too: grant items only.
          FilterExpression: 'begins_with(#pk, :grant) AND #client = :client',
          ProjectionExpression: expression,
          ExpressionAttributeNames: { ...names, '#pk': GRANTS_TABLE_KEY, '#client': 'client_id' },
          ExpressionAttributeValues: { ':grant': GRANT_KEY_PREFIXES.grant, ':client': clientId },
          ExclusiveStartKey: start,
        }),
      );
      grants.push(...((page.Items ?? []) as GrantSummary[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return grants.sort((a, b) => b.created_at - a.created_at);
  }

  async revokeGrant(grantId: string, now: number): Promise<Revocation> {
    const pk = `${GRANT_KEY_PREFIXES.grant}${grantId}`;
    if (!storableKey(grantId) || Buffer.byteLength(pk) > MAX_KEY_BYTES) return { outcome: 'missing' };
    try {
      // The same write as the token service's revocation (dynamodb-grant-store.ts revokeGrant),
      // answering with the grant as it was (for whom, which client, and the time already there).
      const { Attributes } = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tables.grants,
          Key: { [GRANTS_TABLE_KEY]: pk },
          UpdateExpression: 'SET #revoked = if_not_exists(#revoked, :now)',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': GRANTS_TABLE_KEY, '#revoked': 'revoked_at' },
          ExpressionAttributeValues: { ':now': now },
          ReturnValues: 'ALL_OLD',
        }),
      );
      // An operator or the person ended it: no browser's remembered approval may bring it back.
      const { subject, client_id: clientId } = (Attributes ?? {}) as { subject?: string; client_id?: string };
      if (subject && clientId) await this.withdrawals.withdraw(subject, clientId, now);
      const before = Attributes?.revoked_at as number | undefined;
      return before === undefined ? { outcome: 'revoked' } : { outcome: 'already-revoked', revokedAt: before };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { outcome: 'missing' };
      throw error;
    }
  }
}
