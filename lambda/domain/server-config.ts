/** The authorization server's settings, as every function of it reads them. */
import { OFFLINE_ACCESS } from './resource-scopes.js';

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
  /**
   * Seconds after a rotation in which the replaced refresh token still refreshes (concurrent
   * processes of one client, a lost answer retried); 0 = strict. Default 60.
   */
  refreshTokenReuseGrace?: number;
  /**
   * Scopes a machine client may be given with the client_credentials grant (no person approves
   * them). Absent: every scope the deployment defines; never offline_access (no refresh token).
   */
  clientCredentialsScopes?: string[];
}

/** Seconds a replaced refresh token still works, when the deployment does not say. */
export const DEFAULT_REFRESH_TOKEN_REUSE_GRACE = 60;

/** RFC 8707: an omitted resource means the single configured one; anything unknown is refused. */
export function resolveResource(
  config: Pick<ServerConfig, 'resources'>,
  requested: string | undefined,
): string | undefined {
  if (requested === undefined) return config.resources.length === 1 ? config.resources[0] : undefined;
  return config.resources.includes(requested) ? requested : undefined;
}

/** Keeps the requested scopes the deployment defines (and offline_access), in request order, without duplicates. */
export function grantableScope(config: Pick<ServerConfig, 'scopes'>, requested: string | undefined): string {
  const wanted = (requested ?? '').split(' ').filter((scope) => scope !== '');
  // offline_access (OpenID Connect 11, MCP SEP-2207) is understood whatever the deployment defines.
  return [...new Set(wanted.filter((scope) => scope === OFFLINE_ACCESS || config.scopes.includes(scope)))].join(' ');
}

/** The authorization server's scopes_supported: the deployment's, and offline_access, which it always understands. */
export function advertisedScopes(config: Pick<ServerConfig, 'scopes'>): string[] {
  return [...new Set([...config.scopes, OFFLINE_ACCESS])];
}
