/**
 * The DynamoDB adapters and the use cases built on them, against dynalite behind a fault-injecting
 * proxy (test/support/fault-proxy.ts): throttling, 500s, slow answers, dropped connections, and
 * writes whose answer is lost after the table made them. Every store uses the product's own
 * createDocumentClient, so the SDK's real retries and timeouts are what is tested.
 *
 * What must hold: a transient fault is retried and the call succeeds; a persistent one ends in
 * UnavailableError (503 temporarily_unavailable) within a bounded time; a registration is stored
 * whole or not at all; a code is spent by one conditional write, and a fault after it leaves the
 * code spent and no usable tokens, never two token sets.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambda/aws/dynamodb.js';
import { clientMetadataValidator } from '../../lambda/domain/client-metadata.js';
import { ClientExistsError, type RegisteredClient } from '../../lambda/domain/clients.js';
import { hashSecret } from '../../lambda/domain/credentials.js';
import type { GrantRecord, PendingAuthorization } from '../../lambda/domain/grants.js';
import { OAuthError, UnavailableError } from '../../lambda/domain/oauth-error.js';
import { s256Challenge } from '../../lambda/domain/pkce.js';
import { registerClient } from '../../lambda/domain/registration.js';
import type { ServerConfig } from '../../lambda/domain/server-config.js';
import {
  exchangeAuthorizationCode,
  mintAuthorizationCode,
  refreshTokens,
  type TokenDeps,
} from '../../lambda/domain/token-service.js';
import { LocalSigningKey } from '../../lambda/keys/local-signing-key.js';
import { DynamoDbClientStore } from '../../lambda/store/dynamodb-client-store.js';
import { DynamoDbGrantStore } from '../../lambda/store/dynamodb-grant-store.js';
import { registeredClient } from '../support/clients.js';
import { useDynalite } from '../support/dynalite.js';
import { type FaultAction, type FaultProxy, type ProxiedRequest, startFaultProxy } from '../support/fault-proxy.js';

/** The tables; db.documents goes straight to dynalite, past the proxy: what is really in them. */
const db = useDynalite('faults');
const CLIENTS = db.clientsTable;
const GRANTS = db.grantsTable;
const ISSUER = 'https://as.example.com';
const RESOURCE = 'https://mcp.example.com/mcp';
const REDIRECT_URI = 'https://client.example/callback';
/** A liveness bound, not a performance target: 3 attempts of at most 2 s each, plus backoff. */
const LIVENESS_BOUND_MS = 15_000;

const config: ServerConfig = {
  issuer: ISSUER,
  resources: [RESOURCE],
  scopes: ['mcp:read'],
  accessTokenTtl: 600,
  refreshTokenIdleTtl: 3600,
  refreshTokenAbsoluteTtl: 86_400,
};

const APP = registeredClient({
  client_id: 'faults-app',
  redirect_uris: [REDIRECT_URI],
  grant_types: ['authorization_code', 'refresh_token'],
});

const TRANSIENT_FAULTS: Array<[string, FaultAction]> = [
  ['ProvisionedThroughputExceededException', { kind: 'throttle' }],
  ['ThrottlingException', { kind: 'throttle', error: 'ThrottlingException' }],
  ['500 InternalServerError', { kind: 'internal-error' }],
  ['a dropped connection', { kind: 'drop' }],
];

let proxy: FaultProxy;
let keyDir: string;
let key: LocalSigningKey;
const opened: DynamoDBDocumentClient[] = [];

beforeAll(async () => {
  proxy = await startFaultProxy(db.endpoint);
  keyDir = mkdtempSync(join(tmpdir(), 'dynamodb-faults-key-'));
  key = await LocalSigningKey.loadOrCreate(join(keyDir, 'signing-key.json'));
});

afterEach(() => {
  proxy.clearFaults();
  proxy.resetCounts();
  for (const client of opened.splice(0)) client.destroy();
});

