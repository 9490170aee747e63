/** The authorization server's settings, as every function of it reads them. */
import { DEFAULT_LIFETIMES, ENV, listEnv, secondsEnv } from '../config.js';

export interface ServerConfig {
  /** Exactly the URL clients use, no trailing slash (RFC 8414 section 2). */
  issuer: string;
  /** RFC 8707 resource identifiers tokens may be issued for, compared byte for byte. */
  resources: string[];
  /** Scopes the deployment defines; requests for others are dropped, never refused. */
  scopes: string[];
  accessTokenTtl: number;
  refreshTokenIdleTtl: number;
  refreshTokenAbsoluteTtl: number;
}

/** RFC 8414: the issuer has no trailing slash; every reader of ISSUER_URL normalizes it here. */
function normalizeIssuer(url: string): string {
  return url.replace(/\/+$/, '');
}

export function issuerFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const issuer = env[ENV.issuerUrl];
  if (!issuer) throw new Error(`Missing required environment variable ${ENV.issuerUrl}`);
  return normalizeIssuer(issuer);
}

export function serverConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const issuer = issuerFromEnv(env);
  return {
    issuer,
    resources: listEnv(ENV.protectedResources, env),
    scopes: listEnv(ENV.scopes, env),
    accessTokenTtl: secondsEnv(ENV.accessTokenTtlSeconds, DEFAULT_LIFETIMES.accessToken, env),
    refreshTokenIdleTtl: secondsEnv(ENV.refreshTokenIdleTtlSeconds, DEFAULT_LIFETIMES.refreshTokenIdle, env),
    refreshTokenAbsoluteTtl: secondsEnv(
      ENV.refreshTokenAbsoluteTtlSeconds,
      DEFAULT_LIFETIMES.refreshTokenAbsolute,
      env,
    ),
  };
}

/** RFC 8707: an omitted resource means the single configured one; anything unknown is refused. */
export function resolveResource(
  config: Pick<ServerConfig, 'resources'>,
  requested: string | undefined,
): string | undefined {
  if (requested === undefined) return config.resources.length === 1 ? config.resources[0] : undefined;
  return config.resources.includes(requested) ? requested : undefined;
}

/** Keeps the requested scopes the deployment defines, in request order, without duplicates. */
export function grantableScope(config: Pick<ServerConfig, 'scopes'>, requested: string | undefined): string {
  const wanted = (requested ?? '').split(' ').filter((scope) => scope !== '');
  return [...new Set(wanted.filter((scope) => config.scopes.includes(scope)))].join(' ');
}
