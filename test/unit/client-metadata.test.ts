import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClientMetadata,
  clientMetadataValidator,
  type MetadataResult,
} from '../../lambda/domain/client-metadata.js';
import { validateMetadataDocument } from '../../lambda/domain/metadata-document.js';
import { OAuthError } from '../../lambda/domain/oauth-error.js';
import { redirectUriProblem } from '../../lambda/domain/redirect-uri-policy.js';
import { REGISTRATION_FIXTURES, registrationFixture } from '../support/fixtures.js';

const validate = clientMetadataValidator();
const CB = 'https://app.example.com/cb';

/** A minimal valid body with the given fields added or overridden. */
function body(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { redirect_uris: [CB], ...fields };
}

function expectOk(result: MetadataResult): ClientMetadata {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.description}`);
  return result.metadata;
}

function expectError(result: MetadataResult): OAuthError {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.metadata)}`);
  expect(result.error).toBeInstanceOf(OAuthError);
  expect(result.error.status).toBe(400);
  return result.error;
}

describe('registrations sent by real MCP clients', () => {
  const fixtures = REGISTRATION_FIXTURES.map(([name]) => name);

  it('finds the fixtures', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  it.each(fixtures)('%s validates', (name) => {
    const sent = registrationFixture(name);
    const metadata = expectOk(validate(sent));
    expect(metadata.redirect_uris).toEqual(sent.redirect_uris);
    expect(metadata.grant_types).toContain('authorization_code');
    expect(metadata.response_types).toEqual(['code']);
  });
});

describe('redirect_uris', () => {
  it.each([
    // [fields, description pattern, reason]
    [{ redirect_uris: undefined }, /^redirect_uris .*required/, 'missing'],
    [{ redirect_uris: null }, /^redirect_uris .*required/, 'null counts as missing'],
    [{ redirect_uris: [] }, /^redirect_uris /, 'empty array'],
    [{ redirect_uris: CB }, /^redirect_uris /, 'a string, not an array'],
    [{ redirect_uris: { 0: CB } }, /^redirect_uris /, 'an object, not an array'],
    [{ redirect_uris: Array.from({ length: 21 }, (_, i) => `${CB}${i}`) }, /^redirect_uris .*20/, '21 entries'],
    [{ redirect_uris: [CB, `https://a.example/${'a'.repeat(2000)}`] }, /^redirect_uris\[1\] .*2000/, 'second > 2000'],
    [{ redirect_uris: [CB, 42] }, /^redirect_uris\[1\] .*string/, 'non-string entry'],
    [{ redirect_uris: [null] }, /^redirect_uris\[0\] .*string/, 'null entry'],
    [{ redirect_uris: ['http://example.com/cb'] }, /^redirect_uris\[0\] .*loopback/, 'http off loopback'],
    [{ redirect_uris: [CB, 'javascript:alert(1)'] }, /^redirect_uris\[1\] .*javascript/, 'dangerous scheme'],
    [{ redirect_uris: ['https://a.example/cb#x'] }, /^redirect_uris\[0\] .*fragment/, 'fragment'],
  ])('%j is refused with invalid_redirect_uri matching %s (%s)', (fields, description, _reason) => {
    const error = expectError(validate(body(fields)));
    expect(error.code).toBe('invalid_redirect_uri');
    expect(error.description).toMatch(description);
  });

  it.each([
    [[CB], 'one'],
    [Array.from({ length: 20 }, (_, i) => `${CB}${i}`), 'exactly 20'],
    [['cursor://anysphere.cursor-mcp/oauth/callback', 'http://127.0.0.1/', 'http://[::1]:8080/cb'], 'mixed kinds'],
  ])('%j is accepted as sent (%s)', (uris) => {
    expect(expectOk(validate(body({ redirect_uris: uris }))).redirect_uris).toEqual(uris);
  });

  it('applies the policy the validator was built with', () => {
    const strict = clientMetadataValidator({ allowPrivateUseSchemes: false });
    const error = expectError(strict(body({ redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback'] })));
    expect(error.code).toBe('invalid_redirect_uri');
    expect(error.description).toMatch(/^redirect_uris\[0\] /);
    const allowList = clientMetadataValidator({ allowPrivateUseSchemes: true, allowedHosts: ['claude.ai'] });
    expect(allowList(body({ redirect_uris: ['https://claude.ai/cb'] })).ok).toBe(true);
    expect(allowList(body({ redirect_uris: [CB] })).ok).toBe(false);
  });
});

describe('accepted fields and their stored values', () => {
  it.each([
    // [fields, field, stored value, reason]
    [{}, 'token_endpoint_auth_method', 'client_secret_basic', 'auth method defaults to client_secret_basic'],
    [{ token_endpoint_auth_method: null }, 'token_endpoint_auth_method', 'client_secret_basic', 'null means default'],
    [{ token_endpoint_auth_method: 'none' }, 'token_endpoint_auth_method', 'none', 'public client'],
    [
      { token_endpoint_auth_method: 'client_secret_basic' },
      'token_endpoint_auth_method',
      'client_secret_basic',
      'confidential, header auth',
    ],
    [
      { token_endpoint_auth_method: 'client_secret_post' },
      'token_endpoint_auth_method',
      'client_secret_post',
      'confidential, body auth',
    ],
    [{}, 'grant_types', ['authorization_code'], 'grant_types defaults to authorization_code'],
    [{ grant_types: null }, 'grant_types', ['authorization_code'], 'null means default'],
    [{ grant_types: ['authorization_code'] }, 'grant_types', ['authorization_code'], 'the minimum'],
    [
      { grant_types: ['authorization_code', 'refresh_token'] },
      'grant_types',
      ['authorization_code', 'refresh_token'],
      'with refresh',
    ],
    [
      { grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'] },
      'grant_types',
      ['authorization_code', 'refresh_token'],
      'unsupported device_code (VS Code) is dropped, not refused',
    ],
    [
      { grant_types: ['implicit', 'authorization_code', 'client_credentials'] },
      'grant_types',
      ['authorization_code', 'client_credentials'],
      'implicit dropped; client_credentials kept for a confidential client (the default method)',
    ],
    [
      { token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'client_credentials'] },
      'grant_types',
      ['authorization_code'],
      "a public client's client_credentials dropped (RFC 6749 4.4: confidential clients only)",
    ],
    [{}, 'response_types', ['code'], 'response_types defaults to code'],
    [{ response_types: ['code'] }, 'response_types', ['code'], 'the only one'],
    [{ client_name: 'a'.repeat(200) }, 'client_name', 'a'.repeat(200), '200 characters is the limit'],
    [{ client_uri: 'https://app.example.com' }, 'client_uri', 'https://app.example.com', 'https URL'],
    [{ logo_uri: 'https://app.example.com/logo.png' }, 'logo_uri', 'https://app.example.com/logo.png', 'https URL'],
    [{ tos_uri: 'https://app.example.com/tos' }, 'tos_uri', 'https://app.example.com/tos', 'https URL'],
    [{ policy_uri: 'https://app.example.com/privacy' }, 'policy_uri', 'https://app.example.com/privacy', 'https URL'],
    [{ contacts: ['ops@example.com'] }, 'contacts', ['ops@example.com'], 'array of strings'],
    [{ contacts: [] }, 'contacts', [], 'empty array'],
    [{ scope: 'claudeai' }, 'scope', 'claudeai', 'scope no server defines is kept exactly'],
    [{ scope: '' }, 'scope', '', 'empty scope is kept'],
    [{ scope: 'read  write' }, 'scope', 'read  write', 'not normalized'],
    [{ software_id: 'abc' }, 'software_id', 'abc', 'text'],
    [{ software_version: '0.1.31' }, 'software_version', '0.1.31', 'text'],
    [{ application_type: 'web' }, 'application_type', 'web', 'allowed value'],
    [{ application_type: 'native' }, 'application_type', 'native', 'allowed value'],
  ])('%j stores %s = %j (%s)', (fields, field, stored, _reason) => {
    const metadata = expectOk(validate(body(fields))) as unknown as Record<string, unknown>;
    expect(metadata[field]).toEqual(stored);
  });

  it.each([
    'client_name',
    'client_uri',
    'logo_uri',
    'tos_uri',
    'policy_uri',
    'contacts',
    'scope',
    'software_id',
    'software_version',
    'application_type',
  ])('optional %s sent as null counts as absent', (field) => {
    const metadata = expectOk(validate(body({ [field]: null })));
    expect(Object.keys(metadata)).not.toContain(field);
  });

  it('a minimal body yields exactly the defaulted fields', () => {
    expect(expectOk(validate(body()))).toStrictEqual({
      redirect_uris: [CB],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    });
  });

  it.each([
    [{ foo: 'bar' }, 'foo', 'unknown field'],
    [{ client_secret: 'chosen-by-client' }, 'client_secret', 'a client may not choose its secret'],
    [{ client_id: 'chosen-by-client' }, 'client_id', 'a client may not choose its id'],
    [{ client_secret_hash: 'sha256:x' }, 'client_secret_hash', 'internal field'],
    [{ client_id_issued_at: 1 }, 'client_id_issued_at', 'server-assigned field'],
    [{ jwks: { keys: [] } }, 'jwks', 'unsupported standard field'],
  ])('%j: %s never appears in metadata (%s)', (fields, key, _reason) => {
    const metadata = expectOk(validate(body(fields)));
    expect(Object.keys(metadata)).not.toContain(key);
  });
});

describe('machine clients: client_credentials without the browser flow', () => {
  const KEY = {
    kty: 'EC',
    crv: 'P-256',
    x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
    y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    kid: 'k1',
  };
  it.each([
    // [body, auth method stored, redirect_uris stored, reason]
    [{ grant_types: ['client_credentials'] }, 'client_secret_basic', [], 'no redirect_uris: a machine has none'],
    [
      { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', redirect_uris: [] },
      'client_secret_post',
      [],
      'an empty list is the same',
    ],
    [
      { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [KEY] } },
      'private_key_jwt',
      [],
      'with its key',
    ],
    [
      { grant_types: ['client_credentials'], redirect_uris: [CB] },
      'client_secret_basic',
      [CB],
      'URIs it sends are kept',
    ],
  ])('%j registers (%s, %j: %s)', (sent, method, uris, _reason) => {
    const metadata = expectOk(validate(sent));
    expect(metadata.grant_types).toEqual(['client_credentials']);
    expect(metadata.token_endpoint_auth_method).toBe(method);
    expect(metadata.redirect_uris).toEqual(uris);
  });

  it.each([
    // [body, code, description start, reason]
    [
      { grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' },
      'invalid_client_metadata',
      'grant_types client_credentials requires a confidential client',
      'a public machine client',
    ],
    [
      { grant_types: ['client_credentials'], redirect_uris: ['http://evil.example/cb'] },
      'invalid_redirect_uri',
      'redirect_uris[0]',
      'URIs it sends still obey the policy',
    ],
    [
      { grant_types: ['authorization_code', 'client_credentials'] },
      'invalid_redirect_uri',
      'redirect_uris is required',
      'the browser flow needs them',
    ],
    [
      { grant_types: ['refresh_token'] },
      'invalid_client_metadata',
      'grant_types must include authorization_code or client_credentials',
      'no authorization grant',
    ],
  ])('%j is refused with %s (%s: %s)', (sent, code, description, _reason) => {
    const error = expectError(validate(sent));
    expect(error.code).toBe(code);
    expect(error.description.startsWith(description)).toBe(true);
  });
});

describe('refused fields', () => {
  it.each([
    // [fields, field the description must name, reason]
    [{ token_endpoint_auth_method: 'client_secret_jwt' }, 'token_endpoint_auth_method', 'unsupported auth method'],
    [{ token_endpoint_auth_method: 'private_key_jwt' }, 'token_endpoint_auth_method', 'private_key_jwt without keys'],
    [{ token_endpoint_auth_method: 'NONE' }, 'token_endpoint_auth_method', 'case matters'],
    [{ token_endpoint_auth_method: 1 }, 'token_endpoint_auth_method', 'not a string'],
    [{ grant_types: ['refresh_token'] }, 'grant_types', 'refresh_token alone'],
    [{ grant_types: [] }, 'grant_types', 'empty list'],
    [{ grant_types: ['urn:ietf:params:oauth:grant-type:device_code'] }, 'grant_types', 'only unsupported'],
    [{ grant_types: 'authorization_code' }, 'grant_types', 'a string, not an array'],
    [{ grant_types: ['authorization_code', 7] }, 'grant_types', 'non-string entry'],
    [{ response_types: ['token'] }, 'response_types', 'implicit flow'],
    [{ response_types: ['code', 'token'] }, 'response_types', 'code plus implicit'],
    [{ response_types: [] }, 'response_types', 'empty list'],
    [{ response_types: 'code' }, 'response_types', 'a string, not an array'],
    [{ client_uri: 'http://x' }, 'client_uri', 'http'],
    [{ client_uri: 'javascript:alert(1)' }, 'client_uri', 'javascript'],
    [{ client_uri: 'https://a.example/#x' }, 'client_uri', 'fragment'],
    [{ client_uri: 'not a url' }, 'client_uri', 'not a URL'],
    [{ client_uri: `https://a.example/${'a'.repeat(2000)}` }, 'client_uri', 'too long'],
    [{ logo_uri: 'http://x/logo.png' }, 'logo_uri', 'http'],
    [{ logo_uri: 'data:image/png;base64,AAAA' }, 'logo_uri', 'data URI'],
    [{ tos_uri: 'http://x' }, 'tos_uri', 'http'],
    [{ policy_uri: 'javascript:alert(1)' }, 'policy_uri', 'javascript'],
    [{ client_name: 'a'.repeat(201) }, 'client_name', 'longer than 200'],
    [{ client_name: 42 }, 'client_name', 'not a string'],
    [{ software_id: 'a'.repeat(201) }, 'software_id', 'longer than 200'],
    [{ software_version: 'a'.repeat(201) }, 'software_version', 'longer than 200'],
    [{ scope: 'a'.repeat(1001) }, 'scope', 'longer than 1000'],
    [{ scope: ['read'] }, 'scope', 'not a string'],
    [{ contacts: 'ops@example.com' }, 'contacts', 'a string, not an array'],
    [{ contacts: [42] }, 'contacts', 'non-string entry'],
    [{ contacts: ['a'.repeat(321)] }, 'contacts', 'entry too long'],
    [{ contacts: Array.from({ length: 11 }, (_, i) => `c${i}@example.com`) }, 'contacts', 'more than 10'],
    [{ application_type: 'desktop' }, 'application_type', 'neither web nor native'],
  ])('%j is refused with invalid_client_metadata naming %s (%s)', (fields, field, _reason) => {
    const error = expectError(validate(body(fields)));
    expect(error.code).toBe('invalid_client_metadata');
    expect(error.description.startsWith(field)).toBe(true);
    expect(error.description.length).toBeGreaterThan(field.length + 1);
  });

  it.each([
    [null, 'null'],
    [[], 'array'],
    [[{ redirect_uris: [CB] }], 'array holding a valid body'],
    ['x', 'string'],
    [42, 'number'],
    [true, 'boolean'],
    [undefined, 'undefined'],
  ])('body %j is refused with invalid_client_metadata (%s)', (input, _reason) => {
    const error = expectError(validate(input));
    expect(error.code).toBe('invalid_client_metadata');
    expect(error.description).not.toBe('');
  });
});

describe('properties', () => {
  const KNOWN_KEYS = [
    'redirect_uris',
    'token_endpoint_auth_method',
    'grant_types',
    'response_types',
    'client_name',
    'client_uri',
    'logo_uri',
    'tos_uri',
    'policy_uri',
    'contacts',
    'scope',
    'software_id',
    'software_version',
    'application_type',
  ] as const;

  /** For each known key, a value that passes, mixed with arbitrary JSON (including null) that usually does not. */
  const https = fc.webUrl({ validSchemes: ['https'] });
  const text = fc.string({ maxLength: 40 });
  const valid: Record<(typeof KNOWN_KEYS)[number], fc.Arbitrary<unknown>> = {
    redirect_uris: fc.array(
      fc.oneof(https, fc.constantFrom(CB, 'http://127.0.0.1/', 'http://[::1]:8080/cb', 'cursor://x/cb')),
      { minLength: 1, maxLength: 5 },
    ),
    token_endpoint_auth_method: fc.constantFrom('none', 'client_secret_basic', 'client_secret_post'),
    grant_types: fc.array(
      fc.constantFrom('authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'),
      { maxLength: 4 },
    ),
    response_types: fc.constant(['code']),
    client_name: text,
    client_uri: https,
    logo_uri: https,
    tos_uri: https,
    policy_uri: https,
    contacts: fc.array(fc.emailAddress(), { maxLength: 3 }),
    scope: text,
    software_id: text,
    software_version: text,
    application_type: fc.constantFrom('web', 'native'),
  };
  const anyValue = fc.oneof(fc.jsonValue(), fc.array(fc.oneof(fc.string(), fc.webUrl()), { maxLength: 22 }));
  const record = fc.record(
    Object.fromEntries(
      KNOWN_KEYS.map((key) => [
        key,
        fc.oneof({ arbitrary: valid[key], weight: 19 }, { arbitrary: anyValue, weight: 1 }),
      ]),
    ),
    { requiredKeys: [] },
  );

  function checkResult(result: MetadataResult): void {
    if (result.ok) {
      const uris = result.metadata.redirect_uris;
      expect(Array.isArray(uris)).toBe(true);
      expect(uris.length).toBeGreaterThan(0);
      for (const uri of uris) {
        expect(typeof uri).toBe('string');
        expect(redirectUriProblem(uri)).toBeUndefined();
      }
      expect(result.metadata.grant_types).toContain('authorization_code');
      expect(result.metadata.response_types).toEqual(['code']);
    } else {
      expect(result.error).toBeInstanceOf(OAuthError);
      expect(['invalid_redirect_uri', 'invalid_client_metadata']).toContain(result.error.code);
      expect(result.error.description.length).toBeGreaterThan(0);
    }
  }

  it('never throws on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => checkResult(validate(input))),
      { numRuns: 500 },
    );
  });

  it('never throws on objects with arbitrary values for the known keys', () => {
    const seen = { ok: 0, error: 0 };
    fc.assert(
      fc.property(record, fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }), (known, extra) => {
        const input = { ...extra, ...known };
        const result = validate(input);
        checkResult(result);
        seen[result.ok ? 'ok' : 'error'] += 1;
        if (result.ok) {
          for (const key of Object.keys(result.metadata)) expect(KNOWN_KEYS).toContain(key);
        }
      }),
      { numRuns: 500 },
    );
    // The generator must reach both outcomes, or the property checks only one of them.
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.error).toBeGreaterThan(0);
  });
});

describe('text a person reads: no control or invisible formatting characters', () => {
  /** Every field a person reads, with a valid value that has `inserted` put in its middle. */
  const FIELDS: ReadonlyArray<readonly [string, (inserted: string) => unknown, string]> = [
    ['client_name', (c) => `Cla${c}ude`, 'client_name'],
    ['client_uri', (c) => `https://app.example.com/a${c}b`, 'client_uri'],
    ['logo_uri', (c) => `https://app.example.com/logo${c}.png`, 'logo_uri'],
    ['tos_uri', (c) => `https://app.example.com/tos${c}`, 'tos_uri'],
    ['policy_uri', (c) => `https://app.example.com/${c}privacy`, 'policy_uri'],
    ['software_id', (c) => `id-${c}1`, 'software_id'],
    ['software_version', (c) => `1.${c}2`, 'software_version'],
    ['contacts', (c) => ['ops@example.com', `sec${c}@example.com`], 'contacts[1]'],
    ['scope', (c) => `read ${c}write`, 'scope'],
  ];

  /** [character, reason]: each one must be refused in every field above. */
  const REFUSED: ReadonlyArray<readonly [string, string]> = [
    ['\u0000', 'NUL (Cc)'],
    ['\u0007', 'BEL (Cc)'],
    ['\t', 'tab (Cc)'],
    ['\n', 'line feed (Cc): splits a log line'],
    ['\r', 'carriage return (Cc)'],
    ['\u001b', 'ESC (Cc): terminal escape sequences'],
    ['\u001f', 'last C0 control'],
    ['\u007f', 'DEL (Cc)'],
    ['\u0085', 'NEL, a C1 control'],
    ['\u009f', 'last C1 control'],
    ['\u061c', 'ARABIC LETTER MARK (bidi)'],
    ['\u200e', 'LEFT-TO-RIGHT MARK (bidi)'],
    ['\u200f', 'RIGHT-TO-LEFT MARK (bidi)'],
    ['\u202a', 'LEFT-TO-RIGHT EMBEDDING (bidi)'],
    ['\u202b', 'RIGHT-TO-LEFT EMBEDDING (bidi)'],
    ['\u202c', 'POP DIRECTIONAL FORMATTING (bidi)'],
    ['\u202d', 'LEFT-TO-RIGHT OVERRIDE (bidi)'],
    ['\u202e', 'RIGHT-TO-LEFT OVERRIDE (bidi): reverses what follows'],
    ['\u2066', 'LEFT-TO-RIGHT ISOLATE (bidi)'],
    ['\u2067', 'RIGHT-TO-LEFT ISOLATE (bidi)'],
    ['\u2068', 'FIRST STRONG ISOLATE (bidi)'],
    ['\u2069', 'POP DIRECTIONAL ISOLATE (bidi)'],
    ['\u200b', 'ZERO WIDTH SPACE: hides in a name'],
    ['\u2060', 'WORD JOINER: hides in a name'],
    ['\u2062', 'INVISIBLE TIMES'],
    ['\ufeff', 'ZERO WIDTH NO-BREAK SPACE (BOM)'],
    ['\u00ad', 'SOFT HYPHEN: invisible mid-word'],
    ['\u{e0041}', 'TAG LATIN CAPITAL LETTER A: invisible text'],
    ['\u2028', 'LINE SEPARATOR (Zl)'],
    ['\u2029', 'PARAGRAPH SEPARATOR (Zp)'],
    ['\ud800', 'a lone surrogate: not text'],
  ];

  const codePoint = (character: string) =>
    `U+${(character.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
  const cases = FIELDS.flatMap(([field, value, named]) =>
    REFUSED.map(([character, reason]) => [field, codePoint(character), reason, value(character), named] as const),
  );

  it.each(cases)('%s containing %s (%s) is refused', (field, point, _reason, value, named) => {
    const error = expectError(validate(body({ [field]: value })));
    expect(error.code).toBe('invalid_client_metadata');
    expect(error.description).toBe(
      `${named} must not contain control or bidirectional-formatting characters, nor other invisible formatting characters (found ${point})`,
    );
  });

  it.each([
    // [field, value, reason]
    ['client_name', 'Claude', 'plain ASCII'],
    ['client_name', 'Café Ünïcödé', 'accented Latin'],
    ['client_name', 'Cafe\u0301', 'a combining accent (Mn), not a format character'],
    ['client_name', '日本語クライアント', 'CJK'],
    ['client_name', 'עברית', 'right-to-left script without controls (Hebrew)'],
    ['client_name', 'العربية', 'right-to-left script without controls (Arabic)'],
    ['client_name', 'می\u200cخواهم', 'ZERO WIDTH NON-JOINER, needed to spell Persian'],
    ['client_name', 'क्\u200dष', 'ZERO WIDTH JOINER, needed in Indic scripts'],
    ['client_name', '👩\u200d💻 Dev', 'ZERO WIDTH JOINER in an emoji sequence'],
    ['client_name', '❤\ufe0f', 'a variation selector (Mn) in an emoji'],
    ['client_name', 'a\u00a0b', 'NO-BREAK SPACE is a visible space (Zs)'],
    ['client_name', '\u{1f600}', 'an astral code point (a surrogate pair, not a lone surrogate)'],
    ['client_uri', 'https://xn--caf-dma.example/', 'an IDN host in punycode'],
    ['contacts', ['ops@example.com', 'mailto:sec@example.com'], 'ordinary contacts'],
    ['scope', 'read write', 'ordinary scope'],
  ] as [string, unknown, string][])('%s %j is accepted (%s)', (field, value) => {
    expect((expectOk(validate(body({ [field]: value }))) as unknown as Record<string, unknown>)[field]).toEqual(value);
  });

  it('redirect URIs were already held to URI characters: a bidi override there is invalid_redirect_uri', () => {
    const error = expectError(validate(body({ redirect_uris: ['https://app.example.com/\u202ecb'] })));
    expect(error.code).toBe('invalid_redirect_uri');
    expect(error.description).toMatch(/^redirect_uris\[0\] contains characters not allowed in a URI/);
  });
});

describe('application_type and the redirect URIs it allows', () => {
  const LOOPBACK = ['http://127.0.0.1/callback', 'http://[::1]:8080/cb', 'http://localhost:6274/oauth/callback'];
  const PRIVATE_USE = ['cursor://anysphere.cursor-mcp/oauth/callback', 'com.example.app:/cb'];
  const HTTPS = ['https://app.example.com/cb', 'https://vscode.dev/redirect'];

  it.each([
    // [application_type, redirect_uris, reason]
    ['web', HTTPS, 'a web client with https URIs on its own hosts'],
    ['native', HTTPS, 'a native client with claimed https URIs (RFC 8252 section 7.2)'],
    ['native', LOOPBACK, 'a native client with loopback URIs (RFC 8252 section 7.3)'],
    ['native', PRIVATE_USE, 'a native client with private-use schemes (RFC 8252 section 7.1)'],
    ['native', [...HTTPS, ...LOOPBACK, ...PRIVATE_USE], 'a native client with all three kinds (VS Code, Cursor)'],
    [undefined, [...HTTPS, ...LOOPBACK, ...PRIVATE_USE], 'omitted: the rules of before, for older clients'],
    [null, LOOPBACK, 'null counts as omitted'],
  ] as [string | null | undefined, string[], string][])('%j may register %j (%s)', (applicationType, uris) => {
    const metadata = expectOk(validate(body({ application_type: applicationType, redirect_uris: uris })));
    expect(metadata.redirect_uris).toEqual(uris);
    expect(metadata.application_type).toBe(applicationType ?? undefined);
  });

  it.each([
    // [redirect_uris, index of the refused URI, rule, reason]
    [['http://127.0.0.1/callback'], 0, /is a loopback URI/, 'IPv4 loopback'],
    [['http://[::1]:8080/cb'], 0, /is a loopback URI/, 'IPv6 loopback'],
    [['http://localhost:6274/oauth/callback'], 0, /is a loopback URI/, 'localhost'],
    [['https://app.example.com/cb', 'http://127.0.0.1:33418/'], 1, /is a loopback URI/, 'one loopback among https'],
    [['https://localhost:8443/cb'], 0, /is a loopback URI/, 'https on localhost still reaches the own machine'],
    [['https://127.0.0.1/cb'], 0, /is a loopback URI/, 'https on 127.0.0.1'],
    [['https://127.1/cb'], 0, /is a loopback URI/, '127.1 is 127.0.0.1 to a browser'],
    [['https://127.8.9.10/cb'], 0, /is a loopback URI/, 'all of 127.0.0.0/8'],
    [['https://[0:0::1]/cb'], 0, /is a loopback URI/, '[::1] written longer'],
    [['https://LOCALHOST./cb'], 0, /is a loopback URI/, 'localhost in capitals, with a root dot'],
    [['https://app.localhost/cb'], 0, /is a loopback URI/, 'a subdomain of localhost (RFC 6761)'],
    [['https://0.0.0.0/cb'], 0, /is a loopback URI/, '0.0.0.0 reaches the own machine'],
    [['cursor://anysphere.cursor-mcp/oauth/callback'], 0, /private-use scheme cursor:/, 'private-use with authority'],
    [
      ['https://app.example.com/cb', 'com.example.app:/cb'],
      1,
      /private-use scheme com\.example\.app:/,
      'reverse-domain',
    ],
  ])('a web client may not register %j: redirect_uris[%i] is named with the rule %s (%s)', (uris, index, rule) => {
    const error = expectError(validate(body({ application_type: 'web', redirect_uris: uris })));
    expect(error.code).toBe('invalid_redirect_uri');
    expect(error.description.startsWith(`redirect_uris[${index}] ${uris[index]} `)).toBe(true);
    expect(error.description).toMatch(rule);
    expect(error.description).toMatch(/web client \(application_type web\) may not register/);
  });

  it.each([
    ['https://localhost.example.com/cb', 'a host that merely starts with localhost'],
    ['https://127.attacker.example/cb', 'a host that merely starts with 127'],
    ['https://[::2]/cb', 'an IPv6 address other than ::1'],
  ])('a web client may register %s (%s)', (uri) => {
    expect(validate(body({ application_type: 'web', redirect_uris: [uri] })).ok).toBe(true);
  });

  it("keeps the deployment's private-use switch for native clients", () => {
    const strict = clientMetadataValidator({ allowPrivateUseSchemes: false });
    const error = expectError(strict(body({ application_type: 'native', redirect_uris: PRIVATE_USE })));
    expect(error.code).toBe('invalid_redirect_uri');
    expect(error.description).toMatch(/^redirect_uris\[0\] .*private-use schemes are disabled/);
    expect(strict(body({ application_type: 'native', redirect_uris: LOOPBACK })).ok).toBe(true);
  });

  it("keeps the deployment's host allow-list for native clients", () => {
    const allowList = clientMetadataValidator({ allowPrivateUseSchemes: true, allowedHosts: ['127.0.0.1'] });
    expect(allowList(body({ application_type: 'native', redirect_uris: ['http://127.0.0.1/cb'] })).ok).toBe(true);
    expect(allowList(body({ application_type: 'native', redirect_uris: ['https://app.example.com/cb'] })).ok).toBe(
      false,
    );
  });

  it('every real client fixture registers as sent, and also as a native client', () => {
    for (const [name] of REGISTRATION_FIXTURES) {
      const sent = registrationFixture(name);
      expect(validate(sent).ok, name).toBe(true);
      expect(validate({ ...sent, application_type: 'native' }).ok, name).toBe(true);
    }
  });
});

describe('a Client ID Metadata Document goes through the same rules', () => {
  const URL_ID = 'https://app.example.com/client.json';
  const document = (fields: Record<string, unknown>) => ({ client_id: URL_ID, redirect_uris: [CB], ...fields });

  function refusal(fields: Record<string, unknown>): OAuthError {
    try {
      validateMetadataDocument(URL_ID, document(fields), validate);
    } catch (error) {
      expect(error).toBeInstanceOf(OAuthError);
      return error as OAuthError;
    }
    throw new Error('expected the document to be refused');
  }

  it.each([
    ['native', ['http://127.0.0.1/callback', CB]],
    ['web', [CB]],
  ])('keeps application_type %s in the client it yields', (type, uris) => {
    const client = validateMetadataDocument(
      URL_ID,
      document({ application_type: type, redirect_uris: uris }),
      validate,
    );
    expect(client.application_type).toBe(type);
    expect(client.redirect_uris).toEqual(uris);
  });

  it('refuses a bidi override in client_name with invalid_client naming the field', () => {
    const error = refusal({ client_name: 'Good\u202eApp' });
    expect(error.code).toBe('invalid_client');
    expect(error.description).toMatch(
      /^the metadata document is invalid: client_name must not contain control or bidi/,
    );
  });

  it('refuses a web document with a loopback redirect URI with invalid_client naming the URI', () => {
    const error = refusal({ application_type: 'web', redirect_uris: [CB, 'http://127.0.0.1/cb'] });
    expect(error.code).toBe('invalid_client');
    expect(error.description).toMatch(
      /^the metadata document is invalid: redirect_uris\[1\] http:\/\/127\.0\.0\.1\/cb is a loopback/,
    );
  });
});
