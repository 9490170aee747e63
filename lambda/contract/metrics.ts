/**
 * The gateway's own CloudWatch metrics (Powertools, namespace METRICS_NAMESPACE): emitted by the
 * functions, graphed and alarmed on by lib/monitoring.ts. A leaf module: it imports nothing.
 */
export const METRICS = {
  /** Every successful POST /register (with or without an activation deadline). */
  registrations: 'Registrations',
  /** A registered client's first token: the write that removed its activation deadline. */
  clientActivations: 'ClientActivations',
  registrationsRefused: 'RegistrationsRefused',
  authorizeDecisions: 'AuthorizeDecisions',
  authorizationRefused: 'AuthorizationRefused',
  tokensIssued: 'TokensIssued',
  tokenRefused: 'TokenRefused',
  tokenDecisions: 'TokenDecisions',
  revocations: 'Revocations',
  revocationRefused: 'RevocationRefused',
  clientsManaged: 'ClientsManaged',
  managementRefused: 'ManagementRefused',
  metadataRefused: 'MetadataRefused',
  jwksRefused: 'JwksRefused',
  resourceMetadataRefused: 'ResourceMetadataRefused',
  mcpRequests: 'McpRequests',
} as const;

/**
 * TokenDecisions values for a token the authorizer could not check (keys unreachable, an
 * internal error): the requests fail closed with 503, and these, not the function's Errors
 * metric (a thrown Unauthorized, the 401, counts there too), are what the alarm watches.
 */
export const TOKEN_CHECK_FAILED = {
  jwksUnavailable: 'deny_jwks_unavailable',
  /** The grants table could not be read and no fresh answer was cached (grant-status.ts). */
  grantStatusUnavailable: 'deny_grant_status_unavailable',
  error: 'deny_error',
} as const;

/** The dimensions those metrics are counted by (besides `service`). */
export const METRIC_DIMENSIONS = {
  /** The OAuth error code of a refusal (every *Refused metric). */
  error: 'error',
  /** allow, or deny_<reason> (the two authorizers). */
  decision: 'decision',
  /** The grant type of an issued token set (TokensIssued). */
  grantType: 'grant_type',
  /** update or delete (ClientsManaged). */
  operation: 'operation',
  /** What became of an MCP request (McpRequests). */
  outcome: 'outcome',
} as const;
