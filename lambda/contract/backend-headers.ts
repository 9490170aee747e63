/**
 * What a protected MCP backend is told about the caller: the identity the token authorizer
 * verified, as request headers (shapes pinned in the README). The gateway removes any incoming
 * header of these names before it adds its own, so a backend can trust them; both the deployed
 * integration (lib/) and the local gateway read this one list. A leaf module.
 */
export const IDENTITY_HEADERS = {
  /** The access token's `sub`. */
  subject: 'x-mcp-gateway-sub',
  /** The access token's `client_id`. */
  clientId: 'x-mcp-gateway-client-id',
  /** The access token's scopes, space-separated as in its `scope` claim. */
  scope: 'x-mcp-gateway-scope',
} as const;

/** MCP Streamable HTTP headers a backend and its clients exchange, passed both ways unchanged. */
export const MCP_TRANSPORT_HEADERS = ['mcp-session-id', 'mcp-protocol-version', 'last-event-id'] as const;
