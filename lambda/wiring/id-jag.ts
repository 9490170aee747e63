/**
 * What the jwt-bearer (ID-JAG) grant needs at /token, from the function environment: the trusted
 * identity providers (ID_JAG_TRUSTED_ISSUERS, read at load so a malformed list fails the cold
 * start), their jwks_uri keys fetched through the same SSRF guard and cache as client JWKS, and
 * the spent-jti store under its own grants-table prefix (`idjag#`).
 */
import { DynamoDbJwksCache, jwksSource } from '../cimd/jwks-cache.js';
import { fetchMetadataDocument } from '../cimd/safe-fetch.js';
import { ENV } from '../contract/environment.js';
import { GRANT_KEY_PREFIXES } from '../contract/tables.js';
import { type IdJagDeps, parseTrustedIssuers } from '../domain/id-jag.js';
import { DynamoDbAssertionStore } from '../store/dynamodb-assertion-store.js';
import { requireEnv } from './env.js';

export function idJagFromEnv(env: NodeJS.ProcessEnv = process.env): IdJagDeps {
  const tableName = requireEnv(ENV.grantsTableName);
  return {
    issuers: parseTrustedIssuers(env[ENV.idJagTrustedIssuers], ENV.idJagTrustedIssuers),
    keys: jwksSource({
      cache: new DynamoDbJwksCache(tableName),
      fetch: fetchMetadataDocument,
      now: () => Math.floor(Date.now() / 1000),
      allowLoopbackHttp: env[ENV.cimdAllowLoopbackHttp] === 'true',
    }),
    replay: new DynamoDbAssertionStore(tableName, undefined, GRANT_KEY_PREFIXES.idJagAssertion),
  };
}
