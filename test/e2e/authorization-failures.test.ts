/**
 * End to end: how the built-in authorization server refuses, over the real local server.
 * Token-endpoint errors (status, `error`, headers), authorization errors sent back to the
 * verified redirect URI with state and iss (RFC 9207), the consent page's defences, CSRF and
 * browser binding of the flow, discovery, revocation, and serving under a BASE_PATH.
 */
import * as oauth from 'oauth4webapi';
import { beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, followRedirects, type HtmlForm, parseForms } from '../support/browser-like.js';
import { useLocalServers } from '../support/local-server-fixture.js';
import {
  authorizationUrl,
  discover,
  INSECURE,
  obtainTokens,
  type RegisteredTestClient,
  registerTestClient,
  runBrowser,
} from '../support/oauth-flow.js';

type Json = Record<string, unknown>;

const [server, prefixed] = useLocalServers([{}, { BASE_PATH: '/gateway' }]);
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  as = await discover(server.url);
});

// --- helpers ------------------------------------------------------------------------------

interface IssuedCode {
  code: string;
  codeVerifier: string;
  params: URLSearchParams;
}

/** Runs authorize, consent and the development login; returns the code sent to the client. */
async function codeFor(registered: RegisteredTestClient, extra: Record<string, string> = {}): Promise<IssuedCode> {
  const attempt = await authorizationUrl(as, registered, extra);
  const landing = await runBrowser(attempt.url, registered.redirectUri);
  if (landing.kind !== 'stopped') throw new Error(`flow ended on a page: ${landing.response.status}`);
  const params = oauth.validateAuthResponse(as, registered.client, landing.url, attempt.state);
  return { code: params.get('code') as string, codeVerifier: attempt.codeVerifier, params };
}

/** RFC 6749 2.3.1: each part form-urlencoded, then Base64. */
function basicHeader(id: string, secret: string): string {
  const form = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${form(id)}:${form(secret)}`).toString('base64')}`;
}

/** How each registered client authenticates, as raw form fields and headers. */
function credentials(registered: RegisteredTestClient): { fields: Record<string, string>; headers: Json } {
  const id = registered.client.client_id;
  const secret = registered.client.client_secret as string | undefined;
  switch (registered.client.token_endpoint_auth_method) {
    case 'client_secret_basic':
      return { fields: {}, headers: { authorization: basicHeader(id, secret as string) } };
    case 'client_secret_post':
      return { fields: { client_id: id, client_secret: secret as string }, headers: {} };
    default:
      return { fields: { client_id: id }, headers: {} };
  }
}

interface Reply {
  status: number;
  headers: Headers;
  json: Json;
}

/** POSTs to an endpoint; every answer of /token and /revoke must be no-store (RFC 6749 5.1). */
async function post(
  path: '/token' | '/revoke',
  body: string | URLSearchParams | Record<string, string>,
  headers: Record<string, string> = {},
  base = server.url,
): Promise<Reply> {
  const encoded = typeof body === 'string' || body instanceof URLSearchParams ? body : new URLSearchParams(body);
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: encoded.toString(),
  });
  const text = await response.text();
  expect(response.headers.get('cache-control'), `${path} ${response.status} ${text}`).toBe('no-store');
  return { status: response.status, headers: response.headers, json: text ? (JSON.parse(text) as Json) : {} };
}

/** A token request with the client's own authentication, plus the given fields. */
function tokenRequest(registered: RegisteredTestClient, fields: Record<string, string>): Promise<Reply> {
  const auth = credentials(registered);
  return post('/token', { ...auth.fields, ...fields }, auth.headers as Record<string, string>);
}

function exchange(registered: RegisteredTestClient, issued: IssuedCode, overrides: Record<string, string> = {}) {
  return tokenRequest(registered, {
    grant_type: 'authorization_code',
    code: issued.code,
    redirect_uri: registered.redirectUri,
    code_verifier: issued.codeVerifier,
    ...overrides,
  });
}

