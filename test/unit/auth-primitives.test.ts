/**
 * The authorization server's small primitives, table-driven: PKCE S256, HMAC-signed values and
 * form tokens, resource and scope resolution, and client authentication at /token and /revoke.
 */
import { describe, expect, it } from 'vitest';
import { authenticateClient } from '../../lambda/domain/client-authentication.js';
import type { ClientStore, RegisteredClient } from '../../lambda/domain/clients.js';
import { OAuthError } from '../../lambda/domain/oauth-error.js';
import { pkceVerifierMatches, s256Challenge } from '../../lambda/domain/pkce.js';
import { hashSecret } from '../../lambda/domain/secrets.js';
import { grantableScope, resolveResource } from '../../lambda/domain/server-config.js';
import { formToken, formTokenMatches, signValue, verifySignedValue } from '../../lambda/domain/signed-values.js';

// RFC 7636 Appendix B.
const RFC_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const RFC_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('PKCE S256', () => {
  it('computes the RFC 7636 Appendix B challenge', () => {
    expect(s256Challenge(RFC_VERIFIER)).toBe(RFC_CHALLENGE);
  });

  it('accepts the RFC 7636 Appendix B verifier for its challenge', () => {
    expect(pkceVerifierMatches(RFC_VERIFIER, RFC_CHALLENGE)).toBe(true);
  });

  it.each(['a'.repeat(43), 'A'.repeat(128), `${'Z'.repeat(40)}-._~`])(
    'accepts the %s verifier (boundary length, every allowed character class)',
    (verifier) => {
      expect(pkceVerifierMatches(verifier, s256Challenge(verifier))).toBe(true);
    },
  );

  const short = 'a'.repeat(42);
  const long = 'a'.repeat(129);
  const badCharset = `${'a'.repeat(42)}+`;
  const withSpace = `${'a'.repeat(42)} `;
  const nonAscii = `${'a'.repeat(42)}é`;
  it.each([
    ['a wrong verifier', 'x'.repeat(43), RFC_CHALLENGE],
    ['the verifier with one character changed', `${RFC_VERIFIER.slice(0, -1)}j`, RFC_CHALLENGE],
    ['a 42-character verifier, even against its own challenge', short, s256Challenge(short)],
    ['a 129-character verifier, even against its own challenge', long, s256Challenge(long)],
    ['a verifier with "+", even against its own challenge', badCharset, s256Challenge(badCharset)],
    ['a verifier with a space, even against its own challenge', withSpace, s256Challenge(withSpace)],
    ['a verifier with a non-ASCII letter, even against its own challenge', nonAscii, s256Challenge(nonAscii)],
    ['an undefined verifier', undefined, RFC_CHALLENGE],
    ['an empty verifier', '', s256Challenge('')],
    ['the challenge itself presented as the verifier', RFC_CHALLENGE, RFC_CHALLENGE],
    ['a challenge of another length', RFC_VERIFIER, `${RFC_CHALLENGE}x`],
  ] as Array<[string, string | undefined, string]>)('refuses %s', (_name, verifier, challenge) => {
    expect(pkceVerifierMatches(verifier, challenge)).toBe(false);
  });
});

