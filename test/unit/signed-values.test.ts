/** HMAC-signed values and form tokens: tamper-evident, purpose-bound. */
import { describe, expect, it } from 'vitest';
import { formToken, formTokenMatches, signValue, verifySignedValue } from '../../lambda/domain/signed-values.js';

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