function refresh(registered: RegisteredTestClient, refreshToken: string): Promise<Reply> {
  return tokenRequest(registered, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

function expectError(reply: Reply, status: number, error: string): void {
  expect(reply.status, JSON.stringify(reply.json)).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.json.error, JSON.stringify(reply.json)).toBe(error);
  expect(reply.json).not.toHaveProperty('access_token');
}

async function expectTokens(reply: Reply): Promise<{ access_token: string; refresh_token: string }> {
  expect(reply.status, JSON.stringify(reply.json)).toBe(200);
  expect(reply.json.access_token).toEqual(expect.any(String));
  expect(reply.json.refresh_token).toEqual(expect.any(String));
  return reply.json as { access_token: string; refresh_token: string };
}

// --- /token ----------------------------------------------------------------------------------

describe('/token refusals', () => {
  it('a reused code is invalid_grant, and the refresh token of its first redemption then fails', async () => {
    const registered = await registerTestClient(as, 'none');
    const attempt = await authorizationUrl(as, registered);
    const landing = await runBrowser(attempt.url, registered.redirectUri);
    expect(landing.kind).toBe('stopped');
    const params = oauth.validateAuthResponse(as, registered.client, (landing as { url: URL }).url, attempt.state);
    const redeem = () =>
      oauth.authorizationCodeGrantRequest(
        as,
        registered.client,
        registered.auth,
        params,
        registered.redirectUri,
        attempt.codeVerifier,
        INSECURE,
      );
    const first = await oauth.processAuthorizationCodeResponse(as, registered.client, await redeem());
    expect(first.refresh_token).toEqual(expect.any(String));

    const second = await redeem();
    expect(second.headers.get('cache-control')).toBe('no-store');
    await expect(oauth.processAuthorizationCodeResponse(as, registered.client, second)).rejects.toMatchObject({
      error: 'invalid_grant',
      status: 400,
    });
    expectError(await refresh(registered, first.refresh_token as string), 400, 'invalid_grant');
  });

  it('a wrong code_verifier is invalid_grant', async () => {
    const registered = await registerTestClient(as, 'none');
    const issued = await codeFor(registered);
    expectError(
      await exchange(registered, issued, { code_verifier: oauth.generateRandomCodeVerifier() }),
      400,
      'invalid_grant',
    );
  });

  it('a wrong redirect_uri is invalid_grant', async () => {
    const registered = await registerTestClient(as, 'none');
    const issued = await codeFor(registered);
    expectError(
      await exchange(registered, issued, { redirect_uri: 'https://client.example/other' }),
      400,
      'invalid_grant',
    );
  });

  it('redirect_uri may be omitted at /token only when the authorization request omitted it too', async () => {
    const registered = await registerTestClient(as, 'none');
    const withoutRedirect = async (issued: IssuedCode) =>
      tokenRequest(registered, {
        grant_type: 'authorization_code',
        code: issued.code,
        code_verifier: issued.codeVerifier,
      });
    expectError(await withoutRedirect(await codeFor(registered)), 400, 'invalid_grant');

    const attempt = await authorizationUrl(as, registered);
    attempt.url.searchParams.delete('redirect_uri');
    const landing = await runBrowser(attempt.url, registered.redirectUri);
    expect(landing.kind).toBe('stopped');
    const params = oauth.validateAuthResponse(as, registered.client, (landing as { url: URL }).url, attempt.state);
    await expectTokens(
      await withoutRedirect({ code: params.get('code') as string, codeVerifier: attempt.codeVerifier, params }),
    );
  });

  it('no code_verifier is invalid_request', async () => {
    const registered = await registerTestClient(as, 'none');
    const issued = await codeFor(registered);
    const fields = { grant_type: 'authorization_code', code: issued.code, redirect_uri: registered.redirectUri };
    expectError(await tokenRequest(registered, fields), 400, 'invalid_request');
  });

  it('a client_secret_basic client with a wrong or missing secret is 401 invalid_client; the code survives', async () => {
    const registered = await registerTestClient(as, 'client_secret_basic');
    const issued = await codeFor(registered);
    const id = registered.client.client_id;
    const fields = {
      grant_type: 'authorization_code',
      code: issued.code,
      redirect_uri: registered.redirectUri,
      code_verifier: issued.codeVerifier,
    };

    for (const secret of ['wrong-secret', '']) {
      const reply = await post('/token', fields, { authorization: basicHeader(id, secret) });
      expectError(reply, 401, 'invalid_client');
      expect(reply.headers.get('www-authenticate'), `secret ${JSON.stringify(secret)}`).toMatch(/^Basic/);
    }
    // No Authorization header at all: the secret is missing.
    expectError(await post('/token', { ...fields, client_id: id }), 401, 'invalid_client');
    // A wrong secret in the body (the body is an accepted way for a secret client: RFC 6749 2.3.1).
    expectError(
      await post('/token', { ...fields, client_id: id, client_secret: 'wrong-secret' }),
      401,
      'invalid_client',
    );

    // Refused authentication never reached the code, which still works with the right secret.
    await expectTokens(
      await post('/token', fields, { authorization: basicHeader(id, registered.client.client_secret as string) }),
    );
  });

  it('an unknown client_id is 401 invalid_client', async () => {
    expectError(
      await post('/token', {
        grant_type: 'authorization_code',
        client_id: 'no-such-client',
        code: 'whatever',
        code_verifier: oauth.generateRandomCodeVerifier(),
      }),
      401,
      'invalid_client',
    );
  });

  it('an unknown resource at /token is invalid_target', async () => {
    const registered = await registerTestClient(as, 'client_secret_post');
    const issued = await codeFor(registered);
    expectError(await exchange(registered, issued, { resource: 'https://evil.example/mcp' }), 400, 'invalid_target');
  });

  it('a refresh token older than the previous one is invalid_grant and revokes the grant', async () => {
    const registered = await registerTestClient(as, 'none');
    const first = await expectTokens(await exchange(registered, await codeFor(registered)));
    const second = await expectTokens(await refresh(registered, first.refresh_token));
    const third = await expectTokens(await refresh(registered, second.refresh_token));
    expect(second.refresh_token).not.toBe(first.refresh_token);
    // Two rotations ago: a reuse even within the grace window (which covers the previous token only).
    expectError(await refresh(registered, first.refresh_token), 400, 'invalid_grant');
    expectError(await refresh(registered, third.refresh_token), 400, 'invalid_grant');
  });

  it('an unsupported grant_type is unsupported_grant_type', async () => {
    const registered = await registerTestClient(as, 'none');
    for (const grantType of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']) {
      expectError(
        await tokenRequest(registered, { grant_type: grantType, username: 'alice', password: 'x' }),
        400,
        'unsupported_grant_type',
      );
    }
  });

  it('a body that is not a form is 415', async () => {
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'authorization_code', client_id: 'x', code: 'y' }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(415);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect((JSON.parse(text) as Json).error).toBe('invalid_request');
  });

  it('a repeated parameter is invalid_request', async () => {
    const registered = await registerTestClient(as, 'none');
    const issued = await codeFor(registered);
    const body = new URLSearchParams([
      ['grant_type', 'authorization_code'],
      ['client_id', registered.client.client_id],
      ['code', issued.code],
      ['code', 'another-code'],
      ['redirect_uri', registered.redirectUri],
      ['code_verifier', issued.codeVerifier],
    ]);
    expectError(await post('/token', body), 400, 'invalid_request');
  });
});

