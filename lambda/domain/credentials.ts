/**
 * Identifiers and secrets. Secrets are 256-bit random values, so a single SHA-256 is a
 * sufficient one-way hash (no password-style stretching is needed against brute force), and
 * only that hash is ever stored. Comparisons run in constant time (constant-time.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { constantTimeEqual } from './constant-time.js';

const HASH_PREFIX = 'sha256:';

/** 128 random bits, base64url: unguessable, URL-safe, short enough for logs and URLs. */
export function newClientId(): string {
  return randomBytes(16).toString('base64url');
}

/** 256 random bits, base64url. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return HASH_PREFIX + createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Constant-time check of a presented secret against a stored hash. */
export function secretMatchesHash(presented: string, storedHash: string): boolean {
  return constantTimeEqual(hashSecret(presented), storedHash);
}
