/** RFC 7636 PKCE S256, table-driven against the RFC's own example. */
import { describe, expect, it } from 'vitest';
import { pkceVerifierMatches, s256Challenge } from '../../lambda/domain/pkce.js';

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
