import { describe, expect, it } from 'vitest';
import { type RedirectUriPolicy } from '../../lambda/contract/settings.js';
import { matchRedirectUri, redirectUriProblem } from '../../lambda/domain/redirect-uri-policy.js';

const NO_PRIVATE_USE: RedirectUriPolicy = { allowPrivateUseSchemes: false };
const ALLOW_LIST: RedirectUriPolicy = {
  allowPrivateUseSchemes: true,
  allowedHosts: ['claude.ai', 'claude.com', '127.0.0.1'],
};

describe('redirectUriProblem: URIs a client may register', () => {
  it.each([
    // [uri, reason]
    ['https://a.example/cb', 'https on any host'],
    ['https://claude.ai/api/mcp/auth_callback', 'https with a deep path'],
    ['https://a.example:8443/cb?x=1', 'https with a port and a query'],
    ['http://127.0.0.1/callback', 'http on IPv4 loopback'],
    ['http://127.0.0.1:33418/', 'http on IPv4 loopback with a port'],
    ['http://[::1]:8080/cb', 'http on IPv6 loopback'],
    ['http://localhost:6274/oauth/callback', 'http on localhost'],
    ['cursor://anysphere.cursor-mcp/oauth/callback', 'private-use scheme with an authority'],
    ['claude://callback', 'private-use scheme, host only'],
    ['com.example.app:/cb', 'reverse-domain private-use scheme without authority (RFC 8252 7.1)'],
  ])('allows %s (%s) under the default policy', (uri) => {
    expect(redirectUriProblem(uri)).toBeUndefined();
  });

  it.each([
    // [uri, rule the message must name, reason]
    ['http://example.com/cb', /http only for a loopback/, 'plain http off loopback'],
    ['http://127.1/', /http only for a loopback/, 'only the exact text 127.0.0.1 is loopback, not 127.1'],
    ['http://127.0.0.2/cb', /http only for a loopback/, 'other 127/8 addresses are not on the list'],
    ['http://LOCALHOST/cb', /http only for a loopback/, 'loopback host names are compared as exact text'],
    ['javascript:alert(1)', /javascript: scheme/, 'javascript runs code'],
    ['JavaScript:alert(1)', /javascript: scheme/, 'scheme check is case-insensitive'],
    ['data:text/html,hello', /data: scheme/, 'data URIs carry content'],
    ['vbscript:msgbox', /vbscript: scheme/, 'vbscript runs code'],
    ['vbscript:', /vbscript: scheme/, 'bare vbscript:'],
    ['file:///etc/passwd', /file: scheme/, 'file reads local data'],
    ['blob:https://x/y', /blob: scheme/, 'blob URLs'],
    ['about:blank', /about: scheme/, 'about URLs'],
    ['filesystem:', /filesystem: scheme/, 'filesystem URLs'],
    ['https://a.example/cb#x', /fragment/, 'fragments are forbidden (RFC 6749 3.1.2)'],
    ['https://a.example/cb#', /fragment/, 'even an empty fragment'],
    ['https://user@a.example/cb', /user information/, 'userinfo'],
    ['https://a.example@evil.example/cb', /user information/, 'userinfo that looks like a host'],
    ['https://*.example.com/cb', /wildcard/, 'wildcard host'],
    ['https://a.example/*', /wildcard/, 'wildcard path'],
    ['/cb', /absolute URI/, 'relative path'],
    ['//a.example/cb', /absolute URI/, 'scheme-relative'],
    ['a.example/cb', /absolute URI/, 'no scheme at all'],
    ['1https://a.example/cb', /absolute URI/, 'scheme must start with a letter'],
    [`https://a.example/${'a'.repeat(2000)}`, /2000 characters/, 'longer than 2000 characters'],
    ['', /empty/, 'empty string'],
    ['https://a.example/c b', /characters not allowed/, 'space'],
    [' https://a.example/cb', /characters not allowed/, 'leading whitespace'],
    ['https://a.example/cb\n', /characters not allowed/, 'trailing newline'],
    ['https://a.example/\tcb', /characters not allowed/, 'tab'],
    ['https://a.example/\u0000cb', /characters not allowed/, 'NUL control character'],
    ['https://a.example/caf\u00e9', /characters not allowed/, 'non-ASCII must be percent-encoded'],
    ['https://a.example/%zz', /characters not allowed/, 'percent sign without two hex digits'],
    ['https:///path', /must name a host/, 'https with an empty host'],
    ['https:/path', /must name a host/, 'https without an authority'],
    ['http://127.0.0.1:abc/cb', /malformed host or port/, 'non-numeric port'],
  ])('refuses %j: message names the rule %s (%s)', (uri, rule) => {
    const problem = redirectUriProblem(uri);
    expect(problem).toBeDefined();
    expect(problem).toMatch(rule);
  });

  it('allows exactly 2000 characters', () => {
    const base = 'https://a.example/';
    const uri = base + 'a'.repeat(2000 - base.length);
    expect(uri).toHaveLength(2000);
    expect(redirectUriProblem(uri)).toBeUndefined();
  });

  it.each([
    [undefined, 'undefined'],
    [null, 'null'],
    [42, 'number'],
    [['https://a.example/cb'], 'array of a valid URI'],
    [{ href: 'https://a.example/cb' }, 'object'],
    [new URL('https://a.example/cb'), 'URL instance'],
  ])('refuses non-string %j (%s)', (uri, _reason) => {
    expect(redirectUriProblem(uri)).toMatch(/string/);
  });

  describe('with private-use schemes disabled', () => {
    it.each([
      ['cursor://anysphere.cursor-mcp/oauth/callback', 'cursor scheme'],
      ['claude://callback', 'claude scheme'],
      ['com.example.app:/cb', 'reverse-domain scheme'],
    ])('refuses %s (%s)', (uri) => {
      expect(redirectUriProblem(uri, NO_PRIVATE_USE)).toMatch(/private-use/);
    });

    it.each([
      ['https://a.example/cb', 'https'],
      ['http://127.0.0.1:3000/cb', 'loopback http'],
    ])('still allows %s (%s)', (uri) => {
      expect(redirectUriProblem(uri, NO_PRIVATE_USE)).toBeUndefined();
    });

    it.each([
      ['javascript:alert(1)', 'dangerous schemes are refused under every policy'],
      ['http://example.com/cb', 'http off loopback is refused under every policy'],
    ])('still refuses %s (%s)', (uri) => {
      expect(redirectUriProblem(uri, NO_PRIVATE_USE)).toBeDefined();
    });
  });

  describe('with a host allow-list', () => {
    it.each([
      ['https://claude.ai/api/mcp/auth_callback', 'listed host'],
      ['https://claude.com/api/mcp/auth_callback', 'listed host'],
      ['http://127.0.0.1:3000/cb', 'listed loopback host, any port'],
    ])('admits %s (%s)', (uri) => {
      expect(redirectUriProblem(uri, ALLOW_LIST)).toBeUndefined();
    });

    it.each([
      ['https://evil.example/cb', /allowed hosts/, 'unlisted host'],
      ['https://claude.ai.evil.com/cb', /allowed hosts/, 'listed host as a prefix of another'],
      ['https://evil.claude.ai/cb', /allowed hosts/, 'subdomain of a listed host'],
      ['http://localhost:3000/cb', /allowed hosts/, 'loopback host not on the list'],
      ['com.example.app:/cb', /allowed hosts/, 'private-use URI without a host'],
      ['javascript:alert(1)', /javascript: scheme/, 'dangerous scheme, whatever the list'],
    ])('refuses %s: %s (%s)', (uri, rule) => {
      expect(redirectUriProblem(uri, ALLOW_LIST)).toMatch(rule);
    });
  });
});