describe('signed values', () => {
  const KEY = 'k'.repeat(43);

  it.each(['pending-id', '["client-a","client-b"]', '', 'ünïcödé ✓', 'a.b.c'])('round-trips %j', (value) => {
    const signed = signValue(KEY, 'purpose', value);
    expect(verifySignedValue(KEY, 'purpose', signed)).toBe(value);
  });

  const signed = signValue(KEY, 'mcpgw_consent', '["client-a"]');
  const [encoded, mac] = signed.split('.');
  const flip = (text: string) => `${text.slice(0, -1)}${text.endsWith('A') ? 'B' : 'A'}`;

  it.each([
    ['a tampered value', `${Buffer.from('["client-evil"]').toString('base64url')}.${mac}`, KEY, 'mcpgw_consent'],
    ['a tampered signature', `${encoded}.${flip(mac)}`, KEY, 'mcpgw_consent'],
    ['a truncated signature', `${encoded}.${mac.slice(0, -2)}`, KEY, 'mcpgw_consent'],
    ['no signature at all', encoded, KEY, 'mcpgw_consent'],
    ['an empty string', '', KEY, 'mcpgw_consent'],
    ['undefined', undefined, KEY, 'mcpgw_consent'],
    ['another key', signed, 'other-key', 'mcpgw_consent'],
    ['another purpose', signed, KEY, 'mcpgw_tx'],
  ] as Array<[string, string | undefined, string, string]>)('does not verify %s', (_name, value, key, purpose) => {
    expect(verifySignedValue(key, purpose, value)).toBeUndefined();
  });

  it('a value signed for the form purpose is not a valid cookie, nor the reverse', () => {
    const value = 'request-id';
    const asForm = `${Buffer.from(value).toString('base64url')}.${formToken(KEY, value)}`;
    expect(verifySignedValue(KEY, 'mcpgw_consent', asForm)).toBeUndefined();
    // formToken is exactly a MAC under the purpose 'form'; that purpose alone verifies it.
    expect(verifySignedValue(KEY, 'form', asForm)).toBe(value);
    const cookieMac = signValue(KEY, 'mcpgw_tx', value).split('.')[1];
    expect(formTokenMatches(KEY, value, cookieMac)).toBe(false);
  });

  it('a form token matches its own value', () => {
    expect(formTokenMatches(KEY, 'request-1', formToken(KEY, 'request-1'))).toBe(true);
  });

  it.each([
    ['a token for another value', 'request-1', formToken(KEY, 'request-2')],
    ['a token made with another key', 'request-1', formToken('other-key', 'request-1')],
    ['a tampered token', 'request-1', flip(formToken(KEY, 'request-1'))],
    ['a truncated token', 'request-1', formToken(KEY, 'request-1').slice(0, -1)],
    ['an empty token', 'request-1', ''],
    ['no token', 'request-1', undefined],
  ] as Array<[string, string, string | undefined]>)('a form token does not match: %s', (_name, value, token) => {
    expect(formTokenMatches(KEY, value, token)).toBe(false);
  });
});

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

  it('with no scopes configured, everything is dropped', () => {
    expect(grantableScope({ scopes: [] }, 'mcp:read claudeai')).toBe('');
  });
});

