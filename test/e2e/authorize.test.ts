/**
 * End to end: GET /authorize through the local API-Gateway emulation, i.e. the redirect-URI
 * authorizer first (Allow, or Deny rendered as an OAuth JSON error with no redirect), then
 * the backend, which shows request errors on a page linking back to the verified URI (this browser approved no client).
 */
import { createHash, randomInt } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { REGISTRATION_FIXTURES, registrationFixture } from '../support/fixtures.js';
import { useLocalServer } from '../support/local-server-fixture.js';

type Json = Record<string, unknown>;

/** An S256 challenge: exactly 43 base64url characters. */
const CODE_CHALLENGE = createHash('sha256').update('e2e-authorize-verifier').digest('base64url');
const STATE = 'xyz';

const server = useLocalServer();

async function register(body: Json): Promise<{ clientId: string; redirectUris: string[] }> {
  const res = await fetch(`${server.url}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  const info = JSON.parse(text) as Json;
  return { clientId: info.client_id as string, redirectUris: info.redirect_uris as string[] };
}

type Params = Record<string, string | undefined>;

/** A complete, valid request for the client and URI; override or drop (undefined) any parameter. */
function validParams(clientId: string, redirectUri: string | undefined, overrides: Params = {}): Params {
  return {
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    code_challenge: CODE_CHALLENGE,
    code_challenge_method: 'S256',
    state: STATE,
    ...overrides,
  };
}

function authorize(params: Params | URLSearchParams): Promise<Response> {
  let query: URLSearchParams;
  if (params instanceof URLSearchParams) {
    query = params;
  } else {
    query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value !== undefined) query.append(name, value);
  }
  return fetch(`${server.url}/authorize?${query}`, { redirect: 'manual' });
}

async function expectPage(res: Response): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get('content-type') ?? '').toMatch(/^text\/html/);
  expect(res.headers.get('location')).toBeNull();
  expect(text).toMatch(/<html/i);
  return text;
}

/** A refusal by the authorizer: JSON error body, no redirect anywhere. */
async function expectRefusal(res: Response, status: 400 | 403, errors: readonly string[]): Promise<Json> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('location'), text).toBeNull();
  expect(res.headers.get('content-type') ?? '', text).toMatch(/^application\/json/);
  const body = JSON.parse(text) as Json;
  expect(errors, text).toContain(body.error);
  expect(typeof body.error_description, text).toBe('string');
  expect((body.error_description as string).trim(), text).not.toBe('');
  return body;
}

/** A backend error sent to the verified redirect URI (RFC 6749 4.1.2.1). */
/**
 * A request error of a client this browser never approved (every client here: these requests
 * carry no consent cookie) is shown on a page, with a link back carrying the error; the link is
 * what RFC 6749 4.1.2.1's redirect would have been (RFC 9700 4.11.2: no silent bounce).
 */
async function expectErrorShown(res: Response, redirectUri: string, error: string): Promise<URL> {
  const html = await res.text();
  expect(res.status, html).toBe(400);
  expect(res.headers.get('content-type') ?? '').toMatch(/^text\/html/);
  expect(res.headers.get('location')).toBeNull();
  const href = /<a href="([^"]+)"/.exec(html)?.[1];
  expect(href, html).toBeDefined();
  const target = (href as string).replaceAll('&amp;', '&');
  expect(target.startsWith(`${redirectUri}${redirectUri.includes('?') ? '&' : '?'}`), target).toBe(true);
  const url = new URL(target);
  expect(url.searchParams.get('error'), target).toBe(error);
  expect(url.searchParams.getAll('state'), target).toEqual([STATE]);
  expect(url.searchParams.has('code'), target).toBe(false);
  expect(url.searchParams.get('iss'), target).toBe(server.url);
  return url;
}

describe('registered clients pass /authorize', () => {
  it.each(REGISTRATION_FIXTURES)('%s: every registered redirect URI is admitted', async (_name, body) => {
    const { clientId, redirectUris } = await register(body);
    expect(redirectUris).toEqual(body.redirect_uris);
    for (const uri of redirectUris) {
      const res = await authorize(validParams(clientId, uri));
      const page = await expectPage(res);
      expect(page).not.toContain('<script');
    }
  });

  it("VS Code's loopback URI matches on any port (RFC 8252 7.3)", async () => {
    const { clientId } = await register(registrationFixture('vscode.json'));
    const port = randomInt(1024, 65536);
    for (const uri of [`http://127.0.0.1:${port}/`, 'http://127.0.0.1:65535/', 'http://127.0.0.1:1024/']) {
      const res = await authorize(validParams(clientId, uri));
      expect(res.status, `${uri}: ${await res.clone().text()}`).toBe(200);
      await expectPage(res);
    }
  });

  it("MCP Inspector's localhost:6274 URI matches from port 9999", async () => {
    const { clientId } = await register(registrationFixture('mcp-inspector.json'));
    await expectPage(await authorize(validParams(clientId, 'http://localhost:9999/oauth/callback')));
    await expectPage(await authorize(validParams(clientId, 'http://localhost:9999/oauth/callback/debug')));
  });

  it('a client registered a moment ago is admitted at once', async () => {
    for (const [, body] of REGISTRATION_FIXTURES) {
      const { clientId, redirectUris } = await register(body);
      await expectPage(await authorize(validParams(clientId, redirectUris[0])));
    }
  });

  it('omitting redirect_uri selects the only registered URI', async () => {
    const { clientId } = await register(registrationFixture('claude-ai-2025.json'));
    await expectPage(await authorize(validParams(clientId, undefined)));
  });

  it('omitting redirect_uri is refused when the client registered two', async () => {
    const { clientId } = await register(registrationFixture('mcp-inspector.json'));
    await expectRefusal(await authorize(validParams(clientId, undefined)), 403, ['invalid_request']);
  });
});

