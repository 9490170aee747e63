/**
 * End to end: POST /register (RFC 7591) against the real local server (`npm start`'s entry
 * point in a child process), with the bodies real MCP clients send, two real client libraries,
 * malformed requests, persistence across restarts and the redirect-URI policy's configuration.
 */
import { createHash } from 'node:crypto';
import { registerClient } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientMetadata, OAuthMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { REGISTRATION_FIXTURES, registrationFixture } from '../support/fixtures.js';
import { useLocalServer, useOwnServers } from '../support/local-server-fixture.js';

type Json = Record<string, unknown>;

/** Every field RFC 7591 lets this server answer with; anything else is an unknown field. */
const KNOWN_RESPONSE_FIELDS = new Set([
  'client_id',
  'client_id_issued_at',
  'client_secret',
  'client_secret_expires_at',
  'redirect_uris',
  'token_endpoint_auth_method',
  'grant_types',
  'response_types',
  'client_name',
  'client_uri',
  'logo_uri',
  'tos_uri',
  'policy_uri',
  'contacts',
  'scope',
  'software_id',
  'software_version',
  'application_type',
  'registration_client_uri',
  'registration_access_token',
]);

const SUPPORTED_GRANT_TYPES = ['authorization_code', 'refresh_token'];
const CODE_CHALLENGE = createHash('sha256').update('e2e-registration-verifier').digest('base64url');

function post(
  baseUrl: string,
  body: string | undefined,
  contentType: string | undefined = 'application/json',
): Promise<Response> {
  return fetch(`${baseUrl}/register`, {
    method: 'POST',
    headers: contentType ? { 'Content-Type': contentType } : {},
    ...(body !== undefined ? { body } : {}),
  });
}

async function register(baseUrl: string, body: Json): Promise<Json> {
  const res = await post(baseUrl, JSON.stringify(body));
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return JSON.parse(text) as Json;
}

function authorize(baseUrl: string, clientId: string, redirectUri: string): Promise<Response> {
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    code_challenge: CODE_CHALLENGE,
    code_challenge_method: 'S256',
    state: 'xyz',
  });
  return fetch(`${baseUrl}/authorize?${query}`, { redirect: 'manual' });
}

/** Asserts an OAuth JSON error body (never a 5xx) and returns it. */
async function expectOAuthError(res: Response, status: number | 'any4xx', error?: string): Promise<Json> {
  const text = await res.text();
  if (status === 'any4xx') {
    expect(res.status, text).toBeGreaterThanOrEqual(400);
    expect(res.status, text).toBeLessThan(500);
  } else {
    expect(res.status, text).toBe(status);
  }
  expect(res.headers.get('content-type') ?? '', text).toMatch(/^application\/json/);
  const body = JSON.parse(text) as Json;
  expect(typeof body.error, text).toBe('string');
  expect(body.error, text).not.toBe('');
  if (error !== undefined) expect(body.error, text).toBe(error);
  return body;
}

function expectDescribed(body: Json): void {
  expect(typeof body.error_description, JSON.stringify(body)).toBe('string');
  expect((body.error_description as string).length, JSON.stringify(body)).toBeGreaterThan(0);
}

const server = useLocalServer();
/** Servers a test starts for itself; any a failed test left running is killed after all tests. */
const ownServer = useOwnServers();

/**
 * What each fixture sends as `application_type` (MCP SEP-837), recorded so that a fixture that
 * starts sending one, or a new fixture, is looked at: `undefined` means the client omits it, which
 * keeps the redirect-URI rules of before.
 */
const SENT_APPLICATION_TYPE: Record<string, 'web' | 'native' | undefined> = {
  'chatgpt.json': undefined,
  'claude-ai-2025.json': undefined,
  'claude-ai-2026.json': undefined,
  'claude-com.json': undefined,
  'cursor.json': undefined,
  'mcp-inspector.json': undefined,
  'mcp-remote.json': undefined,
  'vscode.json': undefined,
};

/**
 * The application_type SEP-837 clients infer from their redirect URIs (the MCP SDKs' rule): native
 * when any is loopback or a private-use scheme, web when all are https elsewhere.
 */
function inferredApplicationType(uris: string[]): 'web' | 'native' {
  const local = (uri: string) => {
    const url = new URL(uri);
    return (
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
    );
  };
  return uris.some(local) ? 'native' : 'web';
}

