/** POST /revoke: RFC 7009 token revocation. */
import { ENV, requireEnv } from './config.js';
import { authenticateClient } from './domain/client-authentication.js';
import { OAuthError } from './domain/oauth-error.js';
import { singleValuedForm } from './domain/query.js';
import { revokeToken } from './domain/token-service.js';
import { formBodyFunction } from './http/pipeline.js';
import { metrics } from './http/powertools.js';
import { NO_STORE_HEADERS } from './http/responses.js';
import { clientDirectoryFromEnv } from './store/client-directory.js';
import { DynamoDbGrantStore } from './store/dynamodb-grant-store.js';

const clients = clientDirectoryFromEnv();
const grants = new DynamoDbGrantStore(requireEnv(ENV.grantsTableName));

export const handler = formBodyFunction(
  async (event) => {
    const form = singleValuedForm(event.body);
    if (!form.ok) throw new OAuthError('invalid_request', `${form.repeated} appears more than once.`);
    const client = await authenticateClient(clients, event.headers.authorization, form.params);
    await revokeToken({ grants }, client, form.params.token);
    metrics.addMetric('Revocations', 'Count', 1);
    // RFC 7009 2.2: 200 whether or not the token was known, so the answer reveals nothing.
    return { statusCode: 200, headers: { ...NO_STORE_HEADERS }, body: '' };
  },
  { refusalMetric: 'RevocationRefused', cors: true },
);
