/**
 * OpenIdUpstream against a real OpenID provider (the dev oidc-provider on loopback), driven the
 * way a browser would: redirects, cookies, the dev login and consent forms. The redirect URI is
 * never requested; the walk stops at it and hands the URL to completeLogin, as the gateway's
 * callback handler would. A stub provider covers what the real one cannot be made to do.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type UpstreamLogin, UpstreamLoginError } from '../../lambda/domain/upstream.js';
import { OpenIdUpstream } from '../../lambda/upstream/openid-upstream.js';
import { type DevOidcProvider, startDevOidcProvider } from '../../lib/local/dev-oidc-provider.js';
import { CookieJar, followRedirects, type Landing, parseForms, submitForm } from '../support/browser-like.js';

const CLIENT_ID = 'mcp-oauth-gateway';
/** Nothing listens here; the walk stops before requesting it. */
const REDIRECT_URI = 'http://127.0.0.1:1/upstream/callback';
const atRedirectUri = (url: URL) => url.href.startsWith(`${REDIRECT_URI}?`);

let provider: DevOidcProvider;
let upstream: OpenIdUpstream;

beforeAll(async () => {
  provider = await startDevOidcProvider({ clients: [{ client_id: CLIENT_ID, redirect_uris: [REDIRECT_URI] }] });
  upstream = new OpenIdUpstream({
    issuer: provider.issuer,
    clientId: CLIENT_ID,
    redirectUri: REDIRECT_URI,
    allowInsecureHttp: true,
  });
});

afterAll(async () => {
  await provider?.close();
});

function newLogin(): UpstreamLogin {
  const random = () => randomBytes(32).toString('base64url');
  return { state: random(), nonce: random(), codeVerifier: random() };
}

function expectPage(landing: Landing): Extract<Landing, { kind: 'page' }> {
  if (landing.kind !== 'page') throw new Error(`expected a page, stopped at ${landing.url}`);
  return landing;
}

/** Signs in at the dev provider as `username` and returns the redirect back, unrequested. */
async function signIn(login: UpstreamLogin, username: string): Promise<URL> {
  const jar = new CookieJar();
  const loginPage = expectPage(
    await followRedirects(await upstream.authorizationUrl(login), jar, { stopAt: atRedirectUri }),
  );
  const [loginForm] = parseForms(loginPage.body, loginPage.url);
  expect(loginForm.inputs.map((input) => input.name)).toEqual(['prompt', 'login', 'password']);
  expect(loginForm.fields.prompt).toBe('login');

  const consentPage = expectPage(
    await submitForm(loginForm, { login: username, password: 'anything' }, jar, { stopAt: atRedirectUri }),
  );
  const [consentForm] = parseForms(consentPage.body, consentPage.url);
  expect(consentForm.fields).toEqual({ prompt: 'consent' });

  const back = await submitForm(consentForm, {}, jar, { stopAt: atRedirectUri });
  if (back.kind !== 'stopped') throw new Error(`expected the redirect URI, got a page at ${back.url}`);
  return back.url;
}

async function rejection(promise: Promise<unknown>): Promise<UpstreamLoginError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(UpstreamLoginError);
  return error as UpstreamLoginError;
}

/** No per-login secret may leak into a message that ends up in logs or on an error page. */
function expectNoSecrets(error: Error, login: UpstreamLogin, callback?: URL): void {
  const secrets = [login.state, login.nonce, login.codeVerifier, callback?.searchParams.get('code')];
  for (const secret of secrets) if (secret) expect(error.message).not.toContain(secret);
}

