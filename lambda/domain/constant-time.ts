/**
 * The one comparison of secret-derived strings (secrets against their hashes, PKCE challenges,
 * MACs, form tokens). Both sides are hashed to 32 bytes first and compared with
 * crypto.timingSafeEqual, so the time taken reveals neither where they differ nor their
 * lengths; equal digests mean equal strings (SHA-256 is collision resistant).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function constantTimeEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}
