/** The authorization server's settings, as every function of it reads them. */

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
