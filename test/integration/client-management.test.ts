/**
 * RFC 7592 client management through the real handlers and dynalite: POST /register hands out
 * the registration_client_uri and registration access token, and the manage-client Lambda reads,
 * replaces and deletes the client with it, as API Gateway invokes it. Also the DynamoDB store's
 * guard: every replace or delete is conditioned on the registration token hash still stored.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RegisteredClient } from '../../lambda/domain/clients.js';
import { hashSecret, secretMatchesHash } from '../../lambda/domain/credentials.js';
import { DynamoDbClientStore } from '../../lambda/store/dynamodb-client-store.js';
import { apiEvent, authorizerRequest, lambdaContext } from '../support/api-gateway-events.js';
import { registeredClient } from '../support/clients.js';
import { useDynalite } from '../support/dynalite.js';

type Handler<E, R> = (event: E, context: Context) => Promise<R>;
type Json = Record<string, unknown>;

const ISSUER = 'https://gateway.example/v1';
const context = lambdaContext('test', 'req-1');

const db = useDynalite('client-management');
let store: DynamoDbClientStore;
let register: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;
let manage: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;
let authorize: Handler<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>;

beforeAll(async () => {
  // The clients table, and the grants table the authorizer may also need (its client lookups can be cached there).
  Object.assign(process.env, db.env());
  process.env.ISSUER_URL = ISSUER;
  store = new DynamoDbClientStore(db.clientsTable, db.documents);
  register = (await import('../../lambda/register.js')).handler as typeof register;
  manage = (await import('../../lambda/manage-client.js')).handler as typeof manage;
  authorize = (await import('../../lambda/redirect-uri-authorizer.js')).handler as typeof authorize;
});

// ---------------------------------------------------------------------------------------------
// Events and calls
// ---------------------------------------------------------------------------------------------

function registrationEvent(body: unknown): APIGatewayProxyEvent {
  return apiEvent({
    method: 'POST',
    path: '/register',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

interface ManageOptions {
  /** The registration access token, sent as `authorization: Bearer <token>`. */
  token?: string;
  /** The raw Authorization header, overriding `token`. */
  authorization?: string;
  /** The header's name as the client spelled it. */
  authorizationHeaderName?: string;
  /** A raw body string; objects are JSON-encoded. */
  body?: unknown;
  contentType?: string;
}

