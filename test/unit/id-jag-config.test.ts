/**
 * ID_JAG_TRUSTED_ISSUERS, table-first: the shape INTERFACES.md pins (a JSON array of
 * {"issuer","jwks_uri"} or {"issuer","jwks":{"keys":[...]}}), and every malformed setting refused
 * with a message naming the entry, so a function fails at its cold start rather than later.
 */
import { describe, expect, it } from 'vitest';
import { parseTrustedIssuers } from '../../lambda/domain/id-jag.js';

const KEY = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  kid: 'k1',
};

describe('parseTrustedIssuers', () => {
  it.each([
    [undefined, [], 'unset: none trusted'],
    ['', [], 'empty: none trusted'],
    [
      JSON.stringify([{ issuer: 'https://idp.example.com', jwks_uri: 'https://idp.example.com/jwks' }]),
      [{ issuer: 'https://idp.example.com', jwks_uri: 'https://idp.example.com/jwks' }],
      'a jwks_uri',
    ],
    [
      JSON.stringify([{ issuer: 'https://idp.example.com', jwks: { keys: [KEY] } }]),
      [{ issuer: 'https://idp.example.com', jwks: { keys: [KEY] } }],
      'an inline JWKS',
    ],
  ])('%j -> %j (%s)', (raw, expected, _reason) => {
    expect(parseTrustedIssuers(raw)).toEqual(expected);
  });

  it.each([
    ['{', /must be a JSON array/, 'not JSON'],
    ['{}', /must be a JSON array/, 'an object'],
    ['[1]', /\[0\] must be an object/, 'an entry that is not an object'],
    ['[{"jwks_uri":"https://a.example/jwks"}]', /\[0\]\.issuer must be a URL/, 'no issuer'],
    ['[{"issuer":"https://a.example#x","jwks_uri":"https://a.example/jwks"}]', /without a fragment/, 'a fragment'],
    ['[{"issuer":"https://a.example"}]', /exactly one of jwks_uri and jwks/, 'no keys'],
    [
      JSON.stringify([{ issuer: 'https://a.example', jwks_uri: 'https://a.example/j', jwks: { keys: [KEY] } }]),
      /exactly one of/,
      'both',
    ],
    [
      JSON.stringify([{ issuer: 'https://a.example', jwks: { keys: [{ ...KEY, d: 'secret' }] } }]),
      /must be a public key/,
      'a private key',
    ],
    [
      JSON.stringify([{ issuer: 'https://a.example', jwks: { keys: Array(11).fill(KEY) } }]),
      /at most 10 keys/,
      'too many keys',
    ],
    [
      JSON.stringify([
        { issuer: 'https://a.example', jwks_uri: 'https://a.example/j' },
        { issuer: 'https://a.example', jwks_uri: 'https://a.example/k' },
      ]),
      /listed twice/,
      'a duplicate issuer',
    ],
    [
      JSON.stringify(
        Array.from({ length: 21 }, (_, i) => ({ issuer: `https://i${i}.example`, jwks_uri: 'https://a.example/j' })),
      ),
      /at most 20/,
      'too many issuers',
    ],
  ])('%s is refused (%s: %s)', (raw, message, _reason) => {
    expect(() => parseTrustedIssuers(raw)).toThrow(message);
  });
});