afterAll(async () => {
  await proxy?.close();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

/**
 * Stores on a fresh document client through the proxy, as a function builds them: each test gets
 * the SDK's retry budget whole (failed retries spend it).
 */
function stores() {
  const documentClient = createDocumentClient(proxy.url);
  opened.push(documentClient);
  const grants = new DynamoDbGrantStore(GRANTS, documentClient);
  const deps: TokenDeps = { grants, signer: key, config, now: () => Math.floor(Date.now() / 1000) };
  return { clients: new DynamoDbClientStore(CLIENTS, documentClient), grants, deps };
}

/** A client of its own (a fresh client_id), with a registration token hash as registration stores. */
function newClient(overrides: Partial<RegisteredClient> = {}): RegisteredClient {
  return registeredClient({
    redirect_uris: [REDIRECT_URI],
    client_name: 'Fault Test Client',
    registration_token_hash: hashSecret(randomBytes(32).toString('base64url')),
    ...overrides,
  });
}

type Item = Record<string, unknown>;

async function scan(table: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await db.documents.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey as Item | undefined;
  } while (start);
  return items;
}

async function storedClients(clientId: string): Promise<Item[]> {
  return (await scan(CLIENTS)).filter((item) => item.client_id === clientId);
}

/** The grant a code or refresh token names, read straight from the table. */
async function grantOf(token: string): Promise<GrantRecord | undefined> {
  const grantId = token.split('.')[0];
  const { Item } = await db.documents.send(
    new GetCommand({ TableName: GRANTS, Key: { pk: `grant#${grantId}` }, ConsistentRead: true }),
  );
  return Item as GrantRecord | undefined;
}

/** How many items of the grants table hold grants (one per sign-in, whatever its tokens). */
async function grantItems(): Promise<number> {
  return (await scan(GRANTS)).filter((item) => String(item.pk).startsWith('grant#')).length;
}

function onTable(table: string) {
  return (request: ProxiedRequest) => (request.body as { TableName?: string } | undefined)?.TableName === table;
}

/** A PutItem of a grants-table item whose key starts with `prefix` (e.g. `refresh#`). */
function puttingKind(prefix: string) {
  return (request: ProxiedRequest) => {
    const body = request.body as { TableName?: string; Item?: { pk?: { S?: string } } } | undefined;
    return body?.TableName === GRANTS && (body.Item?.pk?.S ?? '').startsWith(prefix);
  };
}

type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number };

async function settle<T>(work: Promise<T>): Promise<Outcome<T>> {
  const started = performance.now();
  return work.then(
    (value) => ({ ok: true, value, ms: performance.now() - started }),
    (error: unknown) => ({ ok: false, error, ms: performance.now() - started }),
  );
}

/** The call ends, within the liveness bound, in UnavailableError: 503 temporarily_unavailable. */
async function expectUnavailable(work: Promise<unknown>): Promise<number> {
  const outcome = await settle(work);
  expect(outcome.ms, 'the call must end within the liveness bound').toBeLessThan(LIVENESS_BOUND_MS);
  expect(outcome.ok, 'the call should have failed').toBe(false);
  const { error } = outcome as { error: unknown };
  expect(error).toBeInstanceOf(UnavailableError);
  expect(error).toMatchObject({ code: 'temporarily_unavailable', status: 503 });
  return outcome.ms;
}

async function expectRefused(work: Promise<unknown>, code: string): Promise<OAuthError> {
  const outcome = await settle(work);
  expect(outcome.ok, 'the call should have been refused').toBe(false);
  const { error } = outcome as { error: unknown };
  expect(error).toBeInstanceOf(OAuthError);
  expect((error as OAuthError).code, (error as OAuthError).description).toBe(code);
  return error as OAuthError;
}

interface IssuedCode {
  code: string;
  grantId: string;
  params: Record<string, string>;
}

/** A code as the callback mints it (no faults meanwhile), and the request that redeems it. */
async function issueCode(deps: TokenDeps): Promise<IssuedCode> {
  const codeVerifier = randomBytes(32).toString('base64url');
  const pending: PendingAuthorization = {
    id: randomBytes(32).toString('base64url'),
    client_id: APP.client_id,
    redirect_uri: REDIRECT_URI,
    redirect_uri_in_request: true,
    code_challenge: s256Challenge(codeVerifier),
    scope: 'mcp:read',
    resource: RESOURCE,
    upstream_nonce: 'nonce',
    upstream_code_verifier: randomBytes(32).toString('base64url'),
    expires_at: Math.floor(Date.now() / 1000) + 600,
  };
  const code = await mintAuthorizationCode(deps, pending, 'alice');
  return {
    code,
    grantId: code.split('.')[0],
    params: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: codeVerifier },
  };
}

