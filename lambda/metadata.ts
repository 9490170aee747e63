/** RFC 8414 metadata for the configured issuer, and the same as OpenID discovery under the issuer. */
import { ENDPOINTS } from './contract/endpoints.js';
import { METRICS } from './contract/metrics.js';
import { authorizationServerMetadata, OPENID_REQUIRED_FIELDS } from './domain/server-metadata.js';
import { httpFunction } from './http/pipeline.js';
import { serverConfigFromEnv } from './wiring/server-config.js';

const config = serverConfigFromEnv();
const metadata = authorizationServerMetadata(config.issuer, config.scopes);
const BODIES = new Map<string, string>([
  [ENDPOINTS.metadata, JSON.stringify(metadata)],
  [ENDPOINTS.openidConfiguration, JSON.stringify({ ...metadata, ...OPENID_REQUIRED_FIELDS })],
]);

export const handler = httpFunction(
  async (event) => ({
    statusCode: 200,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
    body: BODIES.get(event.resource) ?? JSON.stringify(metadata),
  }),
  { refusalMetric: METRICS.metadataRefused, cors: true },
);
