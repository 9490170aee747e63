/** GET /.well-known/oauth-authorization-server: RFC 8414 metadata for the configured issuer. */
import { authorizationServerMetadata } from './domain/endpoints.js';
import { serverConfigFromEnv } from './domain/server-config.js';
import { httpFunction } from './http/pipeline.js';

const config = serverConfigFromEnv();
const body = JSON.stringify(authorizationServerMetadata(config.issuer, config.scopes));

export const handler = httpFunction(
  async () => ({
    statusCode: 200,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
    body,
  }),
  { refusalMetric: 'MetadataRefused' },
);