describe('redirectUriProblem with an application_type (OpenID Connect registration, MCP SEP-837)', () => {
  const KINDS = [
    // [uri, kind]
    ['https://a.example/cb', 'https'],
    ['https://vscode.dev/redirect', 'https'],
    ['http://127.0.0.1/callback', 'loopback'],
    ['http://127.0.0.1:33418/', 'loopback'],
    ['http://[::1]:8080/cb', 'loopback'],
    ['http://localhost:6274/oauth/callback', 'loopback'],
    ['cursor://anysphere.cursor-mcp/oauth/callback', 'private-use'],
    ['claude://callback', 'private-use'],
    ['com.example.app:/cb', 'private-use'],
  ] as const;

  it.each(KINDS)('omitted: %s (%s) is judged as before', (uri) => {
    expect(redirectUriProblem(uri, undefined, undefined)).toBe(redirectUriProblem(uri));
    expect(redirectUriProblem(uri)).toBeUndefined();
  });

  it.each(KINDS)('native: %s (%s) is allowed, claimed https included', (uri) => {
    expect(redirectUriProblem(uri, undefined, 'native')).toBeUndefined();
  });

  it.each(KINDS)('web: %s (%s) is allowed only when https off loopback', (uri, kind) => {
    const problem = redirectUriProblem(uri, undefined, 'web');
    if (kind === 'https') expect(problem).toBeUndefined();
    else if (kind === 'loopback') expect(problem).toMatch(/^is a loopback URI, which a web client/);
    else expect(problem).toMatch(/^uses the private-use scheme [a-z.]+:, which a web client/);
  });

  it.each([
    // [uri, reason]
    ['https://localhost/cb', 'https on localhost'],
    ['https://localhost:8443/cb', 'https on localhost with a port'],
    ['https://LocalHost/cb', 'localhost in any case'],
    ['https://localhost./cb', 'localhost with a root dot'],
    ['https://dev.localhost/cb', 'a subdomain of localhost (RFC 6761 section 6.3)'],
    ['https://127.0.0.1/cb', 'https on 127.0.0.1'],
    ['https://127.200.0.9/cb', 'anywhere in 127.0.0.0/8'],
    ['https://127.1/cb', 'the short form of 127.0.0.1'],
    ['https://2130706433/cb', '127.0.0.1 as one number'],
    ['https://0x7f000001/cb', '127.0.0.1 in hexadecimal'],
    ['https://[::1]/cb', 'https on [::1]'],
    ['https://[0:0:0:0:0:0:0:1]/cb', '[::1] in full'],
    ['https://0.0.0.0/cb', '0.0.0.0, which reaches the own machine'],
  ])('web: refuses %s as loopback (%s)', (uri) => {
    expect(redirectUriProblem(uri, undefined, 'web')).toMatch(/^is a loopback URI/);
    expect(redirectUriProblem(uri, undefined, 'native')).toBeUndefined();
  });

  it.each([
    ['https://localhost.example.com/cb', 'a host beginning with localhost'],
    ['https://mylocalhost/cb', 'a host ending with localhost, not a subdomain of it'],
    ['https://127.example.com/cb', 'a host beginning with 127'],
    ['https://10.0.0.1/cb', 'a private address is not loopback (another rule may refuse it)'],
  ])('web: allows %s (%s)', (uri) => {
    expect(redirectUriProblem(uri, undefined, 'web')).toBeUndefined();
  });

  it('the rules the deployment sets apply whatever the application_type', () => {
    expect(redirectUriProblem('cursor://x/cb', NO_PRIVATE_USE, 'native')).toMatch(/private-use schemes are disabled/);
    expect(redirectUriProblem('https://evil.example/cb', ALLOW_LIST, 'native')).toMatch(/allowed hosts/);
    expect(redirectUriProblem('https://claude.ai/cb', ALLOW_LIST, 'web')).toBeUndefined();
    expect(redirectUriProblem('http://127.0.0.1:3000/cb', ALLOW_LIST, 'web')).toMatch(/loopback/);
  });

  it('rules every client is held to come first', () => {
    for (const type of ['web', 'native'] as const) {
      expect(redirectUriProblem('javascript:alert(1)', undefined, type)).toMatch(/javascript: scheme/);
      expect(redirectUriProblem('http://example.com/cb', undefined, type)).toMatch(/http only for a loopback/);
      expect(redirectUriProblem('https://a.example/cb#x', undefined, type)).toMatch(/fragment/);
    }
  });
});

