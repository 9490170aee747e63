/** POST /register: RFC 7591 dynamic client registration. */

import { ENV, readRegistrationActivationHours } from './contract/environment.js';
import { METRICS } from './contract/metrics.js';
import { clientMetadataValidator } from './domain/client-metadata.js';
import { initialAccessTokenCheck } from './domain/initial-access-token.js';
import { type RegistrationDeps, registerClient } from './domain/registration.js';
import { audit } from './http/audit.js';
import { jsonBodyFunction } from './http/pipeline.js';
import { logger, metrics } from './http/powertools.js';
import { jsonResponse } from './http/responses.js';
import { DynamoDbClientStore } from './store/dynamodb-client-store.js';
import { redirectUriPolicyFromEnv, requireEnv } from './wiring/env.js';
import { onFirstUse, secretReader } from './wiring/secrets.js';
import { serverConfigFromEnv } from './wiring/server-config.js';

/** What the handler needs: the registration use case's ports, and the initial access token check. */
export interface HandlerDeps extends RegistrationDeps {
  /** Throws OAuthError invalid_token when registration needs a token and the Authorization header lacks it. */
  checkInitialAccessToken: (authorization: string | undefined) => void | Promise<void>;
}

/**
 * The deployed dependencies, from the function's environment. A required initial access token
 * is read on the first registration and kept; a failed read answers 503 and is retried. A new
 * client gets REGISTRATION_ACTIVATION_HOURS (default 24) to obtain its first token.
 */
export async function depsFromEnv(): Promise<HandlerDeps> {
  const readToken = secretReader(ENV.initialAccessToken, ENV.initialAccessTokenArn);
  const check = onFirstUse(async () => initialAccessTokenCheck(await readToken()));
  return {
    store: new DynamoDbClientStore(requireEnv(ENV.tableName)),
    validate: clientMetadataValidator(redirectUriPolicyFromEnv()),
    issuer: serverConfigFromEnv().issuer,
    activationHours: readRegistrationActivationHours(process.env),
    checkInitialAccessToken: async (authorization) => (await check())(authorization),
  };
}

export function createHandler({ checkInitialAccessToken, ...registration }: HandlerDeps) {
  return jsonBodyFunction<unknown>(
    async (event) => {
      await checkInitialAccessToken(event.headers.authorization);
      const client = await registerClient(event.body, registration);
      metrics.addMetric(METRICS.registrations, 'Count', 1);
      audit(event, { event: 'client.registered', client_id: client.client_id });
      logger.info('client registered', {
        client_id: client.client_id,
        token_endpoint_auth_method: client.token_endpoint_auth_method,
      });
      return jsonResponse(201, client);
    },
    { refusalMetric: METRICS.registrationsRefused, cors: true },
  );
}

export const handler = createHandler(await depsFromEnv());
