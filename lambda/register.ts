/** POST /register: RFC 7591 dynamic client registration. */
import { ENV, redirectUriPolicyFromEnv, requireEnv } from './config.js';
import { clientMetadataValidator } from './domain/client-metadata.js';
import { initialAccessTokenCheck } from './domain/initial-access-token.js';
import { registerClient } from './domain/registration.js';
import { serverConfigFromEnv } from './domain/server-config.js';
import { jsonBodyFunction } from './http/pipeline.js';
import { logger, metrics } from './http/powertools.js';
import { jsonResponse } from './http/responses.js';
import { secretValue } from './secret-values.js';
import { DynamoDbClientStore } from './store/dynamodb-client-store.js';

const store = new DynamoDbClientStore(requireEnv(ENV.tableName));
const validate = clientMetadataValidator(redirectUriPolicyFromEnv());
const { issuer } = serverConfigFromEnv();
const checkInitialAccessToken = initialAccessTokenCheck(
  await secretValue(ENV.initialAccessToken, ENV.initialAccessTokenArn),
);

export const handler = jsonBodyFunction<unknown>(
  async (event) => {
    checkInitialAccessToken(event.headers.authorization);
    const client = await registerClient(event.body, { store, validate, issuer });
    metrics.addMetric('Registrations', 'Count', 1);
    logger.info('client registered', {
      client_id: client.client_id,
      token_endpoint_auth_method: client.token_endpoint_auth_method,
    });
    return jsonResponse(201, client);
  },
  { refusalMetric: 'RegistrationsRefused', cors: true },
);
