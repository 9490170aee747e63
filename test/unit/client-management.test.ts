/**
 * RFC 7592 client management (lambda/domain/client-management.ts): read, replace and delete at
 * the registration_client_uri, each authorized by the client's own registration access token.
 * Against the in-memory ClientManagementStore adapter (lambda/store/memory-client-store.ts) and
 * the real metadata rules; clients are registered through the registration use case, so their
 * tokens and secrets are the ones a client would hold.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ENDPOINTS } from '../../lambda/contract/endpoints.js';
import { deleteClient, type ManagementDeps, readClient, replaceClient } from '../../lambda/domain/client-management.js';
import { clientMetadataValidator } from '../../lambda/domain/client-metadata.js';
import type { ClientManagementStore, RegisteredClient } from '../../lambda/domain/clients.js';
import { hashSecret, secretMatchesHash } from '../../lambda/domain/credentials.js';
import { OAuthError } from '../../lambda/domain/oauth-error.js';
import { type ClientInformation, registerClient } from '../../lambda/domain/registration.js';
import { MemoryClientStore } from '../../lambda/store/memory-client-store.js';
import { registeredClient } from '../support/clients.js';

const ISSUER = 'https://as.example.com/v1';
const ISSUED_AT = 1_800_000_000;
const validate = clientMetadataValidator();

/** A confidential client as Claude registers (test/fixtures/registrations/claude-ai-2026.json). */
const CONFIDENTIAL_BODY = {
  client_name: 'Claude',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
  redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
};
/** A public client with a loopback redirect URI, as desktop MCP clients register. */
const PUBLIC_BODY = {
  client_name: 'Desktop app',
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'none',
  redirect_uris: ['http://127.0.0.1:33418/callback'],
  scope: 'mcp:read',
};

type Body = Record<string, unknown>;

let store: MemoryClientStore;
let deps: ManagementDeps;
/** What deleteClient recorded: [client_id, when, kept until]. */
let deletions: Array<[string, number, number]>;
const NOW = 1_800_000_000;

beforeEach(() => {
  store = new MemoryClientStore();
  deletions = [];
  deps = {
    store,
    validate,
    issuer: ISSUER,
    deletions: { record: async (...deletion) => void deletions.push(deletion) },
    accessTokenTtl: 3600,
    now: () => NOW,
  };
});

interface Registered {
  clientId: string;
  token: string;
  secret?: string;
  bearer: string;
}

async function register(body: Record<string, unknown>): Promise<Registered> {
  const response = await registerClient(body, {
    store,
    validate,
    issuer: ISSUER,
    now: () => new Date(ISSUED_AT * 1000),
  });
  const token = response.registration_access_token as string;
  return {
    clientId: response.client_id,
    token,
    ...(response.client_secret ? { secret: response.client_secret } : {}),
    bearer: `Bearer ${token}`,
  };
}

async function refusal(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error, 'expected the call to be refused').toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

/** Everything a client sees of an error: the HTTP layer answers with exactly these. */
function seen(error: OAuthError) {
  return { code: error.code, description: error.description, status: error.status, headers: error.headers };
}

/** The one answer to a wrong, foreign or stale registration access token (RFC 7592 2, RFC 6750 3.1). */
const INVALID_TOKEN = {
  code: 'invalid_token',
  description: 'The registration access token is missing, wrong, or for another client.',
  status: 401,
  headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
};

/** The metadata a client sends back to replace its registration: what it read, without the server's fields. */
function replacementBody(info: ClientInformation, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const {
    registration_client_uri: _uri,
    registration_access_token: _token,
    client_secret_expires_at: _expires,
    client_id_issued_at: _issued,
    ...body
  } = info;
  return { ...body, ...changes };
}

type Operation = 'read' | 'replace' | 'delete';
const OPERATIONS: Operation[] = ['read', 'replace', 'delete'];

