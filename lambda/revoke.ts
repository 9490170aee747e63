/**
 * POST /revoke: RFC 7009 token revocation. A refresh token or an access token of the
 * authenticated client ends its whole grant (token-service.ts revokeToken); the resource's token
 * authorizer then refuses the grant's access tokens within its grant-status cache period.
 */

import { ENV } from './contract/environment.js';
import { METRICS } from './contract/metrics.js';
import type { ClientAssertionDeps } from './domain/client-assertion.js';
import { authenticateClient } from './domain/client-authentication.js';
import type { ClientStore } from './domain/clients.js';
import type { GrantStore } from './domain/grants.js';
import { singleParams, singleValuedForm } from './domain/query.js';
import { type AccessTokenGrants, revokeToken } from './domain/token-service.js';
import { audit } from './http/audit.js';
import { formBodyFunction } from './http/pipeline.js';
import { metrics } from './http/powertools.js';
import { NO_STORE_HEADERS } from './http/responses.js';
import { accessTokenGrants } from './keys/access-token-grants.js';
import { DynamoDbGrantStore } from './store/dynamodb-grant-store.js';
import { clientAssertionsFromEnv } from './wiring/client-assertions.js';
import { clientDirectoryFromEnv } from './wiring/clients.js';
import { requireEnv } from './wiring/env.js';
import { publicKeysFromEnv } from './wiring/keys.js';
import { serverConfigFromEnv } from './wiring/server-config.js';

/** What the handler needs: who the clients are, and where their grants are kept. */
export interface HandlerDeps {
  clients: Pick<ClientStore, 'getById'>;
  grants: GrantStore;
  /** private_key_jwt verification (keys, spent jti); without it such clients are refused. */
  assertions?: ClientAssertionDeps;
  /** Reads the grant of a presented access token; without it access tokens end nothing. */
  accessTokens?: AccessTokenGrants;
}

export async function depsFromEnv(): Promise<HandlerDeps> {
  return {
    clients: clientDirectoryFromEnv(),
    grants: new DynamoDbGrantStore(requireEnv(ENV.grantsTableName)),
    assertions: clientAssertionsFromEnv(),
    accessTokens: accessTokenGrants(serverConfigFromEnv(), await publicKeysFromEnv()),
  };
}

export function createHandler({ clients, grants, assertions, accessTokens }: HandlerDeps) {
  return formBodyFunction(
    async (event) => {
      const params = singleParams(singleValuedForm(event.body));
      const client = await authenticateClient(clients, event.headers.authorization, params, assertions);
      const now = () => Math.floor(Date.now() / 1000);
      const ended = await revokeToken({ grants, now, accessTokens }, client, params.token);
      metrics.addMetric(METRICS.revocations, 'Count', 1);
      if (ended) audit(event, { event: 'token.revoked', client_id: client.client_id, grant_id: ended });
      // RFC 7009 2.2: 200 whether or not the token was known, so the answer reveals nothing.
      return { statusCode: 200, headers: { ...NO_STORE_HEADERS }, body: '' };
    },
    { refusalMetric: METRICS.revocationRefused, cors: true },
  );
}

export const handler = createHandler(await depsFromEnv());
