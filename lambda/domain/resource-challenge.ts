/**
 * What the protected resource (the MCP server behind the token authorizer) tells clients:
 * the RFC 6750 section 3 `WWW-Authenticate: Bearer` challenge, pointing at its RFC 9728
 * protected resource metadata (as the MCP authorization specification requires), and that
 * metadata document. Pure: the wiring reads the settings (contract/environment.ts).
 */

/** RFC 6750 section 3.1 error codes. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export interface BearerChallenge {
  /** RFC 9728 section 5.1: URL of the protected resource metadata. */
  resourceMetadata: string;
  /** Omitted when the request carried no token (RFC 6750 section 3.1: SHOULD NOT include one then). */
  error?: BearerErrorCode;
  errorDescription?: string;
  /** Space-separated scopes the resource needs; used with insufficient_scope (RFC 6750 section 3). */
  scope?: string;
}

/**
 * RFC 9110 section 5.6.4 quoted-string: backslash-escapes `"` and `\`. Control characters have
 * no representation at all (CR or LF would split the header), so a value holding one is refused.
 */
export function quotedString(value: string): string {
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    throw new Error('A quoted-string cannot hold control characters');
  }
  return `"${value.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}

/**
 * RFC 6750 section 3: error_description and scope values are limited to printable ASCII
 * without `"` and `\` (%x20-21 / %x23-5B / %x5D-7E). Descriptions are ours, but a value out of
 * range is replaced rather than refused: a challenge must always be producible.
 */
function restrictedToken(value: string): string {
  return value.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

/** The value of a `WWW-Authenticate` header: `Bearer resource_metadata="…"[, error="…", …]`. */
export function bearerChallenge(challenge: BearerChallenge): string {
  const params = [`resource_metadata=${quotedString(challenge.resourceMetadata)}`];
  if (challenge.error) {
    params.push(`error=${quotedString(challenge.error)}`);
    if (challenge.errorDescription) {
      params.push(`error_description=${quotedString(restrictedToken(challenge.errorDescription))}`);
    }
  }
  if (challenge.scope) params.push(`scope=${quotedString(restrictedToken(challenge.scope))}`);
  return `Bearer ${params.join(', ')}`;
}

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
  if (input.resource.includes('#')) {
    // RFC 9728 section 2 (and RFC 8707 section 2): the identifier has no fragment.
    throw new Error('A protected resource identifier must not contain a fragment');
  }
  return {
    resource: input.resource,
    authorization_servers: [...input.authorizationServers],
    bearer_methods_supported: ['header'],
    ...(input.scopesSupported && input.scopesSupported.length > 0
      ? { scopes_supported: [...input.scopesSupported] }
      : {}),
    ...(input.resourceName ? { resource_name: input.resourceName } : {}),
  };
}