function operate(operation: Operation, clientId: string, authorization: string | undefined): Promise<unknown> {
  switch (operation) {
    case 'read':
      return readClient(deps, clientId, authorization);
    case 'replace':
      return replaceClient(deps, clientId, authorization, { ...CONFIDENTIAL_BODY, client_id: clientId });
    case 'delete':
      return deleteClient(deps, clientId, authorization);
  }
}

describe('the registration access token: a wrong, foreign or stale one is one 401 (RFC 7592 2, RFC 6750 3.1)', () => {
  // [case, what the request names and presents, given the client and another one]
  const CASES: Array<[string, (mine: Registered, other: Registered) => { clientId: string; authorization: string }]> = [
    ['a wrong token', (mine) => ({ clientId: mine.clientId, authorization: 'Bearer not-the-token' })],
    ["another client's token", (mine, other) => ({ clientId: mine.clientId, authorization: other.bearer })],
    [
      'a token for a client that does not exist',
      (mine) => ({ clientId: 'no-such-client', authorization: mine.bearer }),
    ],
    [
      'the client secret instead of the token',
      (mine) => ({ clientId: mine.clientId, authorization: `Bearer ${mine.secret}` }),
    ],
    [
      'the token with a character changed',
      (mine) => ({
        clientId: mine.clientId,
        authorization: `${mine.bearer.slice(0, -1)}${mine.bearer.endsWith('A') ? 'B' : 'A'}`,
      }),
    ],
  ];

  it.each(OPERATIONS.flatMap((operation) => CASES.map(([name, request]) => [operation, name, request] as const)))(
    '%s with %s: 401 invalid_token with the Bearer challenge, nothing changed',
    async (operation, _name, request) => {
      const mine = await register(CONFIDENTIAL_BODY);
      const other = await register(PUBLIC_BODY);
      const before = await store.getById(mine.clientId);
      const { clientId, authorization } = request(mine, other);
      expect(seen(await refusal(operate(operation, clientId, authorization)))).toStrictEqual(INVALID_TOKEN);
      expect(await store.getById(mine.clientId)).toStrictEqual(before);
      expect(store.size).toBe(2);
    },
  );

  it.each(OPERATIONS)(
    '%s of a client registered before registration tokens existed: the same 401',
    async (operation) => {
      const legacy = registeredClient({
        client_id: 'legacy-client',
        client_id_issued_at: ISSUED_AT,
        redirect_uris: ['https://legacy.example/cb'],
        grant_types: ['authorization_code'],
      });
      await store.create(legacy);
      const error = await refusal(operate(operation, legacy.client_id, 'Bearer anything'));
      expect(seen(error)).toStrictEqual(INVALID_TOKEN);
      expect(await store.getById(legacy.client_id)).toStrictEqual(legacy);
    },
  );

  it.each(
    OPERATIONS.flatMap((operation) =>
      (
        [
          ['no Authorization header', undefined],
          ['another scheme (Basic)', 'Basic Y2xpZW50OnNlY3JldA=='],
          ['Bearer without a token', 'Bearer'],
          ['Bearer with a token that is no b64token', 'Bearer not a token'],
        ] as const
      ).map(([name, authorization]) => [operation, name, authorization] as const),
    ),
  )(
    '%s with %s: 401 with a bare Bearer challenge, no error code (RFC 6750 3.1)',
    async (operation, _name, authorization) => {
      const mine = await register(CONFIDENTIAL_BODY);
      const before = await store.getById(mine.clientId);
      const error = await refusal(operate(operation, mine.clientId, authorization));
      expect(seen(error)).toStrictEqual({
        code: 'invalid_token',
        description: expect.any(String),
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
      expect(await store.getById(mine.clientId)).toStrictEqual(before);
    },
  );

  it.each([
    ['lower-case scheme (RFC 9110 11.1: case-insensitive)', (token: string) => `bearer ${token}`],
    ['several spaces after the scheme (RFC 6750 2.1: 1*SP)', (token: string) => `Bearer   ${token}`],
    ['surrounding whitespace', (token: string) => `  Bearer ${token} `],
  ])('the right token is accepted with %s', async (_name, header) => {
    const mine = await register(CONFIDENTIAL_BODY);
    await expect(readClient(deps, mine.clientId, header(mine.token))).resolves.toMatchObject({
      client_id: mine.clientId,
    });
  });
});

describe('readClient: the client information response, no secret in clear (RFC 7592 2.1, RFC 7591 3.2.1)', () => {
  it('answers the registered metadata and ids, with the registration_client_uri', async () => {
    const mine = await register(CONFIDENTIAL_BODY);
    const info = await readClient(deps, mine.clientId, mine.bearer);
    expect(info).toStrictEqual({
      client_id: mine.clientId,
      client_id_issued_at: ISSUED_AT,
      client_secret_expires_at: 0,
      registration_client_uri: `${ISSUER}${ENDPOINTS.registration}/${mine.clientId}`,
      client_name: 'Claude',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
    });
  });

  it('never tells the secret, the token, their hashes or when the client was last used', async () => {
    const mine = await register(CONFIDENTIAL_BODY);
    await store.recordUse(mine.clientId, ISSUED_AT + 60);
    const text = JSON.stringify(await readClient(deps, mine.clientId, mine.bearer));
    for (const secret of [
      mine.token,
      mine.secret as string,
      hashSecret(mine.token),
      hashSecret(mine.secret as string),
    ]) {
      expect(text).not.toContain(secret);
    }
    for (const field of ['client_secret"', 'registration_access_token', '_hash', 'last_used_at']) {
      expect(text).not.toContain(field);
    }
  });

  it('a public client has no client_secret_expires_at (it has no secret)', async () => {
    const mine = await register(PUBLIC_BODY);
    const info = await readClient(deps, mine.clientId, mine.bearer);
    expect(info).not.toHaveProperty('client_secret_expires_at');
    expect(info).toMatchObject({ token_endpoint_auth_method: 'none', scope: 'mcp:read' });
  });

  it('the registration_client_uri percent-encodes the client_id', async () => {
    await store.create({
      client_id: 'a b/c',
      client_id_issued_at: ISSUED_AT,
      redirect_uris: ['https://x.example/cb'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      registration_token_hash: hashSecret('token-of-a-b-c'),
    });
    const info = await readClient(deps, 'a b/c', 'Bearer token-of-a-b-c');
    expect(info.registration_client_uri).toBe(`${ISSUER}/register/a%20b%2Fc`);
  });
});

describe('replaceClient: the body replaces the registration whole (RFC 7592 2.2)', () => {
  it('stores exactly the validated body: omitted fields are gone, defaults applied, ids and token kept', async () => {
    const mine = await register(CONFIDENTIAL_BODY);
    await store.recordUse(mine.clientId, ISSUED_AT + 60);
    const before = (await store.getById(mine.clientId)) as RegisteredClient;
    const info = await replaceClient(deps, mine.clientId, mine.bearer, {
      client_id: mine.clientId,
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback'],
      token_endpoint_auth_method: 'client_secret_post',
      contacts: ['ops@example.com'],
    });
    const stored = await store.getById(mine.clientId);
    expect(stored).toStrictEqual({
      client_id: mine.clientId,
      client_id_issued_at: ISSUED_AT,
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback'],
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      contacts: ['ops@example.com'],
      client_secret_hash: before.client_secret_hash,
      registration_token_hash: before.registration_token_hash,
      last_used_at: ISSUED_AT + 60,
    });
    expect(info).toStrictEqual({
      client_id: mine.clientId,
      client_id_issued_at: ISSUED_AT,
      client_secret_expires_at: 0,
      registration_client_uri: `${ISSUER}/register/${mine.clientId}`,
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback'],
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      contacts: ['ops@example.com'],
    });
    // The registration access token is not rotated: the one the client holds still works.
    expect(info).not.toHaveProperty('registration_access_token');
    await expect(readClient(deps, mine.clientId, mine.bearer)).resolves.toStrictEqual(info);
  });

  it('sending back what was read (with the current secret) changes nothing', async () => {
    const mine = await register(CONFIDENTIAL_BODY);
    const before = await store.getById(mine.clientId);
    const info = await readClient(deps, mine.clientId, mine.bearer);
    const again = await replaceClient(
      deps,
      mine.clientId,
      mine.bearer,
      replacementBody(info, { client_secret: mine.secret }),
    );
    expect(again).toStrictEqual(info);
    expect(await store.getById(mine.clientId)).toStrictEqual(before);
  });

  it('accepts the server-set fields and client_secret sent as null: they count as absent (RFC 7591 2)', async () => {
    const mine = await register(CONFIDENTIAL_BODY);
    const info = await readClient(deps, mine.clientId, mine.bearer);
    const body = replacementBody(info, {
      registration_access_token: null,
      registration_client_uri: null,
      client_secret_expires_at: null,
      client_id_issued_at: null,
      client_secret: null,
    });
    await expect(replaceClient(deps, mine.clientId, mine.bearer, body)).resolves.toStrictEqual(info);
  });
});

describe('replaceClient: a refused update changes nothing stored (RFC 7592 2.2, RFC 7591 3.2.2)', () => {
  it.each([
    // [case, error, body from what was read (given the client and its secret)]
    [
      'no client_id (RFC 7592 2.2: MUST be sent)',
      'invalid_client_metadata',
      (b: Body) => ({ ...b, client_id: undefined }),
    ],
    ["another client's client_id", 'invalid_client_metadata', (b: Body) => ({ ...b, client_id: 'someone-else' })],
    ['a client_id that is not a string', 'invalid_client_metadata', (b: Body) => ({ ...b, client_id: 42 })],
    ...(
      [
        'registration_access_token',
        'registration_client_uri',
        'client_secret_expires_at',
        'client_id_issued_at',
      ] as const
    ).map(
      (field) =>
        [
          `the server-set ${field} (RFC 7592 2.2: MUST NOT be sent)`,
          'invalid_client_metadata',
          (b: Body) => ({ ...b, [field]: field.endsWith('_at') ? 0 : 'x' }),
        ] as const,
    ),
    [
      'a wrong client_secret (RFC 7592 2.2: must match)',
      'invalid_client_metadata',
      (b: Body) => ({ ...b, client_secret: 'guess' }),
    ],
    [
      'a client_secret that is not a string',
      'invalid_client_metadata',
      (b: Body, s?: string) => ({ ...b, client_secret: [s] }),
    ],
    ['no redirect_uris', 'invalid_redirect_uri', (b: Body) => ({ ...b, redirect_uris: undefined })],
    [
      'an http redirect URI on a public host',
      'invalid_redirect_uri',
      (b: Body) => ({ ...b, redirect_uris: ['http://evil.example/cb'] }),
    ],
    [
      'a redirect URI with a fragment',
      'invalid_redirect_uri',
      (b: Body) => ({ ...b, redirect_uris: ['https://claude.ai/cb#x'] }),
    ],
    [
      'grant_types without authorization_code',
      'invalid_client_metadata',
      (b: Body) => ({ ...b, grant_types: ['refresh_token'] }),
    ],
    [
      'an unknown token_endpoint_auth_method',
      'invalid_client_metadata',
      (b: Body) => ({ ...b, token_endpoint_auth_method: 'client_secret_jwt' }),
    ],
    ['a client_name too long', 'invalid_client_metadata', (b: Body) => ({ ...b, client_name: 'x'.repeat(201) })],
    ['an array body', 'invalid_client_metadata', (b: Body) => [b]],
    ['a string body', 'invalid_client_metadata', () => 'redirect_uris=https://claude.ai/cb'],
    ['a null body', 'invalid_client_metadata', () => null],
  ] as Array<[string, string, (body: Body, secret?: string) => unknown]>)('%s -> %s', async (_case, code, change) => {
    const mine = await register(CONFIDENTIAL_BODY);
    const before = await store.getById(mine.clientId);
    const info = await readClient(deps, mine.clientId, mine.bearer);
    const body = change(replacementBody(info), mine.secret);
    const error = await refusal(replaceClient(deps, mine.clientId, mine.bearer, body));
    expect(error.code, error.description).toBe(code);
    expect(error.status).toBe(400);
    expect(await store.getById(mine.clientId), 'nothing stored changed').toStrictEqual(before);
    await expect(readClient(deps, mine.clientId, mine.bearer)).resolves.toStrictEqual(info);
  });

  it.each(['registration_access_token', 'registration_client_uri', 'client_secret_expires_at', 'client_id_issued_at'])(
    'the error names the read-only field %s',
    async (field) => {
      const mine = await register(PUBLIC_BODY);
      const info = await readClient(deps, mine.clientId, mine.bearer);
      const error = await refusal(
        replaceClient(deps, mine.clientId, mine.bearer, replacementBody(info, { [field]: 1 })),
      );
      expect(error.description).toBe(`${field} is set by the server and may not be sent.`);
    },
  );

  it('a public client may not send a client_secret: it has none to match', async () => {
    const mine = await register(PUBLIC_BODY);
    const before = await store.getById(mine.clientId);
    const info = await readClient(deps, mine.clientId, mine.bearer);
    const error = await refusal(
      replaceClient(deps, mine.clientId, mine.bearer, replacementBody(info, { client_secret: 'anything' })),
    );
    expect(error.code).toBe('invalid_client_metadata');
    expect(await store.getById(mine.clientId)).toStrictEqual(before);
  });

  it('a token replaced or deleted between the check and the write: 401, the newer state kept', async () => {
    const mine = await register(CONFIDENTIAL_BODY);
    const racing: ClientManagementStore = {
      create: (client) => store.create(client),
      getById: async (clientId) => {
        const client = await store.getById(clientId);
        // Another request deletes the client just after this one read it.
        await store.remove(clientId, client?.registration_token_hash as string);
        return client;
      },
      replace: (client, hash) => store.replace(client, hash),
      remove: (clientId, hash) => store.remove(clientId, hash),
    };
    deps = { ...deps, store: racing };
    const body = { ...CONFIDENTIAL_BODY, client_id: mine.clientId, client_secret: mine.secret };
    expect(seen(await refusal(replaceClient(deps, mine.clientId, mine.bearer, body)))).toStrictEqual(INVALID_TOKEN);
    expect(store.size, 'the update did not bring the deleted client back').toBe(0);
  });
});

describe('replaceClient: the client secret is kept, issued or dropped with confidentiality, never rotated', () => {
  it('a confidential client stays confidential: the same secret, none in the answer', async () => {
    const mine = await register(CONFIDENTIAL_BODY);
    const info = await replaceClient(deps, mine.clientId, mine.bearer, {
      ...CONFIDENTIAL_BODY,
      client_id: mine.clientId,
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(info).not.toHaveProperty('client_secret');
    expect(info).toMatchObject({ token_endpoint_auth_method: 'client_secret_basic', client_secret_expires_at: 0 });
    const stored = await store.getById(mine.clientId);
    expect(secretMatchesHash(mine.secret as string, stored?.client_secret_hash as string)).toBe(true);
  });

  it.each([
    // [case, body changes]
    ['token_endpoint_auth_method client_secret_post', { token_endpoint_auth_method: 'client_secret_post' }],
    [
      'token_endpoint_auth_method omitted: the RFC 7591 2 default, client_secret_basic',
      { token_endpoint_auth_method: undefined },
    ],
  ])('a public client that becomes confidential (%s) gets a new secret, once', async (_case, changes) => {
    const mine = await register(PUBLIC_BODY);
    const info = await replaceClient(deps, mine.clientId, mine.bearer, {
      ...PUBLIC_BODY,
      client_id: mine.clientId,
      ...changes,
    });
    expect(info).toMatchObject({
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      client_secret_expires_at: 0,
    });
    const stored = await store.getById(mine.clientId);
    expect(stored?.client_secret_hash).toBe(hashSecret(info.client_secret as string));
    const read = await readClient(deps, mine.clientId, mine.bearer);
    expect(read, 'the secret is told once, in the answer to the update').not.toHaveProperty('client_secret');
  });

  it('a confidential client that becomes public loses its secret', async () => {
    const mine = await register(CONFIDENTIAL_BODY);
    const info = await replaceClient(deps, mine.clientId, mine.bearer, {
      ...PUBLIC_BODY,
      client_id: mine.clientId,
      client_secret: mine.secret,
    });
    expect(info).not.toHaveProperty('client_secret');
    expect(info).not.toHaveProperty('client_secret_expires_at');
    expect(await store.getById(mine.clientId)).not.toHaveProperty('client_secret_hash');
  });

  it('a public client that stays public has no secret', async () => {
    const mine = await register(PUBLIC_BODY);
    const info = await replaceClient(deps, mine.clientId, mine.bearer, { ...PUBLIC_BODY, client_id: mine.clientId });
    expect(info).not.toHaveProperty('client_secret');
    expect(await store.getById(mine.clientId)).not.toHaveProperty('client_secret_hash');
  });
});

describe('deleteClient: the registration is gone, and so is its token (RFC 7592 2.3)', () => {
  it('removes the client; every later call with its token is the same 401', async () => {
    const mine = await register(CONFIDENTIAL_BODY);
    const other = await register(PUBLIC_BODY);
    await expect(deleteClient(deps, mine.clientId, mine.bearer)).resolves.toBeUndefined();
    expect(await store.getById(mine.clientId)).toBeUndefined();
    // Remembered until every access token issued before it has expired: the resource refuses them.
    expect(deletions).toEqual([[mine.clientId, NOW, NOW + 3600]]);
    expect(await store.getById(other.clientId), 'only that client').toBeDefined();
    for (const operation of OPERATIONS) {
      expect(seen(await refusal(operate(operation, mine.clientId, mine.bearer))), operation).toStrictEqual(
        INVALID_TOKEN,
      );
    }
  });

  it('a delete whose conditional remove finds nothing matching is a 401, not a success', async () => {
    const mine = await register(CONFIDENTIAL_BODY);
    deps = {
      ...deps,
      store: {
        create: (client) => store.create(client),
        getById: (clientId) => store.getById(clientId),
        replace: (client, hash) => store.replace(client, hash),
        // Another request deleted (or replaced the token of) the client after this one read it.
        remove: async () => false,
      },
    };
    expect(seen(await refusal(deleteClient(deps, mine.clientId, mine.bearer)))).toStrictEqual(INVALID_TOKEN);
  });

  it("records no deletion for a wrong or another client's token", async () => {
    const mine = await register(CONFIDENTIAL_BODY);
    const other = await register(PUBLIC_BODY);
    await refusal(deleteClient(deps, mine.clientId, other.bearer));
    await refusal(deleteClient(deps, mine.clientId, 'Bearer not-the-token'));
    await refusal(deleteClient(deps, mine.clientId, undefined));
    expect(deletions).toEqual([]);
    expect(await store.getById(mine.clientId)).toBeDefined();
  });

  it('a deletion that cannot be recorded leaves the client in place (it can delete again)', async () => {
    const mine = await register(CONFIDENTIAL_BODY);
    deps = { ...deps, deletions: { record: () => Promise.reject(new Error('table down')) } };
    await expect(deleteClient(deps, mine.clientId, mine.bearer)).rejects.toThrow('table down');
    expect(await store.getById(mine.clientId)).toBeDefined();
  });
});