// --- /authorize -----------------------------------------------------------------------------

describe('/authorize errors go back to the registered redirect URI with state and iss, once this browser approved the client', () => {
  let registered: RegisteredTestClient;
  const jar = new CookieJar();

  beforeAll(async () => {
    registered = await registerTestClient(as, 'none');
    // The person approves the client once in this browser (RFC 9700 4.11.2: only then may errors redirect).
    await obtainTokens(as, registered, { jar });
  });

  it.each([
    ['a missing code_challenge', 'invalid_request', { code_challenge: undefined }],
    ['code_challenge_method=plain', 'invalid_request', { code_challenge_method: 'plain' }],
    ['a missing code_challenge_method', 'invalid_request', { code_challenge_method: undefined }],
    ['response_type=token', 'unsupported_response_type', { response_type: 'token' }],
    ['an unknown resource', 'invalid_target', { resource: 'https://evil.example/mcp' }],
  ] as Array<[string, string, Record<string, string | undefined>]>)('%s is %s', async (_name, error, changes) => {
    const attempt = await authorizationUrl(as, registered);
    for (const [name, value] of Object.entries(changes)) {
      if (value === undefined) attempt.url.searchParams.delete(name);
      else attempt.url.searchParams.set(name, value);
    }
    const cookie = jar.header(attempt.url);
    const response = await fetch(attempt.url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    await response.body?.cancel();
    expect(response.status).toBe(302);
    const location = response.headers.get('location') ?? '';
    expect(location.startsWith(`${registered.redirectUri}?`), location).toBe(true);
    const target = new URL(location);
    expect(target.searchParams.get('error'), location).toBe(error);
    expect(target.searchParams.getAll('state')).toEqual([attempt.state]);
    expect(target.searchParams.get('iss')).toBe(server.url);
    expect(target.searchParams.has('code')).toBe(false);
  });

  it('scope=claudeai is not refused: the scope is dropped and tokens are issued without it', async () => {
    const attempt = await authorizationUrl(as, registered, { scope: 'claudeai' });
    const response = await fetch(attempt.url, { redirect: 'manual' });
    await response.body?.cancel();
    expect(response.status).toBe(200);
    expect(response.headers.get('location')).toBeNull();

    const tokens = await obtainTokens(as, registered, { extra: { scope: 'claudeai' } });
    expect(tokens.access_token).toEqual(expect.any(String));
    expect(tokens.scope, 'RFC 6749 3.3: the token response says nothing asked for was granted').toBe('');
  });
});

// --- consent --------------------------------------------------------------------------------

describe('the consent page', () => {
  it('Deny sends access_denied back to the client, with state and iss', async () => {
    const registered = await registerTestClient(as, 'none');
    const attempt = await authorizationUrl(as, registered);
    const landing = await runBrowser(attempt.url, registered.redirectUri, new CookieJar(), { decision: 'deny' });
    expect(landing.kind).toBe('stopped');
    const url = (landing as { url: URL }).url;
    expect(url.searchParams.get('error'), url.href).toBe('access_denied');
    expect(url.searchParams.getAll('state')).toEqual([attempt.state]);
    expect(url.searchParams.get('iss')).toBe(server.url);
    expect(url.searchParams.has('code')).toBe(false);
  });

  it('is served with headers that forbid framing, caching and cross-origin referrers, and a Lax, HttpOnly, host cookie', async () => {
    const registered = await registerTestClient(as, 'none');
    const attempt = await authorizationUrl(as, registered);
    const response = await fetch(attempt.url, { redirect: 'manual' });
    await response.body?.cancel();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toMatch(/(^|;)\s*frame-ancestors 'none'\s*(;|$)/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    // same-origin, so that the form's POST carries this origin in Origin (no-referrer makes it null).
    expect(response.headers.get('referrer-policy')).toBe('same-origin');
    expect(response.headers.get('x-frame-options')).toBe('DENY');

    const transaction = response.headers.getSetCookie().find((cookie) => cookie.startsWith('mcpgw_tx='));
    expect(transaction, response.headers.getSetCookie().join('\n')).toBeDefined();
    const attributes = (transaction as string)
      .split(';')
      .slice(1)
      .map((attribute) => attribute.trim().toLowerCase());
    expect(attributes).toContain('httponly');
    expect(attributes).toContain('samesite=lax');
    // Local mode is plain http: a Secure cookie would never come back.
    expect(attributes).not.toContain('secure');
    expect(attributes.some((attribute) => attribute.startsWith('domain='))).toBe(false);
  });

  it('shows a hostile client_name only escaped, and loads nothing', async () => {
    const registered = await registerTestClient(as, 'none', 'https://client.example/callback', {
      client_name: '<script>alert(1)</script>',
    });
    const attempt = await authorizationUrl(as, registered);
    const response = await fetch(attempt.url, { redirect: 'manual' });
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/<iframe/i);
  });

  it('puts the Allow button first in its form, so Enter approves', async () => {
    const registered = await registerTestClient(as, 'none');
    const attempt = await authorizationUrl(as, registered);
    const html = await (await fetch(attempt.url, { redirect: 'manual' })).text();
    const forms = [...html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form\s*>/gi)];
    expect(forms).toHaveLength(1);
    const submitters = [...forms[0][1].matchAll(/<(button|input)\b([^>]*)>/gi)]
      .map(([, tag, attributes]) => ({
        tag: tag.toLowerCase(),
        type: /\btype\s*=\s*"([^"]*)"/i.exec(attributes)?.[1].toLowerCase(),
        name: /\bname\s*=\s*"([^"]*)"/i.exec(attributes)?.[1],
        value: /\bvalue\s*=\s*"([^"]*)"/i.exec(attributes)?.[1],
      }))
      .filter((element) =>
        element.tag === 'button'
          ? element.type === undefined || element.type === 'submit'
          : element.type === 'submit' || element.type === 'image',
      );
    expect(submitters.length).toBeGreaterThanOrEqual(2);
    expect(submitters[0]).toMatchObject({ name: 'decision', value: 'allow' });
    expect(submitters.map((element) => element.value)).toContain('deny');
  });
});

