/** POST /revoke: RFC 7009 token revocation. */

import { ENV } from './contract/environment.js';
import { METRICS } from './contract/metrics.js';
import { authenticateClient } from './domain/client-authentication.js';
import { OAuthError } from './domain/oauth-error.js';
import { singleValuedForm } from './domain/query.js';
import { revokeToken } from './domain/token-service.js';
import { formBodyFunction } from './http/pipeline.js';
import { metrics } from './http/powertools.js';
import { NO_STORE_HEADERS } from './http/responses.js';
import { DynamoDbGrantStore } from './store/dynamodb-grant-store.js';
import { clientDirectoryFromEnv } from './wiring/clients.js';
import { requireEnv } from './wiring/env.js';

const clients = clientDirectoryFromEnv();
const grants = new DynamoDbGrantStore(requireEnv(ENV.grantsTableName));

export const handler = formBodyFunction(
  async (event) => {
    const form = singleValuedForm(event.body);
    if (!form.ok) throw new OAuthError('invalid_request', `${form.repeated} appears more than once.`);
    const client = await authenticateClient(clients, event.headers.authorization, form.params);
    await revokeToken({ grants }, client, form.params.token);
    metrics.addMetric(METRICS.revocations, 'Count', 1);
    // RFC 7009 2.2: 200 whether or not the token was known, so the answer reveals nothing.
    return { statusCode: 200, headers: { ...NO_STORE_HEADERS }, body: '' };
  },
  { refusalMetric: METRICS.revocationRefused, cors: true },
);