describe('POST /register with real MCP clients’ bodies', () => {
  it('finds the fixtures', () => {
    expect(REGISTRATION_FIXTURES.length).toBeGreaterThanOrEqual(8);
  });

  it('records what every fixture sends as application_type', () => {
    expect(REGISTRATION_FIXTURES.map(([name]) => name)).toEqual(Object.keys(SENT_APPLICATION_TYPE).sort());
    for (const [name, sent] of REGISTRATION_FIXTURES) {
      expect(sent.application_type, name).toBe(SENT_APPLICATION_TYPE[name]);
    }
  });

  it.each(REGISTRATION_FIXTURES)(
    '%s also registers with the application_type a SEP-837 client would infer',
    async (_name, sent) => {
      const type = inferredApplicationType(sent.redirect_uris as string[]);
      const body = await register(server.url, { ...sent, application_type: type });
      expect(body.application_type).toBe(type);
      expect(body.redirect_uris).toStrictEqual(sent.redirect_uris);
    },
  );

  it.each(REGISTRATION_FIXTURES)('%s is registered as sent', async (_name, sent) => {
    const before = Math.floor(Date.now() / 1000);
    const res = await post(server.url, JSON.stringify(sent));
    const text = await res.text();
    const after = Math.ceil(Date.now() / 1000);

    expect(res.status, text).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
    const body = JSON.parse(text) as Json;

    expect(typeof body.client_id).toBe('string');
    expect((body.client_id as string).length).toBeGreaterThanOrEqual(22);
    expect(Number.isInteger(body.client_id_issued_at)).toBe(true);
    expect(body.client_id_issued_at as number).toBeGreaterThanOrEqual(before - 1);
    expect(body.client_id_issued_at as number).toBeLessThanOrEqual(after + 1);

    // Byte for byte: no normalization (VS Code's `http://127.0.0.1/` keeps its slash).
    expect(body.redirect_uris).toStrictEqual(sent.redirect_uris);
    for (const uri of sent.redirect_uris as string[]) expect(text).toContain(JSON.stringify(uri));

    const unknown = Object.keys(body).filter((key) => !KNOWN_RESPONSE_FIELDS.has(key));
    expect(unknown).toEqual([]);

    expect(body.token_endpoint_auth_method).toBe(sent.token_endpoint_auth_method);
    expect(body.response_types).toEqual(['code']);
    expect(body.grant_types).toEqual(
      SUPPORTED_GRANT_TYPES.filter((grant) => (sent.grant_types as string[]).includes(grant)),
    );
    for (const field of ['client_name', 'client_uri', 'scope', 'software_id', 'software_version', 'application_type']) {
      expect(body[field], field).toStrictEqual(sent[field]);
    }

    if (sent.token_endpoint_auth_method === 'none') {
      expect(body).not.toHaveProperty('client_secret');
      expect(body).not.toHaveProperty('client_secret_expires_at');
    } else {
      expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(body.client_secret_expires_at).toBe(0);
    }
  });

  it('claude-ai-2026.json (client_secret_post) is a confidential client with a secret', async () => {
    const body = await register(server.url, registrationFixture('claude-ai-2026.json'));
    expect(body.token_endpoint_auth_method).toBe('client_secret_post');
    expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(body.client_secret_expires_at).toBe(0);
  });

  it("drops VS Code's device_code grant from grant_types", async () => {
    const sent = registrationFixture('vscode.json');
    expect(sent.grant_types).toContain('urn:ietf:params:oauth:grant-type:device_code');
    const body = await register(server.url, sent);
    expect(body.grant_types).toEqual(['authorization_code', 'refresh_token']);
    expect(body.redirect_uris).toStrictEqual([
      'https://insiders.vscode.dev/redirect',
      'https://vscode.dev/redirect',
      'http://127.0.0.1/',
      'http://127.0.0.1:33418/',
    ]);
  });

  it('echoes non-canonical redirect URIs byte for byte, never normalized', async () => {
    const uris = [
      'http://127.0.0.1',
      'http://127.0.0.1/',
      'https://Claude.AI/api/mcp/auth_callback',
      'https://claude.ai:443/api/mcp/auth_callback',
      'https://claude.ai/api/mcp/../mcp/auth_callback',
      'https://claude.ai/api/%7Euser/cb',
      'https://app.example/cb?b=2&a=1',
      'com.example.app:/oauth2redirect',
    ];
    const body = await register(server.url, { redirect_uris: uris, token_endpoint_auth_method: 'none' });
    expect(body.redirect_uris).toStrictEqual(uris);
    const res = await authorize(server.url, body.client_id as string, 'https://Claude.AI/api/mcp/auth_callback');
    expect(res.status, await res.text()).toBe(200);
  });

  it('issues a distinct client_id and secret on every registration', async () => {
    const a = await register(server.url, registrationFixture('claude-ai-2026.json'));
    const b = await register(server.url, registrationFixture('claude-ai-2026.json'));
    expect(a.client_id).not.toBe(b.client_id);
    expect(a.client_secret).not.toBe(b.client_secret);
  });
});

