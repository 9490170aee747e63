/**
 * offline_access (OpenID Connect 11, MCP SEP-2207), end to end in a deployment that defines no
 * scopes: understood anyway, granted (and a refresh token issued) to a client that registered
 * the refresh_token grant, not granted to one that did not; advertised by the authorization
 * server, never by the protected resource.
 */
import { describe, expect, it } from 'vitest';
import { useLocalServer } from '../support/local-server-fixture.js';
import { discover, obtainTokens, registerTestClient } from '../support/oauth-flow.js';

const gateway = useLocalServer();

describe('offline_access with no scopes defined', () => {
  it('is advertised by the authorization server and not by the resource', async () => {
    const as = (await (await fetch(`${gateway.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(as.scopes_supported).toEqual(['offline_access']);
    expect(as.prompt_values_supported).toEqual(['none', 'login', 'consent']);
    const resource = (await (await fetch(`${gateway.url}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<
      string,
      unknown
    >;
    expect(resource.scopes_supported ?? []).not.toContain('offline_access');
  });

  it('is granted with a refresh token to a client that registered the refresh_token grant', async () => {
    const as = await discover(gateway.url);
    const registered = await registerTestClient(as, 'none');
    const tokens = await obtainTokens(as, registered, { extra: { scope: 'offline_access claudeai' } });
    expect(tokens.scope).toBe('offline_access');
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it('is not granted to a client without it: no refresh token, and the response says so', async () => {
    const as = await discover(gateway.url);
    const registered = await registerTestClient(as, 'none', 'https://client.example/callback', {
      grant_types: ['authorization_code'],
    });
    const tokens = await obtainTokens(as, registered, { extra: { scope: 'offline_access' } });
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('');
  });
});
