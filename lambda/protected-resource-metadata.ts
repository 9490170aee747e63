/**
 * GET the protected resource metadata (RFC 9728) of the MCP endpoint: which authorization
 * server issues its tokens, how to present them and which scopes exist. Every challenge of
 * the resource points here (resource_metadata). Public and cacheable, readable cross-origin
 * by browser-based MCP clients.
 */

import { CORS_RESPONSE_HEADERS } from './contract/cors.js';
import { ENV } from './contract/environment.js';
import { METRICS } from './contract/metrics.js';
import {
  type ProtectedResourceMetadataInput,
  protectedResourceMetadata,
} from './domain/protected-resource-metadata.js';
import { httpFunction } from './http/pipeline.js';
import { listEnv, requireEnv } from './wiring/env.js';
import { issuerFromEnv } from './wiring/server-config.js';

/** What the handler needs: what the document says. */
export type HandlerDeps = ProtectedResourceMetadataInput;

export function depsFromEnv(): HandlerDeps {
  return {
    resource: requireEnv(ENV.resourceUrl),
    // The issuer exactly as the authorization server's metadata states it (no trailing slash).
    authorizationServers: [issuerFromEnv()],
    scopesSupported: listEnv(ENV.scopesSupported),
    resourceName: process.env[ENV.resourceName] || undefined,
  };
}

export function createHandler(deps: HandlerDeps) {
  const body = JSON.stringify(protectedResourceMetadata(deps));
  return httpFunction(
    async () => ({
      statusCode: 200,
      headers: {
        'Content-Type': 'application/json',
        'Cache-Control': 'public, max-age=300',
        ...CORS_RESPONSE_HEADERS,
      },
      body,
    }),
    { refusalMetric: METRICS.resourceMetadataRefused },
  );
}

export const handler = createHandler(depsFromEnv());
