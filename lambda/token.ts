/** POST /token: authorization_code, refresh_token, client_credentials (RFC 6749 4.1.3, 6, 4.4) and jwt-bearer with an ID-JAG (RFC 7523 2.1, SEP-990). */

import { GRANT_TYPES, type GrantType, isGrantType } from './contract/capabilities.js';
import { ENV } from './contract/environment.js';
import { METRIC_DIMENSIONS, METRICS } from './contract/metrics.js';
import { shouldRecordUse } from './domain/client-activity.js';
import type { ClientAssertionDeps } from './domain/client-assertion.js';
import { authenticateClient } from './domain/client-authentication.js';
import { clientCredentialsGrant } from './domain/client-credentials.js';
import type { ClientActivityStore, ClientStore, RegisteredClient } from './domain/clients.js';
import { type IdJagDeps, idJagGrant } from './domain/id-jag.js';
import { OAuthError } from './domain/oauth-error.js';
import { singleParams, singleValuedForm } from './domain/query.js';
import {
  exchangeAuthorizationCode,
  refreshTokens,
  type TokenDeps,
  type TokenResponse,
} from './domain/token-service.js';
import { auditClient, grantAuditor } from './http/audit.js';
import { formBodyFunction } from './http/pipeline.js';
import { countWithDimension, logger, metrics } from './http/powertools.js';
import { jsonResponse } from './http/responses.js';
import { DynamoDbClientStore } from './store/dynamodb-client-store.js';
import { DynamoDbGrantStore } from './store/dynamodb-grant-store.js';
import { clientAssertionsFromEnv } from './wiring/client-assertions.js';
import { clientDirectoryFromEnv } from './wiring/clients.js';
import { requireEnv } from './wiring/env.js';
import { idJagFromEnv } from './wiring/id-jag.js';
import { signerFromEnv } from './wiring/keys.js';
import { serverConfigFromEnv } from './wiring/server-config.js';

/** What the handler needs: the token service's ports, who the clients are, and where their use is recorded. */
export interface HandlerDeps extends TokenDeps {
  clients: Pick<ClientStore, 'getById'>;
  activity: ClientActivityStore;
  /** private_key_jwt verification (keys, spent jti); without it such clients are refused. */
  assertions?: ClientAssertionDeps;
  /** The jwt-bearer grant's trusted identity providers and spent ids; without it, ID-JAGs are refused. */
  idJag?: IdJagDeps;
}

export async function depsFromEnv(): Promise<HandlerDeps> {
  return {
    grants: new DynamoDbGrantStore(requireEnv(ENV.grantsTableName)),
    signer: await signerFromEnv(),
    config: serverConfigFromEnv(),
    now: () => Math.floor(Date.now() / 1000),
    clients: clientDirectoryFromEnv(),
    activity: new DynamoDbClientStore(requireEnv(ENV.tableName)),
    assertions: clientAssertionsFromEnv(),
    idJag: idJagFromEnv(),
  };
}

type Grant = (
  deps: TokenDeps & { idJag?: IdJagDeps },
  client: RegisteredClient,
  params: Readonly<Record<string, string>>,
) => Promise<TokenResponse>;

/** Every grant type of domain/capabilities.ts, and only those. */
const GRANTS: Record<GrantType, Grant> = {
  authorization_code: exchangeAuthorizationCode,
  refresh_token: refreshTokens,
  client_credentials: clientCredentialsGrant,
  'urn:ietf:params:oauth:grant-type:jwt-bearer': idJagGrant,
};

/** Idle expiry's record of use: at most one write per client per day; a failure never costs the tokens. */
async function recordUse({ activity, now }: HandlerDeps, client: RegisteredClient): Promise<void> {
  const at = now();
  if (!shouldRecordUse(client, at)) return;
  try {
    // One write records the use and, the first time, removes the registration's activation deadline.
    if ((await activity.recordUse(client.client_id, at)) === true) {
      metrics.addMetric(METRICS.clientActivations, 'Count', 1);
    }
  } catch (error) {
    logger.warn('could not record client use', { client_id: client.client_id, error: (error as Error).message });
  }
}

export function createHandler(deps: HandlerDeps) {
  return formBodyFunction(
    async (event) => {
      const params = singleParams(singleValuedForm(event.body));
      const grantType = params.grant_type;
      if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required.');
      if (!isGrantType(grantType)) {
        throw new OAuthError('unsupported_grant_type', `Use ${GRANT_TYPES.join(' or ')}.`);
      }
      const client = await authenticateClient(deps.clients, event.headers.authorization, params, deps.assertions);
      auditClient(event, client.client_id);
      const tokens = await GRANTS[grantType]({ ...deps, report: grantAuditor(event, grantType) }, client, params);
      countWithDimension(METRICS.tokensIssued, METRIC_DIMENSIONS.grantType, grantType);
      await recordUse(deps, client);
      return jsonResponse(200, tokens);
    },
    { refusalMetric: METRICS.tokenRefused, refusalAudit: 'token.refused', cors: true },
  );
}

export const handler = createHandler(await depsFromEnv());
