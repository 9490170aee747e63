/** RFC 8707 resource resolution and scope filtering against the deployment's settings. */
import { describe, expect, it } from 'vitest';
import {
  advertisedScopes,
  DEFAULT_REFRESH_TOKEN_REUSE_GRACE,
  grantableScope,
  resolveResource,
} from '../../lambda/domain/server-config.js';
import { serverConfigFromEnv } from '../../lambda/wiring/server-config.js';

describe('resolveResource', () => {
  const ONE = ['https://mcp.example.com/mcp'];
  const TWO = ['https://mcp.example.com/mcp', 'https://mcp.example.com/other'];

  it.each([
    ['omitted with one configured: that one', ONE, undefined, ONE[0]],
    ['omitted with two configured: none', TWO, undefined, undefined],
    ['omitted with none configured: none', [], undefined, undefined],
    ['an exact match of one', ONE, ONE[0], ONE[0]],
    ['an exact match of the second of two', TWO, TWO[1], TWO[1]],
    ['a trailing slash added', ONE, 'https://mcp.example.com/mcp/', undefined],
    ['a trailing slash removed', ['https://mcp.example.com/mcp/'], 'https://mcp.example.com/mcp', undefined],
    ['upper-case host', ONE, 'https://MCP.example.com/mcp', undefined],
    ['an explicit default port', ONE, 'https://mcp.example.com:443/mcp', undefined],
    ['http instead of https', ONE, 'http://mcp.example.com/mcp', undefined],
    ['a query added', ONE, 'https://mcp.example.com/mcp?x=1', undefined],
    ['a percent-encoded path character', ONE, 'https://mcp.example.com/%6Dcp', undefined],
    ['an unknown resource', TWO, 'https://evil.example/mcp', undefined],
    ['an empty string', ONE, '', undefined],
  ] as Array<[string, string[], string | undefined, string | undefined]>)(
    '%s',
    (_name, resources, requested, expected) => {
      expect(resolveResource({ resources }, requested)).toBe(expected);
    },
  );
});

describe('grantableScope', () => {
  const scopes = ['mcp:read', 'mcp:write', 'offline_access'];

  it.each([
    ['unknown scopes such as claudeai are dropped', 'claudeai', ''],
    ['known scopes are kept, unknown ones dropped', 'claudeai mcp:read', 'mcp:read'],
    ['the request order is kept', 'mcp:write mcp:read', 'mcp:write mcp:read'],
    ['duplicates are removed, first occurrence kept', 'mcp:write mcp:read mcp:write', 'mcp:write mcp:read'],
    ['extra spaces are ignored', '  mcp:read   mcp:write ', 'mcp:read mcp:write'],
    ['an empty request grants nothing', '', ''],
    ['an omitted request grants nothing', undefined, ''],
    ['scopes are case-sensitive', 'MCP:READ', ''],
    ['a prefix of a scope is not the scope', 'mcp', ''],
  ] as Array<[string, string | undefined, string]>)('%s', (_name, requested, expected) => {
    expect(grantableScope({ scopes }, requested)).toBe(expected);
  });

  it('with no scopes configured, everything is dropped but offline_access, which is always understood', () => {
    expect(grantableScope({ scopes: [] }, 'mcp:read claudeai')).toBe('');
    expect(grantableScope({ scopes: [] }, 'offline_access mcp:read')).toBe('offline_access');
  });
});

describe('advertisedScopes (the authorization server metadata)', () => {
  it('lists the deployment scopes and offline_access, once', () => {
    expect(advertisedScopes({ scopes: [] })).toEqual(['offline_access']);
    expect(advertisedScopes({ scopes: ['mcp:read'] })).toEqual(['mcp:read', 'offline_access']);
    expect(advertisedScopes({ scopes: ['offline_access', 'mcp:read'] })).toEqual(['offline_access', 'mcp:read']);
  });
});

describe('serverConfigFromEnv: REFRESH_TOKEN_REUSE_GRACE_SECONDS', () => {
  const base = { ISSUER_URL: 'https://as.example.com', PROTECTED_RESOURCES: 'https://as.example.com/mcp' };

  it.each([
    [undefined, DEFAULT_REFRESH_TOKEN_REUSE_GRACE],
    ['', DEFAULT_REFRESH_TOKEN_REUSE_GRACE],
    ['0', 0],
    ['15', 15],
  ])('%j is %d seconds', (value, seconds) => {
    const env = value === undefined ? base : { ...base, REFRESH_TOKEN_REUSE_GRACE_SECONDS: value };
    expect(serverConfigFromEnv(env).refreshTokenReuseGrace).toBe(seconds);
  });

  it.each(['-1', '1.5', 'soon', '1e3'])('%j is refused, naming the setting', (value) => {
    expect(() => serverConfigFromEnv({ ...base, REFRESH_TOKEN_REUSE_GRACE_SECONDS: value })).toThrow(
      /REFRESH_TOKEN_REUSE_GRACE_SECONDS must be a whole number of seconds/,
    );
  });
});
