/**
 * End to end: the built-in authorization server over the local server, from discovery and
 * registration through consent and the development provider's login to tokens and refresh,
 * with oauth4webapi as the client.
 */
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/browser-like.js';
import { useLocalServer } from '../support/local-server-fixture.js';
import { discover, INSECURE, obtainTokens, registerTestClient } from '../support/oauth-flow.js';

const server = useLocalServer();
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  as = await discover(server.url);
});

describe('authorization code flow', () => {
  it.each(['none', 'client_secret_basic', 'client_secret_post'] as const)(
    'issues ES256 access tokens and rotating refresh tokens to a %s client',
    async (method) => {
      const registered = await registerTestClient(as, method);
      const tokens = await obtainTokens(as, registered, { username: 'alice' });
      expect(tokens.token_type).toBe('bearer');
      expect(Number.isInteger(tokens.expires_in)).toBe(true);

      const jwks = (await (await fetch(`${server.url}/jwks`)).json()) as JSONWebKeySet;
      const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), {
        issuer: server.url,
        audience: `${server.url}/mcp`,
        typ: 'at+jwt',
        algorithms: ['ES256'],
      });
      expect(protectedHeader.kid).toBe(jwks.keys[0].kid);
      expect(payload).toMatchObject({ sub: 'alice', client_id: registered.client.client_id });
      expect(payload.jti).toEqual(expect.any(String));

      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        registered.client,
        await oauth.refreshTokenGrantRequest(
          as,
          registered.client,
          registered.auth,
          tokens.refresh_token as string,
          INSECURE,
        ),
      );
      expect(refreshed.refresh_token).toEqual(expect.any(String));
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    },
  );

  it('remembers consent per browser and client', async () => {
    const registered = await registerTestClient(as, 'none');
    const jar = new CookieJar();
    await obtainTokens(as, registered, { jar });
    const again = await obtainTokens(as, registered, { jar });
    expect(again.access_token).toEqual(expect.any(String));
  });
});
