/** RFC 9728 section 2: the protected resource metadata document. */
import { describe, expect, it } from 'vitest';
import { protectedResourceMetadata } from '../../lambda/domain/protected-resource-metadata.js';

describe('protectedResourceMetadata', () => {
  it('lists the resource, its authorization server and header-only bearer tokens', () => {
    expect(
      protectedResourceMetadata({
        resource: 'https://api.example/mcp',
        authorizationServers: ['https://as.example/v1'],
      }),
    ).toEqual({
      resource: 'https://api.example/mcp',
      authorization_servers: ['https://as.example/v1'],
      bearer_methods_supported: ['header'],
    });
  });

  it('includes scopes_supported and resource_name when given, and omits empty ones', () => {
    expect(
      protectedResourceMetadata({
        resource: 'https://api.example/mcp',
        authorizationServers: ['https://as.example/v1'],
        scopesSupported: ['mcp:read', 'mcp:write'],
        resourceName: 'Sample MCP server',
      }),
    ).toEqual({
      resource: 'https://api.example/mcp',
      authorization_servers: ['https://as.example/v1'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:read', 'mcp:write'],
      resource_name: 'Sample MCP server',
    });
    const bare = protectedResourceMetadata({
      resource: 'https://api.example/mcp',
      authorizationServers: ['https://as.example/v1'],
      scopesSupported: [],
      resourceName: '',
    });
    expect(Object.keys(bare)).toEqual(['resource', 'authorization_servers', 'bearer_methods_supported']);
  });

  it('copies its inputs, so the caller cannot change a document already built', () => {
    const servers = ['https://as.example/v1'];
    const document = protectedResourceMetadata({ resource: 'https://api.example/mcp', authorizationServers: servers });
    servers.push('https://evil.example');
    expect(document.authorization_servers).toEqual(['https://as.example/v1']);
  });

  it('refuses a resource identifier with a fragment', () => {
    expect(() =>
      protectedResourceMetadata({
        resource: 'https://api.example/mcp#x',
        authorizationServers: ['https://as.example'],
      }),
    ).toThrow(/fragment/);
  });
});
