/** POST /revoke: RFC 7009 token revocation. */

import { ENV } from './contract/environment.js';
import { METRICS } from './contract/metrics.js';
import type { ClientAssertionDeps } from './domain/client-assertion.js';
import { authenticateClient } from './domain/client-authentication.js';
import type { ClientStore } from './domain/clients.js';
import type { GrantStore } from './domain/grants.js';
import { singleParams, singleValuedForm } from './domain/query.js';
import { revokeToken } from './domain/token-service.js';
import { audit } from './http/audit.js';
import { formBodyFunction } from './http/pipeline.js';
import { metrics } from './http/powertools.js';
import { NO_STORE_HEADERS } from './http/responses.js';
import { DynamoDbGrantStore } from './store/dynamodb-grant-store.js';
import { clientAssertionsFromEnv } from './wiring/client-assertions.js';
import { clientDirectoryFromEnv } from './wiring/clients.js';
import { requireEnv } from './wiring/env.js';

/** What the handler needs: who the clients are, and where their grants are kept. */
export interface HandlerDeps {
  clients: Pick<ClientStore, 'getById'>;
  grants: GrantStore;
  /** private_key_jwt verification (keys, spent jti); without it such clients are refused. */
  assertions?: ClientAssertionDeps;
}

export function depsFromEnv(): HandlerDeps {
  return {
    clients: clientDirectoryFromEnv(),
    grants: new DynamoDbGrantStore(requireEnv(ENV.grantsTableName)),
    assertions: clientAssertionsFromEnv(),
  };
}

export function createHandler({ clients, grants, assertions }: HandlerDeps) {
  return formBodyFunction(
    async (event) => {
      const params = singleParams(singleValuedForm(event.body));
      const client = await authenticateClient(clients, event.headers.authorization, params, assertions);
      const ended = await revokeToken({ grants, now: () => Math.floor(Date.now() / 1000) }, client, params.token);
      metrics.addMetric(METRICS.revocations, 'Count', 1);
      if (ended) audit(event, { event: 'token.revoked', client_id: client.client_id, grant_id: ended });
      // RFC 7009 2.2: 200 whether or not the token was known, so the answer reveals nothing.
      return { statusCode: 200, headers: { ...NO_STORE_HEADERS }, body: '' };
    },
    { refusalMetric: METRICS.revocationRefused, cors: true },
  );
}

export const handler = createHandler(depsFromEnv());
