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
 */

export { createDocumentClient } from './aws/dynamodb.js';
export { type Admission, admitAuthorizeRequest, type ClientLookup } from './domain/authorization-admission.js';
export { type ClientMetadata, isConfidential } from './domain/client-metadata.js';
export type { ClientStore, RegisteredClient } from './domain/clients.js';
export { secretMatchesHash } from './domain/credentials.js';
export { matchRedirectUri, redirectUriProblem } from './domain/redirect-uri-policy.js';
export { DynamoDbClientStore } from './store/dynamodb-client-store.js';
