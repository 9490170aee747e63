/**
 * GET the protected resource metadata (RFC 9728) of the MCP endpoint: which authorization
 * server issues its tokens, how to present them and which scopes exist. Every challenge of
 * the resource points here (resource_metadata). Public and cacheable, readable cross-origin
 * by browser-based MCP clients.
 */
import { listEnv, requireEnv } from './config.js';
import { protectedResourceMetadata, RESOURCE_ENV } from './domain/resource-challenge.js';
import { issuerFromEnv } from './domain/server-config.js';
import { CORS_RESPONSE_HEADERS } from './http/cors.js';
import { httpFunction } from './http/pipeline.js';

const body = JSON.stringify(
  protectedResourceMetadata({
    resource: requireEnv(RESOURCE_ENV.resourceUrl),
    // The issuer exactly as the authorization server's metadata states it (no trailing slash).
    authorizationServers: [issuerFromEnv()],
    scopesSupported: listEnv(RESOURCE_ENV.scopesSupported),
    resourceName: process.env[RESOURCE_ENV.resourceName] || undefined,
  }),
);

export const handler = httpFunction(
  async () => ({
    statusCode: 200,
    headers: {
      'Content-Type': 'application/json',
      'Cache-Control': 'public, max-age=300',
      ...CORS_RESPONSE_HEADERS,
    },
    body,
  }),
  { refusalMetric: 'ResourceMetadataRefused' },
);
