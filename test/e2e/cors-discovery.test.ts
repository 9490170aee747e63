/**
 * End to end: CORS for browser-based clients, and discovery as the MCP TypeScript SDK does it,
 * both at the root and under a path prefix (BASE_PATH stands in for API Gateway's stage path,
 * where only `<issuer>/.well-known/openid-configuration` is reachable).
 */
import { discoverAuthorizationServerMetadata } from '@modelcontextprotocol/sdk/client/auth.js';
import { describe, expect, it } from 'vitest';
import { useLocalServers } from '../support/local-server-fixture.js';

const [root, prefixed] = useLocalServers([{}, { BASE_PATH: '/gateway' }]);

const CORS_PATHS: Array<[string, string]> = [
  ['/.well-known/oauth-authorization-server', 'GET'],
  ['/.well-known/openid-configuration', 'GET'],
  ['/register', 'POST'],
  ['/register/some-client', 'DELETE'],
  ['/token', 'POST'],
  ['/revoke', 'POST'],
  ['/jwks', 'GET'],
];

describe('CORS', () => {
  it.each(CORS_PATHS)('answers a preflight for %s', async (path, method) => {
    const response = await fetch(`${root.url}${path}`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:6274',
        'Access-Control-Request-Method': method,
        'Access-Control-Request-Headers': 'authorization,content-type,mcp-protocol-version',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')?.split(',')).toContain(method);
    const allowed = response.headers.get('access-control-allow-headers')?.toLowerCase().split(',') ?? [];
    expect(allowed).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'mcp-protocol-version', 'mcp-session-id']),
    );
    expect(response.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('www-authenticate');
  });

  it('puts CORS headers on successes and on OAuth errors of CORS endpoints', async () => {
    const ok = await fetch(`${root.url}/jwks`, { headers: { Origin: 'http://localhost:6274' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    const refused = await fetch(`${root.url}/token`, {
      method: 'POST',
      headers: { Origin: 'http://localhost:6274', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&code=x&client_id=nobody',
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    expect(refused.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('www-authenticate');
  });

  it("puts CORS headers on the gateway's own errors", async () => {
    const missing = await fetch(`${root.url}/no-such-endpoint`, { headers: { Origin: 'http://localhost:6274' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('access-control-allow-origin')).toBe('*');
    expect(((await missing.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('keeps /authorize out of CORS: no preflight, no CORS headers on its answers', async () => {
    const preflight = await fetch(`${root.url}/authorize`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:6274', 'Access-Control-Request-Method': 'GET' },
    });
    // No OPTIONS method there: the gateway's 404 fails the preflight, so browsers send nothing.
    expect(preflight.status).toBe(404);
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
    const refused = await fetch(`${root.url}/authorize?client_id=nobody`, {
      headers: { Origin: 'http://localhost:6274' },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const missing = await fetch(`${root.url}/authorize`, { headers: { Origin: 'http://localhost:6274' } });
    expect(missing.status).toBe(400);
    expect(missing.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('discovery by the MCP TypeScript SDK', () => {
  it('finds the metadata of an issuer at the root', async () => {
    const metadata = await discoverAuthorizationServerMetadata(root.url);
    expect(metadata?.issuer).toBe(root.url);
    expect(metadata?.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('finds the metadata of an issuer with a path, through <issuer>/.well-known/openid-configuration', async () => {
    const issuer = `${prefixed.url}/gateway`;
    // As on the default API Gateway endpoint, nothing outside the prefix answers.
    expect((await fetch(`${prefixed.url}/.well-known/oauth-authorization-server/gateway`)).status).toBe(404);
    const metadata = await discoverAuthorizationServerMetadata(issuer);
    expect(metadata?.issuer).toBe(issuer);
    expect(metadata?.token_endpoint).toBe(`${issuer}/token`);
    expect(metadata?.registration_endpoint).toBe(`${issuer}/register`);
  });

  it('serves OpenID discovery fields that make the document valid there', async () => {
    const document = (await (await fetch(`${root.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(document).toMatchObject({
      issuer: root.url,
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      response_types_supported: ['code'],
    });
  });
});
