/**
 * A small library for your own authorization backend: ask the same questions of the same
 * clients table as the gateway's authorizer does.
 *
 *   import { DynamoDbClientStore, admitAuthorizeRequest } from './client-registry.js';
 *   const store = new DynamoDbClientStore(process.env.TABLE_NAME!);
 *   const admission = await admitAuthorizeRequest(event.multiValueQueryStringParameters,
 *     event.queryStringParameters, (id) => store.getById(id));
 *
 * The IAM permission it needs is dynamodb:GetItem on the table.
 */
export { type Admission, admitAuthorizeRequest, type ClientLookup } from './domain/authorize-admission.js';
export { type ClientMetadata, isConfidential } from './domain/client-metadata.js';
export { matchRedirectUri, redirectUriProblem } from './domain/redirect-uri-policy.js';
export { secretMatchesHash } from './domain/secrets.js';
export type { ClientStore, RegisteredClient } from './store/client-store.js';
export { createDocumentClient, DynamoDbClientStore } from './store/dynamodb-client-store.js';
