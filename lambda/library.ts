/**
 * A small library for your own authorization backend: ask the same questions of the same
 * clients table as the gateway's authorizer does.
 *
 *   import { DynamoDbClientStore, admitAuthorizeRequest } from './library.js';
 *   const store = new DynamoDbClientStore(process.env.TABLE_NAME!);
 *   const admission = await admitAuthorizeRequest(event.multiValueQueryStringParameters,
 *     event.queryStringParameters, (id) => store.getById(id));
 *
 * The IAM permission it needs is dynamodb:GetItem on the table.
 *
 * And for a resource that verifies the gateway's access tokens itself
 * (`mcp-oauth-gateway/verifier`), the same grant check as the token authorizer's, so a revoked
 * grant's tokens are refused within `ttlSeconds` there too:
 *
 *   const grantStatus = createGrantStatusCheck({
 *     reader: new DynamoDbGrantStateReader(process.env.GRANTS_TABLE_NAME!), ttlSeconds: 30 });
 *   const verifier = createAccessTokenVerifier({ issuer, audience, jwks, grantStatus });
 *
 * It needs dynamodb:GetItem on the grants table, with dynamodb:LeadingKeys `grant#*` and `deleted#*`.
 */

export { createDocumentClient } from './aws/dynamodb.js';
export { type Admission, admitAuthorizeRequest, type ClientLookup } from './domain/authorization-admission.js';
export { type ClientMetadata, isConfidential } from './domain/client-metadata.js';
export type { ClientStore, RegisteredClient } from './domain/clients.js';
export { secretMatchesHash } from './domain/credentials.js';
export {
  createGrantStatusCheck,
  DEFAULT_GRANT_STATUS_CACHE_SECONDS,
  type GrantState,
  type GrantStateReader,
  type GrantStatus,
  type GrantStatusCheck,
  type GrantStatusCheckOptions,
  GrantStatusUnavailableError,
} from './domain/grant-status.js';
export { matchRedirectUri, redirectUriProblem } from './domain/redirect-uri-policy.js';
export { DynamoDbClientStore } from './store/dynamodb-client-store.js';
export { DynamoDbGrantStateReader } from './store/dynamodb-grant-status-reader.js';
