/**
 * End to end: RFC 7592 client management against the real local server (`npm start`'s entry
 * point in a child process). A client registers, reads, replaces and deletes itself at its
 * registration_client_uri with fetch; a replaced client then runs a whole token flow with the
 * credentials the replacement gave it, and a deleted one is refused at once everywhere.
 */
import { createHash } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalServer } from '../support/local-server-fixture.js';
import { discover, obtainTokens, type RegisteredTestClient } from '../support/oauth-flow.js';

type Json = Record<string, unknown>;

const REDIRECT_URI = 'https://client.example/callback';
const ORIGIN = 'http://localhost:6274';
const CODE_CHALLENGE = createHash('sha256').update('e2e-client-management-verifier').digest('base64url');

const server = useLocalServer();
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  as = await discover(server.url);
});

interface Registered {
  clientId: string;
  uri: string;
  token: string;
  secret?: string;
  response: Json;
}

function publicBody(extra: Json = {}): Json {
  return {
    redirect_uris: [REDIRECT_URI],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    client_name: 'Managed E2E Client',
    ...extra,
  };
}

async function register(body: Json): Promise<Registered> {
  const res = await fetch(`${server.url}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: ORIGIN },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  const json = JSON.parse(text) as Json;
  return {
    clientId: json.client_id as string,
    uri: json.registration_client_uri as string,
    token: json.registration_access_token as string,
    secret: json.client_secret as string | undefined,
    response: json,
  };
}

interface Reply {
  res: Response;
  text: string;
  json: Json;
}

async function manage(
  method: string,
  uri: string,
  options: { token?: string; authorization?: string; body?: unknown } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { Origin: ORIGIN };
  const authorization = options.authorization ?? (options.token ? `Bearer ${options.token}` : undefined);
  if (authorization) headers.Authorization = authorization;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(uri, {
    method,
    headers,
    ...(options.body !== undefined
      ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
      : {}),
  });
  const text = await res.text();
  return { res, text, json: text ? (JSON.parse(text) as Json) : {} };
}

function expectCors(reply: Reply): void {
  expect(reply.res.headers.get('access-control-allow-origin'), `${reply.res.status} ${reply.text}`).toBe('*');
}

function expectOAuthError(reply: Reply, status: number, error: string): void {
  expect(reply.res.status, reply.text).toBe(status);
  expect(reply.res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  expect(reply.json.error, reply.text).toBe(error);
  expect(reply.json.error_description, reply.text).toEqual(expect.any(String));
}

function expectInvalidToken(reply: Reply): void {
  expectOAuthError(reply, 401, 'invalid_token');
  const challenge = reply.res.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^Bearer(\s|$)/);
  expect(challenge).toContain('error="invalid_token"');
  expectCors(reply);
  // A browser-based client can read the challenge.
  expect(reply.res.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('www-authenticate');
}

function authorize(clientId: string): Promise<Response> {
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    code_challenge: CODE_CHALLENGE,
    code_challenge_method: 'S256',
    state: 'management',
  });
  return fetch(`${server.url}/authorize?${query}`, { redirect: 'manual' });
}

/** A token request with a code nobody issued: client authentication decides between 401 and 400. */
async function tokenWithBogusCode(clientId: string, secret?: string): Promise<Reply> {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: 'no-such-code',
    redirect_uri: REDIRECT_URI,
    code_verifier: 'e2e-client-management-verifier-e2e-client-management',
    client_id: clientId,
    ...(secret !== undefined ? { client_secret: secret } : {}),
  });
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  const text = await res.text();
  return { res, text, json: JSON.parse(text) as Json };
}

describe('register, read, replace, delete over HTTP', () => {
  it('walks the whole RFC 7592 life cycle at the registration_client_uri', async () => {
    const client = await register(publicBody({ client_uri: 'https://client.example' }));
    expect(client.uri).toBe(`${server.url}/register/${client.clientId}`);
    expect(Buffer.from(client.token, 'base64url').length).toBeGreaterThanOrEqual(32);

    const read = await manage('GET', client.uri, { token: client.token });
    expect(read.res.status, read.text).toBe(200);
    expect(read.res.headers.get('cache-control')).toBe('no-store');
    expect(read.res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
    expectCors(read);
    const { registration_access_token: _token, ...expected } = client.response;
    expect(read.json).toStrictEqual(expected);
    expect(read.text).not.toContain(client.token);

    const body = {
      client_id: client.clientId,
      redirect_uris: [REDIRECT_URI, 'http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      client_name: 'Renamed over HTTP',
    };
    const replaced = await manage('PUT', client.uri, { token: client.token, body });
    expect(replaced.res.status, replaced.text).toBe(200);
    expect(replaced.res.headers.get('cache-control')).toBe('no-store');
    expectCors(replaced);
    const afterPut = {
      ...body,
      client_id_issued_at: client.response.client_id_issued_at,
      registration_client_uri: client.uri,
    };
    expect(replaced.json).toStrictEqual(afterPut);

    // The token was not rotated; client_uri, omitted from the PUT, is gone.
    const reread = await manage('GET', client.uri, { token: client.token });
    expect(reread.res.status, reread.text).toBe(200);
    expect(reread.json).toStrictEqual(afterPut);
    expect(reread.json).not.toHaveProperty('client_uri');

    const deleted = await manage('DELETE', client.uri, { token: client.token });
    expect(deleted.res.status, deleted.text).toBe(204);
    expect(deleted.text).toBe('');
    expectCors(deleted);

    expectInvalidToken(await manage('GET', client.uri, { token: client.token }));
    expectInvalidToken(await manage('DELETE', client.uri, { token: client.token }));
  });

  it('a refused PUT (javascript: redirect URI) changes nothing', async () => {
    const client = await register(publicBody());
    const before = await manage('GET', client.uri, { token: client.token });
    const refused = await manage('PUT', client.uri, {
      token: client.token,
      body: { ...publicBody(), client_id: client.clientId, redirect_uris: ['javascript:alert(1)'] },
    });
    expectOAuthError(refused, 400, 'invalid_redirect_uri');
    expectCors(refused);
    const after = await manage('GET', client.uri, { token: client.token });
    expect(after.json).toStrictEqual(before.json);
    const stillAdmitted = await authorize(client.clientId);
    expect(stillAdmitted.status, await stillAdmitted.text()).toBe(200);
  });

  it('a PUT with a read-only field is refused with invalid_client_metadata', async () => {
    const client = await register(publicBody());
    const refused = await manage('PUT', client.uri, {
      token: client.token,
      body: { ...publicBody(), client_id: client.clientId, registration_client_uri: client.uri },
    });
    expectOAuthError(refused, 400, 'invalid_client_metadata');
  });
});

describe('Bearer checks over HTTP', () => {
  let owner: Registered;
  let other: Registered;

  beforeAll(async () => {
    owner = await register(publicBody());
    other = await register(publicBody());
  });

  it('no Authorization header → 401 with WWW-Authenticate: Bearer and CORS', async () => {
    for (const method of ['GET', 'DELETE']) {
      const reply = await manage(method, owner.uri);
      expect(reply.res.status, reply.text).toBe(401);
      expect(reply.res.headers.get('www-authenticate') ?? '').toMatch(/^Bearer(\s|,|$)/);
      expect(reply.json.error, reply.text).toEqual(expect.any(String));
      expectCors(reply);
    }
    const put = await manage('PUT', owner.uri, { body: { ...publicBody(), client_id: owner.clientId } });
    expect(put.res.status, put.text).toBe(401);
    expect(put.res.headers.get('www-authenticate') ?? '').toMatch(/^Bearer(\s|,|$)/);
  });

  it.each([
    ['a wrong token', () => 'x'.repeat(43)],
    ['another client’s token', () => other.token],
  ])('%s → 401 invalid_token with CORS, and nothing changes', async (_name, token) => {
    const before = await manage('GET', owner.uri, { token: owner.token });
    expectInvalidToken(await manage('GET', owner.uri, { token: token() }));
    expectInvalidToken(
      await manage('PUT', owner.uri, {
        token: token(),
        body: { ...publicBody(), client_id: owner.clientId, client_name: 'hijacked' },
      }),
    );
    expectInvalidToken(await manage('DELETE', owner.uri, { token: token() }));
    const after = await manage('GET', owner.uri, { token: owner.token });
    expect(after.res.status, after.text).toBe(200);
    expect(after.json).toStrictEqual(before.json);
  });

  it('PATCH on /register/{id} → a 4xx JSON error with CORS, and nothing changes', async () => {
    const before = await manage('GET', owner.uri, { token: owner.token });
    const reply = await manage('PATCH', owner.uri, {
      token: owner.token,
      body: { client_id: owner.clientId, client_name: 'patched' },
    });
    expect(reply.res.status, reply.text).toBeGreaterThanOrEqual(400);
    expect(reply.res.status, reply.text).toBeLessThan(500);
    expect(reply.res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
    expect(reply.json.error, reply.text).toEqual(expect.any(String));
    expectCors(reply);
    const after = await manage('GET', owner.uri, { token: owner.token });
    expect(after.json).toStrictEqual(before.json);
  });

  it.each(['GET', 'PUT', 'DELETE'])(
    'a preflight for %s /register/{id} allows it with Authorization',
    async (method) => {
      const res = await fetch(owner.uri, {
        method: 'OPTIONS',
        headers: {
          Origin: ORIGIN,
          'Access-Control-Request-Method': method,
          'Access-Control-Request-Headers': 'authorization,content-type',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')?.split(',')).toContain(method);
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(
        expect.arrayContaining(['authorization', 'content-type']),
      );
    },
  );
});

describe('a replaced client authenticates as replaced', () => {
  it('none → client_secret_post: the new secret runs a whole token flow; no secret no longer works', async () => {
    const client = await register(publicBody());
    expect(client.secret).toBeUndefined();
    const replaced = await manage('PUT', client.uri, {
      token: client.token,
      body: { ...publicBody(), client_id: client.clientId, token_endpoint_auth_method: 'client_secret_post' },
    });
    expect(replaced.res.status, replaced.text).toBe(200);
    const secret = replaced.json.client_secret as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(replaced.json.client_secret_expires_at).toBe(0);

    const read = await manage('GET', client.uri, { token: client.token });
    expect(read.json).not.toHaveProperty('client_secret');
    expect(read.text).not.toContain(secret);

    const registered: RegisteredTestClient = {
      client: {
        client_id: client.clientId,
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [REDIRECT_URI],
      } as oauth.Client,
      auth: oauth.ClientSecretPost(secret),
      redirectUri: REDIRECT_URI,
    };
    const tokens = await obtainTokens(as, registered, { username: 'alice' });
    expect(tokens.access_token).toEqual(expect.any(String));
    expect(tokens.refresh_token).toEqual(expect.any(String));

    // Authenticating the old way (no secret), or with a wrong one, is refused before the code is looked at.
    expectOAuthError(await tokenWithBogusCode(client.clientId), 401, 'invalid_client');
    expectOAuthError(await tokenWithBogusCode(client.clientId, `${secret}x`), 401, 'invalid_client');
    expectOAuthError(await tokenWithBogusCode(client.clientId, secret), 400, 'invalid_grant');
  });

  it('client_secret_post → none: the old secret stops working and the public flow runs', async () => {
    const client = await register(publicBody({ token_endpoint_auth_method: 'client_secret_post' }));
    const secret = client.secret as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expectOAuthError(await tokenWithBogusCode(client.clientId, secret), 400, 'invalid_grant');

    const replaced = await manage('PUT', client.uri, {
      token: client.token,
      body: { ...publicBody(), client_id: client.clientId, client_secret: secret, token_endpoint_auth_method: 'none' },
    });
    expect(replaced.res.status, replaced.text).toBe(200);
    expect(replaced.json).not.toHaveProperty('client_secret');
    expect(replaced.json).not.toHaveProperty('client_secret_expires_at');

    expectOAuthError(await tokenWithBogusCode(client.clientId, secret), 401, 'invalid_client');
    expectOAuthError(await tokenWithBogusCode(client.clientId), 400, 'invalid_grant');
    const tokens = await obtainTokens(as, {
      client: { client_id: client.clientId, token_endpoint_auth_method: 'none' } as oauth.Client,
      auth: oauth.None(),
      redirectUri: REDIRECT_URI,
    });
    expect(tokens.access_token).toEqual(expect.any(String));
  });
});

describe('a deleted client is refused at once', () => {
  it('DELETE → /authorize 403 invalid_client within a second, /token 401 invalid_client', async () => {
    const client = await register(publicBody({ token_endpoint_auth_method: 'client_secret_post' }));
    const secret = client.secret as string;

    const admitted = await authorize(client.clientId);
    expect(admitted.status, await admitted.text()).toBe(200);
    expectOAuthError(await tokenWithBogusCode(client.clientId, secret), 400, 'invalid_grant');

    const deleted = await manage('DELETE', client.uri, { token: client.token });
    expect(deleted.res.status, deleted.text).toBe(204);
    const deletedAt = Date.now();

    // The very first /authorize after the DELETE is refused: nothing cached the earlier Allow.
    const refused = await authorize(client.clientId);
    const elapsed = Date.now() - deletedAt;
    const text = await refused.text();
    expect(refused.status, text).toBe(403);
    expect(elapsed).toBeLessThan(1000);
    expect(refused.headers.get('location')).toBeNull();
    expect(refused.headers.get('content-type') ?? '').toMatch(/^application\/json/);
    expect((JSON.parse(text) as Json).error).toBe('invalid_client');

    expectOAuthError(await tokenWithBogusCode(client.clientId, secret), 401, 'invalid_client');
    expectInvalidToken(await manage('GET', client.uri, { token: client.token }));
    expectInvalidToken(await manage('DELETE', client.uri, { token: client.token }));
  });
});
