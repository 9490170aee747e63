/**
 * Property-based fuzzing over real HTTP of every route in lib/routes.ts at once, of paths no
 * route serves, and of what only a raw HTTP client can send (repeated header lines, odd request
 * targets), against one local server. Each endpoint's own properties are in its own file here.
 *
 * The universal properties (no 5xx, JSON errors, no stack traces, the server stays up) are
 * test/fuzz/support/oracles.ts's; the seed and budget are test/fuzz/support/budget.ts's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/routes.js';
import {
  anyBody,
  authorization,
  contentType,
  cookieHeader,
  headersArb,
  METHODS,
  PERCENT_EDGES,
  PROTO_NAMES,
  queryString,
  wireValue,
} from './support/arbitraries.js';
import { PROPERTY_TIMEOUT, runs } from './support/budget.js';
import {
  answer,
  exchange,
  expectHealthy,
  type FuzzRequest,
  type Observed,
  pathOf,
  rawSend,
  repro,
  universalProblems,
} from './support/oracles.js';
import { expectClientsIntact, tracked, useFuzzSession } from './support/session.js';

useFuzzSession('routes');

const CLIENT_ID_ROUTE = /\{client_id\}/;
/** Every path of the route table, with `{client_id}` to be filled in. */
const ROUTE_PATHS = [...new Set(ROUTES.map((route) => route.path))];

const UNKNOWN_PATHS = [
  '/',
  '/register/',
  '/REGISTER',
  '/Token',
  '/token/',
  '//token',
  '/register/a/b',
  '/mcp/',
  '/mcp/x',
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-authorization-server/mcp',
  '/.well-known/openid-configuration/x',
  '/jwks.json',
  '/authorize/',
  '/%2e%2e/register',
  '/register%2F',
  '/%00',
  '/%ff',
  '/favicon.ico',
  '/local/register',
];

function clientIdSegment(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...[...tracked.keys()].map(encodeURIComponent)) },
    { weight: 3, arbitrary: wireValue.filter((value) => !value.includes('/') && !value.includes('?')) },
    { weight: 1, arbitrary: fc.constantFrom(...PERCENT_EDGES).filter((value) => value !== '%2F') },
    { weight: 1, arbitrary: fc.constantFrom(...PROTO_NAMES) },
  );
}

function targetFor(path: string, id: string, query: string): string {
  return `${path.replace(CLIENT_ID_ROUTE, id)}${query}`;
}