describe('authenticateClient', () => {
  const SECRET = 'secret with spaces & symbols: /+=%';
  const PUBLIC_ID = 'public-client';
  const BASIC_ID = 'basic:client id';
  const POST_ID = 'post-client';

  function client(clientId: string, method: RegisteredClient['token_endpoint_auth_method']): RegisteredClient {
    return {
      client_id: clientId,
      client_id_issued_at: 1_700_000_000,
      redirect_uris: ['https://client.example/cb'],
      token_endpoint_auth_method: method,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      ...(method === 'none' ? {} : { client_secret_hash: hashSecret(SECRET) }),
    };
  }

  const CLIENTS = new Map<string, RegisteredClient>([
    [PUBLIC_ID, client(PUBLIC_ID, 'none')],
    [BASIC_ID, client(BASIC_ID, 'client_secret_basic')],
    [POST_ID, client(POST_ID, 'client_secret_post')],
  ]);

  const store: ClientStore = {
    async create() {
      throw new Error('not used');
    },
    async getById(clientId) {
      return CLIENTS.get(clientId);
    },
  };

  /** RFC 6749 2.3.1: each part form-urlencoded, then joined with ':' and Base64-encoded. */
  const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  const basic = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}`;

  type Case = [string, string | undefined, Record<string, string>];

  it.each([
    ['a none client sending only client_id', undefined, { client_id: PUBLIC_ID }, PUBLIC_ID],
    ['a basic client via HTTP Basic', basic(BASIC_ID, SECRET), {}, BASIC_ID],
    [
      'a basic client via HTTP Basic with the same client_id in the body',
      basic(BASIC_ID, SECRET),
      { client_id: BASIC_ID },
      BASIC_ID,
    ],
    [
      'a basic client via Basic with a lower-case scheme',
      basic(BASIC_ID, SECRET).replace('Basic', 'basic'),
      {},
      BASIC_ID,
    ],
    ['a post client via the body', undefined, { client_id: POST_ID, client_secret: SECRET }, POST_ID],
  ] as Array<[...Case, string]>)('accepts %s', async (_name, authorization, params, expectedId) => {
    const result = await authenticateClient(store, authorization, params);
    expect(result.client_id).toBe(expectedId);
  });

  async function refusal(authorization: string | undefined, params: Record<string, string>): Promise<OAuthError> {
    const error = await authenticateClient(store, authorization, params).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(OAuthError);
    return error as OAuthError;
  }

  it.each([
    ['a none client that also sends a secret', undefined, { client_id: PUBLIC_ID, client_secret: 'anything' }],
    ['a basic client authenticating via the body', undefined, { client_id: BASIC_ID, client_secret: SECRET }],
    ['a basic client sending only client_id', undefined, { client_id: BASIC_ID }],
    ['a post client sending only client_id', undefined, { client_id: POST_ID }],
    ['an unknown client', undefined, { client_id: 'no-such-client' }],
    ['a missing client_id', undefined, {}],
    ['an empty client_id', undefined, { client_id: '' }],
    ['an unknown client with a secret in the body', undefined, { client_id: 'no-such-client', client_secret: 'x' }],
    ['a post client with a wrong secret', undefined, { client_id: POST_ID, client_secret: `${SECRET}x` }],
    ['a post client with an empty secret', undefined, { client_id: POST_ID, client_secret: '' }],
  ] as Case[])('refuses %s: 401 invalid_client, no WWW-Authenticate', async (_name, authorization, params) => {
    const error = await refusal(authorization, params);
    expect(error.code).toBe('invalid_client');
    expect(error.status).toBe(401);
    expect(error.headers['WWW-Authenticate']).toBeUndefined();
  });

  it.each([
    ['a basic client with a wrong secret', basic(BASIC_ID, 'wrong'), {}],
    ['a basic client with an empty secret', basic(BASIC_ID, ''), {}],
    ['a basic client whose secret was form-encoded twice', basic(BASIC_ID, formEncode(SECRET)), {}],
    ['a post client via HTTP Basic', basic(POST_ID, SECRET), {}],
    ['a none client via HTTP Basic', basic(PUBLIC_ID, ''), {}],
    ['an unknown client via HTTP Basic', basic('no-such-client', SECRET), {}],
    ['Basic with a different client_id in the body', basic(BASIC_ID, SECRET), { client_id: POST_ID }],
    ['a malformed Basic header (not Base64)', 'Basic !!!not-base64!!!', {}],
    ['a malformed Basic header (no colon)', `Basic ${Buffer.from('no-colon').toString('base64')}`, {}],
    ['a malformed Basic header (bad percent-encoding)', `Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}`, {}],
    ['an empty Basic header', 'Basic ', {}],
    ['Basic with an empty client id', `Basic ${Buffer.from(`:${SECRET}`).toString('base64')}`, {}],
  ] as Case[])('refuses %s: 401 invalid_client with WWW-Authenticate Basic', async (_name, authorization, params) => {
    const error = await refusal(authorization, params);
    expect(error.code).toBe('invalid_client');
    expect(error.status).toBe(401);
    expect(error.headers['WWW-Authenticate']).toMatch(/^Basic/);
  });

  it.each([
    ['both Basic and client_secret, both correct', basic(BASIC_ID, SECRET), { client_secret: SECRET }],
    [
      'both Basic and client_secret for a post client',
      basic(POST_ID, SECRET),
      { client_id: POST_ID, client_secret: SECRET },
    ],
  ] as Case[])('refuses %s as 400 invalid_request', async (_name, authorization, params) => {
    const error = await refusal(authorization, params);
    expect(error.code).toBe('invalid_request');
    expect(error.status).toBe(400);
  });
});
