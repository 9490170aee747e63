/**
 * The two tables' key schemes, shared by the DynamoDB adapters (lambda/store/, lambda/cimd/),
 * the CDK construct that creates the tables and the IAM condition that confines a function to
 * its items (dynamodb:LeadingKeys on a prefix below), and the local server's table set-up.
 * A leaf module: it imports nothing.
 */

/** The registered-clients table: one item per client, keyed by its client_id. */
export const CLIENTS_TABLE_KEY = 'client_id';
/**
 * The clients table's TTL attribute (epoch seconds): set on a registration until its first token
 * (registration activation), then removed; the same name as the grants table's, for one meaning.
 */
export const CLIENTS_TABLE_TTL_ATTRIBUTE = 'expires_at';

/** The grants table: short-lived state under `<kind>#<id or hash>`, with a TTL attribute for clean-up. */
export const GRANTS_TABLE_KEY = 'pk';
export const GRANTS_TABLE_TTL_ATTRIBUTE = 'expires_at';

/** The `<kind>#` prefix of each kind of item in the grants table. */
export const GRANT_KEY_PREFIXES = {
  pending: 'pending#',
  /** One item per grant (a sign-in's code, refresh tokens and revocation): grants.ts GrantRecord. */
  grant: 'grant#',
  /** Cached Client ID Metadata Documents: the redirect-URI authorizer may touch only these. */
  metadataDocument: 'cimd#',
  /** One item per spent private_key_jwt client assertion `jti` (per client), kept until it expires. */
  assertion: 'jti#',
  /** One item per spent ID-JAG `jti` (per trusted issuer), kept until the assertion expires (id-jag.ts). */
  idJagAssertion: 'idjag#',
  /** Cached JWKS fetched from a client's (or a trusted identity provider's) `jwks_uri`. */
  jwks: 'jwks#',
  /** A person's withdrawal of a client's access, by digest of both (consent-memory.ts ConsentWithdrawals). */
  consentWithdrawal: 'consent#',
  /**
   * A client deleted through RFC 7592, by digest of its id, kept until its last access token has
   * expired: the token authorizer refuses the tokens of its grants (grant-status.ts).
   */
  deletedClient: 'deleted#',
} as const;