describe('the fault proxy', () => {
  /** A client that never retries, to see each fault as the SDK receives it. */
  function singleAttemptClient(): DynamoDBDocumentClient {
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: proxy.url, maxAttempts: 1 }));
    opened.push(client);
    return client;
  }

  function put(client: DynamoDBDocumentClient, id: string) {
    return client.send(new PutCommand({ TableName: CLIENTS, Item: newClient({ client_id: id }) }));
  }

  it('counts requests per operation and faults exactly the calls a rule names', async () => {
    const client = singleAttemptClient();
    const rule = proxy.inject({ operation: 'PutItem', action: { kind: 'internal-error' }, skip: 1, times: 1 });
    const outcomes = [];
    for (const id of ['proxy-a', 'proxy-b', 'proxy-c']) outcomes.push(await settle(put(client, id)));
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, false, true]);
    expect(outcomes[1]).toMatchObject({
      error: { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } },
    });
    expect(rule.hits).toBe(1);
    expect(proxy.counts()).toEqual({ PutItem: 3 });
    expect((await storedClients('proxy-b')).length).toBe(0);

    const measured = await proxy.measure(() => stores().clients.getById('proxy-a'));
    expect(measured.result?.client_id).toBe('proxy-a');
    expect(measured).toMatchObject({ counts: { GetItem: 1 }, total: 1 });
  });

  it.each([
    ['ProvisionedThroughputExceededException', { kind: 'throttle' }, 400],
    ['ThrottlingException', { kind: 'throttle', error: 'ThrottlingException' }, 400],
    ['InternalServerError', { kind: 'internal-error' }, 500],
  ] as Array<[string, FaultAction, number]>)('answers %s as DynamoDB does', async (name, action, status) => {
    proxy.inject({ operation: 'GetItem', action });
    const client = singleAttemptClient();
    const outcome = await settle(client.send(new GetCommand({ TableName: CLIENTS, Key: { client_id: 'x' } })));
    expect(outcome).toMatchObject({ ok: false, error: { name, $metadata: { httpStatusCode: status } } });
    // Other operations pass.
    expect((await settle(client.send(new ScanCommand({ TableName: CLIENTS, Limit: 1 })))).ok).toBe(true);
  });

  it('drops a connection before or after forwarding the request', async () => {
    const client = singleAttemptClient();
    proxy.inject({ operation: 'PutItem', action: { kind: 'drop' }, times: 1 });
    proxy.inject({ operation: 'PutItem', action: { kind: 'drop-after-forward' }, times: 1 });
    const unsent = await settle(put(client, 'proxy-dropped'));
    const unheard = await settle(put(client, 'proxy-unheard'));
    expect(unsent).toMatchObject({ ok: false, error: { code: 'ECONNRESET' } });
    expect(unheard).toMatchObject({ ok: false, error: { code: 'ECONNRESET' } });
    expect(await storedClients('proxy-dropped')).toEqual([]);
    expect((await storedClients('proxy-unheard')).length, 'the write happened though its answer was lost').toBe(1);
  });
});

describe('a transient fault is retried within the SDK’s bounded attempts', () => {
  it.each(TRANSIENT_FAULTS)('a registration survives two %s in a row', async (_name, action) => {
    const { clients } = stores();
    const client = newClient();
    const rule = proxy.inject({ operation: 'PutItem', action, times: 2 });
    await clients.create(client);
    expect(rule.hits).toBe(2);
    expect(proxy.counts().PutItem).toBe(3);
    expect(await storedClients(client.client_id)).toEqual([client]);
  });

  it('reads and single-use consumption survive faults too', async () => {
    const { clients, deps } = stores();
    const client = newClient();
    await clients.create(client);
    const issued = await issueCode(deps);

    proxy.inject({ operation: 'GetItem', action: { kind: 'internal-error' }, times: 2 });
    expect(await clients.getById(client.client_id)).toEqual(client);
    proxy.inject({ operation: 'UpdateItem', action: { kind: 'throttle', error: 'ThrottlingException' }, times: 2 });
    await expect(exchangeAuthorizationCode(deps, APP, issued.params)).resolves.toMatchObject({ token_type: 'Bearer' });
    expect(proxy.counts()).toMatchObject({ GetItem: 3, UpdateItem: 3 });
  });

  it('a table slow within the request timeout is only slow', async () => {
    const { clients } = stores();
    const client = newClient();
    await clients.create(client);
    proxy.inject({ operation: 'GetItem', action: { kind: 'delay', ms: 500 } });
    const outcome = await settle(clients.getById(client.client_id));
    expect(outcome).toMatchObject({ ok: true, value: client });
    expect(proxy.counts().GetItem).toBe(1);
  });
});

