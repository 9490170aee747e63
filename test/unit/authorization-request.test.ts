import { describe, expect, it } from 'vitest';
import { parseAuthorizationRequest, redirectWithParams } from '../../lambda/domain/authorization-request.js';
import { OAuthError } from '../../lambda/domain/oauth-error.js';
import { type MultiValueQuery, type SingleValueQuery, singleValuedQuery } from '../../lambda/domain/query.js';

// RFC 7636 Appendix B: the S256 challenge of the example verifier.
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const VALID = { response_type: 'code', code_challenge: CHALLENGE, code_challenge_method: 'S256' };

function refusal(params: Record<string, string>): OAuthError {
  try {
    parseAuthorizationRequest(params);
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthError);
    return error as OAuthError;
  }
  throw new Error(`expected ${JSON.stringify(params)} to be refused`);
}

function without(key: keyof typeof VALID): Record<string, string> {
  const { [key]: _, ...rest } = VALID;
  return rest;
}

describe('parseAuthorizationRequest', () => {
  it.each([
    // [params, expected error code, description pattern, reason]
    [without('response_type'), 'invalid_request', /response_type/, 'response_type missing'],
    [{ ...VALID, response_type: '' }, 'invalid_request', /response_type/, 'response_type empty'],
    [{ ...VALID, response_type: 'token' }, 'unsupported_response_type', /code/, 'implicit flow'],
    [{ ...VALID, response_type: 'code token' }, 'unsupported_response_type', /code/, 'hybrid flow'],
    [{ ...VALID, response_type: 'CODE' }, 'unsupported_response_type', /code/, 'case matters'],
    [without('code_challenge'), 'invalid_request', /code_challenge/, 'PKCE challenge missing'],
    [{ ...VALID, code_challenge: '' }, 'invalid_request', /code_challenge/, 'PKCE challenge empty'],
    [without('code_challenge_method'), 'invalid_request', /S256/, 'method missing (defaults to plain)'],
    [{ ...VALID, code_challenge_method: 'plain' }, 'invalid_request', /S256/, 'plain method'],
    [{ ...VALID, code_challenge_method: 's256' }, 'invalid_request', /S256/, 'method case matters'],
    [{ ...VALID, code_challenge: 'a'.repeat(42) }, 'invalid_request', /43 to 128/, '42 characters'],
    [{ ...VALID, code_challenge: 'a'.repeat(129) }, 'invalid_request', /43 to 128/, '129 characters'],
    [{ ...VALID, code_challenge: `${CHALLENGE.slice(0, 42)}=` }, 'invalid_request', /43 to 128/, 'base64 padding'],
    [{ ...VALID, code_challenge: `${CHALLENGE.slice(0, 42)}+` }, 'invalid_request', /43 to 128/, 'plain base64 +'],
    [{ ...VALID, code_challenge: `${CHALLENGE.slice(0, 42)}/` }, 'invalid_request', /43 to 128/, 'plain base64 /'],
    [{ ...VALID, code_challenge: `${CHALLENGE.slice(0, 42)} ` }, 'invalid_request', /43 to 128/, 'space'],
    [{ ...VALID, code_challenge: `${CHALLENGE}\n` }, 'invalid_request', /43 to 128/, 'trailing newline'],
  ])('%j is refused with %s, %s (%s)', (params, code, description) => {
    const error = refusal(params);
    expect(error.code).toBe(code);
    expect(error.description).toMatch(description);
    expect(error.status).toBe(400);
  });

  it.each([
    [CHALLENGE, 'S256 output, 43 characters'],
    ['a'.repeat(43), 'shortest allowed'],
    ['A'.repeat(128), 'longest allowed'],
    [`${'0'.repeat(39)}-._~`, 'every unreserved punctuation character'],
  ])('accepts code_challenge %s (%s)', (challenge) => {
    const request = parseAuthorizationRequest({ ...VALID, code_challenge: challenge });
    expect(request).toStrictEqual({
      responseType: 'code',
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      prompt: new Set(),
    });
  });

  it.each([
    [{ state: 'xyz' }, { state: 'xyz' }, 'state'],
    [{ state: '' }, { state: '' }, 'empty state is still passed through'],
    [{ scope: 'claudeai' }, { scope: 'claudeai' }, 'scope'],
    [{ resource: 'https://mcp.example.com/mcp' }, { resource: 'https://mcp.example.com/mcp' }, 'resource (RFC 8707)'],
    [
      { state: 'a b&c', scope: 'read write', resource: 'https://r.example/' },
      { state: 'a b&c', scope: 'read write', resource: 'https://r.example/' },
      'all three, unaltered',
    ],
    [{}, {}, 'absent ones stay absent'],
    [{ client_id: 'abc', redirect_uri: 'https://a.example/cb', foo: 'bar' }, {}, 'other parameters are not copied'],
  ])('%j passes through as %j (%s)', (extra, expected, _reason) => {
    const request = parseAuthorizationRequest({ ...VALID, ...extra });
    expect(request).toStrictEqual({
      responseType: 'code',
      codeChallenge: CHALLENGE,
      codeChallengeMethod: 'S256',
      prompt: new Set(),
      ...expected,
    });
  });

  it.each([
    ['consent', ['consent']],
    ['login consent', ['login', 'consent']],
    ['select_account', []],
    ['none', ['none']],
  ])('prompt=%s acts on %j (OpenID Connect 3.1.2.1; others ignored)', (prompt, acted) => {
    expect([...parseAuthorizationRequest({ ...VALID, prompt }).prompt]).toEqual(acted);
  });

  it.each([['none consent'], ['login none']])('prompt=%s is invalid_request (none stands alone)', (prompt) => {
    expect(() => parseAuthorizationRequest({ ...VALID, prompt })).toThrow(/prompt=none cannot be combined/);
  });

  it.each([
    ['0', 0],
    ['3600', 3600],
  ])('max_age=%s is kept as %d', (maxAge, seconds) => {
    expect(parseAuthorizationRequest({ ...VALID, max_age: maxAge }).maxAge).toBe(seconds);
  });

  it.each(['-1', '1.5', 'x', '', '1e3', '9999999999'])('max_age=%j is invalid_request', (maxAge) => {
    expect(() => parseAuthorizationRequest({ ...VALID, max_age: maxAge })).toThrow(/max_age must be/);
  });
});

