/**
 * End to end over HTTP: the token and revocation endpoints as real client libraries use them.
 * oauth4webapi and openid-client choose how a client with a secret authenticates per call, and
 * clients such as Authlib revoke with HTTP Basic whatever was registered; RFC 6749 2.3.1 says the
 * server MUST support Basic. And the token response says the scope granted (RFC 6749 3.3, 5.1),
 * also when that is nothing, so a client never repeats on refresh a scope it does not hold.
 */
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalServer } from '../support/local-server-fixture.js';
import {
  authorizationUrl,
  discover,
  INSECURE,
  type RegisteredTestClient,
  registerTestClient,
  runBrowser,
} from '../support/oauth-flow.js';

const server = useLocalServer({ SCOPES: 'mcp:read,mcp:write' });
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  as = await discover(server.url);
});

type SecretMethod = 'client_secret_basic' | 'client_secret_post';

/** The registration's secret, sent the other way or the same way. */
function authFor(registered: RegisteredTestClient, method: SecretMethod): oauth.ClientAuth {
  const secret = registered.client.client_secret as string;
  return method === 'client_secret_basic' ? oauth.ClientSecretBasic(secret) : oauth.ClientSecretPost(secret);
}

/** Consent and sign-in like a browser, until the redirect back with a code. */
async function authorize(registered: RegisteredTestClient, extra: Record<string, string> = {}) {
  const attempt = await authorizationUrl(as, registered, extra);
  const landing = await runBrowser(attempt.url, registered.redirectUri);
  if (landing.kind !== 'stopped') throw new Error(`flow ended on a page: ${landing.response.status}`);
  return { attempt, callback: landing.url };
}

async function tokensWith(
  registered: RegisteredTestClient,
  auth: oauth.ClientAuth,
  extra: Record<string, string> = {},
): Promise<oauth.TokenEndpointResponse> {
  const { attempt, callback } = await authorize(registered, extra);
  const params = oauth.validateAuthResponse(as, registered.client, callback, attempt.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    registered.client,
    auth,
    params,
    registered.redirectUri,
    attempt.codeVerifier,
    INSECURE,
  );
  return oauth.processAuthorizationCodeResponse(as, registered.client, response);
}

async function refreshWith(
  registered: RegisteredTestClient,
  auth: oauth.ClientAuth,
  refreshToken: string,
  scope?: string,
): Promise<Response> {
  return oauth.refreshTokenGrantRequest(as, registered.client, auth, refreshToken, {
    ...INSECURE,
    ...(scope !== undefined ? { additionalParameters: { scope } } : {}),
  });
}

async function revokeWith(registered: RegisteredTestClient, auth: oauth.ClientAuth, token: string): Promise<Response> {
  return oauth.revocationRequest(as, registered.client, auth, token, {
    ...INSECURE,
    additionalParameters: { token_type_hint: 'refresh_token' },
  });
}

async function expectOAuthError(response: Response, status: number, error: string): Promise<void> {
  const body = (await response.json()) as Record<string, unknown>;
  expect(body.error, JSON.stringify(body)).toBe(error);
  expect(response.status).toBe(status);
}

