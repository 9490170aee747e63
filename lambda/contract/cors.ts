/**
 * CORS for browser-based MCP clients (the MCP Inspector runs in a page): any origin, no
 * credentials (tokens travel in headers, never cookies). Not on /authorize, /consent or
 * /callback, which are top-level navigations. The CDK construct's preflight methods, the
 * gateway responses and the local server all use these values.
 */
export const CORS = {
  allowOrigin: '*',
  allowHeaders: ['Authorization', 'Content-Type', 'MCP-Protocol-Version', 'Mcp-Session-Id', 'Last-Event-ID'],
  exposeHeaders: ['WWW-Authenticate', 'Mcp-Session-Id'],
  maxAgeSeconds: 86400,
} as const;

/** Headers on every actual (non-preflight) response of a CORS endpoint. */
export const CORS_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': CORS.allowOrigin,
  'Access-Control-Expose-Headers': CORS.exposeHeaders.join(','),
};

/** A preflight's headers, as API Gateway's CORS mock integration answers them. */
export function preflightHeaders(methods: readonly string[]): Record<string, string> {
  return {
    'Access-Control-Allow-Headers': CORS.allowHeaders.join(','),
    'Access-Control-Allow-Origin': CORS.allowOrigin,
    'Access-Control-Allow-Methods': methods.join(','),
    'Access-Control-Max-Age': String(CORS.maxAgeSeconds),
    'Access-Control-Expose-Headers': CORS.exposeHeaders.join(','),
  };
}