// --- CSRF and browser binding ---------------------------------------------------------------

describe('CSRF and browser binding', () => {
  interface ConsentForm {
    jar: CookieJar;
    form: HtmlForm;
    registered: RegisteredTestClient;
  }

  async function consentForm(): Promise<ConsentForm> {
    const registered = await registerTestClient(as, 'none');
    const attempt = await authorizationUrl(as, registered);
    const jar = new CookieJar();
    const landing = await followRedirects(attempt.url, jar);
    if (landing.kind !== 'page') throw new Error('no consent page');
    const [form] = parseForms(landing.body, landing.url);
    expect(form.fields.csrf).toEqual(expect.any(String));
    return { jar, form, registered };
  }

  async function submit(
    { jar, form }: ConsentForm,
    options: { fields?: Record<string, string>; cookie?: boolean; origin?: string } = {},
  ): Promise<Response> {
    const action = new URL(form.action);
    const cookie = options.cookie === false ? undefined : jar.header(action);
    return fetch(action, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: options.origin ?? (form.origin as string),
        ...(cookie ? { cookie } : {}),
      },
      body: new URLSearchParams({ ...form.fields, decision: 'allow', ...options.fields }).toString(),
    });
  }

  async function expectErrorPage(response: Response): Promise<void> {
    const html = await response.text();
    expect(response.status, html).toBeGreaterThanOrEqual(400);
    expect(response.status, html).toBeLessThan(500);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('location')).toBeNull();
    expect(html).toMatch(/<h1>/);
  }

  it('the consent form as a browser sends it is accepted (the control for the refusals below)', async () => {
    const consent = await consentForm();
    const response = await submit(consent);
    await response.body?.cancel();
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toEqual(expect.any(String));
  });

  it('a consent POST without the transaction cookie gets an error page, no redirect', async () => {
    await expectErrorPage(await submit(await consentForm(), { cookie: false }));
  });

  it('a consent POST with a wrong csrf token gets an error page, no redirect', async () => {
    const consent = await consentForm();
    const wrong = `${consent.form.fields.csrf.slice(0, -1)}${consent.form.fields.csrf.endsWith('A') ? 'B' : 'A'}`;
    await expectErrorPage(await submit(consent, { fields: { csrf: wrong } }));
    await expectErrorPage(await submit(consent, { fields: { csrf: '' } }));
  });

  it('a consent POST from another origin gets an error page, no redirect', async () => {
    await expectErrorPage(await submit(await consentForm(), { origin: 'https://evil.example' }));
  });

  it('a Deny POST from another origin does not end the request either', async () => {
    const consent = await consentForm();
    await expectErrorPage(await submit(consent, { origin: 'https://evil.example', fields: { decision: 'deny' } }));
    const response = await submit(consent);
    await response.body?.cancel();
    expect(response.status).toBe(303);
  });

  it('GET /callback without the transaction cookie gets an HTML 400, and the code is not sent to the client', async () => {
    const registered = await registerTestClient(as, 'none');
    const attempt = await authorizationUrl(as, registered);
    const jar = new CookieJar();
    // Stop where the development provider sends the browser back to this server.
    const landing = await runBrowser(attempt.url, `${server.url}/callback`, jar);
    expect(landing.kind).toBe('stopped');
    const callback = (landing as { url: URL }).url;
    expect(callback.searchParams.get('state')).toEqual(expect.any(String));

    const bare = await fetch(callback, { redirect: 'manual' });
    const html = await bare.text();
    expect(bare.status, html).toBe(400);
    expect(bare.headers.get('content-type')).toMatch(/^text\/html/);
    expect(bare.headers.get('location')).toBeNull();
    expect(html).not.toContain(registered.redirectUri);

    // Another browser's own transaction cookie does not bind this state either.
    const other = await consentForm();
    const foreign = await fetch(callback, {
      redirect: 'manual',
      headers: { cookie: other.jar.header(callback) as string },
    });
    await foreign.body?.cancel();
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get('location')).toBeNull();

    // The browser that started the flow completes it.
    const own = await fetch(callback, { redirect: 'manual', headers: { cookie: jar.header(callback) as string } });
    await own.body?.cancel();
    expect(own.status).toBe(302);
    const location = new URL(own.headers.get('location') as string);
    expect(location.href.startsWith(registered.redirectUri)).toBe(true);
    expect(location.searchParams.get('code')).toEqual(expect.any(String));
    expect(location.searchParams.get('state')).toBe(attempt.state);
  });
});