describe('a client with a secret authenticates by HTTP Basic or in the body, at /token and /revoke', () => {
  it.each([
    ['client_secret_basic', 'client_secret_basic'],
    ['client_secret_basic', 'client_secret_post'],
    ['client_secret_post', 'client_secret_post'],
    ['client_secret_post', 'client_secret_basic'],
  ] as const)('registered %s, authenticating with %s: code, refresh, revoke', async (registeredAs, usedAs) => {
    const registered = await registerTestClient(as, registeredAs);
    const auth = authFor(registered, usedAs);
    const tokens = await tokensWith(registered, auth);
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      registered.client,
      await refreshWith(registered, auth, tokens.refresh_token as string),
    );
    await oauth.processRevocationResponse(await revokeWith(registered, auth, refreshed.refresh_token as string));
    await expectOAuthError(
      await refreshWith(registered, auth, refreshed.refresh_token as string),
      400,
      'invalid_grant',
    );
  });

  it("Authlib's default: registered client_secret_post, tokens by post, revocation by Basic takes effect", async () => {
    const registered = await registerTestClient(as, 'client_secret_post');
    const post = authFor(registered, 'client_secret_post');
    const tokens = await tokensWith(registered, post);
    const revoked = await revokeWith(
      registered,
      authFor(registered, 'client_secret_basic'),
      tokens.refresh_token as string,
    );
    expect(revoked.status).toBe(200);
    await expectOAuthError(await refreshWith(registered, post, tokens.refresh_token as string), 400, 'invalid_grant');
  });

  it('openid-client configured for Basic drives a client registered client_secret_post: refresh and revocation', async () => {
    const registered = await registerTestClient(as, 'client_secret_post');
    const tokens = await tokensWith(registered, authFor(registered, 'client_secret_post'));
    const config = await openid.discovery(
      new URL(server.url),
      registered.client.client_id,
      undefined,
      openid.ClientSecretBasic(registered.client.client_secret as string),
      { algorithm: 'oauth2', execute: [openid.allowInsecureRequests] },
    );
    const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    await openid.tokenRevocation(config, refreshed.refresh_token as string);
    await expect(openid.refreshTokenGrant(config, refreshed.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it.each(['client_secret_basic', 'client_secret_post'] as const)(
    'a %s client can never fall back to none: without its secret it is 401 invalid_client',
    async (registeredAs) => {
      const registered = await registerTestClient(as, registeredAs);
      const tokens = await tokensWith(registered, authFor(registered, registeredAs));
      await expectOAuthError(
        await refreshWith(registered, oauth.None(), tokens.refresh_token as string),
        401,
        'invalid_client',
      );
      await expectOAuthError(
        await revokeWith(registered, oauth.None(), tokens.refresh_token as string),
        401,
        'invalid_client',
      );
      // Neither refusal touched the grant.
      await oauth.processRefreshTokenResponse(
        as,
        registered.client,
        await refreshWith(registered, authFor(registered, registeredAs), tokens.refresh_token as string),
      );
    },
  );

  it.each(['client_secret_basic', 'client_secret_post'] as const)(
    'a public client stays public: presenting a secret by %s is 401 invalid_client',
    async (usedAs) => {
      const registered = await registerTestClient(as, 'none');
      const tokens = await tokensWith(registered, oauth.None());
      const secret =
        usedAs === 'client_secret_basic' ? oauth.ClientSecretBasic('made-up') : oauth.ClientSecretPost('made-up');
      await expectOAuthError(
        await refreshWith(registered, secret, tokens.refresh_token as string),
        401,
        'invalid_client',
      );
      await expectOAuthError(
        await revokeWith(registered, secret, tokens.refresh_token as string),
        401,
        'invalid_client',
      );
    },
  );

  it('a wrong secret by Basic is 401 with WWW-Authenticate: Basic (RFC 6749 5.2)', async () => {
    const registered = await registerTestClient(as, 'client_secret_post');
    const tokens = await tokensWith(registered, authFor(registered, 'client_secret_post'));
    const reply = await refreshWith(registered, oauth.ClientSecretBasic('wrong'), tokens.refresh_token as string);
    expect(reply.headers.get('www-authenticate')).toMatch(/^Basic /);
    await expectOAuthError(reply, 401, 'invalid_client');
  });

  it('Basic and client_secret in one request is 400 invalid_request', async () => {
    const registered = await registerTestClient(as, 'client_secret_basic');
    const tokens = await tokensWith(registered, authFor(registered, 'client_secret_basic'));
    const secret = registered.client.client_secret as string;
    const both: oauth.ClientAuth = (as_, client, body, headers) => {
      oauth.ClientSecretBasic(secret)(as_, client, body, headers);
      body.set('client_secret', secret);
    };
    await expectOAuthError(await refreshWith(registered, both, tokens.refresh_token as string), 400, 'invalid_request');
  });
});

describe('the token response says the scope granted (RFC 6749 3.3, 5.1)', () => {
  it.each([
    ['all it asked for', 'mcp:read mcp:write', 'mcp:read mcp:write'],
    ['part of what it asked for', 'mcp:read mcp:admin', 'mcp:read'],
    ['nothing it asked for: scope ""', 'mcp:admin claudeai', ''],
  ])('a client granted %s is told so, and a refresh repeating it is accepted', async (_name, asked, granted) => {
    const registered = await registerTestClient(as, 'none');
    const tokens = await tokensWith(registered, oauth.None(), { scope: asked });
    expect(tokens.scope).toBe(granted);

    const repeated = await oauth.processRefreshTokenResponse(
      as,
      registered.client,
      await refreshWith(registered, oauth.None(), tokens.refresh_token as string, tokens.scope),
    );
    expect(repeated.scope).toBe(granted);
  });

  it.each([
    ['a scope it asked for and was not granted', 'mcp:read mcp:admin', 'mcp:read mcp:admin'],
    ['a defined scope after an empty grant', 'mcp:admin', 'mcp:read'],
  ])('a refresh asking for %s is invalid_scope', async (_name, asked, onRefresh) => {
    const registered = await registerTestClient(as, 'none');
    const tokens = await tokensWith(registered, oauth.None(), { scope: asked });
    await expectOAuthError(
      await refreshWith(registered, oauth.None(), tokens.refresh_token as string, onRefresh),
      400,
      'invalid_scope',
    );
  });
});
