/**
 * End to end over HTTP: enterprise-managed authorization (SEP-990). Two test identity providers
 * made here, one trusted with an inline JWKS and one with a jwks_uri served on 127.0.0.1, sign
 * Identity Assertion JWT Authorization Grants (ID-JAG); a confidential client presents them with
 * the jwt-bearer grant (RFC 7523 2.1) and the MCP SDK's client reaches a tool call with the token.
 * Then every refusal the issue lists, one test each: each is 400 invalid_grant naming the rule.
 * (The MCP TypeScript SDK 1.32 has no cross-app-access client and oauth4webapi no generic grant
 * request, so the token requests are plain form POSTs with HTTP Basic.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CryptoKey, decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT, UnsecuredJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLocalServer } from '../support/local-server-fixture.js';
import { discover, type RegisteredTestClient, registerTestClient } from '../support/oauth-flow.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const INLINE_IDP = 'https://idp.example.com';
const UNTRUSTED_IDP = 'https://evil.example.com';
type Json = Record<string, unknown>;

let inline: { privateKey: CryptoKey; jwk: JWK };
let remote: { privateKey: CryptoKey; jwk: JWK };
let served: Server;
let remoteIssuer: string;

beforeAll(async () => {
  const pair = async (kid: string) => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' } };
  };
  inline = await pair('idp-1');
  remote = await pair('idp-2');
  served = createServer((req, res) => {
    if (req.url === '/jwks.json') {
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [remote.jwk] }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => served.listen(0, '127.0.0.1', () => resolve()));
  remoteIssuer = `http://127.0.0.1:${(served.address() as AddressInfo).port}`;
});

afterAll(async () => {
  served?.closeAllConnections();
  await new Promise<void>((resolve) => (served ? served.close(() => resolve()) : resolve()));
});

const server = useLocalServer(() => ({
  SCOPES: 'mcp:tools',
  CIMD_ALLOW_LOOPBACK_HTTP: 'true',
  GRANT_STATUS_CACHE_SECONDS: '0',
  ID_JAG_TRUSTED_ISSUERS: JSON.stringify([
    { issuer: INLINE_IDP, jwks: { keys: [inline.jwk] } },
    { issuer: remoteIssuer, jwks_uri: `${remoteIssuer}/jwks.json` },
  ]),
}));
let as: oauth.AuthorizationServer;
let enterprise: RegisteredTestClient;

beforeAll(async () => {
  as = await discover(server.url);
  enterprise = await registerTestClient(as, 'client_secret_basic', 'https://client.example/callback', {
    grant_types: ['authorization_code', JWT_BEARER],
  });
});

/** The claims an IdP puts in an ID-JAG for `enterprise` at this server, with `overrides`. */
function claims(overrides: Json = {}): Json {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: INLINE_IDP,
    sub: 'alice@corp',
    aud: server.url,
    client_id: enterprise.client.client_id,
    resource: `${server.url}/mcp`,
    scope: 'mcp:tools',
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + 120,
    ...overrides,
  };
}

async function idJag(
  overrides: Json = {},
  header: Json = {},
  key: CryptoKey | Uint8Array = inline.privateKey,
): Promise<string> {
  return new SignJWT(claims(overrides))
    .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt', kid: 'idp-1', ...header })
    .sign(key);
}

async function present(assertion: string, registered: RegisteredTestClient = enterprise) {
  const { client_id: id, client_secret: secret } = registered.client;
  const form = new URLSearchParams({ grant_type: JWT_BEARER, assertion });
  const headers: Record<string, string> = {};
  if (typeof secret === 'string') headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  else form.set('client_id', id);
  const response = await fetch(`${server.url}/token`, { method: 'POST', headers, body: form });
  return { status: response.status, body: (await response.json()) as Json };
}

async function expectRefused(assertion: string, description: string | RegExp) {
  const { status, body } = await present(assertion);
  expect(status, JSON.stringify(body)).toBe(400);
  expect(body.error).toBe('invalid_grant');
  expect(body.error_description).toMatch(description);
}

