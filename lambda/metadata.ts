/** RFC 8414 metadata for the configured issuer, and the same as OpenID discovery under the issuer. */
import { ENDPOINTS } from './contract/endpoints.js';
import { METRICS } from './contract/metrics.js';
import { advertisedScopes, type ServerConfig } from './domain/server-config.js';
import { authorizationServerMetadata, OPENID_REQUIRED_FIELDS } from './domain/server-metadata.js';
import { httpFunction } from './http/pipeline.js';
import { serverConfigFromEnv } from './wiring/server-config.js';

/** What the handler needs: the issuer and scopes the documents describe. */
export type HandlerDeps = Pick<ServerConfig, 'issuer' | 'scopes'>;

export function depsFromEnv(): HandlerDeps {
  return serverConfigFromEnv();
}

export function createHandler({ issuer, scopes }: HandlerDeps) {
  // Serialized once: the documents change only with the settings.
  const metadata = authorizationServerMetadata(issuer, advertisedScopes({ scopes }));
  const bodies = new Map<string, string>([
    [ENDPOINTS.metadata, JSON.stringify(metadata)],
    [ENDPOINTS.openidConfiguration, JSON.stringify({ ...metadata, ...OPENID_REQUIRED_FIELDS })],
  ]);
  return httpFunction(
    async (event) => ({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
      body: bodies.get(event.resource) ?? JSON.stringify(metadata),
    }),
    { refusalMetric: METRICS.metadataRefused, cors: true },
  );
}

export const handler = createHandler(depsFromEnv());
