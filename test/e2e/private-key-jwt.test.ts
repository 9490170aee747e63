/**
 * End to end over HTTP: private_key_jwt client authentication (RFC 7523 2.2) with oauth4webapi's
 * PrivateKeyJwt. Clients registered with inline jwks and with a jwks_uri served on 127.0.0.1 run
 * the authorization-code flow, refresh and revoke; ChatGPT's published Client ID Metadata Document
 * (test/fixtures/metadata-documents/chatgpt.json, served locally with its client_id and jwks_uri
 * substituted) is accepted and authenticated with its RS256 key, and never as a public client.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLocalServer } from '../support/local-server-fixture.js';
import { discover, INSECURE, obtainTokens, type RegisteredTestClient } from '../support/oauth-flow.js';

const CHATGPT = JSON.parse(
  readFileSync(new URL('../fixtures/metadata-documents/chatgpt.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const REDIRECT_URI = 'https://client.example/callback';

interface KeyPair {
  privateKey: CryptoKey;
  jwk: JWK;
}

async function keyPair(alg: 'ES256' | 'RS256' | 'EdDSA', kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' } };
}

let keys: { inline: KeyPair; remote: KeyPair; chatgpt: KeyPair };
let served: Server;
let base: string;
const fetched = new Map<string, number>();

beforeAll(async () => {
  keys = {
    inline: await keyPair('ES256', 'inline-1'),
    remote: await keyPair('EdDSA', 'remote-1'),
    chatgpt: await keyPair('RS256', 'chatgpt-1'),
  };
  served = createServer((req, res) => {
    const path = req.url ?? '';
    fetched.set(path, (fetched.get(path) ?? 0) + 1);
    const json = (body: unknown) =>
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (path === '/remote/jwks.json') return json({ keys: [keys.remote.jwk] });
    if (path === '/chatgpt/jwks.json') return json({ keys: [keys.chatgpt.jwk] });
    if (path === '/chatgpt/client.json') {
      return json({ ...CHATGPT, client_id: `${base}${path}`, jwks_uri: `${base}/chatgpt/jwks.json` });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => served.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(served.address() as AddressInfo).port}`;
});

afterAll(async () => {
  served?.closeAllConnections();
  await new Promise<void>((resolve) => (served ? served.close(() => resolve()) : resolve()));
});

const server = useLocalServer({ CIMD_ALLOW_LOOPBACK_HTTP: 'true' });
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  as = await discover(server.url);
});

async function register(keyFields: Record<string, unknown>, pair: KeyPair): Promise<RegisteredTestClient> {
  const response = await oauth.dynamicClientRegistrationRequest(
    as,
    {
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['authorization_code', 'refresh_token'],
      client_name: 'Key Client',
      ...keyFields,
    },
    INSECURE,
  );
  const client = (await oauth.processDynamicClientRegistrationResponse(response)) as oauth.Client;
  return {
    client,
    auth: oauth.PrivateKeyJwt({ key: pair.privateKey, kid: pair.jwk.kid }),
    redirectUri: REDIRECT_URI,
  };
}

/** The flow, a refresh, a revocation, and the revoked refresh token refused. */
async function fullCycle(registered: RegisteredTestClient): Promise<void> {
  const tokens = await obtainTokens(as, registered);
  expect(tokens.access_token).toBeTruthy();
  const refreshToken = tokens.refresh_token as string;
  expect(refreshToken).toBeTruthy();

  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    registered.client,
    await oauth.refreshTokenGrantRequest(as, registered.client, registered.auth, refreshToken, INSECURE),
  );
  const current = refreshed.refresh_token as string;
  expect(current).toBeTruthy();

  const revoked = await oauth.revocationRequest(as, registered.client, registered.auth, current, INSECURE);
  await oauth.processRevocationResponse(revoked);
  const again = await oauth.refreshTokenGrantRequest(as, registered.client, registered.auth, current, INSECURE);
  expect(again.status).toBe(400);
  expect(((await again.json()) as { error: string }).error).toBe('invalid_grant');
}

async function postToken(form: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams(form) });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe('private_key_jwt', () => {
  it('is advertised with its signing algorithms', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(metadata.revocation_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).toEqual(['ES256', 'RS256', 'EdDSA', 'Ed25519']);
  });

  it('authenticates a client registered with inline jwks: code, refresh, revoke', async () => {
    const registered = await register({ jwks: { keys: [keys.inline.jwk] } }, keys.inline);
    expect(registered.client.jwks).toEqual({ keys: [keys.inline.jwk] });
    // A key-based client is issued no secret: it could never use one.
    expect(registered.client.client_secret).toBeUndefined();
    await fullCycle(registered);
  });

  it('authenticates a client registered with a jwks_uri on 127.0.0.1, fetching it once', async () => {
    const registered = await register({ jwks_uri: `${base}/remote/jwks.json` }, keys.remote);
    await fullCycle(registered);
    expect(fetched.get('/remote/jwks.json')).toBe(1);
  });

  it('refuses a private_key_jwt client sending client_id alone, and a replayed assertion', async () => {
    const registered = await register({ jwks: { keys: [keys.inline.jwk] } }, keys.inline);
    const clientId = registered.client.client_id;
    const bare = await postToken({ grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId });
    expect(bare.status).toBe(401);
    expect(bare.body.error).toBe('invalid_client');
    expect(bare.body.error_description).toMatch(/private_key_jwt/);

    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ iss: clientId, sub: clientId, aud: as.issuer, exp: now + 60, jti: 'once' })
      .setProtectedHeader({ alg: 'ES256', kid: keys.inline.jwk.kid as string })
      .sign(keys.inline.privateKey);
    const form = {
      grant_type: 'refresh_token',
      refresh_token: 'not-a-token',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    };
    // Authenticated (the grant fails afterwards), then the same assertion refused.
    expect((await postToken(form)).body.error).toBe('invalid_grant');
    const replay = await postToken(form);
    expect(replay.status).toBe(401);
    expect(replay.body.error_description).toMatch(/already used/);
  });

  it('refuses a registration with private_key_jwt and no keys, or with a private key', async () => {
    const post = (body: unknown) =>
      fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const noKeys = await post({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'private_key_jwt' });
    expect(noKeys.status).toBe(400);
    expect(((await noKeys.json()) as { error_description: string }).error_description).toMatch(/jwks or jwks_uri/);
    const privateJwk = await exportJWK(keys.inline.privateKey);
    const leaked = await post({
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [privateJwk] },
    });
    expect(leaked.status).toBe(400);
    expect(((await leaked.json()) as { error_description: string }).error_description).toMatch(/public key/);
  });
});

describe("ChatGPT's metadata document", () => {
  const redirectUri = CHATGPT.redirect_uris && (CHATGPT.redirect_uris as string[])[0];

  it('is accepted and authenticates at /token with its RS256 key, never as a public client', async () => {
    const clientId = `${base}/chatgpt/client.json`;
    const registered: RegisteredTestClient = {
      client: { client_id: clientId },
      auth: oauth.PrivateKeyJwt({ key: keys.chatgpt.privateKey, kid: keys.chatgpt.jwk.kid }),
      redirectUri: redirectUri as string,
    };
    await fullCycle(registered);

    // The document lists `none` in token_endpoint_auth_methods_supported: no fallback to it.
    const bare = await postToken({ grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId });
    expect(bare.status).toBe(401);
    expect(bare.body.error).toBe('invalid_client');
  });
});
