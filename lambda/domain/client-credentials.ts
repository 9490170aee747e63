/**
 * The client credentials grant (RFC 6749 4.4): a confidential client asks for an access token
 * for itself. No person is involved, so there is no consent, no code and no refresh token
 * (section 4.4.3); the token's `sub` is the client id (RFC 9068 2.2) and its `gty` claim says
 * `client_credentials`, so a resource can tell a machine from a person.
 *
 * Each issued token gets a grant record of its own, living exactly as long as the token: the
 * token's `sid` names it, so the resource's grant check (grant-status.ts) treats it as any other
 * token. Revoking the token (/revoke), the client's grants (the admin CLI) or deleting the
 * client ends it within the resource's cache period, and the table's TTL removes the record.
 */
import type { RegisteredClient } from './clients.js';
import type { GrantRecord } from './grants.js';
import { OAuthError } from './oauth-error.js';
import { OFFLINE_ACCESS } from './resource-scopes.js';
import { resolveResource, type ServerConfig } from './server-config.js';
import {
  issueTokens,
  newGrantId,
  reportGrant,
  requireGrantType,
  type TokenDeps,
  type TokenResponse,
} from './token-service.js';

/** The longest scope parameter read, as for a refresh (METADATA_LIMITS.scope). */
const MAX_SCOPE_LENGTH = 1000;

/** Scopes the deployment lets machine clients have: its setting, or every scope it defines; never offline_access. */
export function machineScopes(config: Pick<ServerConfig, 'scopes' | 'clientCredentialsScopes'>): string[] {
  return (config.clientCredentialsScopes ?? config.scopes).filter((scope) => scope !== OFFLINE_ACCESS);
}

/**
 * What a request's scope parameter gets: the asked scopes the deployment allows machine clients,
 * in request order, without duplicates; others are dropped (as at /authorize). Without the
 * parameter, every allowed scope (RFC 6749 3.3: the server's default, documented in the README).
 */
export function clientCredentialsScope(
  config: Pick<ServerConfig, 'scopes' | 'clientCredentialsScopes'>,
  requested: string | undefined,
): string {
  const allowed = machineScopes(config);
  if (requested === undefined || requested === '') return allowed.join(' ');
  const asked = requested.split(' ').filter((scope) => scope !== '');
  return [...new Set(asked.filter((scope) => allowed.includes(scope)))].join(' ');
}

/** RFC 6749 4.4.2, with resource indicators (RFC 8707 2: required when the server serves several). */
export async function clientCredentialsGrant(
  deps: TokenDeps,
  client: RegisteredClient,
  params: Readonly<Record<string, string>>,
): Promise<TokenResponse> {
  // Section 4.4: confidential clients only. A public client could never register the grant, but
  // the refusal names the rule rather than the registration.
  if (client.token_endpoint_auth_method === 'none') {
    throw new OAuthError('unauthorized_client', 'The client_credentials grant is for confidential clients only.');
  }
  requireGrantType(client, 'client_credentials');
  if (params.scope !== undefined && params.scope.length > MAX_SCOPE_LENGTH) {
    throw new OAuthError('invalid_scope', 'scope is too long.');
  }
  const resource = resolveResource(deps.config, params.resource);
  if (!resource) {
    throw new OAuthError(
      'invalid_target',
      params.resource === undefined
        ? 'resource is required: this server issues tokens for several resources (RFC 8707).'
        : 'resource is not a resource this server issues tokens for.',
    );
  }
  const now = deps.now();
  const ends = now + deps.config.accessTokenTtl;
  const grant: GrantRecord = {
    grant_id: newGrantId(),
    grant_type: 'client_credentials',
    client_id: client.client_id,
    ...(client.client_name ? { client_name: client.client_name } : {}),
    subject: client.client_id,
    scope: clientCredentialsScope(deps.config, params.scope),
    resource,
    created_at: now,
    grant_expires_at: ends,
    expires_at: ends,
  };
  // Written before signing: a token whose record could not be stored would be refused at the
  // resource. Should signing fail, the record names no token and expires with the table's TTL.
  await deps.grants.createGrant(grant);
  const tokens = await issueTokens(deps, client, grant, grant.scope, undefined);
  reportGrant(deps, 'issued', grant);
  return tokens;
}
