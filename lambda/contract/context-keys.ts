/**
 * Keys of the context the Lambda authorizers hand to API Gateway: read by the integrations
 * behind them (requestContext.authorizer) and by the gateway responses' templates
 * ($context.authorizer.<key>, lib/gateway-responses.ts). A leaf module: it imports nothing.
 */

/** Flat context values the authorizer hands the integration (API Gateway allows only scalars). */
export const ADMISSION_CONTEXT_KEYS = {
  clientId: 'clientId',
  clientName: 'clientName',
  clientUri: 'clientUri',
  redirectUri: 'redirectUri',
  tokenEndpointAuthMethod: 'tokenEndpointAuthMethod',
  /** Digest of the client's metadata: what a remembered approval is bound to. */
  clientVersion: 'clientVersion',
  /** 'true' for a Client ID Metadata Document client, '' otherwise. */
  metadataDocument: 'metadataDocument',
  /** 'true' when every redirect URI the client lists is a loopback one, '' otherwise. */
  loopbackOnly: 'loopbackOnly',
} as const;

/** Context keys a Deny carries; the gateway response template reads the same names. */
export const REFUSAL_CONTEXT_KEYS = { error: 'error', description: 'error_description' } as const;

/** Context keys of a Deny, as the gateway response reads them from $context.authorizer. */
export const CHALLENGE_CONTEXT_KEYS = {
  wwwAuthenticate: 'wwwAuthenticate',
  error: 'error',
  description: 'error_description',
  resourceMetadata: 'resourceMetadata',
} as const;

/** Context keys of an Allow, as the integration reads them from requestContext.authorizer. */
export const TOKEN_CONTEXT_KEYS = { subject: 'sub', clientId: 'clientId', scope: 'scope' } as const;