describe('HTTP fuzzing of every route (one local server)', () => {
  it('covers every path of the route table', () => {
    expect(ROUTE_PATHS).toEqual(
      expect.arrayContaining([
        '/.well-known/oauth-authorization-server',
        '/.well-known/openid-configuration',
        '/register',
        '/register/{client_id}',
        '/authorize',
        '/consent',
        '/callback',
        '/account',
        '/token',
        '/revoke',
        '/jwks',
        '/mcp',
        '/.well-known/oauth-protected-resource/mcp',
      ]),
    );
    expect(ROUTE_PATHS).toHaveLength(13);
  });

  it(
    'any method, path, query, headers and body: no 5xx, JSON errors, no stack traces',
    async () => {
      const request = fc
        .record({
          method: fc.constantFrom(...METHODS),
          path: fc.oneof(
            { weight: 6, arbitrary: fc.constantFrom(...ROUTE_PATHS) },
            { weight: 1, arbitrary: fc.constantFrom(...UNKNOWN_PATHS) },
            { weight: 1, arbitrary: fc.webPath() },
          ),
          id: clientIdSegment(),
          query: queryString(),
          headers: headersArb(),
          body: anyBody,
        })
        .map(
          (value): FuzzRequest => ({
            method: value.method,
            target: targetFor(value.path, value.id, value.query),
            headers: value.headers,
            ...(value.body !== undefined ? { body: value.body } : {}),
          }),
        );
      await fc.assert(
        fc.asyncProperty(request, async (req) => {
          await exchange(req);
        }),
        runs(300),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'unknown paths: a 404 OAuth error (or a Node-level 4xx), never a 5xx',
    async () => {
      const known = new Set(ROUTE_PATHS);
      const request = fc.record({
        path: fc.oneof(
          fc.constantFrom(...UNKNOWN_PATHS),
          fc.webPath(),
          fc
            .array(
              wireValue.filter((v) => !/[?#]/.test(v)),
              { minLength: 1, maxLength: 4 },
            )
            .map((s) => `/${s.join('/')}`),
        ),
        method: fc.constantFrom(...METHODS),
        query: queryString(),
        headers: headersArb(),
        body: anyBody,
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const path = value.path.startsWith('/') ? value.path : `/${value.path}`;
          const req: FuzzRequest = {
            method: value.method,
            target: `${path}${value.query}`,
            headers: value.headers,
            ...(value.body !== undefined ? { body: value.body } : {}),
          };
          await exchange(req, (obs) => {
            const resolved = pathOf(req);
            if (known.has(resolved) || /^\/register\/[^/]+$/.test(resolved)) return [];
            if (obs.status === 404 || obs.status === 400 || obs.status === 431 || obs.status === 413) return [];
            return [`unknown path ${resolved} answered ${obs.status}`];
          });
        }),
        runs(200),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'raw HTTP: repeated headers and request targets fetch cannot send; no 5xx',
    async () => {
      const request = fc.record({
        method: fc.constantFrom(...METHODS),
        target: fc.oneof(
          fc.constantFrom(...ROUTE_PATHS).map((path) => path.replace(CLIENT_ID_ROUTE, 'x')),
          fc.constantFrom(
            '*',
            'register',
            'http://evil.example/register',
            '//evil.example/token',
            '/register/\u00ff',
            '/authorize?client_id=\u00e9',
            '/mcp?\u00ff=\u00ff',
            '/token?a=%ff&a=%00',
          ),
        ),
        authorization: fc.array(authorization(), { maxLength: 3 }),
        contentTypes: fc.array(contentType, { maxLength: 3 }),
        cookies: fc.array(cookieHeader, { maxLength: 2 }),
        body: anyBody,
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const headers: Record<string, string[]> = {};
          if (value.authorization.length) headers.authorization = value.authorization;
          if (value.contentTypes.length) headers['content-type'] = value.contentTypes;
          if (value.cookies.length) headers.cookie = value.cookies;
          const body = value.method === 'GET' || value.method === 'HEAD' ? undefined : value.body;
          // Node's client frames GET-like bodies only with an explicit length; without one the
          // body bytes would reach the server as a second, malformed request.
          if (body !== undefined) headers['content-length'] = [String(body.length)];
          let result: Observed;
          try {
            result = await rawSend(value.method, value.target, headers, body);
          } catch (error) {
            const code = (error as NodeJS.ErrnoException).code;
            if (body === undefined || (code !== 'ECONNRESET' && code !== 'EPIPE')) throw error;
            // Node's parser refused the request head (its own 400) and closed the connection while
            // the body was still on its way: look at the answer to the same head without a body.
            const { 'content-length': _length, ...bodiless } = headers;
            result = await rawSend(value.method, value.target, bodiless, undefined);
          }
          const described: FuzzRequest = {
            method: value.method,
            target: value.target.startsWith('/') ? value.target : `/${value.target}`,
            headers: Object.entries(headers).flatMap(([name, values]) => values.map((v) => [name, v] as const)),
            ...(body !== undefined ? { body } : {}),
          };
          const problems = universalProblems(described, result);
          if (problems.length > 0) {
            throw new Error(
              `${problems.join('; ')}\nraw target ${JSON.stringify(value.target)}\n${repro(described)}\n→ ${result.status} ${result.text.slice(0, 600)}`,
            );
          }
        }),
        runs(150),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it('afterwards: the server is up and every fixture client reads back as it was stored', async () => {
    await expectClientsIntact({ registeredByProperties: false });
  });
});

/**
 * Product bugs the fuzzing found, each pinned with an exact input and the answer it should get.
 * All are fixed; they stay as regression tests.
 */
describe('product bugs found by fuzzing, pinned with exact inputs', () => {
  // Was: lib/local/api-gateway-events.ts queryMaps's `multi[name] ?? []` read the inherited member
  // (Object.prototype.constructor, ...) and spread it: TypeError, answered 500 by the local server.
  it.each([
    ['GET', '/.well-known/oauth-authorization-server?__proto__'],
    ['GET', '/jwks?constructor=1'],
    ['GET', '/authorize?toString&client_id=x'],
    ['POST', '/token?hasOwnProperty='],
    ['GET', '/no-such-path?valueOf'],
  ])('%s %s: a query parameter named like an Object.prototype member is not a 500', async (method, target) => {
    const { status, text } = await answer(method, target);
    expect(status, text).toBeLessThan(500);
  });
});
