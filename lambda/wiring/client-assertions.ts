/**
 * What private_key_jwt verification needs at /token and /revoke, from the function environment:
 * the jti store and the JWKS cache in the grants table, the guarded fetcher, and the accepted
 * audiences (the issuer and its token endpoint). ISSUER_URL is read on first use, so a function
 * without it still loads; its private_key_jwt clients are then refused with 503.
 */
import { DynamoDbJwksCache, jwksSource } from '../cimd/jwks-cache.js';
import { fetchMetadataDocument } from '../cimd/safe-fetch.js';
import { ENDPOINTS } from '../contract/endpoints.js';
import { ENV } from '../contract/environment.js';
import type { ClientAssertionDeps } from '../domain/client-assertion.js';
import { UnavailableError } from '../domain/oauth-error.js';
import { DynamoDbAssertionStore } from '../store/dynamodb-assertion-store.js';
import { requireEnv } from './env.js';
import { issuerFromEnv } from './server-config.js';

export function clientAssertionsFromEnv(): ClientAssertionDeps {
  const tableName = requireEnv(ENV.grantsTableName);
  const now = () => Math.floor(Date.now() / 1000);
  let audiences: readonly string[] | undefined;
  return {
    keys: jwksSource({
      cache: new DynamoDbJwksCache(tableName),
      fetch: fetchMetadataDocument,
      now,
      allowLoopbackHttp: process.env[ENV.cimdAllowLoopbackHttp] === 'true',
    }),
    replay: new DynamoDbAssertionStore(tableName),
    audiences: () => {
      if (!audiences) {
        let issuer: string;
        try {
          issuer = issuerFromEnv();
        } catch {
          throw new UnavailableError('This endpoint is not configured to verify client assertions.');
        }
        audiences = [issuer, `${issuer}${ENDPOINTS.token}`];
      }
      return audiences;
    },
    now,
  };
}
