import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from '../../lambda/domain/constant-time.js';
import { hashSecret, newClientId, newSecret, secretMatchesHash } from '../../lambda/domain/credentials.js';

const BASE64URL = /^[A-Za-z0-9_-]+$/;

describe.each([
  // [name, generator, random bytes, base64url length]
  ['newClientId', newClientId, 16, 22],
  ['newSecret', newSecret, 32, 43],
])('%s', (_name, generate, bytes, length) => {
  it(`is ${length} base64url characters carrying ${bytes * 8} bits`, () => {
    const value = generate();
    expect(value).toHaveLength(length);
    expect(value).toMatch(BASE64URL);
    expect(Buffer.from(value, 'base64url')).toHaveLength(bytes);
    expect(Buffer.from(value, 'base64url').toString('base64url')).toBe(value);
  });

  it('is distinct across 1000 calls', () => {
    const values = new Set(Array.from({ length: 1000 }, generate));
    expect(values.size).toBe(1000);
  });

  it('uses the whole alphabet over many calls (not a constant or narrow pattern)', () => {
    const characters = new Set(Array.from({ length: 200 }, generate).join(''));
    expect(characters.size).toBeGreaterThan(60);
  });
});

// Fixed values keep test names stable; the generators are covered above.
const SECRET = 'osXK9ZGj_Jpij1LxubjRAKOxhPufBlV7qauPI7Nbif0';
const OTHER_SECRET = 'Zx3q0m6kLr8VbN1tYw2eHc5uJd7gFa9sPo4iRk0lMnQ';

describe('hashSecret', () => {
  const secret = SECRET;

  it.each([
    [secret, 'a generated secret'],
    ['s3cr3t', 'a short secret'],
    ['', 'the empty string'],
  ])('hash of %j does not contain the secret and is stable (%s)', (value) => {
    const hash = hashSecret(value);
    if (value !== '') expect(hash).not.toContain(value);
    expect(hash).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    expect(hashSecret(value)).toBe(hash);
  });

  it('differs for different secrets', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b);
        expect(hashSecret(a)).not.toBe(hashSecret(b));
      }),
      { numRuns: 200 },
    );
  });
});

describe('secretMatchesHash', () => {
  const secret = SECRET;
  const stored = hashSecret(secret);

  it.each([
    // [presented, stored hash, expected, reason]
    [secret, stored, true, 'the right secret'],
    [OTHER_SECRET, stored, false, 'another secret'],
    [`${secret.slice(0, -1)}A`, stored, false, 'one character changed'],
    [secret.slice(0, -1), stored, false, 'a prefix of the secret'],
    [`${secret}x`, stored, false, 'the secret with a character added'],
    ['', stored, false, 'empty presented secret'],
    [secret.toUpperCase(), stored, false, 'case changed'],
    [stored, stored, false, 'the hash itself presented as the secret'],
    [secret, '', false, 'empty stored hash'],
    [secret, stored.slice(0, -1), false, 'stored hash one character shorter'],
    [secret, `${stored}A`, false, 'stored hash one character longer'],
    [secret, secret, false, 'plaintext stored where a hash belongs'],
    [secret, stored.replace('sha256:', 'sha512:'), false, 'another prefix'],
  ])('presented %j against %j -> %s (%s)', (presented, storedHash, expected) => {
    expect(secretMatchesHash(presented, storedHash)).toBe(expected);
  });

  it('matches exactly its own secret, for any string', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(secretMatchesHash(a, hashSecret(a))).toBe(true);
        expect(secretMatchesHash(b, hashSecret(a))).toBe(a === b);
      }),
      { numRuns: 200 },
    );
  });
});

describe('constantTimeEqual', () => {
  const cases: [string, string, boolean, string][] = [
    ['same', 'same', true, 'equal strings'],
    ['', '', true, 'two empty strings'],
    ['same', 'Same', false, 'one byte differs'],
    ['short', 'shorter', false, 'different lengths (no throw, unlike timingSafeEqual on raw bytes)'],
    ['é', 'e\u0301', false, 'different code points that look alike'],
  ];
  it.each(cases)('%j vs %j is %s: %s', (a, b, expected) => {
    expect(constantTimeEqual(a, b)).toBe(expected);
  });
});
