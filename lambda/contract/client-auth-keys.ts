/**
 * The grants-table key prefixes of private_key_jwt client authentication (RFC 7523): spent
 * assertion ids and cached client JWKS. Kept here, beside contract/tables.ts's GRANT_KEY_PREFIXES,
 * until they join that list; the IAM `LeadingKeys` condition of the token and revocation
 * functions must name both. A leaf module: it imports nothing.
 */
export const CLIENT_AUTH_KEY_PREFIXES = {
  /** One item per spent client assertion `jti` (per client), kept until the assertion expires. */
  assertion: 'jti#',
  /** Cached JWKS fetched from a client's `jwks_uri`. */
  jwks: 'jwks#',
} as const;
