/**
 * Abuse controls against dynalite: the RFC 7591 initial access token at POST /register, idle
 * expiry of registered clients (use recorded at most once a day, by the token endpoint), and
 * registration activation (a registration that obtains no token in time stops working).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLIENTS_TABLE_TTL_ATTRIBUTE } from '../../lambda/contract/tables.js';
import { DAY_SECONDS, HOUR_SECONDS, isIdleExpired, shouldRecordUse } from '../../lambda/domain/client-activity.js';
import { clientMetadataValidator } from '../../lambda/domain/client-metadata.js';
import type { RegisteredClient } from '../../lambda/domain/clients.js';
import { DynamoDbClientDeletions } from '../../lambda/store/dynamodb-client-deletions.js';
import { DynamoDbClientStore } from '../../lambda/store/dynamodb-client-store.js';
import { DynamoDbGrantStore } from '../../lambda/store/dynamodb-grant-store.js';
import { ClientDirectory } from '../../lambda/wiring/clients.js';
import { apiEvent, authorizerRequest, lambdaContext } from '../support/api-gateway-events.js';
import { registeredClient } from '../support/clients.js';
import { useDynalite } from '../support/dynalite.js';

const context = lambdaContext('register', 'r');
const db = useDynalite('abuse');

beforeAll(() => {
  Object.assign(process.env, db.env(), { ISSUER_URL: 'https://gateway.example' });
});

function registration(authorization?: string): APIGatewayProxyEvent {
  return apiEvent({
    method: 'POST',
    path: '/register',
    headers: { 'Content-Type': 'application/json', ...(authorization ? { Authorization: authorization } : {}) },
    body: JSON.stringify({ redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none' }),
  });
}

describe('initial access token (RFC 7591 section 3)', () => {
  type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  let register: Handler;

  beforeAll(async () => {
    process.env.INITIAL_ACCESS_TOKEN = 'let-me-register-0123456789';
    vi.resetModules();
    register = (await import('../../lambda/register.js')).handler as Handler;
    delete process.env.INITIAL_ACCESS_TOKEN;
  });

  it.each([
    ['no token', undefined, 'Bearer'],
    ['a wrong token', 'Bearer not-the-token', 'Bearer error="invalid_token"'],
    ['the token under another scheme', 'Basic let-me-register-0123456789', 'Bearer'],
  ])('refuses %s with 401 invalid_token', async (_name, authorization, challenge) => {
    const result = await register(registration(authorization), context);
    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body).error).toBe('invalid_token');
    expect(result.headers?.['WWW-Authenticate']).toBe(challenge);
  });

  it('registers with the right token', async () => {
    const result = await register(registration('Bearer let-me-register-0123456789'), context);
    expect(result.statusCode).toBe(201);
  });

  it('is not asked for when none is configured', async () => {
    vi.resetModules();
    const open = (await import('../../lambda/register.js')).handler as Handler;
    expect((await open(registration(), context)).statusCode).toBe(201);
  });
});

describe('idle expiry', () => {
  const now = 1_900_000_000;
  /** Registered 100 days before `now`, never used. */
  const client = (overrides: Partial<RegisteredClient> = {}): RegisteredClient =>
    registeredClient({ client_id_issued_at: now - 100 * DAY_SECONDS, ...overrides });

  const cases: Array<[string, RegisteredClient, number, boolean]> = [
    ['never used, issued 100 days ago, 90-day limit', client(), 90, true],
    ['used 10 days ago', client({ last_used_at: now - 10 * DAY_SECONDS }), 90, false],
    ['issued yesterday', client({ client_id_issued_at: now - DAY_SECONDS }), 90, false],
    ['expiry off', client(), 0, false],
    ['a metadata-document client (issued_at 0)', client({ client_id_issued_at: 0 }), 1, false],
  ];
  // Titled by the expected outcome, not by the record (whose client_id is random).
  for (const [name, subject, days, expected] of cases) {
    it(`${name}: expired=${expected}`, () => {
      expect(isIdleExpired(subject, now, days)).toBe(expected);
    });
  }

  it('records use at most once a day', () => {
    expect(shouldRecordUse(client(), now)).toBe(true);
    expect(shouldRecordUse(client({ last_used_at: now - 3600 }), now)).toBe(false);
    expect(shouldRecordUse(client({ last_used_at: now - DAY_SECONDS }), now)).toBe(true);
  });

  it('hides an idle client from every look-up, and a recorded use brings it back', async () => {
    const store = new DynamoDbClientStore(db.clientsTable);
    const idle = client();
    await store.create(idle);
    const documents = { allowLoopbackHttp: false, resolve: async () => Promise.reject(new Error('unused')) };
    const directory = new ClientDirectory(store, documents, 90, () => now);
    expect(await directory.getById(idle.client_id)).toBeUndefined();
    await store.recordUse(idle.client_id, now - DAY_SECONDS);
    expect((await directory.getById(idle.client_id))?.client_id).toBe(idle.client_id);
  });

  it('does not bring a deleted client back by recording its use', async () => {
    const store = new DynamoDbClientStore(db.clientsTable);
    await store.recordUse('never-registered', now);
    expect(await store.getById('never-registered')).toBeUndefined();
  });
});

