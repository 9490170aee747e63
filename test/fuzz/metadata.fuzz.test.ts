/**
 * Property-based fuzzing of the discovery documents (RFC 8414, OpenID, RFC 9728) and /jwks over
 * real HTTP: GET answers the same document whatever the query and headers; other methods are refused.
 *
 * The universal properties (no 5xx, JSON errors, no stack traces, the server stays up) are
 * test/fuzz/support/oracles.ts's; the seed and budget are test/fuzz/support/budget.ts's.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { anyBody, headersArb, METHODS, type Method, queryString } from './support/arbitraries.js';
import { PROPERTY_TIMEOUT, runs } from './support/budget.js';
import { exchange, expectHealthy, type FuzzRequest } from './support/oracles.js';
import { server } from './support/server.js';
import { expectClientsIntact, useFuzzSession } from './support/session.js';

useFuzzSession('metadata');

describe('HTTP fuzzing of the discovery documents and /jwks', () => {
  it(
    'discovery documents and /jwks: the same 200 JSON whatever the query and headers; other methods refused',
    async () => {
      const documents = [
        '/.well-known/oauth-authorization-server',
        '/.well-known/openid-configuration',
        '/.well-known/oauth-protected-resource/mcp',
        '/jwks',
      ];
      const baseline = new Map<string, string>();
      for (const path of documents) baseline.set(path, await (await fetch(`${server.url}${path}`)).text());
      const request = fc.record({
        path: fc.constantFrom(...documents),
        method: fc.oneof(
          { weight: 3, arbitrary: fc.constant('GET' as Method) },
          { weight: 2, arbitrary: fc.constantFrom(...METHODS) },
        ),
        query: queryString(),
        headers: headersArb(),
        body: anyBody,
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const req: FuzzRequest = {
            method: value.method,
            target: `${value.path}${value.query}`,
            headers: value.headers,
            ...(value.body !== undefined ? { body: value.body } : {}),
          };
          await exchange(req, (obs) => {
            // Node refuses request heads over 16 KiB itself (431) before any route runs.
            if (obs.status === 431) return [];
            if (value.method === 'GET') {
              if (obs.status !== 200) return [`GET answered ${obs.status}`];
              if (obs.text !== baseline.get(value.path)) return ['GET answered another document'];
              return [];
            }
            if (value.method === 'OPTIONS') return obs.status === 204 ? [] : [`preflight answered ${obs.status}`];
            return obs.status >= 400 && obs.status < 500 ? [] : [`${value.method} answered ${obs.status}`];
          });
        }),
        runs(200),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it('afterwards: the server is up and every fixture client reads back as it was stored', async () => {
    await expectClientsIntact({ registeredByProperties: false });
  });
});
