/**
 * The paths of the authorization server's endpoints, relative to the issuer. The route table
 * (lib/routes.ts) mounts functions at these paths and the discovery document advertises them.
 * A leaf module: it imports nothing.
 */
export const ENDPOINTS = {
  metadata: '/.well-known/oauth-authorization-server',
  /**
   * OpenID discovery under the issuer: on API Gateway's default endpoint the issuer carries the
   * stage path, and this is the only discovery URL of the MCP specification's order that lies
   * inside the stage, so MCP clients find the metadata here.
   */
  openidConfiguration: '/.well-known/openid-configuration',
  registration: '/register',
  authorization: '/authorize',
  consent: '/consent',
  callback: '/callback',
  /** The person's connected apps: who they gave access, and a button to end it (not OAuth). */
  account: '/account',
  token: '/token',
  revocation: '/revoke',
  jwks: '/jwks',
} as const;

/** RFC 7592: the path parameter of the client configuration endpoint, `<registration>/{client_id}`. */
export const CLIENT_ID_PATH_PARAMETER = 'client_id';
export const CLIENT_CONFIGURATION_PATH = `${ENDPOINTS.registration}/{${CLIENT_ID_PATH_PARAMETER}}`;

/** Paths of the protected resource's API, relative to its base URL. */
export const RESOURCE_ENDPOINTS = {
  mcp: '/mcp',
  /**
   * RFC 9728's location for the resource `<base>/mcp`, relative to the base: inside the stage, and
   * named in every 401's WWW-Authenticate, which is where MCP clients look first.
   */
  protectedResourceMetadata: '/.well-known/oauth-protected-resource/mcp',
} as const;