describe('a persistent fault ends in 503 temporarily_unavailable within a bounded time', () => {
  it.each(TRANSIENT_FAULTS)('registration under %s: 3 attempts, then 503, nothing stored', async (_name, action) => {
    const { clients } = stores();
    const client = newClient();
    proxy.inject({ operation: 'PutItem', action });
    await expectUnavailable(clients.create(client));
    expect(proxy.counts().PutItem).toBe(3);
    expect(await storedClients(client.client_id)).toEqual([]);
  });

  it('every grant-store operation answers 503 when the table keeps failing, and changes nothing', async () => {
    const { grants, deps } = stores();
    const issued = await issueCode(deps);
    const before = await scan(GRANTS);
    proxy.inject({ operation: '*', action: { kind: 'internal-error' }, when: onTable(GRANTS) });
    const now = Math.floor(Date.now() / 1000);
    const pending: PendingAuthorization = {
      id: 'p-1',
      client_id: APP.client_id,
      redirect_uri: REDIRECT_URI,
      redirect_uri_in_request: false,
      code_challenge: 'c',
      scope: '',
      resource: RESOURCE,
      upstream_nonce: 'n',
      upstream_code_verifier: 'v',
      expires_at: now + 60,
    };
    const rotation = {
      grantId: issued.grantId,
      clientId: APP.client_id,
      presentedHash: 'h',
      newHash: 'n',
      now,
      expiresAt: now + 60,
    };
    await expectUnavailable(grants.putPending(pending));
    await expectUnavailable(grants.takePending('p-1'));
    await expectUnavailable(grants.getGrant(issued.grantId));
    await expectUnavailable(grants.rotateRefreshToken(rotation));
    await expectUnavailable(grants.addRefreshSibling({ ...rotation, rotatedAfter: now, maxSiblings: 2 }));
    await expectUnavailable(grants.revokeGrant(issued.grantId, now));
    await expectUnavailable(grants.revokeGrantByRefreshToken(issued.grantId, APP.client_id, 'h', now));
    await expectUnavailable(exchangeAuthorizationCode(deps, APP, issued.params));
    expect(await scan(GRANTS)).toEqual(before);

    // The refused exchange left the code as it was: it still redeems once the table is back.
    proxy.clearFaults();
    await expect(exchangeAuthorizationCode(deps, APP, issued.params)).resolves.toMatchObject({
      refresh_token: expect.any(String),
    });
  });

  it(
    'a table slower than the request timeout gives 503 within the bound, not a wait',
    async () => {
      const { clients } = stores();
      const client = newClient();
      await clients.create(client);
      // Far beyond the 2 s request timeout: without an enforced timeout the call waits it out.
      proxy.inject({ operation: 'GetItem', action: { kind: 'delay', ms: 20_000 } });
      const ms = await expectUnavailable(clients.getById(client.client_id));
      expect(proxy.counts().GetItem).toBe(3);
      // Three attempts, each cut at the 2 s request timeout.
      expect(ms).toBeGreaterThanOrEqual(5_900);
    },
    LIVENESS_BOUND_MS * 2,
  );

  it(
    'a redemption slower than the request timeout answers 503; it lands late, so the code is spent and yields nothing',
    async () => {
      const { deps } = stores();
      const issued = await issueCode(deps);
      // Each attempt reaches the table after the client has given up on it: the first spends the code.
      proxy.inject({ operation: 'UpdateItem', action: { kind: 'delay', ms: 2_500 }, when: onTable(GRANTS) });
      await expectUnavailable(exchangeAuthorizationCode(deps, APP, issued.params));
      proxy.clearFaults();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const spent = await grantOf(issued.code);
      expect(spent?.code_redeemed_at).toBeDefined();
      // Its refresh token's secret never left the function: nobody holds a usable token.
      expect(spent?.refresh_hashes).toHaveLength(1);
      await expectRefused(exchangeAuthorizationCode(deps, APP, issued.params), 'invalid_grant');
      expect((await grantOf(issued.code))?.revoked_at, 'the replay revoked the grant').toBeDefined();
    },
    LIVENESS_BOUND_MS * 2,
  );
});

