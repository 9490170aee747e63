/**
 * Property-based fuzzing of POST /revoke (RFC 7009) over real HTTP: arbitrary forms, tokens and
 * client authentication. A 200 has an empty body.
 *
 * The universal properties (no 5xx, JSON errors, no stack traces, the server stays up) are
 * test/fuzz/support/oracles.ts's; the seed and budget are test/fuzz/support/budget.ts's.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  anyBody,
  contentType,
  encodeAll,
  knownTokens,
  PROTO_NAMES,
  queryString,
  wireValue,
} from './support/arbitraries.js';
import { PROPERTY_TIMEOUT, runs } from './support/budget.js';
import { exchange, expectHealthy, type FuzzRequest } from './support/oracles.js';
import { expectClientsIntact, fixtureList, refreshToken, useFuzzSession } from './support/session.js';

useFuzzSession('revoke');

describe('HTTP fuzzing of POST /revoke', () => {
  it(
    'POST /revoke: arbitrary forms and client authentication; a 200 has an empty body',
    async () => {
      const clients = fixtureList();
      const request = fc.record({
        client: fc.constantFrom(...clients),
        withId: fc.boolean(),
        withSecret: fc.constantFrom('none', 'post', 'basic', 'wrong'),
        token: fc.option(fc.oneof(fc.constantFrom(...knownTokens), fc.base64String({ maxLength: 60 }), wireValue), {
          freq: 5,
        }),
        hint: fc.option(fc.constantFrom('refresh_token', 'access_token', 'bogus', ...PROTO_NAMES), { freq: 2 }),
        extra: fc.option(queryString(), { freq: 3 }),
        type: fc.oneof(
          { weight: 5, arbitrary: fc.constant('application/x-www-form-urlencoded') },
          { weight: 1, arbitrary: contentType },
        ),
        raw: fc.option(anyBody, { freq: 5 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const fields: string[] = [];
          const headers: Array<readonly [string, string]> = [['content-type', value.type]];
          if (value.withId) fields.push(`client_id=${encodeAll(value.client.client.client_id)}`);
          if (value.withSecret === 'post') fields.push(`client_secret=${encodeAll(value.client.secret ?? 'x')}`);
          if (value.withSecret === 'wrong') fields.push('client_secret=wrong');
          if (value.withSecret === 'basic') {
            const pair = `${value.client.client.client_id}:${value.client.secret ?? ''}`;
            headers.push(['authorization', `Basic ${Buffer.from(pair).toString('base64')}`]);
          }
          // Never the fixtures' live refresh token: revoking it would end the /token property's family.
          const token = value.token === refreshToken ? `${refreshToken}x` : value.token;
          if (token !== null) fields.push(`token=${/%/.test(token) ? token : encodeAll(token)}`);
          if (value.hint !== null) fields.push(`token_type_hint=${value.hint}`);
          if (value.extra) fields.push(value.extra.slice(1));
          const body = value.raw ?? Buffer.from(fields.join('&'));
          const req: FuzzRequest = { method: 'POST', target: '/revoke', headers, ...(body ? { body } : {}) };
          await exchange(req, (obs) => (obs.status === 200 && obs.text !== '' ? [`200 with a body: ${obs.text}`] : []));
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
