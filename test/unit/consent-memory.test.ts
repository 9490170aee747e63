/** Consent memory: what one approval covers, how versions are computed, and the cookie's bounds. */
import { describe, expect, it } from 'vitest';
import type { RegisteredClient } from '../../lambda/domain/clients.js';
import { type Approval, ConsentMemory, clientVersion, MAX_APPROVALS } from '../../lambda/domain/consent-memory.js';

const APPROVAL: Approval = {
  clientId: 'https://app.example.net/client.json',
  clientVersion: 'v1',
  redirectUri: 'https://app.example.net/cb',
  resource: 'https://mcp.example.com/mcp',
  scope: 'files:read files:write',
};

const CLIENT: RegisteredClient = {
  client_id: 'c1',
  client_id_issued_at: 1_800_000_000,
  redirect_uris: ['https://app.example.net/cb'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  client_name: 'App',
};

describe('ConsentMemory', () => {
  const memory = ConsentMemory.empty().remember(APPROVAL, 1_800_000_000);

  it('covers the approval, and any narrower scope of it', () => {
    expect(memory.covers(APPROVAL)).toBe(true);
    expect(memory.covers({ ...APPROVAL, scope: 'files:read' })).toBe(true);
    expect(memory.covers({ ...APPROVAL, scope: '' })).toBe(true);
  });

  it.each([
    ['another client', { clientId: 'https://other.example/client.json' }],
    ['another version of it', { clientVersion: 'v2' }],
    ['another redirect URI', { redirectUri: 'https://app.example.net/other' }],
    ['another resource', { resource: 'https://mcp.example.com/other' }],
    ['a scope not approved', { scope: 'files:read admin' }],
  ] as Array<[string, Partial<Approval>]>)('does not cover %s', (_case, changed) => {
    expect(memory.covers({ ...APPROVAL, ...changed })).toBe(false);
  });

  it('trusts the client, as it is and for that redirect URI, whatever the resource or scope', () => {
    expect(memory.trusts(APPROVAL.clientId, 'v1', APPROVAL.redirectUri)).toBe(true);
    expect(memory.trusts(APPROVAL.clientId, 'v2', APPROVAL.redirectUri)).toBe(false);
    expect(memory.trusts(APPROVAL.clientId, 'v1', 'https://app.example.net/other')).toBe(false);
  });

  it('survives its own serialization, and holds digests only', () => {
    const value = memory.serialize();
    expect(ConsentMemory.parse(value).covers(APPROVAL)).toBe(true);
    for (const part of [APPROVAL.clientId, APPROVAL.redirectUri, APPROVAL.resource, 'files:read']) {
      expect(value).not.toContain(part);
    }
  });

  it('a new approval for the same client, URI and resource replaces the old one (scopes are not merged)', () => {
    const narrowed = memory.remember({ ...APPROVAL, scope: 'files:read' }, 1_800_000_001);
    expect(narrowed.size).toBe(1);
    expect(narrowed.covers(APPROVAL)).toBe(false);
  });

  it(`keeps the ${MAX_APPROVALS} newest approvals`, () => {
    let many = ConsentMemory.empty();
    for (let i = 0; i <= MAX_APPROVALS; i++)
      many = many.remember({ ...APPROVAL, clientId: `client-${i}` }, 1_800_000_000 + i);
    expect(many.size).toBe(MAX_APPROVALS);
    expect(many.covers({ ...APPROVAL, clientId: 'client-0' })).toBe(false);
    expect(many.covers({ ...APPROVAL, clientId: `client-${MAX_APPROVALS}` })).toBe(true);
  });

  it.each([undefined, '', 'not json', '{}', '["a"]', '[[1,2,3]]', '[["a","b","c"]]', '[["a","b",[1]]]'])(
    'parses %j as nothing remembered',
    (value) => {
      expect(ConsentMemory.parse(value).size).toBe(0);
    },
  );
});

describe('clientVersion', () => {
  it('changes when anything the client registered changes', () => {
    const base = clientVersion(CLIENT);
    expect(
      clientVersion({ ...CLIENT, redirect_uris: ['https://app.example.net/cb', 'https://evil.example/cb'] }),
    ).not.toBe(base);
    expect(clientVersion({ ...CLIENT, client_name: 'Other' })).not.toBe(base);
    expect(clientVersion({ ...CLIENT, logo_uri: 'https://app.example.net/logo.png' })).not.toBe(base);
  });

  it('does not change with use, secrets, or the order of fields', () => {
    const base = clientVersion(CLIENT);
    expect(clientVersion({ ...CLIENT, last_used_at: 1_900_000_000 })).toBe(base);
    expect(clientVersion({ ...CLIENT, client_secret_hash: 'h', registration_token_hash: 'r' })).toBe(base);
    const reordered = Object.fromEntries(Object.entries(CLIENT).reverse()) as unknown as RegisteredClient;
    expect(clientVersion(reordered)).toBe(base);
  });
});