describe('registration activation (REGISTRATION_ACTIVATION_HOURS)', () => {
  type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  type Authorizer = (event: APIGatewayRequestAuthorizerEvent, context: Context) => Promise<APIGatewayAuthorizerResult>;
  const REDIRECT_URI = 'https://app.example/cb';
  const noDocuments = { allowLoopbackHttp: false, resolve: async () => Promise.reject(new Error('unused')) };
  let keyDir: string;

  beforeAll(() => {
    // The token entry builds its deployed handler at import: it needs a signing key.
    keyDir = mkdtempSync(join(tmpdir(), 'abuse-activation-key-'));
    process.env.SIGNING_KEY_FILE = join(keyDir, 'signing-key.json');
  });
  afterAll(() => {
    delete process.env.SIGNING_KEY_FILE;
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  /** The register function as deployed, with REGISTRATION_ACTIVATION_HOURS as given (undefined: unset). */
  async function registerWith(hours: string | undefined): Promise<Handler> {
    if (hours === undefined) delete process.env.REGISTRATION_ACTIVATION_HOURS;
    else process.env.REGISTRATION_ACTIVATION_HOURS = hours;
    vi.resetModules();
    try {
      return (await import('../../lambda/register.js')).handler as Handler;
    } finally {
      delete process.env.REGISTRATION_ACTIVATION_HOURS;
    }
  }

  async function registerOne(hours: string | undefined) {
    const register = await registerWith(hours);
    const result = await register(registration(), context);
    expect(result.statusCode, result.body).toBe(201);
    return JSON.parse(result.body) as {
      client_id: string;
      client_id_issued_at: number;
      registration_access_token: string;
    };
  }

  async function rawItem(clientId: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await db.documents.send(
      new GetCommand({ TableName: db.clientsTable, Key: { client_id: clientId }, ConsistentRead: true }),
    );
    return Item;
  }

  /** The four read paths, each handler built from ports that read the table at `clock()`. */
  async function readPaths(clock: () => number) {
    const store = new DynamoDbClientStore(db.clientsTable, db.documents, clock);
    const directory = new ClientDirectory(store, noDocuments, 0, clock);
    const [authorizer, token, revoke, manage] = await Promise.all([
      import('../../lambda/redirect-uri-authorizer.js'),
      import('../../lambda/token.js'),
      import('../../lambda/revoke.js'),
      import('../../lambda/manage-client.js'),
    ]);
    const tokenDeps = await token.depsFromEnv();
    const grants = new DynamoDbGrantStore(db.grantsTable, db.documents);
    return {
      authorize: authorizer.createHandler({ clients: directory }) as Authorizer,
      token: token.createHandler({ ...tokenDeps, grants, now: clock, clients: directory, activity: store }) as Handler,
      revoke: revoke.createHandler({ clients: directory, grants }) as Handler,
      manage: manage.createHandler({
        store,
        validate: clientMetadataValidator(),
        issuer: 'https://gateway.example',
        deletions: new DynamoDbClientDeletions(db.grantsTable, db.documents),
        accessTokenTtl: 3600,
        now: clock,
      }) as Handler,
    };
  }

  const form = (path: string, body: Record<string, string>) =>
    apiEvent({
      method: 'POST',
      path,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });

  /** What each read path answers for the client: 'registered' or 'unknown', by the path's own signal. */
  async function outcomes(clientId: string, registrationToken: string, clock: () => number) {
    const paths = await readPaths(clock);
    const authorize = await paths.authorize(
      authorizerRequest({
        path: '/authorize',
        query: {
          client_id: clientId,
          redirect_uri: REDIRECT_URI,
          response_type: 'code',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
        },
      }),
      context,
    );
    const token = await paths.token(
      form('/token', {
        grant_type: 'authorization_code',
        client_id: clientId,
        code: 'no-such-code',
        redirect_uri: REDIRECT_URI,
      }),
      context,
    );
    const revoke = await paths.revoke(form('/revoke', { client_id: clientId, token: 'no-such-token' }), context);
    const manage = await paths.manage(
      apiEvent({
        method: 'GET',
        path: `/register/${clientId}`,
        pathParameters: { client_id: clientId },
        headers: { Authorization: `Bearer ${registrationToken}` },
      }),
      context,
    );
    const error = (result: APIGatewayProxyResult) => (JSON.parse(result.body || '{}') as { error?: string }).error;
    return {
      authorize: authorize.policyDocument.Statement[0].Effect === 'Allow' ? 'registered' : 'unknown',
      // A known client with a bad code is invalid_grant; an unknown one is invalid_client.
      token: error(token) === 'invalid_client' ? 'unknown' : `registered (${error(token)})`,
      revoke: revoke.statusCode === 200 ? 'registered' : `unknown (${error(revoke)})`,
      manage: manage.statusCode === 200 ? 'registered' : `unknown (${manage.statusCode})`,
    };
  }

  const REGISTERED = {
    authorize: 'registered',
    token: 'registered (invalid_grant)',
    revoke: 'registered',
    manage: 'registered',
  };
  const UNKNOWN = {
    authorize: 'unknown',
    token: 'unknown',
    revoke: 'unknown (invalid_client)',
    manage: 'unknown (401)',
  };

  it('stores a new registration with its deadline, issued_at + 24 h by default, in the TTL attribute', async () => {
    const client = await registerOne(undefined);
    const item = await rawItem(client.client_id);
    expect(item?.[CLIENTS_TABLE_TTL_ATTRIBUTE]).toBe(client.client_id_issued_at + 24 * HOUR_SECONDS);
    expect(client).not.toHaveProperty(CLIENTS_TABLE_TTL_ATTRIBUTE);
  });

  it('takes the hours from REGISTRATION_ACTIVATION_HOURS', async () => {
    const client = await registerOne('2');
    expect((await rawItem(client.client_id))?.[CLIENTS_TABLE_TTL_ATTRIBUTE]).toBe(
      client.client_id_issued_at + 2 * HOUR_SECONDS,
    );
  });

  it('an unactivated registration works within the window, and is unknown to every read path from its deadline on', async () => {
    const client = await registerOne(undefined);
    const deadline = client.client_id_issued_at + 24 * HOUR_SECONDS;
    expect(await outcomes(client.client_id, client.registration_access_token, () => deadline - 1)).toEqual(REGISTERED);
    // DynamoDB's TTL deletes lazily (up to days): the item is still there, and still refused.
    expect(await outcomes(client.client_id, client.registration_access_token, () => deadline)).toEqual(UNKNOWN);
    expect(
      await outcomes(client.client_id, client.registration_access_token, () => deadline + 3 * DAY_SECONDS),
    ).toEqual(UNKNOWN);
    expect(await rawItem(client.client_id)).toBeDefined();
  });

  it('activation: one UpdateItem records the use and removes the deadline, and says it activated', async () => {
    const client = await registerOne(undefined);
    const send = vi.spyOn(db.documents, 'send');
    const store = new DynamoDbClientStore(db.clientsTable, db.documents);
    try {
      const at = client.client_id_issued_at + 60;
      expect(await store.recordUse(client.client_id, at)).toBe(true);
      expect(send).toHaveBeenCalledTimes(1);
      expect(send.mock.calls[0][0].constructor.name).toBe('UpdateCommand');
      const item = await rawItem(client.client_id);
      expect(item?.last_used_at).toBe(at);
      expect(item).not.toHaveProperty(CLIENTS_TABLE_TTL_ATTRIBUTE);
      send.mockClear();
      // A later record of use (a day on) is the same one request and is not an activation.
      expect(await store.recordUse(client.client_id, at + DAY_SECONDS)).toBe(false);
      expect(send).toHaveBeenCalledTimes(1);
    } finally {
      send.mockRestore();
    }
    const deadline = client.client_id_issued_at + 24 * HOUR_SECONDS;
    expect(await outcomes(client.client_id, client.registration_access_token, () => deadline + DAY_SECONDS)).toEqual(
      REGISTERED,
    );
  });

  it('a client registered before activation existed (no deadline) is not counted as an activation', async () => {
    const old = registeredClient({ client_id_issued_at: 1_700_000_000 });
    const store = new DynamoDbClientStore(db.clientsTable, db.documents);
    await store.create(old);
    expect(await store.recordUse(old.client_id, 1_800_000_000)).toBe(false);
    expect((await store.getById(old.client_id))?.last_used_at).toBe(1_800_000_000);
  });

  it('an RFC 7592 update keeps the deadline: registering then updating does not make a client permanent', async () => {
    const client = await registerOne(undefined);
    const deadline = client.client_id_issued_at + 24 * HOUR_SECONDS;
    const { manage } = await readPaths(() => deadline - 1);
    const updated = await manage(
      apiEvent({
        method: 'PUT',
        path: `/register/${client.client_id}`,
        pathParameters: { client_id: client.client_id },
        headers: { Authorization: `Bearer ${client.registration_access_token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          client_id: client.client_id,
          redirect_uris: [REDIRECT_URI],
          token_endpoint_auth_method: 'none',
          client_name: 'renamed',
        }),
      }),
      context,
    );
    expect(updated.statusCode, updated.body).toBe(200);
    expect(JSON.parse(updated.body)).not.toHaveProperty(CLIENTS_TABLE_TTL_ATTRIBUTE);
    const item = await rawItem(client.client_id);
    expect(item?.client_name).toBe('renamed');
    expect(item?.[CLIENTS_TABLE_TTL_ATTRIBUTE]).toBe(deadline);
    expect(await outcomes(client.client_id, client.registration_access_token, () => deadline)).toEqual(UNKNOWN);
  });

  it('a Client ID Metadata Document client is exempt: resolved past any deadline, and a stored issued_at 0 never expires', async () => {
    const url = 'https://tool.example/client.json';
    const document = registeredClient({ client_id: url, client_id_issued_at: 0 });
    const far = () => 2_000_000_000;
    const store = new DynamoDbClientStore(db.clientsTable, db.documents, far);
    const directory = new ClientDirectory(store, { allowLoopbackHttp: false, resolve: async () => document }, 0, far);
    expect((await directory.getById(url))?.client_id).toBe(url);
    const stray = registeredClient({ client_id_issued_at: 0 });
    await db.documents.send(
      new PutCommand({ TableName: db.clientsTable, Item: { ...stray, [CLIENTS_TABLE_TTL_ATTRIBUTE]: 1_800_000_000 } }),
    );
    expect((await store.getById(stray.client_id))?.client_id).toBe(stray.client_id);
  });

  it('0 turns it off: no deadline is stored and the client works long after', async () => {
    const client = await registerOne('0');
    expect(await rawItem(client.client_id)).not.toHaveProperty(CLIENTS_TABLE_TTL_ATTRIBUTE);
    const later = () => client.client_id_issued_at + 365 * DAY_SECONDS;
    expect(await outcomes(client.client_id, client.registration_access_token, later)).toEqual(REGISTERED);
  });
});