describe('matchRedirectUri: which registered URI a request selects', () => {
  const CLAUDE = 'https://claude.ai/api/mcp/auth_callback';
  const APP = 'https://app.example.com/cb';

  it.each([
    // [registered, requested, expected, reason]
    [[CLAUDE], CLAUDE, CLAUDE, 'exact match'],
    [[APP, CLAUDE], CLAUDE, CLAUDE, 'exact match of the second of several'],
    [[APP], `${APP}/`, undefined, 'trailing slash added'],
    [['https://app.example.com/cb/'], APP, undefined, 'trailing slash removed'],
    [[APP], 'http://app.example.com/cb', undefined, 'scheme changed https to http'],
    [[CLAUDE], 'https://CLAUDE.ai/api/mcp/auth_callback', undefined, 'host case changed'],
    [[CLAUDE], 'HTTPS://claude.ai/api/mcp/auth_callback', undefined, 'scheme case changed'],
    [[APP], `${APP}?x=1`, undefined, 'query added'],
    [[APP], `${APP}?`, undefined, 'empty query added'],
    [[APP], `${APP}#x`, undefined, 'fragment added'],
    [[APP], 'https://app.example.com/a/../cb', undefined, 'dot segments'],
    [[APP], 'https://app.example.com/%63b', undefined, 'percent-encoded path (%63 is c)'],
    [[CLAUDE], 'https://claude.ai@evil.com/api/mcp/auth_callback', undefined, 'userinfo@ trick'],
    [[APP], 'https://app.example.com.evil.com/cb', undefined, 'registered host as prefix of another'],
    [['https://a.example/cb'], 'https://a.example:8443/cb', undefined, 'other port on https'],
    [['https://a.example/cb'], 'https://a.example:443/cb', undefined, 'explicit default port on https'],
    [['http://127.0.0.1/callback'], 'http://127.0.0.1/callback', 'http://127.0.0.1/callback', 'loopback exact'],
    [
      ['http://127.0.0.1/callback'],
      'http://127.0.0.1:51234/callback',
      'http://127.0.0.1:51234/callback',
      'loopback registered without port, requested on any port (RFC 8252 7.3)',
    ],
    [
      ['http://127.0.0.1:33418/'],
      'http://127.0.0.1:5000/',
      'http://127.0.0.1:5000/',
      'loopback registered with one port, requested on another',
    ],
    [
      ['http://127.0.0.1:33418/'],
      'http://127.0.0.1/',
      'http://127.0.0.1/',
      'loopback registered with a port, requested without',
    ],
    [
      ['http://localhost/callback'],
      'http://localhost:8787/callback',
      'http://localhost:8787/callback',
      'localhost on any port',
    ],
    [['http://[::1]/cb'], 'http://[::1]:4000/cb', 'http://[::1]:4000/cb', '[::1] on any port'],
    [['http://[::1]:1234/cb'], 'http://[::1]:65535/cb', 'http://[::1]:65535/cb', '[::1] on the highest port'],
    [['http://127.0.0.1/callback'], 'http://127.0.0.1:51234/other', undefined, 'loopback with another path'],
    [['http://127.0.0.1/callback'], 'http://127.0.0.1:51234/callback/', undefined, 'loopback with trailing slash'],
    [['http://127.0.0.1/callback'], 'http://127.0.0.1:51234/callback?x=1', undefined, 'loopback with added query'],
    [['http://127.0.0.1/callback'], 'http://127.0.0.1:51234/callback#x', undefined, 'loopback with added fragment'],
    [['http://127.0.0.1/cb'], 'http://localhost:5000/cb', undefined, '127.0.0.1 registered, localhost requested'],
    [['http://localhost/cb'], 'http://127.0.0.1:5000/cb', undefined, 'localhost registered, 127.0.0.1 requested'],
    [['http://127.0.0.1/cb'], 'http://[::1]:5000/cb', undefined, '127.0.0.1 registered, [::1] requested'],
    [['http://127.0.0.1/cb'], 'https://127.0.0.1:5000/cb', undefined, 'loopback with scheme changed to https'],
    [['http://127.0.0.1/cb'], 'http://user@127.0.0.1:5000/cb', undefined, 'loopback with userinfo'],
    [['http://127.0.0.1/cb'], 'http://127.0.0.1:70000/cb', undefined, 'port out of range'],
    [['http://127.0.0.1/cb'], 'http://127.0.0.1:65536/cb', undefined, 'port just out of range'],
    [['http://127.0.0.1/cb'], 'http://127.0.0.1:/cb', undefined, 'empty port'],
    [['http://127.0.0.1/cb'], 'http://127.0.0.1:-1/cb', undefined, 'negative port'],
    [['http://127.0.0.1/cb'], 'http://127.0.0.1:5000@evil.com/cb', undefined, 'port-looking userinfo'],
    [['https://a.example/cb'], 'https://a.example:5000/cb', undefined, 'any-port rule is for loopback http only'],
    [
      ['cursor://anysphere.cursor-mcp/oauth/callback'],
      'cursor://anysphere.cursor-mcp/oauth/callback',
      'cursor://anysphere.cursor-mcp/oauth/callback',
      'private-use exact',
    ],
    [
      ['cursor://anysphere.cursor-mcp/oauth/callback'],
      'cursor://anysphere.cursor-mcp:1/oauth/callback',
      undefined,
      'private-use with a port',
    ],
    [[CLAUDE], undefined, CLAUDE, 'omitted, one registered: that one'],
    [[APP, CLAUDE], undefined, undefined, 'omitted, two registered: ambiguous'],
    [[], undefined, undefined, 'omitted, none registered'],
    [[CLAUDE], '', undefined, 'empty string requested'],
    [['http://127.0.0.1/'], '', undefined, 'empty string requested against loopback'],
  ] as [string[], string | undefined, string | undefined, string][])(
    'registered %j, requested %j -> %j (%s)',
    (registered, requested, expected) => {
      expect(matchRedirectUri(registered, requested)).toBe(expected);
    },
  );
});