describe('redirectWithParams', () => {
  it.each([
    // [redirect URI, params, expected, reason]
    ['https://a.example/cb', { code: 'abc' }, 'https://a.example/cb?code=abc', 'no query: starts one with ?'],
    [
      'https://a.example/cb',
      { code: 'abc', state: 'xyz' },
      'https://a.example/cb?code=abc&state=xyz',
      'several params in order',
    ],
    [
      'https://a.example/cb?tenant=1',
      { code: 'abc' },
      'https://a.example/cb?tenant=1&code=abc',
      'existing query kept, appended with &',
    ],
    [
      'https://a.example/cb?code=registered',
      { code: 'abc' },
      'https://a.example/cb?code=registered&code=abc',
      'existing params are never replaced',
    ],
    [
      'https://a.example/cb',
      { code: 'abc', state: undefined },
      'https://a.example/cb?code=abc',
      'undefined values are left out',
    ],
    [
      'cursor://anysphere.cursor-mcp/oauth/callback',
      { code: 'abc' },
      'cursor://anysphere.cursor-mcp/oauth/callback?code=abc',
      'private-use scheme',
    ],
    [
      'http://127.0.0.1:51234/callback',
      { error: 'access_denied' },
      'http://127.0.0.1:51234/callback?error=access_denied',
      'loopback with port',
    ],
  ])('%s + %j -> %s (%s)', (redirectUri, params, expected, _reason) => {
    expect(redirectWithParams(redirectUri, params)).toBe(expected);
  });

  it.each([
    ['a b', 'space'],
    ['x&code=forged', 'ampersand cannot inject a parameter'],
    ['a=b', 'equals sign'],
    ['#frag', 'hash cannot start a fragment'],
    ['100%', 'percent sign'],
    ['a+b', 'plus sign'],
    ['é🙂', 'non-ASCII'],
    ['?x', 'question mark'],
  ])('URL-encodes %j (%s)', (state) => {
    const result = redirectWithParams('https://a.example/cb?keep=1', { code: 'abc', state });
    const raw = result.slice('https://a.example/cb?keep=1'.length);
    expect(raw).toMatch(/^[A-Za-z0-9&=%+._*-]*$/);
    const url = new URL(result);
    expect(url.hash).toBe('');
    expect([...url.searchParams]).toStrictEqual([
      ['keep', '1'],
      ['code', 'abc'],
      ['state', state],
    ]);
  });
});

describe('singleValuedQuery', () => {
  it.each([
    // [multi, single, expected, reason]
    [{ a: ['1'], b: ['2'] }, { a: '1', b: '2' }, { ok: true, params: { a: '1', b: '2' } }, 'flattens single values'],
    [{ a: ['1', '2'] }, { a: '2' }, { ok: false, repeated: 'a' }, 'repeated parameter refused'],
    [{ a: ['1', '1'] }, { a: '1' }, { ok: false, repeated: 'a' }, 'repeated even with the same value'],
    [
      { client_id: ['c'], redirect_uri: ['https://a.example/cb', 'https://evil.example/cb'] },
      { client_id: 'c', redirect_uri: 'https://evil.example/cb' },
      { ok: false, repeated: 'redirect_uri' },
      'repeated redirect_uri is named',
    ],
    [{ a: [''] }, { a: '' }, { ok: true, params: { a: '' } }, 'empty value kept'],
    [{ a: [], b: ['2'] }, { b: '2' }, { ok: true, params: { b: '2' } }, 'empty list skipped'],
    [{ a: undefined, b: ['2'] }, { b: '2' }, { ok: true, params: { b: '2' } }, 'undefined list skipped'],
    [{ a: ['1'] }, { a: '1', b: '2' }, { ok: true, params: { a: '1' } }, 'multi-value form is authoritative'],
    [null, { a: '1', b: '2' }, { ok: true, params: { a: '1', b: '2' } }, 'falls back to single-value form'],
    [undefined, { a: '1', b: undefined }, { ok: true, params: { a: '1' } }, 'undefined single value skipped'],
    [null, null, { ok: true, params: {} }, 'no query at all'],
    [undefined, undefined, { ok: true, params: {} }, 'no query at all (undefined)'],
  ] as [MultiValueQuery, SingleValueQuery, unknown, string][])(
    'multi %j, single %j -> %j (%s)',
    (multi, single, expected) => {
      const result = singleValuedQuery(multi, single);
      // params has no prototype (a parameter named __proto__ is data); compare its own entries.
      expect(result.ok ? { ...result, params: { ...result.params } } : result).toStrictEqual(expected);
    },
  );

  it('keeps a parameter named __proto__ or constructor as plain data', () => {
    const multi = JSON.parse('{"__proto__":["x"],"constructor":["y"]}') as MultiValueQuery;
    const result = singleValuedQuery(multi, null);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.getPrototypeOf(result.params)).toBeNull();
    expect(Object.entries(result.params)).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
  });
});
