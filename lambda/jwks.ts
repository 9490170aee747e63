/** GET /jwks: the public keys access tokens are signed with, current first (RFC 7517). */

import { METRICS } from './contract/metrics.js';
import { httpFunction } from './http/pipeline.js';
import { publicKeysFromEnv } from './wiring/keys.js';

const keys = await publicKeysFromEnv();

export const handler = httpFunction(
  async () => ({
    statusCode: 200,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
    body: JSON.stringify(await keys.jwks()),
  }),
  { refusalMetric: METRICS.jwksRefused, cors: true },
);
