/** GET, PUT and DELETE /register/{client_id}: RFC 7592 client configuration. */

import { CLIENT_ID_PATH_PARAMETER } from './contract/endpoints.js';
import { ENV } from './contract/environment.js';
import { METRIC_DIMENSIONS, METRICS } from './contract/metrics.js';
import { deleteClient, type ManagementDeps, readClient, replaceClient } from './domain/client-management.js';
import { clientMetadataValidator } from './domain/client-metadata.js';
import { OAuthError } from './domain/oauth-error.js';
import { audit } from './http/audit.js';
import { jsonBodyFunction } from './http/pipeline.js';
import { countWithDimension } from './http/powertools.js';
import { jsonResponse, NO_STORE_HEADERS } from './http/responses.js';
import { DynamoDbClientDeletions } from './store/dynamodb-client-deletions.js';
import { DynamoDbClientStore } from './store/dynamodb-client-store.js';
import { redirectUriPolicyFromEnv, requireEnv } from './wiring/env.js';
import { serverConfigFromEnv } from './wiring/server-config.js';

/** What the handler needs: the client management use case's ports. */
export type HandlerDeps = ManagementDeps;

export function depsFromEnv(): HandlerDeps {
  const config = serverConfigFromEnv();
  return {
    store: new DynamoDbClientStore(requireEnv(ENV.tableName)),
    validate: clientMetadataValidator(redirectUriPolicyFromEnv()),
    issuer: config.issuer,
    deletions: new DynamoDbClientDeletions(requireEnv(ENV.grantsTableName)),
    accessTokenTtl: config.accessTokenTtl,
    now: () => Math.floor(Date.now() / 1000),
  };
}

export function createHandler(deps: HandlerDeps) {
  return jsonBodyFunction<unknown>(
    async (event) => {
      const clientId = event.pathParameters?.[CLIENT_ID_PATH_PARAMETER];
      if (!clientId) throw new OAuthError('invalid_request', 'The client_id path parameter is missing.');
      const authorization = event.headers.authorization;
      switch (event.httpMethod) {
        case 'GET':
          return jsonResponse(200, await readClient(deps, clientId, authorization));
        case 'PUT': {
          const updated = await replaceClient(deps, clientId, authorization, event.body);
          countWithDimension(METRICS.clientsManaged, METRIC_DIMENSIONS.operation, 'update');
          audit(event, { event: 'client.updated', client_id: clientId });
          return jsonResponse(200, updated);
        }
        case 'DELETE':
          await deleteClient(deps, clientId, authorization);
          countWithDimension(METRICS.clientsManaged, METRIC_DIMENSIONS.operation, 'delete');
          audit(event, { event: 'client.deleted', client_id: clientId });
          return { statusCode: 204, headers: { ...NO_STORE_HEADERS }, body: '' };
        default:
          throw new OAuthError('invalid_request', 'Use GET, PUT or DELETE.', 405, { Allow: 'GET, PUT, DELETE' });
      }
    },
    { refusalMetric: METRICS.managementRefused, cors: true },
  );
}

export const handler = createHandler(depsFromEnv());
