/**
 * What this authorization server implements, in one place: the metadata advertises these
 * lists (RFC 8414), registration accepts them (RFC 7591), client authentication and the token
 * endpoint dispatch on them, and the dashboard (lib/monitoring.ts) graphs tokens per grant
 * type. A new grant or method starts here. A leaf module: it imports nothing.
 */

/**
 * RFC 6749 2.3 / RFC 7591 2: how a client authenticates at the token and revocation endpoints.
 * `private_key_jwt` is RFC 7523 2.2 (a JWT signed by a key of the client's registered JWKS).
 */
export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'none',
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

/**
 * JWS algorithms a private_key_jwt client assertion may be signed with (RFC 8414
 * token_endpoint_auth_signing_alg_values_supported). Asymmetric only: `none` and the HMAC
 * algorithms are never accepted (an HMAC keyed with a public key is forgeable by anyone).
 * `Ed25519` is RFC 9864's fully-specified name for EdDSA over Ed25519.
 */
export const CLIENT_ASSERTION_SIGNING_ALGS = ['ES256', 'RS256', 'EdDSA', 'Ed25519'] as const;
export type ClientAssertionSigningAlg = (typeof CLIENT_ASSERTION_SIGNING_ALGS)[number];

/**
 * Grant types the token endpoint answers; others a client registers are dropped, not refused.
 * `client_credentials` (RFC 6749 4.4) is for confidential clients only: a machine acting for
 * itself, no person, no redirect URI.
 */
export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  // RFC 7523 2.1 with an Identity Assertion JWT Authorization Grant (ID-JAG, MCP SEP-990).
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** The authorization code flow only (OAuth 2.1), its response in the query. */
export const RESPONSE_TYPES = ['code'] as const;
export const RESPONSE_MODES = ['query'] as const;

/** RFC 7636: S256 only (RFC 9700 section 2.1.1). */
export const CODE_CHALLENGE_METHODS = ['S256'] as const;

/** OpenID Connect `prompt` values /authorize acts on (others, such as select_account, are ignored). */
export const PROMPT_VALUES = ['none', 'login', 'consent'] as const;
export type PromptValue = (typeof PROMPT_VALUES)[number];

export function isGrantType(value: string | undefined): value is GrantType {
  return (GRANT_TYPES as readonly (string | undefined)[]).includes(value);
}
