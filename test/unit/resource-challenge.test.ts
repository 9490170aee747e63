/**
 * The protected resource's challenge (RFC 6750 section 3, RFC 9728 section 5.1) and its
 * metadata document (RFC 9728 section 2).
 */
import { describe, expect, it } from 'vitest';
import { bearerChallenge, protectedResourceMetadata, quotedString } from '../../lambda/domain/resource-challenge.js';

const METADATA = 'https://api.example/prod/.well-known/oauth-protected-resource';

/** A strict RFC 9110 section 11.6.1 challenge parser: scheme, then name=quoted-string pairs. */
function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) /.exec(header);
  if (!scheme) throw new Error(`no scheme in ${header}`);
  const params: Record<string, string> = {};
  const pair = /([a-z_]+)="((?:[^"\\]|\\.)*)"(?:, |$)/gy;
  pair.lastIndex = scheme[0].length;
  while (pair.lastIndex < header.length) {
    const match = pair.exec(header);
    if (!match) throw new Error(`unparseable challenge at ${pair.lastIndex}: ${header}`);
    params[match[1]] = match[2].replace(/\\(.)/g, '$1');
  }
  return { scheme: scheme[1], params };
}

describe('bearerChallenge', () => {
  it('is only the metadata pointer when no token was presented', () => {
    expect(bearerChallenge({ resourceMetadata: METADATA })).toBe(`Bearer resource_metadata="${METADATA}"`);
  });

  it('adds error and error_description for a bad token', () => {
    const header = bearerChallenge({
      resourceMetadata: METADATA,
      error: 'invalid_token',
      errorDescription: 'The access token has expired.',
    });
    expect(header).toBe(
      `Bearer resource_metadata="${METADATA}", error="invalid_token", error_description="The access token has expired."`,
    );
    expect(parseChallenge(header)).toEqual({
      scheme: 'Bearer',
      params: {
        resource_metadata: METADATA,
        error: 'invalid_token',
        error_description: 'The access token has expired.',
      },
    });
  });

  it('adds scope for insufficient_scope', () => {
    const header = bearerChallenge({
      resourceMetadata: METADATA,
      error: 'insufficient_scope',
      errorDescription: 'More scope needed.',
      scope: 'mcp:read mcp:write',
    });
    expect(parseChallenge(header).params).toEqual({
      resource_metadata: METADATA,
      error: 'insufficient_scope',
      error_description: 'More scope needed.',
      scope: 'mcp:read mcp:write',
    });
  });

  it('never describes an error that is not there', () => {
    expect(bearerChallenge({ resourceMetadata: METADATA, errorDescription: 'stray' })).toBe(
      `Bearer resource_metadata="${METADATA}"`,
    );
  });

  it('escapes quotes and backslashes in quoted-string values', () => {
    const odd = 'https://api.example/a"b\\c';
    const header = bearerChallenge({ resourceMetadata: odd });
    expect(header).toBe('Bearer resource_metadata="https://api.example/a\\"b\\\\c"');
    expect(parseChallenge(header).params.resource_metadata).toBe(odd);
  });

  it('keeps error_description within the RFC 6750 character set, so nothing can break out of it', () => {
    const header = bearerChallenge({
      resourceMetadata: METADATA,
      error: 'invalid_token',
      errorDescription: 'say "hi" \\ then\r\nX-Injected: 1 – ünïcode',
    });
    expect(header).not.toMatch(/[\r\n]/);
    const description = parseChallenge(header).params.error_description;
    expect(description).toBe("say 'hi' ? then??X-Injected: 1 ? ?n?code");
    expect(description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/);
  });

  it('refuses control characters in a value it cannot rewrite', () => {
    expect(() => bearerChallenge({ resourceMetadata: 'https://api.example/\r\nSet-Cookie: a=b' })).toThrow(
      /control characters/,
    );
    expect(() => quotedString('a\u0000b')).toThrow();
    expect(quotedString('tab\tok')).toBe('"tab\tok"');
  });
});

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