describe('OpenIdUpstream with the dev provider', () => {
  it('builds an authorization request with PKCE S256, state, nonce and the configured scope', async () => {
    const login = newLogin();
    const url = await upstream.authorizationUrl(login);
    expect(url.origin).toBe(provider.issuer);
    const params = Object.fromEntries(url.searchParams);
    expect(params).toMatchObject({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      state: login.state,
      nonce: login.nonce,
      code_challenge_method: 'S256',
    });
    const { createHash } = await import('node:crypto');
    expect(params.code_challenge).toBe(createHash('sha256').update(login.codeVerifier).digest('base64url'));
  });

  it('signs a person in through the dev login and consent pages and returns their subject', async () => {
    const login = newLogin();
    const callback = await signIn(login, 'alice');
    expect(callback.searchParams.get('state')).toBe(login.state);
    expect(callback.searchParams.get('code')).toBeTruthy();
    await expect(upstream.completeLogin(callback, login)).resolves.toEqual({ subject: 'alice' });
  });

  it('returns whoever signed in, not a fixed account', async () => {
    const login = newLogin();
    await expect(upstream.completeLogin(await signIn(login, 'bob'), login)).resolves.toEqual({ subject: 'bob' });
  });

  it('sends the configured redirect URI whatever URL the callback arrived at', async () => {
    const login = newLogin();
    const callback = await signIn(login, 'alice');
    const asSeenBehindAProxy = new URL(`http://10.0.0.7:8080/prod/upstream/callback${callback.search}`);
    await expect(upstream.completeLogin(asSeenBehindAProxy, login)).resolves.toEqual({ subject: 'alice' });
  });

  it('rejects a callback whose state is not this login’s', async () => {
    const login = newLogin();
    const callback = await signIn(login, 'alice');
    const error = await rejection(upstream.completeLogin(callback, { ...login, state: newLogin().state }));
    expect(error.message).toMatch(/validation/);
    expectNoSecrets(error, login, callback);
  });

  it('rejects an ID token whose nonce is not this login’s', async () => {
    const login = newLogin();
    const callback = await signIn(login, 'alice');
    const error = await rejection(upstream.completeLogin(callback, { ...login, nonce: newLogin().nonce }));
    expect(error.message).toMatch(/validation/);
    expectNoSecrets(error, login, callback);
  });

  it('rejects the exchange when the code verifier does not match the challenge', async () => {
    const login = newLogin();
    const callback = await signIn(login, 'alice');
    const error = await rejection(
      upstream.completeLogin(callback, { ...login, codeVerifier: newLogin().codeVerifier }),
    );
    expect(error.message).toMatch(/refused the code exchange \(invalid_grant\)/);
    expectNoSecrets(error, login, callback);
  });

  it('rejects a code used twice', async () => {
    const login = newLogin();
    const callback = await signIn(login, 'alice');
    await upstream.completeLogin(callback, login);
    await rejection(upstream.completeLogin(callback, login));
  });

  it('rejects the access_denied callback of a person who cancels at the provider', async () => {
    const login = newLogin();
    const jar = new CookieJar();
    const loginPage = expectPage(await followRedirects(await upstream.authorizationUrl(login), jar));
    const cancel = /<a href="([^"]*\/abort)"/.exec(loginPage.body)?.[1];
    if (!cancel) throw new Error('the dev login page has no cancel link');
    const back = await followRedirects(new URL(cancel, loginPage.url), jar, { stopAt: atRedirectUri });
    if (back.kind !== 'stopped') throw new Error(`expected the redirect URI, got a page at ${back.url}`);
    expect(back.url.searchParams.get('error')).toBe('access_denied');

    const error = await rejection(upstream.completeLogin(back.url, login));
    expect(error.message).toBe('The sign-in provider returned an error (access_denied).');
    expectNoSecrets(error, login);
  });
});

describe('OpenIdUpstream when the provider is unreachable', () => {
  it('rejects both steps with an "unreachable" UpstreamLoginError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const offline = new OpenIdUpstream({
      issuer: `http://127.0.0.1:${port}`,
      clientId: CLIENT_ID,
      redirectUri: REDIRECT_URI,
      allowInsecureHttp: true,
    });
    const login = newLogin();
    expect((await rejection(offline.authorizationUrl(login))).message).toBe('The sign-in provider is unreachable.');
    const callback = new URL(`${REDIRECT_URI}?code=abc&state=${login.state}`);
    expect((await rejection(offline.completeLogin(callback, login))).message).toBe(
      'The sign-in provider is unreachable.',
    );
  });
});

