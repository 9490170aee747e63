/** GET /jwks: the public keys access tokens are signed with, current first (RFC 7517). */

import { METRICS } from './contract/metrics.js';
import type { PublicKeySource } from './domain/signing.js';
import { httpFunction } from './http/pipeline.js';
import { publicKeysFromEnv } from './wiring/keys.js';

/** What the handler needs: where the public keys come from. */
export interface HandlerDeps {
  keys: PublicKeySource;
}

export async function depsFromEnv(): Promise<HandlerDeps> {
  return { keys: await publicKeysFromEnv() };
}

export function createHandler({ keys }: HandlerDeps) {
  return httpFunction(
    async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
      body: JSON.stringify(await keys.jwks()),
    }),
    { refusalMetric: METRICS.jwksRefused, cors: true },
  );
}

export const handler = createHandler(await depsFromEnv());
