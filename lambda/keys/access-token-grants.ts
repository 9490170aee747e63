/**
 * This server's own access tokens, read back at POST /revoke: verified as a resource would
 * (ES256 with a published key, typ at+jwt, iss, aud one of the protected resources, exp), for
 * the grant their sid names and the client they were issued to. The keys are read on the first
 * access token presented, not at a cold start: most revocations carry refresh tokens.
 */
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import {
  createAccessTokenVerifier,
  InvalidAccessTokenError,
  JwksUnavailableError,
} from '../domain/access-token-verifier.js';
import { UnavailableError } from '../domain/oauth-error.js';
import type { ServerConfig } from '../domain/server-config.js';
import type { PublicKeySource } from '../domain/signing.js';
import type { AccessTokenGrants } from '../domain/token-service.js';

export function accessTokenGrants(
  config: Pick<ServerConfig, 'issuer' | 'resources'>,
  keys: PublicKeySource,
  /** Seconds since the epoch, for exp; a test's clock. */
  now?: () => number,
): AccessTokenGrants {
  let keySet: Promise<JWTVerifyGetKey> | undefined;
  const jwks: JWTVerifyGetKey = async (header, token) => {
    const pending = (keySet ??= keys.jwks().then((set) => createLocalJWKSet(set)));
    pending.catch(() => {
      if (keySet === pending) keySet = undefined;
    });
    return (await pending)(header, token);
  };
  const verifier = createAccessTokenVerifier({
    issuer: config.issuer,
    audience: config.resources,
    jwks,
    ...(now ? { now } : {}),
  });
  return {
    async grantOf(token: string) {
      try {
        const verified = await verifier.verify(token);
        return { grantId: verified.grantId, clientId: verified.clientId };
      } catch (error) {
        if (error instanceof InvalidAccessTokenError) return undefined;
        if (error instanceof JwksUnavailableError) {
          throw new UnavailableError('The signing keys could not be read; try again shortly.');
        }
        throw error;
      }
    },
  };
}
