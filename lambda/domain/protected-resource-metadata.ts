/**
 * RFC 9728 protected resource metadata of the MCP endpoint: which authorization server issues
 * its tokens, how to present them and which scopes exist. Pure: the wiring reads the settings.
 */
import { OFFLINE_ACCESS } from './resource-scopes.js';

export interface ProtectedResourceMetadataInput {
  resource: string;
  /** Issuer identifiers of the authorization servers that issue tokens for this resource. */
  authorizationServers: readonly string[];
  scopesSupported?: readonly string[];
  resourceName?: string;
}

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: ['header'];
  scopes_supported?: string[];
  resource_name?: string;
}

/** RFC 9728 section 2 metadata. Tokens are accepted only in the Authorization header. */
export function protectedResourceMetadata(input: ProtectedResourceMetadataInput): ProtectedResourceMetadata {
  // offline_access asks the authorization server for a refresh token; no resource needs it.
  const scopes = [...new Set(input.scopesSupported ?? [])].filter((scope) => scope !== OFFLINE_ACCESS);
  if (input.resource.includes('#')) {
    // RFC 9728 section 2 (and RFC 8707 section 2): the identifier has no fragment.
    throw new Error('A protected resource identifier must not contain a fragment');
  }
  return {
    resource: input.resource,
    authorization_servers: [...input.authorizationServers],
    bearer_methods_supported: ['header'],
    ...(scopes.length > 0 ? { scopes_supported: scopes } : {}),
    ...(input.resourceName ? { resource_name: input.resourceName } : {}),
  };
}
