import { describe, expect, it } from 'vitest';
import {
  CLIENT_ID_URL_MAX_LENGTH,
  clientIdUrlProblem,
  isClientIdMetadataUrl,
} from '../../lambda/domain/client-id-url.js';

describe('isClientIdMetadataUrl: which client_id values name a metadata document', () => {
  it.each([
    // [client_id, reason]
    ['https://app.example.com/oauth/client-metadata.json', 'https with a path'],
    ['https://app.example.com/client', 'a single path segment'],
    ['https://app.example.com:8443/client', 'a port (the draft allows one)'],
    ['https://app.example.com:443/client', 'the default port written out is a different, valid client_id'],
    ['https://app.example.com/a/b/', 'a path ending in a slash'],
    ['https://app.example.com/.well-known/client.json', 'a segment that starts with a dot is not a dot segment'],
    ['https://app.example.com/a..b/c.', 'dots inside a segment are fine'],
    ['https://app.example.com/caf%C3%A9', 'percent-encoded UTF-8'],
    ['https://93.184.216.34/client', 'an IP literal (the SSRF guard judges the address)'],
    ['https://[2606:4700::1111]/client', 'an IPv6 literal'],
  ])('accepts %s (%s)', (clientId) => {
    expect(clientIdUrlProblem(clientId)).toBeUndefined();
    expect(isClientIdMetadataUrl(clientId)).toBe(true);
  });

  it.each([
    // [client_id, rule the reason must name, why]
    ['https://app.example.com', /path other than \//, 'no path at all'],
    ['https://app.example.com/', /path other than \//, 'the root path alone'],
    ['http://app.example.com/client', /https scheme/, 'plain http'],
    ['HTTPS://app.example.com/client', /https scheme/, 'the scheme must be written in lower case'],
    ['ftp://app.example.com/client', /https scheme/, 'another scheme'],
    ['https://app.example.com/client#frag', /fragment/, 'a fragment'],
    ['https://app.example.com/client#', /fragment/, 'an empty fragment'],
    ['https://app.example.com/client?v=1', /query/, 'a query'],
    ['https://app.example.com/client?', /query/, 'an empty query'],
    ['https://user@app.example.com/client', /user information/, 'userinfo'],
    ['https://user:pass@app.example.com/client', /user information/, 'userinfo with a password'],
    ['https://app.example.com/a/../client', /\. or \.\. path segments/, 'a double-dot segment'],
    ['https://app.example.com/a/./client', /\. or \.\. path segments/, 'a single-dot segment'],
    ['https://app.example.com/client/..', /\. or \.\. path segments/, 'a trailing double-dot segment'],
    ['https://app.example.com/a/%2e%2E/client', /\. or \.\. path segments/, 'a percent-encoded double dot'],
    ['https://app.example.com/a/.%2e/client', /\. or \.\. path segments/, 'a half-encoded double dot'],
    ['https://app.example.com/%2E/client', /\. or \.\. path segments/, 'a percent-encoded single dot'],
    ['https:///client', /host/, 'an empty host'],
    ['https:/app.example.com/client', /host/, 'no authority'],
    ['https://app.example.com:/client', /port/, 'an empty port'],
    ['https://app.example.com:65536/client', /port/, 'a port out of range'],
    ['https://app.example.com:0/client', /port/, 'port zero'],
    ['https://app.example.com:8x/client', /malformed host or port/, 'a port that is not digits'],
    ['https://app.example.com/my client', /characters/, 'a space'],
    ['https://app.example.com\\@evil.example/client', /characters/, 'a backslash (WHATWG reads it as a slash)'],
    ['https://app.example.com/café', /characters/, 'raw non-ASCII'],
    ['https://app.example.com/100%', /characters/, 'a bare percent sign'],
    ['https://app.example.com/cl\nient', /characters/, 'a control character'],
    ['app.example.com/client', /absolute URL/, 'no scheme'],
    ['', /absolute URL/, 'empty'],
    ['a3f9c2e1-0b7d-4c55-9f0e-5d2b8f1a6c44', /absolute URL/, 'a registered client_id'],
    ['http://127.0.0.1:3000/client', /https scheme/, 'loopback http without the switch'],
    ['http://localhost:3000/client', /https scheme/, 'localhost http without the switch'],
  ])('refuses %s: %s (%s)', (clientId, rule) => {
    expect(clientIdUrlProblem(clientId)).toMatch(rule);
    expect(isClientIdMetadataUrl(clientId)).toBe(false);
  });

  it('refuses a URL longer than the limit, and accepts one at the limit', () => {
    const prefix = 'https://app.example.com/';
    const atLimit = prefix + 'a'.repeat(CLIENT_ID_URL_MAX_LENGTH - prefix.length);
    expect(isClientIdMetadataUrl(atLimit)).toBe(true);
    expect(clientIdUrlProblem(`${atLimit}a`)).toMatch(/at most/);
  });
});

describe('isClientIdMetadataUrl with the loopback switch on', () => {
  const on = { allowLoopbackHttp: true };

  it.each([
    'http://127.0.0.1:3000/client.json',
    'http://localhost:3000/client.json',
    'http://127.0.0.1/client.json',
    'https://app.example.com/client',
  ])('accepts %s', (clientId) => {
    expect(clientIdUrlProblem(clientId, on)).toBeUndefined();
  });

  it.each([
    ['http://app.example.com/client', /https scheme/, 'http on other hosts stays refused'],
    ['http://127.0.0.2:3000/client', /https scheme/, 'only the exact text 127.0.0.1'],
    ['http://[::1]:3000/client', /https scheme/, 'IPv6 loopback is not on the switch'],
    ['http://LOCALHOST:3000/client', /https scheme/, 'host names are compared as exact text'],
    ['http://localhost.example.com/client', /https scheme/, 'a name that merely starts with localhost'],
    ['http://127.0.0.1:3000/', /path other than \//, 'the other rules still apply: a path'],
    ['http://127.0.0.1:3000/client?x=1', /query/, 'the other rules still apply: no query'],
    ['http://user@127.0.0.1:3000/client', /user information/, 'the other rules still apply: no userinfo'],
  ])('refuses %s: %s (%s)', (clientId, rule) => {
    expect(clientIdUrlProblem(clientId, on)).toMatch(rule);
    expect(isClientIdMetadataUrl(clientId, on)).toBe(false);
  });
});