describe('a write whose answer is lost: the table made it, the client never heard', () => {
  const validate = clientMetadataValidator();

  it('a registration succeeds once, stored whole, with the credentials it answered', async () => {
    const { clients } = stores();
    const before = (await scan(CLIENTS)).length;
    const rule = proxy.inject({ operation: 'PutItem', action: { kind: 'drop-after-forward' }, times: 1 });
    const outcome = await settle(
      registerClient(
        { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic', client_name: 'Lost' },
        { store: clients, validate, issuer: ISSUER },
      ),
    );
    expect(rule.hits).toBe(1);
    // Before the fix the SDK's retry met its own item and the adapter said ClientExistsError: a 500.
    expect(outcome.ok ? undefined : outcome.error).toBeUndefined();
    const info = (outcome as { value: Awaited<ReturnType<typeof registerClient>> }).value;
    const stored = await storedClients(info.client_id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      client_id: info.client_id,
      client_name: 'Lost',
      redirect_uris: [REDIRECT_URI],
      client_secret_hash: hashSecret(info.client_secret as string),
      registration_token_hash: hashSecret(info.registration_access_token as string),
    });
    expect((await scan(CLIENTS)).length).toBe(before + 1);
    expect(proxy.counts()).toMatchObject({ PutItem: 2, GetItem: 1 });
  });

  it('a create still refuses a different client under an existing id, and keeps the stored one', async () => {
    const { clients } = stores();
    const client = newClient();
    await clients.create(client);
    await expect(clients.create({ ...client, client_name: 'Impostor' })).rejects.toBeInstanceOf(ClientExistsError);
    expect(await storedClients(client.client_id)).toEqual([client]);
  });

  it('when every answer is lost, registration answers 503 and the client is stored whole or not at all', async () => {
    const { clients } = stores();
    const written: string[] = [];
    proxy.inject({
      operation: 'PutItem',
      action: { kind: 'drop-after-forward' },
      when: (request) => {
        const id = (request.body as { Item?: { client_id?: { S?: string } } }).Item?.client_id?.S;
        if (id) written.push(id);
        return true;
      },
    });
    const before = (await scan(CLIENTS)).length;
    await expectUnavailable(
      registerClient(
        { redirect_uris: [REDIRECT_URI], client_name: 'Unheard' },
        { store: clients, validate, issuer: ISSUER },
      ),
    );
    expect(new Set(written).size, 'every attempt writes the same client').toBe(1);
    const stored = await storedClients(written[0] as string);
    expect((await scan(CLIENTS)).length - before).toBe(stored.length);
    expect(stored.length).toBeLessThanOrEqual(1);
    for (const item of stored) {
      expect(item).toMatchObject({
        client_name: 'Unheard',
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        client_id_issued_at: expect.any(Number),
        client_secret_hash: expect.any(String),
        registration_token_hash: expect.any(String),
      });
    }
  });

  it('a minted code, a pending authorization and an RFC 7592 replacement are stored once and succeed', async () => {
    const { clients, grants, deps } = stores();
    proxy.inject({
      operation: 'PutItem',
      action: { kind: 'drop-after-forward' },
      times: 1,
      when: puttingKind('grant#'),
    });
    // Before the fix the retry's ConditionalCheckFailedException escaped the adapter: a 500.
    const issued = await issueCode(deps);
    expect((await grants.getGrant(issued.grantId))?.client_id).toBe(APP.client_id);

    proxy.inject({
      operation: 'PutItem',
      action: { kind: 'drop-after-forward' },
      times: 1,
      when: puttingKind('pending#'),
    });
    const pending: PendingAuthorization = {
      id: randomBytes(32).toString('base64url'),
      client_id: APP.client_id,
      redirect_uri: REDIRECT_URI,
      redirect_uri_in_request: false,
      code_challenge: 'challenge',
      scope: 'mcp:read',
      resource: RESOURCE,
      upstream_nonce: 'nonce',
      upstream_code_verifier: 'verifier',
      expires_at: Math.floor(Date.now() / 1000) + 600,
    };
    await grants.putPending(pending);
    expect(await grants.getPending(pending.id)).toEqual(pending);

    const client = newClient();
    await clients.create(client);
    proxy.inject({ operation: 'PutItem', action: { kind: 'drop-after-forward' }, times: 1, when: onTable(CLIENTS) });
    const replacement = { ...client, client_name: 'Renamed' };
    expect(await clients.replace(replacement, client.registration_token_hash as string)).toBe(true);
    expect(await storedClients(client.client_id)).toEqual([replacement]);
    expect(proxy.counts().PutItem).toBe(2 + 2 + 1 + 2);
  });

  it('a code redemption: the code is spent, no usable tokens remain, and a second redemption fails', async () => {
    const { deps } = stores();
    const issued = await issueCode(deps);
    proxy.inject({ operation: 'UpdateItem', action: { kind: 'drop-after-forward' }, times: 1 });
    // The retry meets code_redeemed_at and cannot tell its own write from a concurrent
    // redemption's: it must treat it as a replay, never issue a second token set.
    const refused = await expectRefused(exchangeAuthorizationCode(deps, APP, issued.params), 'invalid_grant');
    expect(refused.status).toBe(400);
    // The dropped write, its retry, and the revocation.
    expect(proxy.counts().UpdateItem).toBe(3);
    const grant = await grantOf(issued.code);
    expect(grant?.code_redeemed_at).toBeDefined();
    expect(grant?.revoked_at).toBeDefined();
    await expectRefused(exchangeAuthorizationCode(deps, APP, issued.params), 'invalid_grant');
    expect(await grantItems()).toBeGreaterThan(0);
  });

  it('a redemption stores its one refresh token in the same write: one item, one token set', async () => {
    const { deps } = stores();
    const issued = await issueCode(deps);
    const before = await grantItems();
    proxy.resetCounts();
    const tokens = await exchangeAuthorizationCode(deps, APP, issued.params);
    expect(proxy.counts()).toMatchObject({ UpdateItem: 1 });
    expect(proxy.counts().PutItem ?? 0).toBe(0);
    expect(await grantItems(), 'no item but the grant').toBe(before);
    const grant = await grantOf(tokens.refresh_token as string);
    expect(grant?.grant_id).toBe(issued.grantId);
    expect(grant?.refresh_hashes).toEqual([hashSecret((tokens.refresh_token as string).split('.')[1])]);
    // A replay of the code ends the grant it was used for, refresh token included.
    await expectRefused(exchangeAuthorizationCode(deps, APP, issued.params), 'invalid_grant');
    await expectRefused(
      refreshTokens(deps, APP, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string }),
      'invalid_grant',
    );
  });

  it('a rotation whose answer is lost: the retry, within the grace window, gets a token of the same grant', async () => {
    const { deps } = stores();
    const issued = await issueCode(deps);
    const tokens = await exchangeAuthorizationCode(deps, APP, issued.params);
    proxy.resetCounts();
    proxy.inject({ operation: 'UpdateItem', action: { kind: 'drop-after-forward' }, times: 1 });
    const refresh = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string };
    const retried = await refreshTokens(deps, APP, refresh);
    const grant = await grantOf(retried.refresh_token as string);
    expect(grant?.grant_id, 'the same grant: never two live families').toBe(issued.grantId);
    expect(grant?.revoked_at).toBeUndefined();
    // The lost answer's token and the retry's are both of the current generation.
    expect(grant?.refresh_hashes).toHaveLength(2);
    await expect(
      refreshTokens(deps, APP, { grant_type: 'refresh_token', refresh_token: retried.refresh_token as string }),
    ).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  it('a rotation whose answer is lost, with no grace window (strict): the grant ends, and no second token set exists', async () => {
    const { deps } = stores();
    const strict: TokenDeps = { ...deps, config: { ...deps.config, refreshTokenReuseGrace: 0 } };
    const issued = await issueCode(strict);
    const tokens = await exchangeAuthorizationCode(strict, APP, issued.params);
    proxy.inject({ operation: 'UpdateItem', action: { kind: 'drop-after-forward' }, times: 1 });
    const refresh = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string };
    await expectRefused(refreshTokens(strict, APP, refresh), 'invalid_grant');
    const grant = await grantOf(tokens.refresh_token as string);
    expect(grant?.refresh_hashes).toHaveLength(1);
    expect(grant?.revoked_at).toBeDefined();
    await expectRefused(refreshTokens(strict, APP, refresh), 'invalid_grant');
  });

  it('taking a pending authorization: it is gone, and can never be completed twice', async () => {
    const { grants } = stores();
    const pending: PendingAuthorization = {
      id: randomBytes(32).toString('base64url'),
      client_id: APP.client_id,
      redirect_uri: REDIRECT_URI,
      redirect_uri_in_request: false,
      code_challenge: 'challenge',
      scope: 'mcp:read',
      resource: RESOURCE,
      upstream_nonce: 'nonce',
      upstream_code_verifier: 'verifier',
      expires_at: Math.floor(Date.now() / 1000) + 600,
    };
    await grants.putPending(pending);
    proxy.inject({ operation: 'DeleteItem', action: { kind: 'drop-after-forward' }, times: 1 });
    // The retry deletes nothing and so returns nothing: the callback answers as for an unknown request.
    expect(await grants.takePending(pending.id)).toBeUndefined();
    expect(await grants.getPending(pending.id)).toBeUndefined();
    expect(await grants.takePending(pending.id)).toBeUndefined();
  });
});