describe('refused /authorize requests: JSON error, never a redirect', () => {
  const CALLBACK = 'https://claude.ai/api/mcp/auth_callback';
  let clientId: string;

  beforeAll(async () => {
    ({ clientId } = await register({
      client_name: 'refusals',
      token_endpoint_auth_method: 'none',
      redirect_uris: [CALLBACK, 'http://127.0.0.1/callback', 'http://localhost:6274/oauth/callback'],
    }));
  });

  it('the registered URIs themselves pass (so each refusal below is about the variant)', async () => {
    await expectPage(await authorize(validParams(clientId, CALLBACK)));
    await expectPage(await authorize(validParams(clientId, 'http://127.0.0.1:5555/callback')));
    await expectPage(await authorize(validParams(clientId, 'http://localhost:6274/oauth/callback')));
  });

  it.each([
    ['an unregistered URI', 'https://claude.ai/api/mcp/other_callback'],
    ['a trailing slash', `${CALLBACK}/`],
    ['https changed to http', 'http://claude.ai/api/mcp/auth_callback'],
    ['a different host case', 'https://Claude.AI/api/mcp/auth_callback'],
    ['an added query', `${CALLBACK}?x=1`],
    ['an empty query', `${CALLBACK}?`],
    ['dot segments', 'https://claude.ai/api/mcp/../mcp/auth_callback'],
    ['a single-dot segment', 'https://claude.ai/api/./mcp/auth_callback'],
    ['a percent-encoded path', 'https://claude.ai/api/mcp/auth%5Fcallback'],
    ['userinfo@ before another host', 'https://claude.ai@evil.example/api/mcp/auth_callback'],
    ['userinfo@ before the registered host', 'https://evil.example@claude.ai/api/mcp/auth_callback'],
    ['a suffix host', 'https://claude.ai.evil.com/api/mcp/auth_callback'],
    ['another port on https', 'https://claude.ai:8443/api/mcp/auth_callback'],
    ['an explicit default port on https', 'https://claude.ai:443/api/mcp/auth_callback'],
    ['a fragment', `${CALLBACK}#x`],
    ['loopback with another path', 'http://127.0.0.1:5555/other'],
    ['loopback with another path and no port', 'http://127.0.0.1/callback/'],
    ['loopback with https instead of http', 'https://127.0.0.1/callback'],
    ['localhost for registered 127.0.0.1', 'http://localhost:5555/callback'],
    ['127.0.0.1 for registered localhost', 'http://127.0.0.1:6274/oauth/callback'],
    ['[::1] for registered 127.0.0.1', 'http://[::1]:5555/callback'],
    ['an empty redirect_uri', ''],
  ])('%s → 403 invalid_request', async (_case, uri) => {
    await expectRefusal(await authorize(validParams(clientId, uri)), 403, ['invalid_request']);
  });

  it('an unknown client_id → 403 invalid_client', async () => {
    const body = await expectRefusal(await authorize(validParams('AAAAAAAAAAAAAAAAAAAAAA', CALLBACK)), 403, [
      'invalid_client',
    ]);
    expect(body.error).toBe('invalid_client');
  });

  it('a missing client_id → 400 invalid_request', async () => {
    await expectRefusal(await authorize(validParams(clientId, CALLBACK, { client_id: undefined })), 400, [
      'invalid_request',
    ]);
  });

  it.each([
    ['redirect_uri, same value twice', 'redirect_uri', CALLBACK, CALLBACK],
    ['redirect_uri, registered then foreign', 'redirect_uri', CALLBACK, 'https://evil.example/cb'],
    ['redirect_uri, foreign then registered', 'redirect_uri', 'https://evil.example/cb', CALLBACK],
    ['client_id, same value twice', 'client_id', undefined, undefined],
  ])('a repeated parameter (%s) → refused with invalid_request', async (_case, name, first, second) => {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(validParams(clientId, CALLBACK))) {
      if (key === name) {
        query.append(key, first ?? clientId);
        query.append(key, second ?? clientId);
      } else if (value !== undefined) {
        query.append(key, value);
      }
    }
    const res = await authorize(query);
    const text = await res.clone().text();
    expect([400, 403], text).toContain(res.status);
    await expectRefusal(res, res.status as 400 | 403, ['invalid_request']);
  });

  it('a repeated client_id naming another client is refused', async () => {
    const other = await register(registrationFixture('chatgpt.json'));
    const query = new URLSearchParams();
    query.append('client_id', clientId);
    query.append('client_id', other.clientId);
    for (const [key, value] of Object.entries(validParams(clientId, CALLBACK, { client_id: undefined }))) {
      if (value !== undefined) query.append(key, value);
    }
    const res = await authorize(query);
    const text = await res.clone().text();
    expect([400, 403], text).toContain(res.status);
    await expectRefusal(res, res.status as 400 | 403, ['invalid_request']);
  });
});