/** A provider that serves only discovery and records token requests; `respond` may be changed. */
async function startStubProvider(metadata: Record<string, unknown> = {}) {
  const stub = {
    issuer: '',
    discoveries: 0,
    tokenRequests: [] as Array<{ authorization: string | undefined; body: URLSearchParams }>,
    failDiscovery: false,
    server: undefined as unknown as Server,
  };
  const handler: RequestListener = (req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      stub.discoveries++;
      if (stub.failDiscovery) return void res.writeHead(500).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(
        JSON.stringify({
          issuer: stub.issuer,
          authorization_endpoint: `${stub.issuer}/authorize`,
          token_endpoint: `${stub.issuer}/token`,
          jwks_uri: `${stub.issuer}/jwks`,
          ...metadata,
        }),
      );
    }
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      stub.tokenRequests.push({ authorization: req.headers.authorization, body: new URLSearchParams(body) });
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
    });
  };
  stub.server = createServer(handler);
  await new Promise<void>((resolve) => stub.server.listen(0, '127.0.0.1', resolve));
  stub.issuer = `http://127.0.0.1:${(stub.server.address() as AddressInfo).port}`;
  return stub;
}

function closeStub(stub: { server: Server }): Promise<void> {
  return new Promise((resolve) => {
    stub.server.closeAllConnections();
    stub.server.close(() => resolve());
  });
}

describe('OpenIdUpstream discovery and client authentication', () => {
  it('discovers once, and after a failure tries again on the next login', async () => {
    const stub = await startStubProvider();
    try {
      stub.failDiscovery = true;
      const upstreamOfStub = new OpenIdUpstream({
        issuer: stub.issuer,
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        allowInsecureHttp: true,
      });
      await rejection(upstreamOfStub.authorizationUrl(newLogin()));
      stub.failDiscovery = false;
      await upstreamOfStub.authorizationUrl(newLogin());
      await upstreamOfStub.authorizationUrl(newLogin());
      expect(stub.discoveries).toBe(2);
    } finally {
      await closeStub(stub);
    }
  });

  it('refuses an http issuer unless insecure http is allowed', () => {
    expect(
      () => new OpenIdUpstream({ issuer: 'http://127.0.0.1:1', clientId: CLIENT_ID, redirectUri: REDIRECT_URI }),
    ).toThrow(/https/);
  });

  async function tokenRequestWith(metadata: Record<string, unknown>, clientSecret?: string) {
    const stub = await startStubProvider(metadata);
    try {
      const login = newLogin();
      const confidential = new OpenIdUpstream({
        issuer: stub.issuer,
        clientId: CLIENT_ID,
        clientSecret,
        redirectUri: REDIRECT_URI,
        allowInsecureHttp: true,
      });
      const callback = new URL(`${REDIRECT_URI}?code=the-code&state=${login.state}`);
      await rejection(confidential.completeLogin(callback, login));
      expect(stub.tokenRequests).toHaveLength(1);
      return { ...stub.tokenRequests[0], login };
    } finally {
      await closeStub(stub);
    }
  }

  it('authenticates with client_secret_basic when the provider supports it', async () => {
    const request = await tokenRequestWith(
      { token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'] },
      's3cret',
    );
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64, so '-' may arrive as %2D.
    const [scheme, credentials] = (request.authorization ?? '').split(' ');
    expect(scheme).toBe('Basic');
    const [id, secret] = Buffer.from(credentials, 'base64').toString().split(':').map(decodeURIComponent);
    expect({ id, secret }).toEqual({ id: CLIENT_ID, secret: 's3cret' });
    expect(request.body.get('client_secret')).toBeNull();
  });

  it('authenticates with client_secret_basic when the provider lists no methods', async () => {
    const request = await tokenRequestWith({}, 's3cret');
    expect(request.authorization).toMatch(/^Basic /);
  });

  it('authenticates with client_secret_post when that is all the provider supports', async () => {
    const request = await tokenRequestWith({ token_endpoint_auth_methods_supported: ['client_secret_post'] }, 's3cret');
    expect(request.authorization).toBeUndefined();
    expect(request.body.get('client_secret')).toBe('s3cret');
    expect(request.body.get('client_id')).toBe(CLIENT_ID);
  });

  it('sends the code verifier and only the client id for a public client', async () => {
    const request = await tokenRequestWith({});
    expect(request.authorization).toBeUndefined();
    expect(request.body.get('client_id')).toBe(CLIENT_ID);
    expect(request.body.get('client_secret')).toBeNull();
    expect(request.body.get('code_verifier')).toBe(request.login.codeVerifier);
    expect(request.body.get('redirect_uri')).toBe(REDIRECT_URI);
  });
});
