/** RFC 7636 PKCE with S256, the only method this server accepts (OAuth 2.1, RFC 9700). */
import { createHash } from 'node:crypto';
import { constantTimeEqual } from './constant-time.js';

// RFC 7636 4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function pkceVerifierMatches(verifier: string | undefined, challenge: string): boolean {
  if (!verifier || !VERIFIER.test(verifier)) return false;
  return constantTimeEqual(s256Challenge(verifier), challenge);
}
