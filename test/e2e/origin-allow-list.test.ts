/**
 * The resource's Origin allow-list, end to end in local mode (MCP_ALLOWED_ORIGINS): a resource
 * request from another origin gets the 403 the deployed web ACL rule answers, before the token
 * is looked at and for preflights too; a listed origin and a request without Origin (any
 * non-browser client) go on to the token check and the MCP server; the authorization server's
 * endpoints are not covered. Without the setting, every origin reaches the token check.
 */
import { describe, expect, it } from 'vitest';
import { localOptionsFromEnv } from '../../lib/local/server.js';
import { ORIGIN_REFUSAL } from '../../lib/origin-allow-list.js';
import { useLocalServers } from '../support/local-server-fixture.js';
import { discover, obtainTokens, registerTestClient } from '../support/oauth-flow.js';

const APP = 'https://app.example.com';
const INSPECTOR = 'http://localhost:6274';
const [restricted, open] = useLocalServers([{ MCP_ALLOWED_ORIGINS: `${APP}, ${INSPECTOR}` }, {}]);

const initialize = (base: string, headers: Record<string, string>) =>
  fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'origin-test', version: '1' } },
    }),
  });

async function expectRefused(response: Response): Promise<void> {
  expect(response.status).toBe(ORIGIN_REFUSAL.statusCode);
  expect(await response.json()).toEqual(JSON.parse(ORIGIN_REFUSAL.body));
  expect(response.headers.get('cache-control')).toBe('no-store');
  // Nothing for a browser to read: no CORS on the refusal, and no Bearer challenge to act on.
  expect(response.headers.get('access-control-allow-origin')).toBeNull();
  expect(response.headers.get('www-authenticate')).toBeNull();
}

describe('with MCP_ALLOWED_ORIGINS', () => {
  it.each([
    ['another site', 'https://evil.example.com'],
    ['a look-alike host', 'https://app.example.com.evil.example'],
    ['another port of localhost', 'http://localhost:6275'],
    ['the opaque origin', 'null'],
  ])('refuses /mcp from %s before the token check', async (_name, origin) => {
    await expectRefused(await initialize(restricted.url, { origin }));
  });

  it('refuses a preflight and the resource metadata from another origin too', async () => {
    await expectRefused(
      await fetch(`${restricted.url}/mcp`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
      }),
    );
    await expectRefused(
      await fetch(`${restricted.url}/.well-known/oauth-protected-resource/mcp`, {
        headers: { origin: 'https://evil.example.com' },
      }),
    );
  });

  it('lets a listed origin (any letter case) and a request without Origin go on to the token check', async () => {
    const variants: Array<Record<string, string>> = [{ origin: APP }, { origin: 'HTTP://LOCALHOST:6274' }, {}];
    for (const headers of variants) {
      const response = await initialize(restricted.url, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata=/);
    }
    const preflight = await fetch(`${restricted.url}/mcp`, {
      method: 'OPTIONS',
      headers: { origin: INSPECTOR, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
  });

  it('serves a listed origin with a valid token, and refuses another origin with the same token', async () => {
    const as = await discover(restricted.url);
    const tokens = await obtainTokens(as, await registerTestClient(as, 'none'), {
      extra: { resource: `${restricted.url}/mcp` },
    });
    const authorization = `Bearer ${tokens.access_token}`;
    const served = await initialize(restricted.url, { origin: APP, authorization });
    expect(served.status).toBe(200);
    await expectRefused(await initialize(restricted.url, { origin: 'https://evil.example.com', authorization }));
  });

  it('leaves the authorization server’s endpoints to every origin', async () => {
    const response = await fetch(`${restricted.url}/.well-known/oauth-authorization-server`, {
      headers: { origin: 'https://evil.example.com' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('without it (the default)', () => {
  it('lets any origin reach the token check: browser clients such as the Inspector work', async () => {
    for (const origin of ['https://evil.example.com', INSPECTOR, 'null']) {
      const response = await initialize(open.url, { origin });
      expect(response.status).toBe(401);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
    }
  });
});

describe('the setting', () => {
  it('refuses a value that is not an origin, naming MCP_ALLOWED_ORIGINS', () => {
    expect(() => localOptionsFromEnv({ MCP_ALLOWED_ORIGINS: 'https://app.example.com/mcp' })).toThrow(
      /MCP_ALLOWED_ORIGINS: "https:\/\/app.example.com\/mcp" is not an origin/,
    );
    expect(localOptionsFromEnv({ MCP_ALLOWED_ORIGINS: 'https://A.example' }).allowedOrigins).toEqual([
      'https://a.example',
    ]);
  });
});