describe('the backend after the authorizer allowed the request', () => {
  const CALLBACK = 'https://chatgpt.com/connector_platform_oauth_redirect';
  let clientId: string;

  beforeAll(async () => {
    ({ clientId } = await register(registrationFixture('chatgpt.json')));
  });

  it('a valid request gets the page, not a redirect', async () => {
    await expectPage(await authorize(validParams(clientId, CALLBACK)));
  });

  it('a missing code_challenge → error page linking back with state', async () => {
    const res = await authorize(validParams(clientId, CALLBACK, { code_challenge: undefined }));
    await expectErrorShown(res, CALLBACK, 'invalid_request');
  });

  it('code_challenge_method=plain → error page linking back with state', async () => {
    const res = await authorize(validParams(clientId, CALLBACK, { code_challenge_method: 'plain' }));
    await expectErrorShown(res, CALLBACK, 'invalid_request');
  });

  it('response_type=token → unsupported_response_type page linking back with state', async () => {
    const res = await authorize(validParams(clientId, CALLBACK, { response_type: 'token' }));
    await expectErrorShown(res, CALLBACK, 'unsupported_response_type');
  });

  it('a redirect URI that has a query keeps it', async () => {
    const withQuery = 'https://app.example/cb?x=1';
    const client = await register({ redirect_uris: [withQuery], token_endpoint_auth_method: 'none' });
    const res = await authorize(validParams(client.clientId, withQuery, { code_challenge: undefined }));
    const url = await expectErrorShown(res, withQuery, 'invalid_request');
    expect(url.href.startsWith('https://app.example/cb?x=1&error=')).toBe(true);
    expect(url.searchParams.getAll('x')).toEqual(['1']);
  });

  it('a loopback client is sent back to the port it asked from', async () => {
    const { clientId: vscode } = await register(registrationFixture('vscode.json'));
    const port = randomInt(1024, 65536);
    const requested = `http://127.0.0.1:${port}/`;
    const res = await authorize(validParams(vscode, requested, { response_type: 'token' }));
    await expectErrorShown(res, requested, 'unsupported_response_type');
  });
});
