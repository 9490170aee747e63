/** RFC 8414 metadata for the configured issuer, and the same as OpenID discovery under the issuer. */
import { authorizationServerMetadata, ENDPOINTS, OPENID_REQUIRED_FIELDS } from './domain/endpoints.js';
import { serverConfigFromEnv } from './domain/server-config.js';
import { httpFunction } from './http/pipeline.js';

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
  { refusalMetric: 'MetadataRefused', cors: true },
);
