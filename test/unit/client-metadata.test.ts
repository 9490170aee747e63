import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClientMetadata,
  clientMetadataValidator,
  type MetadataResult,
} from '../../lambda/domain/client-metadata.js';
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
      ['authorization_code'],
      'other unsupported grants dropped',
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

describe('refused fields', () => {
  it.each([
    // [fields, field the description must name, reason]
    [{ token_endpoint_auth_method: 'private_key_jwt' }, 'token_endpoint_auth_method', 'unsupported auth method'],
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