describe('client libraries accept the registration response', () => {
  const publicMetadata = {
    client_name: 'e2e public client',
    redirect_uris: ['http://localhost:33418/oauth/callback'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  };
  const confidentialMetadata = {
    client_name: 'e2e confidential client',
    redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  };

  function sdkServerMetadata(): OAuthMetadata {
    return {
      issuer: server.url,
      authorization_endpoint: `${server.url}/authorize`,
      token_endpoint: `${server.url}/token`,
      registration_endpoint: `${server.url}/register`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    };
  }

  it('MCP TypeScript SDK registerClient: public client', async () => {
    const clientMetadata: OAuthClientMetadata = { ...publicMetadata };
    const info = await registerClient(server.url, { metadata: sdkServerMetadata(), clientMetadata });
    expect(info.client_id.length).toBeGreaterThanOrEqual(22);
    expect(info.client_secret).toBeUndefined();
    expect(info.redirect_uris).toEqual(publicMetadata.redirect_uris);
    expect(info.token_endpoint_auth_method).toBe('none');
    const res = await authorize(server.url, info.client_id, publicMetadata.redirect_uris[0]);
    expect(res.status, await res.text()).toBe(200);
  });

  it('MCP TypeScript SDK registerClient: confidential client', async () => {
    const clientMetadata: OAuthClientMetadata = { ...confidentialMetadata };
    const info = await registerClient(server.url, { metadata: sdkServerMetadata(), clientMetadata });
    expect(info.client_id.length).toBeGreaterThanOrEqual(22);
    expect(info.client_secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(info.client_secret_expires_at).toBe(0);
    expect(info.token_endpoint_auth_method).toBe('client_secret_post');
  });

  function as(): oauth.AuthorizationServer {
    return {
      issuer: server.url,
      authorization_endpoint: `${server.url}/authorize`,
      registration_endpoint: `${server.url}/register`,
    };
  }

  it('oauth4webapi: public client', async () => {
    const response = await oauth.dynamicClientRegistrationRequest(as(), publicMetadata, {
      [oauth.allowInsecureRequests]: true,
    });
    const client = await oauth.processDynamicClientRegistrationResponse(response);
    expect(typeof client.client_id).toBe('string');
    expect(client.client_id.length).toBeGreaterThanOrEqual(22);
    expect(client.client_secret).toBeUndefined();
    expect(client.token_endpoint_auth_method).toBe('none');
  });

  it('oauth4webapi: confidential client', async () => {
    const response = await oauth.dynamicClientRegistrationRequest(as(), confidentialMetadata, {
      [oauth.allowInsecureRequests]: true,
    });
    const client = await oauth.processDynamicClientRegistrationResponse(response);
    expect(client.client_id.length).toBeGreaterThanOrEqual(22);
    expect(client.client_secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(client.client_secret_expires_at).toBe(0);
    expect(client.token_endpoint_auth_method).toBe('client_secret_post');
  });
});

describe('POST /register refusals are OAuth JSON errors, never 5xx', () => {
  const valid = { redirect_uris: ['https://claude.ai/api/mcp/auth_callback'], token_endpoint_auth_method: 'none' };

  it.each([
    ['malformed JSON', '{"redirect_uris": ["https://claude.ai/cb"'],
    ['a JSON array', JSON.stringify([valid])],
    ['JSON null', 'null'],
    ['an empty body', ''],
  ])('%s → 400 invalid_client_metadata', async (_case, body) => {
    const res = await post(server.url, body);
    expectDescribed(await expectOAuthError(res, 400, 'invalid_client_metadata'));
  });

  it('Content-Type text/plain → 415', async () => {
    const res = await post(server.url, JSON.stringify(valid), 'text/plain');
    expectDescribed(await expectOAuthError(res, 415));
  });

  it('a body over 64 KiB → 413', async () => {
    const overhead = JSON.stringify({ ...valid, client_name: '' }).length;
    const body = JSON.stringify({ ...valid, client_name: 'x'.repeat(64 * 1024 + 1 - overhead) });
    expect(Buffer.byteLength(body)).toBe(64 * 1024 + 1);
    const res = await post(server.url, body);
    expectDescribed(await expectOAuthError(res, 413));
  });

  it.each(['javascript:alert(1)', 'data:text/html,x', 'http://evil.example/cb'])(
    'redirect URI %s → 400 invalid_redirect_uri',
    async (uri) => {
      const res = await post(server.url, JSON.stringify({ ...valid, redirect_uris: [uri] }));
      expectDescribed(await expectOAuthError(res, 400, 'invalid_redirect_uri'));
    },
  );

  it('one bad redirect URI among good ones refuses the whole registration', async () => {
    const res = await post(
      server.url,
      JSON.stringify({ ...valid, redirect_uris: ['https://claude.ai/api/mcp/auth_callback', 'javascript:alert(1)'] }),
    );
    expectDescribed(await expectOAuthError(res, 400, 'invalid_redirect_uri'));
  });

  it.each(['GET', 'PUT'])('%s /register → 4xx JSON error', async (method) => {
    const res = await fetch(`${server.url}/register`, {
      method,
      ...(method === 'PUT' ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(valid) } : {}),
    });
    await expectOAuthError(res, 'any4xx');
  });

  it('an unknown path → 4xx JSON error', async () => {
    const res = await fetch(`${server.url}/no-such-endpoint`, { redirect: 'manual' });
    await expectOAuthError(res, 'any4xx');
    const post404 = await fetch(`${server.url}/register/extra`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(valid),
    });
    await expectOAuthError(post404, 'any4xx');
  });
});

describe('persistence of registered clients', () => {
  const body = { client_name: 'persisted', redirect_uris: ['https://claude.ai/api/mcp/auth_callback'] };
  const redirectUri = 'https://claude.ai/api/mcp/auth_callback';

  it.each(['SIGKILL', 'SIGTERM'] as const)('a client survives a %s restart on the same DATA_DIR', async (signal) => {
    const first = await ownServer();
    const client = await register(first.url, { ...body, token_endpoint_auth_method: 'none' });
    const clientId = client.client_id as string;
    const before = await authorize(first.url, clientId, redirectUri);
    expect(before.status, await before.text()).toBe(200);
    await first.stop(signal);

    const second = await ownServer({ DATA_DIR: first.dataDir });
    const after = await authorize(second.url, clientId, redirectUri);
    expect(after.status, await after.text()).toBe(200);
    await second.stop();
  });

  it("DATA_DIR=':memory:' registers, and nothing survives a restart", async () => {
    const first = await ownServer({ DATA_DIR: ':memory:' });
    const client = await register(first.url, { ...body, token_endpoint_auth_method: 'none' });
    const clientId = client.client_id as string;
    const before = await authorize(first.url, clientId, redirectUri);
    expect(before.status, await before.text()).toBe(200);
    await first.stop();

    const second = await ownServer({ DATA_DIR: ':memory:' });
    const after = await authorize(second.url, clientId, redirectUri);
    const error = await expectOAuthError(after, 403, 'invalid_client');
    expectDescribed(error);
    expect(after.headers.get('location')).toBeNull();
    await second.stop();
  });
});

describe('redirect-URI policy configuration', () => {
  it('ALLOW_PRIVATE_USE_SCHEMES=false refuses cursor://', async () => {
    const own = await ownServer({ ALLOW_PRIVATE_USE_SCHEMES: 'false' });
    const res = await post(
      own.url,
      JSON.stringify({
        redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback'],
        token_endpoint_auth_method: 'none',
      }),
    );
    expectDescribed(await expectOAuthError(res, 400, 'invalid_redirect_uri'));
    const whole = await post(own.url, JSON.stringify(registrationFixture('cursor.json')));
    await expectOAuthError(whole, 400, 'invalid_redirect_uri');
    // https and loopback are still accepted.
    await register(own.url, registrationFixture('claude-ai-2025.json'));
    await register(own.url, registrationFixture('mcp-remote.json'));
    await own.stop();
  });

  it('ALLOWED_REDIRECT_HOSTS refuses other hosts and accepts listed ones', async () => {
    const own = await ownServer({ ALLOWED_REDIRECT_HOSTS: 'claude.ai,claude.com,127.0.0.1,localhost,[::1]' });
    const refused = await post(own.url, JSON.stringify(registrationFixture('chatgpt.json')));
    expectDescribed(await expectOAuthError(refused, 400, 'invalid_redirect_uri'));
    const accepted = await register(own.url, registrationFixture('claude-ai-2025.json'));
    expect(accepted.redirect_uris).toEqual(['https://claude.ai/api/mcp/auth_callback']);
    await register(own.url, registrationFixture('claude-com.json'));
    await register(own.url, { redirect_uris: ['http://[::1]:8080/callback'], token_endpoint_auth_method: 'none' });
    await own.stop();
  });
});
