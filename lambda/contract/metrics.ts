/**
 * The gateway's own CloudWatch metrics (Powertools, namespace METRICS_NAMESPACE): emitted by the
 * functions, graphed and alarmed on by lib/monitoring.ts. A leaf module: it imports nothing.
 */
export const METRICS = {
  registrations: 'Registrations',
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