describe('ID-JAG (jwt-bearer grant)', () => {
  it('is advertised in grant_types_supported', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Json;
    expect(metadata.grant_types_supported).toContain(JWT_BEARER);
  });

  it('an inline-JWKS IdP: a token for the namespaced subject, which the MCP SDK client uses for a tool call', async () => {
    const { status, body } = await present(await idJag());
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.refresh_token).toBeUndefined();
    expect(body.scope).toBe('mcp:tools');
    const token = decodeJwt(body.access_token as string);
    expect(token).toMatchObject({
      sub: `${INLINE_IDP}#alice@corp`,
      client_id: enterprise.client.client_id,
      gty: JWT_BEARER,
      aud: `${server.url}/mcp`,
    });

    const client = new Client({ name: 'enterprise', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${body.access_token}` } },
      }),
    );
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    await client.close();
    expect(result.structuredContent).toEqual({
      subject: `${INLINE_IDP}#alice@corp`,
      clientId: enterprise.client.client_id,
      scope: ['mcp:tools'],
    });
  });

  it('a jwks_uri IdP on 127.0.0.1: the same subject at another IdP is another subject', async () => {
    const assertion = await new SignJWT(claims({ iss: remoteIssuer }))
      .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt', kid: 'idp-2' })
      .sign(remote.privateKey);
    const { status, body } = await present(assertion);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(decodeJwt(body.access_token as string).sub).toBe(`${remoteIssuer}#alice@corp`);
  });

  it('refuses a wrong typ', async () => {
    await expectRefused(await idJag({}, { typ: 'JWT' }), "The assertion's typ must be oauth-id-jag+jwt.");
  });

  it('refuses an untrusted issuer', async () => {
    await expectRefused(await idJag({ iss: UNTRUSTED_IDP }), /issuer \(iss\) is not a trusted identity provider/);
  });

  it('refuses a wrong aud', async () => {
    await expectRefused(await idJag({ aud: 'https://other-as.example.com' }), /aud must be/);
  });

  it('refuses a replayed jti', async () => {
    const assertion = await idJag();
    expect((await present(assertion)).status).toBe(200);
    await expectRefused(assertion, 'The assertion was already used (jti).');
  });

  it('refuses an expired assertion', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await idJag({ iat: now - 600, exp: now - 300 }), 'The assertion has expired (exp).');
  });

  it('refuses an assertion whose exp is too far away', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await idJag({ exp: now + 3600 }), /exp is more than 300 seconds away/);
  });

  it('refuses a client_id that is not the authenticated client', async () => {
    await expectRefused(await idJag({ client_id: 'someone-else' }), /client_id is not the authenticated client/);
  });

  it('refuses a resource that is not ours', async () => {
    await expectRefused(await idJag({ resource: 'https://elsewhere.example/mcp' }), /resource is not a resource/);
  });

  it('refuses alg none', async () => {
    const unsigned = new UnsecuredJWT(claims()).encode();
    // UnsecuredJWT writes typ JWT; the alg is what is refused first after typ, so set typ right.
    const [, payload] = unsigned.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'oauth-id-jag+jwt' })).toString('base64url');
    await expectRefused(`${header}.${payload}.`, /alg none is not accepted/);
  });

  it('refuses HS256 keyed with the IdP public key', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(inline.jwk));
    const forged = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', typ: 'oauth-id-jag+jwt', kid: 'idp-1' })
      .sign(secret);
    await expectRefused(forged, /alg HS256 is not accepted/);
  });

  it('refuses an oversized assertion', async () => {
    await expectRefused(await idJag({ padding: 'x'.repeat(5000) }), /larger than 4096 bytes/);
  });

  it('refuses a signature by a key that is not the issuer', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    await expectRefused(await idJag({}, {}, privateKey), /signature does not verify|No key/);
  });

  it('refuses a client that did not register the grant, and a public client', async () => {
    const other = await registerTestClient(as, 'client_secret_basic');
    const notRegistered = await present(await idJag({ client_id: other.client.client_id }), other);
    expect(notRegistered.status).toBe(400);
    expect(notRegistered.body.error).toBe('unauthorized_client');
    const open = await registerTestClient(as, 'none', 'https://client.example/callback', {
      grant_types: ['authorization_code', JWT_BEARER],
    });
    const publicClient = await present(await idJag({ client_id: open.client.client_id }), open);
    expect(publicClient.status).toBe(400);
    expect(publicClient.body).toMatchObject({
      error: 'unauthorized_client',
      error_description: 'The jwt-bearer grant is for confidential clients only.',
    });
  });

  it('refuses a request without an assertion', async () => {
    const { status, body } = await present('');
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_request', error_description: 'assertion is required.' });
  });
});
