/**
 * The client credentials grant's rules, table-first: which scopes a machine client gets, when
 * `resource` is required, who may use the grant, and the grant record each token gets (its
 * `sid`), which lives exactly as long as the token.
 */
import type { JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  clientCredentialsGrant,
  clientCredentialsScope,
  machineScopes,
} from '../../lambda/domain/client-credentials.js';
import type { RegisteredClient } from '../../lambda/domain/clients.js';
import { OAuthError } from '../../lambda/domain/oauth-error.js';
import type { ServerConfig } from '../../lambda/domain/server-config.js';
import type { TokenDeps } from '../../lambda/domain/token-service.js';
import { MemoryGrantStore } from '../support/memory-grant-store.js';

const CONFIG: ServerConfig = {
  issuer: 'https://auth.example.com',
  resources: ['https://api.example.com/mcp'],
  scopes: ['mcp:tools', 'mcp:admin', 'offline_access'],
  accessTokenTtl: 600,
  refreshTokenIdleTtl: 3600,
  refreshTokenAbsoluteTtl: 7200,
};

const MACHINE = {
  client_id: 'machine-1',
  client_name: 'CI job',
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: ['code'],
} as unknown as RegisteredClient;

function deps(config: ServerConfig = CONFIG) {
  const signed: JWTPayload[] = [];
  const grants = new MemoryGrantStore();
  const value: TokenDeps = {
    grants,
    config,
    now: () => 1_000,
    signer: {
      keyId: async () => 'k1',
      sign: async (payload) => {
        signed.push(payload);
        return `token-${signed.length}`;
      },
    },
  };
  return { deps: value, signed, grants };
}

describe('machine scopes', () => {
  it.each([
    // [setting, requested, granted, reason]
    [undefined, undefined, 'mcp:tools mcp:admin', "unset: the deployment's scopes, never offline_access"],
    [['mcp:tools'], undefined, 'mcp:tools', 'the setting narrows them'],
    [['mcp:tools'], 'mcp:admin mcp:tools offline_access', 'mcp:tools', 'asked scopes outside it are dropped'],
    [['mcp:tools'], 'mcp:tools mcp:tools', 'mcp:tools', 'no duplicates'],
    [[], undefined, '', 'an empty setting: no scopes'],
    [undefined, '', 'mcp:tools mcp:admin', 'an empty parameter is omitted (RFC 6749 3.2)'],
  ])('setting %j, scope %j -> %j (%s)', (setting, requested, granted, _reason) => {
    const config = { ...CONFIG, ...(setting ? { clientCredentialsScopes: setting } : {}) };
    expect(clientCredentialsScope(config, requested)).toBe(granted);
    expect(machineScopes(config)).not.toContain('offline_access');
  });
});

describe('clientCredentialsGrant', () => {
  it('signs a token for the client itself, with a grant record of its own that ends with it', async () => {
    const { deps: d, signed, grants } = deps();
    const response = await clientCredentialsGrant(d, MACHINE, { scope: 'mcp:tools' });
    expect(response).toEqual({ access_token: 'token-1', token_type: 'Bearer', expires_in: 600, scope: 'mcp:tools' });
    const [claims] = signed;
    expect(claims).toMatchObject({
      iss: CONFIG.issuer,
      sub: 'machine-1',
      client_id: 'machine-1',
      aud: 'https://api.example.com/mcp',
      gty: 'client_credentials',
      scope: 'mcp:tools',
      exp: 1_600,
    });
    const grant = await grants.getGrant(claims.sid as string);
    expect(grant).toMatchObject({
      grant_type: 'client_credentials',
      client_id: 'machine-1',
      subject: 'machine-1',
      expires_at: 1_600,
      grant_expires_at: 1_600,
    });
    expect(grant).not.toHaveProperty('code_hash');
  });

  it.each([
    // [client, params, config, code, description, reason]
    [
      { ...MACHINE, token_endpoint_auth_method: 'none' },
      {},
      CONFIG,
      'unauthorized_client',
      'The client_credentials grant is for confidential clients only.',
      'a public client',
    ],
    [
      { ...MACHINE, grant_types: ['authorization_code'] },
      {},
      CONFIG,
      'unauthorized_client',
      'The client did not register the client_credentials grant.',
      'not registered',
    ],
    [
      MACHINE,
      {},
      { ...CONFIG, resources: ['https://a.example/mcp', 'https://b.example/mcp'] },
      'invalid_target',
      'resource is required: this server issues tokens for several resources (RFC 8707).',
      'several resources and none named',
    ],
    [
      MACHINE,
      { resource: 'https://elsewhere.example/mcp' },
      CONFIG,
      'invalid_target',
      'resource is not a resource this server issues tokens for.',
      'not one of ours',
    ],
    [MACHINE, { scope: 'a'.repeat(1001) }, CONFIG, 'invalid_scope', 'scope is too long.', 'an oversized scope'],
  ])('%j %j is refused (%s: %s)', async (client, params, config, code, description, _reason) => {
    const { deps: d, signed } = deps(config);
    const refused = clientCredentialsGrant(d, client as RegisteredClient, params as Record<string, string>);
    await expect(refused).rejects.toBeInstanceOf(OAuthError);
    await expect(refused).rejects.toMatchObject({ code, description });
    expect(signed).toEqual([]);
  });

  it('names the resource asked for when there are several', async () => {
    const { deps: d, signed } = deps({ ...CONFIG, resources: ['https://a.example/mcp', 'https://b.example/mcp'] });
    await clientCredentialsGrant(d, MACHINE, { resource: 'https://b.example/mcp' });
    expect(signed[0].aud).toBe('https://b.example/mcp');
  });
});
