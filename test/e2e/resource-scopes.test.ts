/**
 * Scopes at the resource, end to end in local mode with RESOURCE_SCOPES set: the 401 challenge
 * and the metadata name the required scopes; a valid token without them gets the `403
 * insufficient_scope` challenge (through the token authorizer's Deny and the ACCESS_DENIED
 * gateway response, as deployed); and the official MCP SDK client's step-up path (a new
 * authorization request for the challenge's `scope`) recovers.
 *
 * The client registers without the refresh_token grant: holding a refresh token, SDK 1.32's
 * step-up refreshes instead of asking again, and a refresh can only keep or narrow the scope
 * (RFC 6749 section 6), so it would end with "Server returned 403 after trying upscoping".
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { useLocalServer } from '../support/local-server-fixture.js';
import { runBrowser } from '../support/oauth-flow.js';
import { InMemoryClientProvider } from '../support/sdk-oauth-client.js';

const REDIRECT_URL = 'http://127.0.0.1:59998/callback';
const REQUIRED = 'mcp:tools mcp:read';

const gateway = useLocalServer({ RESOURCE_SCOPES: 'mcp:tools,mcp:read' });
const mcpUrl = () => new URL(`${gateway.url}/mcp`);

/** The person signs in at `url`; the code the client's redirect URI receives. */
async function signIn(url: URL): Promise<string> {
  const landing = await runBrowser(url, REDIRECT_URL);
  if (landing.kind !== 'stopped') throw new Error(`the browser ended on a page: ${landing.body.slice(0, 200)}`);
  return landing.url.searchParams.get('code') as string;
}

const initialize = (token?: string) =>
  fetch(mcpUrl(), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });

describe('RESOURCE_SCOPES: scopes the local /mcp requires', () => {
  it('names them in the 401 challenge and in scopes_supported', async () => {
    const response = await initialize();
    expect(response.status).toBe(401);
    const metadataUrl = `${gateway.url}/.well-known/oauth-protected-resource/mcp`;
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${metadataUrl}", scope="${REQUIRED}"`,
    );
    const metadata = (await (await fetch(metadataUrl)).json()) as { scopes_supported?: string[] };
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:read']));
    expect(metadata.scopes_supported).not.toContain('offline_access');
    // An invalid token is a 401 too (never a 403): the client must sign in, not step up.
    expect((await initialize('not-a-token')).status).toBe(401);
  });

  it('answers a token without them with 403 insufficient_scope, and the SDK steps up', async () => {
    const provider = new InMemoryClientProvider(REDIRECT_URL, {
      clientName: 'SDK Step-up Client',
      grantTypes: ['authorization_code'],
    });
    const client = new Client({ name: 'sdk-step-up', version: '1.0.0' });
    await expect(
      client.connect(new StreamableHTTPClientTransport(mcpUrl(), { authProvider: provider })),
    ).rejects.toThrow(/Unauthorized/);
    const first = provider.authorizationUrl as URL;
    // The SDK asks for what the 401 challenge named; this client asks for less (none at all).
    expect(first.searchParams.get('scope')).toBe(REQUIRED);
    first.searchParams.delete('scope');
    const narrow = new StreamableHTTPClientTransport(mcpUrl(), { authProvider: provider });
    await narrow.finishAuth(await signIn(first));
    const narrowToken = provider.tokens()?.access_token as string;
    expect(provider.tokens()?.scope ?? '').toBe('');

    const refused = await initialize(narrowToken);
    expect(refused.status).toBe(403);
    const metadataUrl = `${gateway.url}/.well-known/oauth-protected-resource/mcp`;
    expect(refused.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${metadataUrl}", error="insufficient_scope", error_description="The access token lacks a scope this resource needs.", scope="${REQUIRED}"`,
    );
    expect(await refused.json()).toMatchObject({ error: 'insufficient_scope' });

    // The SDK's step-up: on 403 insufficient_scope it starts a new authorization for the scope named.
    provider.authorizationUrl = undefined;
    await expect(client.connect(narrow)).rejects.toThrow(/Unauthorized/);
    const stepUp = provider.authorizationUrl as unknown as URL;
    expect(stepUp.searchParams.get('scope')).toBe(REQUIRED);

    const wide = new StreamableHTTPClientTransport(mcpUrl(), { authProvider: provider });
    await wide.finishAuth(await signIn(stepUp));
    expect(provider.tokens()?.scope?.split(' ').sort()).toEqual(['mcp:read', 'mcp:tools']);
    await client.connect(wide);
    const tools = await client.listTools();
    expect(tools.tools.map((tool) => tool.name)).toContain('whoami');
    await client.close();
  });
});