// --- metadata -------------------------------------------------------------------------------

describe('authorization server metadata', () => {
  it('names the issuer exactly, the endpoints, S256 only, public clients and the iss parameter', async () => {
    const response = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Json;
    expect(metadata.issuer).toBe(server.url);
    expect(server.url.endsWith('/')).toBe(false);
    expect(metadata).toMatchObject({
      authorization_endpoint: `${server.url}/authorize`,
      token_endpoint: `${server.url}/token`,
      registration_endpoint: `${server.url}/register`,
      revocation_endpoint: `${server.url}/revoke`,
      jwks_uri: `${server.url}/jwks`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(metadata.token_endpoint_auth_methods_supported).toContain('none');
    expect(metadata.response_types_supported).toEqual(['code']);
  });

  it("is accepted by oauth4webapi's discovery", async () => {
    const discovered = await discover(server.url);
    expect(discovered.issuer).toBe(server.url);
    expect(discovered.token_endpoint).toBe(`${server.url}/token`);
  });
});

// --- revocation -----------------------------------------------------------------------------

describe('/revoke', () => {
  it('revoking a refresh token answers 200, and the refresh token then fails', async () => {
    const registered = await registerTestClient(as, 'client_secret_basic');
    const tokens = await expectTokens(await exchange(registered, await codeFor(registered)));
    const auth = credentials(registered);
    const reply = await post(
      '/revoke',
      { ...auth.fields, token: tokens.refresh_token, token_type_hint: 'refresh_token' },
      auth.headers as Record<string, string>,
    );
    expect(reply.status).toBe(200);
    expectError(await refresh(registered, tokens.refresh_token), 400, 'invalid_grant');
  });

  it('revoking garbage answers 200', async () => {
    const registered = await registerTestClient(as, 'none');
    const reply = await post('/revoke', { client_id: registered.client.client_id, token: 'garbage-token' });
    expect(reply.status).toBe(200);
  });

  it('revoking with an unauthenticated client is 401 invalid_client', async () => {
    const registered = await registerTestClient(as, 'client_secret_basic');
    const tokens = await expectTokens(await exchange(registered, await codeFor(registered)));
    const reply = await post(
      '/revoke',
      { token: tokens.refresh_token },
      { authorization: basicHeader(registered.client.client_id, 'wrong') },
    );
    expectError(reply, 401, 'invalid_client');
    await expectTokens(await refresh(registered, tokens.refresh_token));
  });
});

// --- BASE_PATH ------------------------------------------------------------------------------

describe('under BASE_PATH=/gateway', () => {
  it('serves metadata under the prefix, with the prefixed issuer', async () => {
    const issuer = `${prefixed.url}/gateway`;
    const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Json;
    expect(metadata).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      registration_endpoint: `${issuer}/register`,
    });
  });

  it('runs a whole flow under the prefix', async () => {
    const issuer = new URL(`${prefixed.url}/gateway`);
    const response = await fetch(`${issuer.href}/.well-known/oauth-authorization-server`);
    const prefixedAs = await oauth.processDiscoveryResponse(issuer, response);
    const registered = await registerTestClient(prefixedAs, 'client_secret_post');
    const tokens = await obtainTokens(prefixedAs, registered);
    expect(tokens.access_token).toEqual(expect.any(String));
    const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()) as Json;
    expect(payload.iss).toBe(issuer.href);
    expect(payload.aud).toBe(`${issuer.href}/mcp`);
  });

  it('answers a path outside the prefix with a 404 JSON error', async () => {
    const response = await fetch(`${prefixed.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://client.example/callback'] }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect((JSON.parse(text) as Json).error).toEqual(expect.any(String));
  });
});
