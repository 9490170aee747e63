/** GET, PUT and DELETE /register/{client_id}: RFC 7592 client configuration. */
import { ENV, redirectUriPolicyFromEnv, requireEnv } from './config.js';
import { deleteClient, type ManagementDeps, readClient, replaceClient } from './domain/client-management.js';
import { clientMetadataValidator } from './domain/client-metadata.js';
import { OAuthError } from './domain/oauth-error.js';
import { serverConfigFromEnv } from './domain/server-config.js';
import { jsonBodyFunction } from './http/pipeline.js';
import { countWithDimension } from './http/powertools.js';
import { jsonResponse, NO_STORE_HEADERS } from './http/responses.js';
import { DynamoDbClientStore } from './store/dynamodb-client-store.js';

const deps: ManagementDeps = {
  store: new DynamoDbClientStore(requireEnv(ENV.tableName)),
  validate: clientMetadataValidator(redirectUriPolicyFromEnv()),
  issuer: serverConfigFromEnv().issuer,
};

export const handler = jsonBodyFunction<unknown>(
  async (event) => {
    const clientId = event.pathParameters?.client_id;
    if (!clientId) throw new OAuthError('invalid_request', 'The client_id path parameter is missing.');
    const authorization = event.headers.authorization;
    switch (event.httpMethod) {
      case 'GET':
        return jsonResponse(200, await readClient(deps, clientId, authorization));
      case 'PUT': {
        const updated = await replaceClient(deps, clientId, authorization, event.body);
        countWithDimension('ClientsManaged', 'operation', 'update');
        return jsonResponse(200, updated);
      }
      case 'DELETE':
        await deleteClient(deps, clientId, authorization);
        countWithDimension('ClientsManaged', 'operation', 'delete');
        return { statusCode: 204, headers: { ...NO_STORE_HEADERS }, body: '' };
      default:
        throw new OAuthError('invalid_request', 'Use GET, PUT or DELETE.', 405, { Allow: 'GET, PUT, DELETE' });
    }
  },
  { refusalMetric: 'ManagementRefused', cors: true },
);
