/**
 * End to end over HTTP: the client credentials grant (RFC 6749 4.4) for machine clients. Real
 * client code: the MCP TypeScript SDK's ClientCredentialsProvider (client_secret_basic) and
 * PrivateKeyJwtProvider (private_key_jwt) reach a tool call on the local protected MCP server;
 * oauth4webapi's clientCredentialsGrantRequest with PrivateKeyJwt and ClientSecretPost. The token
 * names the client as its subject, says no person was involved (gty), carries no refresh token and
 * only the scopes the deployment allows machine clients; revoking it ends it at /mcp. A public
 * client is refused with unauthorized_client.
 */

import { ClientCredentialsProvider, PrivateKeyJwtProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CryptoKey, decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalServer } from '../support/local-server-fixture.js';
import { discover, INSECURE, registerTestClient } from '../support/oauth-flow.js';

type Json = Record<string, unknown>;

// A machine client may have mcp:tools, never mcp:admin (a person's scope here), never offline_access.
const server = useLocalServer({
  SCOPES: 'mcp:tools,mcp:admin',
  CLIENT_CREDENTIALS_SCOPES: 'mcp:tools',
  GRANT_STATUS_CACHE_SECONDS: '0',
});
let as: oauth.AuthorizationServer;
let key: { privateKey: CryptoKey; privateJwk: JWK; jwk: JWK };

beforeAll(async () => {
  as = await discover(server.url);
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  key = {
    privateKey,
    privateJwk: { ...(await exportJWK(privateKey)), kid: 'machine-1' },
    jwk: { ...(await exportJWK(publicKey)), kid: 'machine-1', use: 'sig' },
  };
});

async function registerMachine(fields: Json): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'CI job', grant_types: ['client_credentials'], ...fields }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

async function postToken(form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/token`, { method: 'POST', headers, body: new URLSearchParams(form) });
  return { status: response.status, body: (await response.json()) as Json };
}

const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

async function mcpStatus(accessToken: string): Promise<number> {
  const response = await fetch(`${server.url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await response.text();
  return response.status;
}

async function whoami(client: Client): Promise<{ subject: string; clientId: string; scope: string[] }> {
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  return result.structuredContent as { subject: string; clientId: string; scope: string[] };
}

describe('client_credentials', () => {
  it('is advertised in grant_types_supported', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Json;
    expect(metadata.grant_types_supported).toContain('client_credentials');
  });

  it('registers a machine client without redirect_uris or authorization_code', async () => {
    const { status, body } = await registerMachine({ token_endpoint_auth_method: 'client_secret_basic' });
    expect(status, JSON.stringify(body)).toBe(201);
    expect(body.grant_types).toEqual(['client_credentials']);
    expect(body.redirect_uris).toEqual([]);
    expect(body.client_secret).toEqual(expect.any(String));
  });

  it("the MCP SDK's ClientCredentialsProvider (client_secret_basic) reaches a tool call as the client", async () => {
    const { body } = await registerMachine({ token_endpoint_auth_method: 'client_secret_basic' });
    const clientId = body.client_id as string;
    const provider = new ClientCredentialsProvider({
      clientId,
      clientSecret: body.client_secret as string,
      expectedIssuer: server.url,
    });
    const client = new Client({ name: 'machine', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { authProvider: provider }));
    const identity = await whoami(client);
    await client.close();
    expect(identity).toEqual({ subject: clientId, clientId, scope: ['mcp:tools'] });

    const tokens = provider.tokens();
    expect(tokens?.refresh_token).toBeUndefined();
    const claims = decodeJwt(tokens?.access_token as string);
    expect(claims).toMatchObject({
      sub: clientId,
      client_id: clientId,
      gty: 'client_credentials',
      aud: `${server.url}/mcp`,
    });
    expect(claims.sid).toEqual(expect.any(String));
  });

  it("the MCP SDK's PrivateKeyJwtProvider (private_key_jwt) reaches a tool call", async () => {
    const { body } = await registerMachine({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.jwk] },
    });
    const clientId = body.client_id as string;
    expect(body.client_secret).toBeUndefined();
    const provider = new PrivateKeyJwtProvider({
      clientId,
      privateKey: key.privateJwk as Record<string, unknown>,
      algorithm: 'ES256',
      expectedIssuer: server.url,
    });
    const client = new Client({ name: 'machine', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { authProvider: provider }));
    expect(await whoami(client)).toEqual({ subject: clientId, clientId, scope: ['mcp:tools'] });
    await client.close();
  });

  it("oauth4webapi's clientCredentialsGrantRequest with PrivateKeyJwt: only the machine scopes, no refresh token", async () => {
    const { body } = await registerMachine({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.jwk] },
    });
    const client = body as unknown as oauth.Client;
    const auth = oauth.PrivateKeyJwt({ key: key.privateKey, kid: 'machine-1' });
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      auth,
      new URLSearchParams({ scope: 'mcp:tools mcp:admin offline_access', resource: `${server.url}/mcp` }),
      INSECURE,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    expect(tokens.scope).toBe('mcp:tools');
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.expires_in).toBeGreaterThan(0);
    expect(await mcpStatus(tokens.access_token)).toBe(200);
  });

  it('client_secret_post works, and revoking the access token ends it at /mcp', async () => {
    const { body } = await registerMachine({ token_endpoint_auth_method: 'client_secret_post' });
    const client = body as unknown as oauth.Client;
    const auth = oauth.ClientSecretPost(body.client_secret as string);
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), INSECURE),
    );
    expect(tokens.scope).toBe('mcp:tools');
    expect(await mcpStatus(tokens.access_token)).toBe(200);
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, auth, tokens.access_token, INSECURE),
    );
    expect(await mcpStatus(tokens.access_token)).toBe(401);
  });

  it('refuses a public client asking for client credentials: unauthorized_client', async () => {
    const registered = await registerTestClient(as, 'none', 'https://client.example/callback', {
      grant_types: ['authorization_code', 'client_credentials'],
    });
    // A public client's client_credentials is dropped at registration, and refused at /token.
    expect(registered.client.grant_types).toEqual(['authorization_code']);
    const { status, body } = await postToken({
      grant_type: 'client_credentials',
      client_id: registered.client.client_id,
    });
    expect(status).toBe(400);
    expect(body.error).toBe('unauthorized_client');
    expect(body.error_description).toBe('The client_credentials grant is for confidential clients only.');
  });

  it('refuses a public registration with only client_credentials, naming the rule', async () => {
    const { status, body } = await registerMachine({ token_endpoint_auth_method: 'none' });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_client_metadata');
    expect(body.error_description).toContain('client_credentials requires a confidential client');
  });

  it('refuses a confidential client that did not register the grant, and an unknown resource', async () => {
    const browser = await registerTestClient(as, 'client_secret_basic');
    const id = browser.client.client_id;
    const secret = browser.client.client_secret as string;
    const notRegistered = await postToken({ grant_type: 'client_credentials' }, basic(id, secret));
    expect(notRegistered.status).toBe(400);
    expect(notRegistered.body.error).toBe('unauthorized_client');

    const { body } = await registerMachine({ token_endpoint_auth_method: 'client_secret_basic' });
    const unknown = await postToken(
      { grant_type: 'client_credentials', resource: 'https://elsewhere.example/mcp' },
      basic(body.client_id as string, body.client_secret as string),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      error: 'invalid_target',
      error_description: 'resource is not a resource this server issues tokens for.',
    });
    const wrongSecret = await postToken(
      { grant_type: 'client_credentials' },
      basic(body.client_id as string, 'not-the-secret'),
    );
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.error).toBe('invalid_client');
  });
});
