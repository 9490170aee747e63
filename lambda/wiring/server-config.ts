/** The authorization server's settings, from the function environment. */
import { DEFAULT_LIFETIMES, ENV, type EnvSource, readIssuer } from '../contract/environment.js';
import { DEFAULT_REFRESH_TOKEN_REUSE_GRACE, type ServerConfig } from '../domain/server-config.js';
import { listEnv, secondsEnv } from './env.js';

/** Every reader of ISSUER_URL normalizes it the same way (contract/environment.ts). */
export function issuerFromEnv(env: EnvSource = process.env): string {
  return readIssuer(env);
}

/** REFRESH_TOKEN_REUSE_GRACE_SECONDS: whole seconds, 0 (strict) allowed; unset or empty: the default. */
function readGraceSeconds(env: EnvSource): number {
  const raw = env[ENV.refreshTokenReuseGraceSeconds];
  if (raw === undefined || raw === '') return DEFAULT_REFRESH_TOKEN_REUSE_GRACE;
  if (!/^\d{1,6}$/.test(raw)) {
    throw new Error(`${ENV.refreshTokenReuseGraceSeconds} must be a whole number of seconds (0 = strict), not ${raw}`);
  }
  return Number(raw);
}

export function serverConfigFromEnv(env: EnvSource = process.env): ServerConfig {
  const issuer = issuerFromEnv(env);
  return {
    issuer,
    resources: listEnv(ENV.protectedResources, env),
    scopes: listEnv(ENV.scopes, env),
    // Unset: the deployment's scopes (client-credentials.ts); set, even empty: exactly these.
    ...(env[ENV.clientCredentialsScopes] !== undefined
      ? { clientCredentialsScopes: listEnv(ENV.clientCredentialsScopes, env) }
      : {}),
    accessTokenTtl: secondsEnv(ENV.accessTokenTtlSeconds, DEFAULT_LIFETIMES.accessToken, env),
    refreshTokenIdleTtl: secondsEnv(ENV.refreshTokenIdleTtlSeconds, DEFAULT_LIFETIMES.refreshTokenIdle, env),
    refreshTokenAbsoluteTtl: secondsEnv(
      ENV.refreshTokenAbsoluteTtlSeconds,
      DEFAULT_LIFETIMES.refreshTokenAbsolute,
      env,
    ),
    refreshTokenReuseGrace: readGraceSeconds(env),
  };
}
