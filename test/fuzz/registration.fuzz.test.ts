/**
 * Property-based fuzzing of POST /register (RFC 7591) over real HTTP: near-valid, mutated,
 * huge and garbage bodies in any content type and encoding. A 201 must store exactly what was
 * sent, and every client registered reads back as stored afterwards.
 *
 * The universal properties (no 5xx, JSON errors, no stack traces, the server stays up) are
 * test/fuzz/support/oracles.ts's; the seed and budget are test/fuzz/support/budget.ts's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headersArb, JSON_CONTENT_TYPES, type Json, registrationPayload } from './support/arbitraries.js';
import { PROPERTY_TIMEOUT, runs } from './support/budget.js';
import { exchange, expectHealthy, type FuzzRequest } from './support/oracles.js';
import { server } from './support/server.js';
import { expectClientsIntact, track, useFuzzSession } from './support/session.js';

useFuzzSession('registration');

describe('HTTP fuzzing of POST /register', () => {
  it(
    'POST /register: near-valid, mutated, huge and garbage bodies; a 201 stores exactly what was sent',
    async () => {
      let created = 0;
      const request = fc.record({
        body: registrationPayload,
        contentType: JSON_CONTENT_TYPES,
        headers: fc.option(headersArb({ contentTypes: JSON_CONTENT_TYPES }), { freq: 4 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async ({ body, contentType: type, headers }) => {
          const req: FuzzRequest = {
            method: 'POST',
            target: '/register',
            headers: headers ?? [['content-type', type]],
            body,
          };
          await exchange(req, (obs) => {
            if (obs.status !== 201) return [];
            const problems: string[] = [];
            const response = JSON.parse(obs.text) as Json;
            let sent: Json | undefined;
            try {
              sent = JSON.parse(body.toString('utf8')) as Json;
            } catch {
              return ['201 for a body that is not UTF-8 JSON'];
            }
            if (body.length > 64 * 1024) problems.push(`201 for a ${body.length}-byte body`);
            if (typeof response.client_id !== 'string') problems.push('201 without client_id');
            if (typeof response.registration_access_token !== 'string') problems.push('201 without a token');
            if (response.registration_client_uri !== `${server.url}/register/${response.client_id}`) {
              problems.push(`registration_client_uri is ${response.registration_client_uri}`);
            }
            // A machine client (client_credentials, no authorization_code) may send none: it has [].
            const sentUris = sent.redirect_uris ?? [];
            if (JSON.stringify(response.redirect_uris) !== JSON.stringify(sentUris)) {
              problems.push(
                `redirect_uris answered ${JSON.stringify(response.redirect_uris)}, sent ${JSON.stringify(sent.redirect_uris)}`,
              );
            }
            if (problems.length === 0) {
              created++;
              track(response, sentUris, true);
            }
            return problems;
          });
        }),
        runs(250),
      );
      // The generators must reach the success path, or the state invariants below test nothing.
      expect(created).toBeGreaterThan(10);
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it('afterwards: the server is up and every registered client reads back as it was stored', async () => {
    await expectClientsIntact({ registeredByProperties: true });
  });
});
