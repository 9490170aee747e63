/** POST /token: authorization_code and refresh_token grants (RFC 6749 4.1.3, 6). */

import { ENV } from './contract/environment.js';
import { METRICS } from './contract/metrics.js';
import { shouldRecordUse } from './domain/client-activity.js';
import { authenticateClient } from './domain/client-authentication.js';
import type { RegisteredClient } from './domain/clients.js';
import { OAuthError } from './domain/oauth-error.js';
import { singleValuedForm } from './domain/query.js';
import { exchangeAuthorizationCode, refreshTokens, type TokenDeps } from './domain/token-service.js';
import { formBodyFunction } from './http/pipeline.js';
import { countWithDimension, logger } from './http/powertools.js';
import { jsonResponse } from './http/responses.js';
import { DynamoDbClientStore } from './store/dynamodb-client-store.js';
import { DynamoDbGrantStore } from './store/dynamodb-grant-store.js';
import { clientDirectoryFromEnv } from './wiring/clients.js';
import { requireEnv } from './wiring/env.js';
import { signerFromEnv } from './wiring/keys.js';
import { serverConfigFromEnv } from './wiring/server-config.js';

const clients = clientDirectoryFromEnv();
const deps: TokenDeps = {
  grants: new DynamoDbGrantStore(requireEnv(ENV.grantsTableName)),
  signer: await signerFromEnv(),
  config: serverConfigFromEnv(),
  now: () => Math.floor(Date.now() / 1000),
};

const activity = new DynamoDbClientStore(requireEnv(ENV.tableName));

/** Idle expiry's record of use: at most one write per client per day; a failure never costs the tokens. */
async function recordUse(client: RegisteredClient): Promise<void> {
  const now = deps.now();
  if (!shouldRecordUse(client, now)) return;
  try {
    await activity.recordUse(client.client_id, now);
  } catch (error) {
    logger.warn('could not record client use', { client_id: client.client_id, error: (error as Error).message });
  }
}

const GRANTS = new Map([
  ['authorization_code', exchangeAuthorizationCode],
  ['refresh_token', refreshTokens],
]);

export const handler = formBodyFunction(
  async (event) => {
    const form = singleValuedForm(event.body);
    if (!form.ok) throw new OAuthError('invalid_request', `${form.repeated} appears more than once.`);
    const { params } = form;
    if (!params.grant_type) throw new OAuthError('invalid_request', 'grant_type is required.');
    const grant = GRANTS.get(params.grant_type);
    if (!grant) throw new OAuthError('unsupported_grant_type', 'Use authorization_code or refresh_token.');
    const client = await authenticateClient(clients, event.headers.authorization, params);
    const tokens = await grant(deps, client, params);
    countWithDimension(METRICS.tokensIssued, 'grant_type', params.grant_type);
    await recordUse(client);
    return jsonResponse(200, tokens);
  },
  { refusalMetric: METRICS.tokenRefused, cors: true },
);