function manageEvent(method: string, clientId: string | null, options: ManageOptions = {}): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const authorization = options.authorization ?? (options.token !== undefined ? `Bearer ${options.token}` : undefined);
  if (authorization !== undefined) headers[options.authorizationHeaderName ?? 'authorization'] = authorization;
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  return apiEvent({
    method,
    path: clientId === null ? '/register/' : `/register/${encodeURIComponent(clientId)}`,
    resource: '/register/{client_id}',
    pathParameters: clientId === null ? null : { client_id: clientId },
    headers,
    body:
      options.body === undefined
        ? null
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: Json;
}

function toReply(result: APIGatewayProxyResult): Reply {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  const text = result.body ?? '';
  return { status: result.statusCode, headers, text, json: text ? (JSON.parse(text) as Json) : {} };
}

async function call(method: string, clientId: string | null, options: ManageOptions = {}): Promise<Reply> {
  return toReply(await manage(manageEvent(method, clientId, options), context));
}

interface Registered {
  clientId: string;
  token: string;
  secret?: string;
  response: Json;
}

async function registerClient(body: Json): Promise<Registered> {
  const reply = toReply(await register(registrationEvent(body), context));
  expect(reply.status, reply.text).toBe(201);
  return {
    clientId: reply.json.client_id as string,
    token: reply.json.registration_access_token as string,
    secret: reply.json.client_secret as string | undefined,
    response: reply.json,
  };
}

/** The item exactly as the table holds it. */
async function rawItem(clientId: string): Promise<Json | undefined> {
  const { Item } = await db.documents.send(
    new GetCommand({ TableName: db.clientsTable, Key: { client_id: clientId }, ConsistentRead: true }),
  );
  return Item as Json | undefined;
}

/** JSON with object keys sorted at every level: equal strings mean equal items, attribute for attribute. */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as Json)
          .sort()
          .map((key) => [key, sort((v as Json)[key])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

function expectOAuthError(reply: Reply, status: number, error: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers['content-type']).toBe('application/json');
  expect(reply.json.error, reply.text).toBe(error);
  expect(reply.json.error_description, reply.text).toEqual(expect.any(String));
}

function expectInvalidToken(reply: Reply): void {
  expectOAuthError(reply, 401, 'invalid_token');
  expect(reply.headers['www-authenticate']).toMatch(/^Bearer(\s|$)/);
  expect(reply.headers['www-authenticate']).toContain('error="invalid_token"');
}

function expectMissingToken(reply: Reply): void {
  expect(reply.status, reply.text).toBe(401);
  expect(reply.headers['www-authenticate']).toMatch(/^Bearer(\s|,|$)/);
}

function authorizeEvent(clientId: string): APIGatewayRequestAuthorizerEvent {
  return authorizerRequest({ path: '/authorize', query: { client_id: clientId } });
}

const PUBLIC_BODY: Json = {
  redirect_uris: ['https://app.example.com/cb'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  client_name: 'Managed Public Client',
  client_uri: 'https://app.example.com',
  contacts: ['ops@app.example.com'],
  scope: 'mcp:read',
  software_id: 'managed-public',
  software_version: '1.0.0',
};

const CONFIDENTIAL_BODY: Json = {
  redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  client_name: 'Managed Confidential Client',
};

// ---------------------------------------------------------------------------------------------
// Registration hands out the management credentials
// ---------------------------------------------------------------------------------------------

describe('POST /register: the RFC 7592 management fields', () => {
  it('answers with registration_client_uri = <issuer>/register/<client_id> and a ≥256-bit token', async () => {
    const reply = toReply(await register(registrationEvent(PUBLIC_BODY), context));
    expect(reply.status, reply.text).toBe(201);
    expect(reply.headers['cache-control']).toBe('no-store');
    const clientId = reply.json.client_id as string;
    const token = reply.json.registration_access_token as string;
    expect(reply.json.registration_client_uri).toBe(`${ISSUER}/register/${clientId}`);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(32);
  });

  it('hands every client a distinct token', async () => {
    const a = await registerClient(PUBLIC_BODY);
    const b = await registerClient(PUBLIC_BODY);
    expect(a.token).not.toBe(b.token);
  });

  it('stores the token only as a hash', async () => {
    const { clientId, token, secret } = await registerClient(CONFIDENTIAL_BODY);
    const item = await rawItem(clientId);
    expect(item).toBeDefined();
    const text = JSON.stringify(item);
    expect(text).not.toContain(token);
    expect(text).not.toContain(secret as string);
    expect(item).not.toHaveProperty('registration_access_token');
    expect(item).not.toHaveProperty('registration_client_uri');
    expect(item?.registration_token_hash).toMatch(/^sha256:/);
    expect(secretMatchesHash(token, item?.registration_token_hash as string)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// GET
// ---------------------------------------------------------------------------------------------

describe('GET /register/{client_id}', () => {
  it('returns a public client as registered, without the token, with no-store and CORS', async () => {
    const { clientId, token, response } = await registerClient(PUBLIC_BODY);
    const reply = await call('GET', clientId, { token });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['access-control-allow-origin']).toBe('*');
    const { registration_access_token: _token, ...expected } = response;
    expect(reply.json).toStrictEqual(expected);
    expect(reply.json).toMatchObject({
      client_id: clientId,
      client_id_issued_at: response.client_id_issued_at,
      registration_client_uri: `${ISSUER}/register/${clientId}`,
    });
    expect(reply.text).not.toContain(token);
    expect(reply.json).not.toHaveProperty('client_secret_expires_at');
  });

  it('returns a confidential client with client_secret_expires_at 0, never its secret or a hash', async () => {
    const { clientId, token, secret, response } = await registerClient(CONFIDENTIAL_BODY);
    const reply = await call('GET', clientId, { token });
    expect(reply.status, reply.text).toBe(200);
    const { registration_access_token: _token, client_secret: _secret, ...expected } = response;
    expect(reply.json).toStrictEqual(expected);
    expect(reply.json.client_secret_expires_at).toBe(0);
    expect(reply.json).not.toHaveProperty('client_secret');
    expect(reply.text).not.toContain(secret as string);
    expect(reply.text).not.toContain(token);
    expect(reply.text).not.toMatch(/hash|sha256:/);
  });

  it('accepts the header as API Gateway hands it on, capitalized, and the scheme in any case', async () => {
    const { clientId, token } = await registerClient(PUBLIC_BODY);
    const capitalized = await call('GET', clientId, { token, authorizationHeaderName: 'Authorization' });
    expect(capitalized.status, capitalized.text).toBe(200);
    const lowerScheme = await call('GET', clientId, { authorization: `bearer ${token}` });
    expect(lowerScheme.status, lowerScheme.text).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// Token checks
// ---------------------------------------------------------------------------------------------

describe('the registration access token', () => {
  let owner: Registered;
  let other: Registered;

  beforeAll(async () => {
    owner = await registerClient(CONFIDENTIAL_BODY);
    other = await registerClient(PUBLIC_BODY);
  });

  const putBody = () => ({ ...CONFIDENTIAL_BODY, client_id: owner.clientId, client_name: 'hijacked' });

  it.each(['GET', 'PUT', 'DELETE'])(
    '%s without an Authorization header → 401 with WWW-Authenticate: Bearer',
    async (method) => {
      const before = canonical(await rawItem(owner.clientId));
      const reply = await call(method, owner.clientId, method === 'PUT' ? { body: putBody() } : {});
      expectMissingToken(reply);
      expect(reply.headers['www-authenticate']).not.toContain('error=');
      expect(reply.headers['access-control-allow-origin']).toBe('*');
      expect(canonical(await rawItem(owner.clientId))).toBe(before);
    },
  );

  it.each([
    ['a Basic header', () => `Basic ${Buffer.from(`${owner.clientId}:${owner.secret}`).toString('base64')}`],
    ['"Bearer" with no token', () => 'Bearer '],
    ['the bare token without a scheme', () => owner.token],
  ])('GET with %s → 401 with a Bearer challenge', async (_name, authorization) => {
    const reply = await call('GET', owner.clientId, { authorization: authorization() });
    expectMissingToken(reply);
    expect(reply.text).not.toContain('redirect_uris');
  });

  it.each([
    ['a wrong token', () => 'x'.repeat(43)],
    ['another client’s token', () => other.token],
    ['the client secret instead of the token', () => owner.secret as string],
    [
      'the token with one character changed',
      () => `${owner.token.slice(0, -1)}${owner.token.endsWith('A') ? 'B' : 'A'}`,
    ],
  ])('%s → 401 invalid_token on GET, PUT and DELETE, and nothing changes', async (_name, token) => {
    const before = canonical(await rawItem(owner.clientId));
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const reply = await call(method, owner.clientId, {
        token: token(),
        ...(method === 'PUT' ? { body: putBody() } : {}),
      });
      expectInvalidToken(reply);
      expect(reply.headers['access-control-allow-origin']).toBe('*');
      expect(reply.text).not.toContain('redirect_uris');
    }
    expect(canonical(await rawItem(owner.clientId))).toBe(before);
  });

  it('an unknown client_id → 401 invalid_token, like a wrong token', async () => {
    expectInvalidToken(await call('GET', 'no-such-client', { token: owner.token }));
    expectInvalidToken(await call('GET', 'x'.repeat(5000), { token: owner.token }));
  });

  it('a token for one client, with the other client’s id in path and body → 401, both unchanged', async () => {
    const ownerBefore = canonical(await rawItem(owner.clientId));
    const otherBefore = canonical(await rawItem(other.clientId));
    const reply = await call('PUT', other.clientId, {
      token: owner.token,
      body: { ...PUBLIC_BODY, client_id: other.clientId, client_name: 'taken over' },
    });
    expectInvalidToken(reply);
    expect(canonical(await rawItem(owner.clientId))).toBe(ownerBefore);
    expect(canonical(await rawItem(other.clientId))).toBe(otherBefore);
  });

  it('a request without the client_id path parameter → 400 invalid_request', async () => {
    expectOAuthError(await call('GET', null, { token: owner.token }), 400, 'invalid_request');
  });

  it('PATCH → 405 with Allow, and nothing changes', async () => {
    const before = canonical(await rawItem(owner.clientId));
    const reply = await call('PATCH', owner.clientId, { token: owner.token, body: putBody() });
    expectOAuthError(reply, 405, 'invalid_request');
    expect(reply.headers.allow?.split(/,\s*/).sort()).toEqual(['DELETE', 'GET', 'PUT']);
    expect(canonical(await rawItem(owner.clientId))).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------
// PUT
// ---------------------------------------------------------------------------------------------

describe('PUT /register/{client_id}', () => {
  it('replaces the metadata, answers 200 no-store with the client, and keeps the token working', async () => {
    const { clientId, token, response } = await registerClient(PUBLIC_BODY);
    const hashBefore = (await rawItem(clientId))?.registration_token_hash;
    const body = {
      client_id: clientId,
      redirect_uris: ['https://app.example.com/new-cb', 'http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      client_name: 'Renamed',
      logo_uri: 'https://app.example.com/logo.png',
    };
    const reply = await call('PUT', clientId, { token, body });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['access-control-allow-origin']).toBe('*');
    const expected = {
      ...body,
      client_id_issued_at: response.client_id_issued_at,
      registration_client_uri: `${ISSUER}/register/${clientId}`,
    };
    expect(reply.json).toStrictEqual(expected);

    // Not rotated: the same token keeps working, and the stored hash is the one registration made.
    const read = await call('GET', clientId, { token });
    expect(read.status, read.text).toBe(200);
    expect(read.json).toStrictEqual(expected);
    expect((await rawItem(clientId))?.registration_token_hash).toBe(hashBefore);
    const again = await call('PUT', clientId, { token, body: { ...body, client_name: 'Renamed twice' } });
    expect(again.status, again.text).toBe(200);
    expect(again.json.client_name).toBe('Renamed twice');
    if ('registration_access_token' in reply.json) expect(reply.json.registration_access_token).toBe(token);
  });

  it('replaces the record whole: fields omitted from the PUT are gone, in the answer and in the table', async () => {
    const { clientId, token, response } = await registerClient(PUBLIC_BODY);
    const body = {
      client_id: clientId,
      redirect_uris: ['https://app.example.com/cb'],
      token_endpoint_auth_method: 'none',
    };
    const reply = await call('PUT', clientId, { token, body });
    expect(reply.status, reply.text).toBe(200);
    for (const gone of ['client_name', 'client_uri', 'contacts', 'scope', 'software_id', 'software_version']) {
      expect(reply.json, gone).not.toHaveProperty(gone);
    }
    // What registration defaults, the replacement defaults again.
    expect(reply.json.grant_types).toEqual(['authorization_code']);
    expect(reply.json.response_types).toEqual(['code']);

    const read = await call('GET', clientId, { token });
    expect(read.json).toStrictEqual({
      client_id: clientId,
      client_id_issued_at: response.client_id_issued_at,
      redirect_uris: ['https://app.example.com/cb'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      registration_client_uri: `${ISSUER}/register/${clientId}`,
    });
    const item = await rawItem(clientId);
    expect(Object.keys(item ?? {}).sort()).toEqual([
      'client_id',
      'client_id_issued_at',
      // The registration's activation deadline (REGISTRATION_ACTIVATION_HOURS): a PUT keeps it.
      'expires_at',
      'grant_types',
      'redirect_uris',
      'registration_token_hash',
      'response_types',
      'token_endpoint_auth_method',
    ]);
  });

  it('a public client switched to client_secret_post gets a new secret, stored only as its hash', async () => {
    const { clientId, token } = await registerClient(PUBLIC_BODY);
    const body = { ...PUBLIC_BODY, client_id: clientId, token_endpoint_auth_method: 'client_secret_post' };
    const reply = await call('PUT', clientId, { token, body });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json.token_endpoint_auth_method).toBe('client_secret_post');
    const secret = reply.json.client_secret as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(reply.json.client_secret_expires_at).toBe(0);
    expect(secret).not.toBe(token);

    const item = await rawItem(clientId);
    expect(JSON.stringify(item)).not.toContain(secret);
    expect(secretMatchesHash(secret, item?.client_secret_hash as string)).toBe(true);

    const read = await call('GET', clientId, { token });
    expect(read.status, read.text).toBe(200);
    expect(read.json).not.toHaveProperty('client_secret');
    expect(read.json.client_secret_expires_at).toBe(0);
    expect(read.text).not.toContain(secret);
  });

  it('a confidential client switched to none loses its secret', async () => {
    const { clientId, token, secret } = await registerClient(CONFIDENTIAL_BODY);
    const body = { ...CONFIDENTIAL_BODY, client_id: clientId, token_endpoint_auth_method: 'none' };
    const reply = await call('PUT', clientId, { token, body });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).not.toHaveProperty('client_secret');
    expect(reply.json).not.toHaveProperty('client_secret_expires_at');
    const item = await rawItem(clientId);
    expect(item).not.toHaveProperty('client_secret_hash');
    expect(JSON.stringify(item)).not.toContain(secret as string);
    const read = await call('GET', clientId, { token });
    expect(read.json.token_endpoint_auth_method).toBe('none');
    expect(read.json).not.toHaveProperty('client_secret_expires_at');
  });

  it('a confidential client that stays confidential keeps its secret and is not sent it again', async () => {
    const { clientId, token, secret } = await registerClient(CONFIDENTIAL_BODY);
    const hashBefore = (await rawItem(clientId))?.client_secret_hash;
    const body = { ...CONFIDENTIAL_BODY, client_id: clientId, token_endpoint_auth_method: 'client_secret_post' };
    const reply = await call('PUT', clientId, { token, body });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).not.toHaveProperty('client_secret');
    expect(reply.json.client_secret_expires_at).toBe(0);
    const item = await rawItem(clientId);
    expect(item?.client_secret_hash).toBe(hashBefore);
    expect(secretMatchesHash(secret as string, item?.client_secret_hash as string)).toBe(true);
  });

  it('accepts the current client_secret in the body', async () => {
    const { clientId, token, secret } = await registerClient(CONFIDENTIAL_BODY);
    const body = { ...CONFIDENTIAL_BODY, client_id: clientId, client_secret: secret, client_name: 'With secret' };
    const reply = await call('PUT', clientId, { token, body });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json.client_name).toBe('With secret');
    expect(reply.json).not.toHaveProperty('client_secret');
    const item = await rawItem(clientId);
    expect(secretMatchesHash(secret as string, item?.client_secret_hash as string)).toBe(true);
    expect(JSON.stringify(item)).not.toContain(secret as string);
  });

  describe('refusals change nothing stored', () => {
    let confidential: Registered;
    let publicClient: Registered;

    // Fresh clients for every case, so one wrongly accepted PUT cannot disturb the next case.
    beforeEach(async () => {
      confidential = await registerClient(CONFIDENTIAL_BODY);
      publicClient = await registerClient(PUBLIC_BODY);
    });

    const valid = (): Json => ({ ...CONFIDENTIAL_BODY, client_id: confidential.clientId, client_name: 'changed' });

    const cases: Array<[string, () => ManageOptions & { client?: () => Registered }, number, string]> = [
      [
        'a javascript: redirect URI',
        () => ({ body: { ...valid(), redirect_uris: ['javascript:alert(1)'] } }),
        400,
        'invalid_redirect_uri',
      ],
      [
        'one bad redirect URI among good ones',
        () => ({ body: { ...valid(), redirect_uris: ['https://claude.ai/cb', 'http://evil.example/cb'] } }),
        400,
        'invalid_redirect_uri',
      ],
      [
        'no redirect_uris',
        () => {
          const { redirect_uris: _uris, ...rest } = valid();
          return { body: rest };
        },
        400,
        'invalid_redirect_uri',
      ],
      [
        'an unknown token_endpoint_auth_method',
        () => ({ body: { ...valid(), token_endpoint_auth_method: 'client_secret_jwt' } }),
        400,
        'invalid_client_metadata',
      ],
      [
        'a non-https client_uri',
        () => ({ body: { ...valid(), client_uri: 'http://app.example' } }),
        400,
        'invalid_client_metadata',
      ],
      [
        'no client_id in the body',
        () => {
          const { client_id: _id, ...rest } = valid();
          return { body: rest };
        },
        400,
        'invalid_client_metadata',
      ],
      [
        'another client’s client_id in the body',
        () => ({ body: { ...valid(), client_id: publicClient.clientId } }),
        400,
        'invalid_client_metadata',
      ],
      [
        'registration_access_token in the body',
        () => ({ body: { ...valid(), registration_access_token: confidential.token } }),
        400,
        'invalid_client_metadata',
      ],
      [
        'registration_client_uri in the body',
        () => ({ body: { ...valid(), registration_client_uri: `${ISSUER}/register/${confidential.clientId}` } }),
        400,
        'invalid_client_metadata',
      ],
      [
        'client_secret_expires_at in the body',
        () => ({ body: { ...valid(), client_secret_expires_at: 0 } }),
        400,
        'invalid_client_metadata',
      ],
      [
        'client_id_issued_at in the body',
        () => ({ body: { ...valid(), client_id_issued_at: confidential.response.client_id_issued_at } }),
        400,
        'invalid_client_metadata',
      ],
      [
        'the whole GET answer sent back unchanged',
        () => ({ body: { ...confidential.response, client_secret: undefined, registration_access_token: undefined } }),
        400,
        'invalid_client_metadata',
      ],
      [
        'a wrong client_secret',
        () => ({ body: { ...valid(), client_secret: 'not-the-secret' } }),
        400,
        'invalid_client_metadata',
      ],
      // RFC 7592 2.2: a client_secret that is sent MUST match the current one; a non-string never does.
      [
        'a client_secret that is not a string (12345)',
        () => ({ body: { ...valid(), client_secret: 12345 } }),
        400,
        'invalid_client_metadata',
      ],
      [
        'the current client_secret wrapped in an array',
        () => ({ body: { ...valid(), client_secret: [confidential.secret] } }),
        400,
        'invalid_client_metadata',
      ],
      [
        'a client_secret for a public client',
        () => ({
          client: () => publicClient,
          body: { ...PUBLIC_BODY, client_id: publicClient.clientId, client_secret: 'invented' },
        }),
        400,
        'invalid_client_metadata',
      ],
      ['malformed JSON', () => ({ body: '{"client_id":' }), 400, 'invalid_client_metadata'],
      ['a JSON array', () => ({ body: JSON.stringify([valid()]) }), 400, 'invalid_client_metadata'],
      ['JSON null', () => ({ body: 'null' }), 400, 'invalid_client_metadata'],
      ['an empty body', () => ({ body: '' }), 400, 'invalid_client_metadata'],
      ['text/plain', () => ({ body: JSON.stringify(valid()), contentType: 'text/plain' }), 415, 'invalid_request'],
      ['a body over 64 KiB', () => ({ body: { ...valid(), client_name: 'x'.repeat(70_000) } }), 413, 'invalid_request'],
    ];

    const titled = cases.map(([name, options, status, error]) => [name, status, error, options] as const);

    it.each(titled)('%s → %i %s, the stored item unchanged byte for byte', async (_name, status, error, options) => {
      const { client, ...rest } = options();
      const target = client?.() ?? confidential;
      const before = await rawItem(target.clientId);
      expect(before).toBeDefined();
      const reply = await call('PUT', target.clientId, { token: target.token, ...rest });
      expectOAuthError(reply, status, error);
      expect(reply.headers['access-control-allow-origin']).toBe('*');
      expect(reply.json).not.toHaveProperty('client_secret');
      const after = await rawItem(target.clientId);
      expect(after).toStrictEqual(before);
      expect(canonical(after)).toBe(canonical(before));
      // And the client still answers with its old metadata.
      const read = await call('GET', target.clientId, { token: target.token });
      expect(read.status, read.text).toBe(200);
      expect(read.json.client_name).toBe(target.response.client_name);
    });
  });

  it('10 concurrent PUTs never merge: the final record is exactly one of the bodies', async () => {
    const { clientId, token, response } = await registerClient(PUBLIC_BODY);
    const bodies = Array.from({ length: 10 }, (_, i) => ({
      client_id: clientId,
      redirect_uris: [`https://app${i}.example.com/cb`, `https://app${i}.example.com/cb2`],
      token_endpoint_auth_method: 'none',
      grant_types: i % 2 === 0 ? ['authorization_code'] : ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: `concurrent-${i}`,
      // Fields only some bodies carry: a merge of two bodies would show one that is not its own.
      ...(i % 2 === 0 ? { client_uri: `https://app${i}.example.com` } : { software_id: `software-${i}` }),
      ...(i % 3 === 0 ? { contacts: [`admin${i}@example.com`] } : {}),
    }));
    const replies = await Promise.all(bodies.map((body) => call('PUT', clientId, { token, body })));
    for (const reply of replies) expect(reply.status, reply.text).toBe(200);

    const read = await call('GET', clientId, { token });
    expect(read.status, read.text).toBe(200);
    const winner = bodies.find((body) => body.client_name === read.json.client_name);
    expect(winner, read.text).toBeDefined();
    expect(read.json).toStrictEqual({
      ...winner,
      client_id_issued_at: response.client_id_issued_at,
      registration_client_uri: `${ISSUER}/register/${clientId}`,
    });
    const { registration_token_hash, ...stored } = (await rawItem(clientId)) ?? {};
    expect(secretMatchesHash(token, registration_token_hash as string)).toBe(true);
    expect(stored).toStrictEqual({
      ...winner,
      client_id_issued_at: response.client_id_issued_at,
      expires_at: (response.client_id_issued_at as number) + 24 * 3600,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// DELETE
// ---------------------------------------------------------------------------------------------

describe('DELETE /register/{client_id}', () => {
  it('answers 204 with an empty body, and the client is gone everywhere', async () => {
    const { clientId, token, secret } = await registerClient(CONFIDENTIAL_BODY);
    const allowed = await authorize(authorizeEvent(clientId), context);
    expect(allowed.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });

    const reply = await call('DELETE', clientId, { token });
    expect(reply.status, reply.text).toBe(204);
    expect(reply.text).toBe('');
    expect(reply.headers['access-control-allow-origin']).toBe('*');
    expect(reply.headers['cache-control']).toBe('no-store');

    expect(await rawItem(clientId)).toBeUndefined();
    expect(await store.getById(clientId)).toBeUndefined();
    const denied = await authorize(authorizeEvent(clientId), context);
    expect(denied.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    expect(denied.context?.error).toBe('invalid_client');

    // The deleted client's token opens nothing any more.
    expectInvalidToken(await call('GET', clientId, { token }));
    expectInvalidToken(await call('DELETE', clientId, { token }));
    expectInvalidToken(
      await call('PUT', clientId, {
        token,
        body: { ...CONFIDENTIAL_BODY, client_id: clientId, client_secret: secret },
      }),
    );
    // A PUT after the DELETE does not bring the client back.
    expect(await rawItem(clientId)).toBeUndefined();
  });

  it('leaves other clients alone', async () => {
    const a = await registerClient(PUBLIC_BODY);
    const b = await registerClient(PUBLIC_BODY);
    const before = canonical(await rawItem(b.clientId));
    expect((await call('DELETE', a.clientId, { token: a.token })).status).toBe(204);
    expect(canonical(await rawItem(b.clientId))).toBe(before);
    expect((await call('GET', b.clientId, { token: b.token })).status).toBe(200);
  });

  it('with a body on DELETE still deletes (DELETE bodies are not parsed)', async () => {
    const { clientId, token } = await registerClient(PUBLIC_BODY);
    const reply = await call('DELETE', clientId, { token, body: 'not json', contentType: 'text/plain' });
    expect(reply.status, reply.text).toBe(204);
    expect(await rawItem(clientId)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// The store's conditional writes
// ---------------------------------------------------------------------------------------------

describe('DynamoDbClientStore: replace and remove are guarded by the registration token hash', () => {
  it('replace with a stale token hash returns false and changes nothing', async () => {
    const { clientId, token } = await registerClient(PUBLIC_BODY);
    const before = (await rawItem(clientId)) as unknown as RegisteredClient;
    const stale = hashSecret(`${token}-stale`);
    const replacement: RegisteredClient = {
      ...before,
      client_name: 'written with a stale hash',
      registration_token_hash: stale,
    };
    expect(await store.replace(replacement, stale)).toBe(false);
    expect(canonical(await rawItem(clientId))).toBe(canonical(before));

    // With the stored hash the very same write goes through: the condition, not the write, refused it.
    const current = before.registration_token_hash as string;
    expect(await store.replace({ ...replacement, registration_token_hash: current }, current)).toBe(true);
    expect((await rawItem(clientId))?.client_name).toBe('written with a stale hash');
  });

  it('replace of a deleted client returns false and does not bring it back', async () => {
    const { clientId } = await registerClient(PUBLIC_BODY);
    const before = (await rawItem(clientId)) as unknown as RegisteredClient;
    const hash = before.registration_token_hash as string;
    expect(await store.remove(clientId, hash)).toBe(true);
    expect(await store.replace(before, hash)).toBe(false);
    expect(await rawItem(clientId)).toBeUndefined();
  });

  it('remove with a stale token hash returns false and keeps the client', async () => {
    const { clientId, token } = await registerClient(PUBLIC_BODY);
    const before = canonical(await rawItem(clientId));
    expect(await store.remove(clientId, hashSecret(`${token}-stale`))).toBe(false);
    expect(canonical(await rawItem(clientId))).toBe(before);
    expect(await store.remove('no-such-client', hashSecret(token))).toBe(false);
  });

  it('a client registered without a token hash cannot be managed at all', async () => {
    const legacy = registeredClient({
      client_id: `legacy-${Date.now()}`,
      redirect_uris: ['https://legacy.example/cb'],
      grant_types: ['authorization_code'],
    });
    await store.create(legacy);
    const before = canonical(await rawItem(legacy.client_id));
    expectInvalidToken(await call('GET', legacy.client_id, { token: 'x'.repeat(43) }));
    expectInvalidToken(await call('DELETE', legacy.client_id, { token: 'x'.repeat(43) }));
    expect(await store.replace({ ...legacy, client_name: 'x' }, hashSecret('anything'))).toBe(false);
    expect(canonical(await rawItem(legacy.client_id))).toBe(before);
  });
});
