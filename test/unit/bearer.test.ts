/**
 * RFC 6750 both ways: the Authorization header's Bearer credentials (section 2.1) and the
 * protected resource's challenge (section 3, RFC 9728 section 5.1).
 */
import { describe, expect, it } from 'vitest';
import { bearerChallenge, bearerCredentials, quotedString } from '../../lambda/domain/bearer.js';

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

describe('bearerCredentials (RFC 6750 section 2.1)', () => {
  const cases: [string | undefined, ReturnType<typeof bearerCredentials>, string][] = [
    ['Bearer abc.DEF-_~+/==', { kind: 'token', token: 'abc.DEF-_~+/==' }, 'every b64token character'],
    ['bearer abc', { kind: 'token', token: 'abc' }, 'the scheme in any case (RFC 9110 11.1)'],
    ['BEARER   abc  ', { kind: 'token', token: 'abc' }, 'several spaces, and surrounding whitespace'],
    [undefined, { kind: 'absent' }, 'no header'],
    ['', { kind: 'absent' }, 'an empty header'],
    ['Basic dXNlcjpwYXNz', { kind: 'absent' }, 'another scheme'],
    ['Bearerabc', { kind: 'absent' }, 'a longer scheme name'],
    ['Bearer', { kind: 'malformed' }, 'the scheme without a token'],
    ['Bearer\tabc', { kind: 'malformed' }, 'a tab is not 1*SP'],
    ['Bearer a b', { kind: 'malformed' }, 'two tokens'],
    ['Bearer a=b', { kind: 'malformed' }, '= only at the end'],
    ['Bearer abc,', { kind: 'malformed' }, 'a character outside b64token'],
    ['Bearer =', { kind: 'malformed' }, 'padding alone'],
  ];
  it.each(cases)('%j is %j: %s', (header, expected) => {
    expect(bearerCredentials(header)).toEqual(expected);
  });
});

describe('bearerChallenge without resource metadata', () => {
  it('is the bare scheme, or the scheme with an error (client management, initial access token)', () => {
    expect(bearerChallenge()).toBe('Bearer');
    expect(bearerChallenge({ error: 'invalid_token' })).toBe('Bearer error="invalid_token"');
  });
});
