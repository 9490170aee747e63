/**
 * Property-based fuzzing of RFC 7592 client management, GET, PUT and DELETE
 * /register/{client_id}, over real HTTP: any method, wrong, mutated and borrowed registration
 * tokens, near-valid and garbage bodies. A wrong token changes nothing; a good PUT stores what
 * was sent; nothing is ever deleted; every client reads back as stored afterwards.
 *
 * The universal properties (no 5xx, JSON errors, no stack traces, the server stays up) are
 * test/fuzz/support/oracles.ts's; the seed and budget are test/fuzz/support/budget.ts's.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  anyBody,
  authorization,
  JSON_CONTENT_TYPES,
  type Json,
  METHODS,
  mutatedRegistration,
  registrationPayload,
  validRegistration,
} from './support/arbitraries.js';
import { PROPERTY_TIMEOUT, runs } from './support/budget.js';
import { answer, echoable, exchange, expectHealthy, type FuzzRequest } from './support/oracles.js';
import { expectClientsIntact, track, tracked, useFuzzSession, withoutSecrets } from './support/session.js';

useFuzzSession('management');

/**
 * Clients for the property to manage (fixtures are never replaced): registered in the same way
 * as the POST /register property (its bodies, its seed and run count), keeping those answered 201.
 */
beforeAll(async () => {
  let created = 0;
  for (const body of fc.sample(registrationPayload, runs<Buffer>(250))) {
    const req: FuzzRequest = {
      method: 'POST',
      target: '/register',
      headers: [['content-type', 'application/json']],
      body,
    };
    const obs = await exchange(req);
    if (obs.status !== 201) continue;
    const response = JSON.parse(obs.text) as Json;
    track(response, (JSON.parse(body.toString('utf8')) as Json).redirect_uris, true);
    created++;
  }
  expect(created).toBeGreaterThan(10);
}, 90_000);

describe('HTTP fuzzing of /register/{client_id}', () => {
  it(
    'GET, PUT, DELETE /register/{client_id}: wrong tokens change nothing; a good PUT stores what was sent',
    async () => {
      const clients = [...tracked.values()];
      const disposable = clients.filter((client) => client.disposable);
      expect(disposable.length).toBeGreaterThan(0);
      const request = fc.record({
        client: fc.constantFrom(...clients),
        other: fc.constantFrom(...clients),
        method: fc.constantFrom(...METHODS),
        token: fc.constantFrom('own', 'own', 'other', 'mutated', 'random', 'none'),
        mutated: fc.constantFrom('upper', 'suffix', 'prefix', 'truncate', 'basic', 'lowercase-scheme', 'spaces'),
        random: authorization(),
        body: fc.oneof(
          { weight: 3, arbitrary: mutatedRegistration },
          { weight: 3, arbitrary: validRegistration },
          { weight: 1, arbitrary: fc.jsonValue() },
        ),
        bodyShape: fc.constantFrom('own-id', 'own-id', 'no-id', 'other-id', 'raw'),
        raw: anyBody,
        contentType: JSON_CONTENT_TYPES,
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const { client } = value;
          // Only clients this run registered may be replaced; a right token never deletes.
          const ownTokenAllowed =
            value.method === 'GET' || (value.method === 'PUT' && client.disposable) || value.method === 'HEAD';
          const tokenKind = value.token === 'own' && !ownTokenAllowed ? 'mutated' : value.token;
          let auth: string | undefined;
          switch (tokenKind) {
            case 'own':
              auth = `Bearer ${client.token}`;
              break;
            case 'other':
              auth = `Bearer ${value.other.clientId === client.clientId ? `${client.token}x` : value.other.token}`;
              break;
            case 'mutated':
              auth = {
                upper: `Bearer ${client.token.toUpperCase()}`,
                suffix: `Bearer ${client.token}A`,
                prefix: `Bearer A${client.token}`,
                truncate: `Bearer ${client.token.slice(0, -1)}`,
                basic: `Basic ${client.token}`,
                'lowercase-scheme': `bearer ${client.token.slice(1)}`,
                spaces: `Bearer  ${client.token} x`,
              }[value.mutated];
              break;
            case 'random':
              auth = value.random;
              break;
            default:
              auth = undefined;
          }
          const isObject = typeof value.body === 'object' && value.body !== null && !Array.isArray(value.body);
          const sent: Json = isObject ? { ...(value.body as Json) } : {};
          if (value.bodyShape === 'own-id') sent.client_id = client.clientId;
          if (value.bodyShape === 'other-id') sent.client_id = value.other.clientId;
          const body =
            value.bodyShape === 'raw' ? value.raw : Buffer.from(JSON.stringify(isObject ? sent : value.body) ?? 'null');
          const headers: Array<readonly [string, string]> = [['content-type', value.contentType]];
          if (auth !== undefined) headers.push(['authorization', auth]);
          const req: FuzzRequest = {
            method: value.method,
            target: new URL(client.uri).pathname,
            headers,
            ...(body !== undefined ? { body } : {}),
          };
          await exchange(req, (obs) => {
            const problems: string[] = [];
            const rightToken = tokenKind === 'own';
            if (!rightToken && obs.status >= 200 && obs.status < 300 && value.method !== 'OPTIONS') {
              problems.push(`${value.method} succeeded (${obs.status}) without the client's registration token`);
            }
            if (value.method === 'PUT' && obs.status === 200) {
              const response = JSON.parse(obs.text) as Json;
              let sent: Json = {};
              try {
                sent = JSON.parse(body?.toString('utf8') ?? '') as Json;
              } catch {
                problems.push('PUT succeeded with a body that is not UTF-8 JSON');
              }
              // A machine client (client_credentials, no authorization_code) may send none: it has [].
              const sentUris = sent.redirect_uris ?? [];
              if (JSON.stringify(response.redirect_uris) !== JSON.stringify(sentUris)) {
                problems.push(
                  `PUT answered redirect_uris ${JSON.stringify(response.redirect_uris)}, sent ${JSON.stringify(sent.redirect_uris)}`,
                );
              }
              if (rightToken && problems.length === 0) {
                client.redirectUris = sentUris;
                client.expected = withoutSecrets(response);
                echoable.push(obs.text);
              }
            }
            if (value.method === 'GET' && obs.status === 200 && rightToken) {
              const response = JSON.parse(obs.text) as Json;
              if (JSON.stringify(response.redirect_uris) !== JSON.stringify(client.redirectUris)) {
                problems.push(`GET shows redirect_uris ${JSON.stringify(response.redirect_uris)}`);
              }
            }
            if (value.method === 'DELETE' && obs.status === 204) problems.push('a client was deleted');
            return problems;
          });
        }),
        runs(250),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it('afterwards: the server is up and every registered client reads back as it was stored', async () => {
    await expectClientsIntact({ registeredByProperties: true });
  });
});

/**
 * Product bugs the fuzzing found, each pinned with an exact input and the answer it should get.
 * All are fixed; they stay as regression tests.
 */
describe('product bugs found by fuzzing, pinned with exact inputs', () => {
  // Was: the local gateway's route matching (now lib/local/routing.ts) ran decodeURIComponent on the
  // {client_id} segment, which threw URIError.
  it.each([
    ['GET', '/register/%ff'],
    ['PUT', '/register/%'],
    ['DELETE', '/register/%E0%A4%A'],
  ])('%s %s: malformed percent-encoding in the client_id segment is a 4xx, not a 500', async (method, target) => {
    const { status, text } = await answer(method, target, { headers: { Authorization: 'Bearer x' } });
    expect(status, text).toBeGreaterThanOrEqual(400);
    expect(status, text).toBeLessThan(500);
  });
});
