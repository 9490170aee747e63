/**
 * Property-based fuzzing of the browser flow over real HTTP: GET /authorize (it redirects only
 * to a registered redirect URI), POST /consent (no consent without form token, cookie and origin)
 * and GET /callback (a code only for the genuine return from the provider).
 *
 * The universal properties (no 5xx, JSON errors, no stack traces, the server stays up) are
 * test/fuzz/support/oracles.ts's; the seed and budget are test/fuzz/support/budget.ts's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CookieJar, followRedirects, parseForms } from '../support/browser-like.js';
import { authorizationUrl, runBrowser } from '../support/oauth-flow.js';
import {
  anyBody,
  contentType,
  ENCODINGS,
  encode,
  encodeAll,
  headerSafe,
  headersArb,
  headerText,
  type Method,
  queryString,
  wireValue,
} from './support/arbitraries.js';
import { PROPERTY_TIMEOUT, runs } from './support/budget.js';
import { answer, exchange, expectHealthy, type FuzzRequest, send } from './support/oracles.js';
import { server } from './support/server.js';
import { authServer, expectClientsIntact, fixtureList, fixtures, useFuzzSession } from './support/session.js';

useFuzzSession('authorize');

describe('HTTP fuzzing of /authorize, /consent and /callback', () => {
  it(
    'GET /authorize: arbitrary and near-valid queries; it redirects only to a registered redirect URI',
    async () => {
      const byId = new Map(fixtureList().map((fixture) => [fixture.client.client_id, fixture]));
      const ids = [...byId.keys()];
      const allRedirects = fixtureList().flatMap((fixture) => fixture.redirectUris);
      const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
      const PARAMS = [
        'client_id',
        'redirect_uri',
        'response_type',
        'code_challenge',
        'code_challenge_method',
        'state',
        'scope',
        'resource',
      ] as const;
      type Param = (typeof PARAMS)[number];
      // Replacement values for the parameters a near-valid request mutates.
      const replacements: fc.Arbitrary<Record<Param, string>> = fc.record({
        client_id: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...ids) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              'https://127.0.0.1/client.json',
              'https://10.0.0.1/client.json',
              'https://[::1]/c',
              'http://127.0.0.1:1/client.json',
            ),
          },
          { weight: 1, arbitrary: fc.string() },
        ),
        redirect_uri: fc.constantFrom(
          ...allRedirects,
          'http://127.0.0.1:8080/callback',
          'http://127.0.0.1:65535/callback',
          'http://127.0.0.1:65536/callback',
          'http://127.0.0.1:/callback',
          'http://127.0.0.1:0/callback',
          'http://localhost/callback',
          'http://127.0.0.1/callback/',
          'http://127.0.0.1/callback#x',
          'http://[::1]/callback',
          'https://client.example/callback?x',
          'https://CLIENT.example/callback',
          'https://client.example/callback/../callback',
          'https://client.example/callback%20',
          'https://evil.example/callback',
          'com.example.app:/oauth/callback/',
        ),
        response_type: fc.constantFrom('token', 'code id_token', 'CODE', '', 'code '),
        code_challenge: fc.constantFrom(
          challenge.slice(1),
          `${challenge}${'A'.repeat(86)}`,
          `${challenge}=`,
          '',
          `${challenge}%`,
        ),
        code_challenge_method: fc.constantFrom('plain', 's256', '', 'S512'),
        state: fc.oneof(fc.string({ unit: 'binary' }), fc.constant('x'.repeat(6000)), wireValue),
        scope: fc.constantFrom('', 'mcp', 'openid', 'a b c', 'offline_access', ' '),
        resource: fc.constantFrom('', 'https://evil.example/mcp', 'mcp', `${server.url}/mcp/`, `${server.url}/MCP`),
      });
      const nearValid = fc
        .record({
          fixture: fc.constantFrom(...fixtureList()),
          redirectIndex: fc.nat({ max: 5 }),
          withRedirect: fc.boolean(),
          state: fc.option(fc.string({ unit: 'binary', maxLength: 40 }), { freq: 5 }),
          scope: fc.option(fc.constantFrom('mcp', ''), { freq: 2 }),
          withResource: fc.boolean(),
          mutated: fc.uniqueArray(fc.constantFrom(...PARAMS), { maxLength: 3 }),
          how: fc.constantFrom('encoded', 'encoded', 'encoded', 'raw', 'wire', 'drop', 'twice'),
          values: replacements,
          wire: wireValue,
          extra: fc.option(queryString(), { freq: 4 }),
        })
        .map((v) => {
          const base: Record<Param, string | undefined> = {
            client_id: v.fixture.client.client_id,
            redirect_uri:
              v.withRedirect || v.fixture.redirectUris.length > 1
                ? v.fixture.redirectUris[v.redirectIndex % v.fixture.redirectUris.length]
                : undefined,
            response_type: 'code',
            code_challenge: challenge,
            code_challenge_method: 'S256',
            state: v.state ?? undefined,
            scope: v.scope ?? undefined,
            resource: v.withResource ? `${server.url}/mcp` : undefined,
          };
          const rendered: string[] = [];
          for (const name of PARAMS) {
            if (!v.mutated.includes(name)) {
              if (base[name] !== undefined) rendered.push(`${name}=${encodeAll(base[name])}`);
              continue;
            }
            if (v.how === 'drop') continue;
            if (v.how === 'twice') {
              const same = encodeAll(base[name] ?? v.values[name]);
              rendered.push(`${name}=${same}`, `${name}=${same}`);
            } else if (v.how === 'wire') rendered.push(`${name}=${v.wire}`);
            else rendered.push(`${name}=${v.how === 'raw' ? v.values[name] : encodeAll(v.values[name])}`);
          }
          if (v.extra) rendered.push(v.extra.slice(1));
          return { query: `?${rendered.join('&')}`, valid: v.mutated.length === 0 && v.extra === null };
        });
      const request = fc.record({
        query: fc.oneof(
          { weight: 3, arbitrary: nearValid },
          { weight: 1, arbitrary: queryString().map((query) => ({ query, valid: false })) },
        ),
        headers: fc.option(headersArb(), { freq: 3 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async ({ query: { query, valid }, headers }) => {
          const req: FuzzRequest = { method: 'GET', target: `/authorize${query}`, headers: headers ?? [] };
          await exchange(req, (obs) => {
            // Liveness: an untouched request (and no odd headers) gets the consent page.
            if (valid && headers === null && obs.status !== 200) return [`a valid request answered ${obs.status}`];
            if (obs.status < 300 || obs.status >= 400) return [];
            const location = obs.headers.get('location') ?? '';
            const params = new URL(`${server.url}${req.target}`).searchParams;
            const clientIds = params.getAll('client_id');
            const fixture = clientIds.length === 1 ? byId.get(clientIds[0]) : undefined;
            if (!fixture)
              return [`redirected (${obs.status} to ${location}) for client_id ${JSON.stringify(clientIds)}`];
            const requested = params.getAll('redirect_uri');
            if (requested.length > 1) return [`redirected although redirect_uri was repeated`];
            const target = requested[0] ?? (fixture.redirectUris.length === 1 ? fixture.redirectUris[0] : undefined);
            const loopbackVariant =
              target !== undefined &&
              fixture.redirectUris.some((uri) => {
                const registered = /^http:\/\/127\.0\.0\.1(\/.*)$/.exec(uri);
                const asked = /^http:\/\/127\.0\.0\.1:(\d{1,5})(\/.*)$/.exec(target);
                return registered && asked && registered[1] === asked[2] && Number(asked[1]) <= 65535;
              });
            if (target === undefined || !(fixture.redirectUris.includes(target) || loopbackVariant)) {
              return [`redirected to ${location}, not to a registered redirect URI of ${fixture.client.client_id}`];
            }
            if (!location.startsWith(`${target}?`) && !location.startsWith(`${target}&`)) {
              return [`redirected to ${location}, expected ${target}?...`];
            }
            if (!new URL(location).searchParams.has('iss')) return [`the redirect to ${location} has no iss`];
            return [];
          });
        }),
        runs(250),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'POST /consent: mutated forms, cookies, origins and encodings; no consent without form token, cookie and origin',
    async () => {
      let consented = 0;
      const request = fc.record({
        genuine: fc.boolean(),
        request: fc.constantFrom('keep', 'keep', 'keep', 'drop', 'random', 'edge'),
        csrf: fc.constantFrom('keep', 'keep', 'keep', 'drop', 'random', 'flip'),
        cookie: fc.constantFrom('keep', 'keep', 'keep', 'drop', 'random', 'second'),
        origin: fc.constantFrom('none', 'self', 'self', 'null', 'evil', 'self-slash', 'random'),
        decision: fc.oneof(fc.constantFrom('allow', 'allow', 'deny', 'ALLOW', ''), wireValue),
        duplicate: fc.constantFrom('none', 'none', 'none', 'decision', 'csrf', 'request'),
        type: fc.oneof(
          { weight: 4, arbitrary: fc.constant('application/x-www-form-urlencoded') },
          { weight: 2, arbitrary: contentType },
        ),
        encoding: fc.constantFrom(...ENCODINGS),
        randomValue: wireValue,
        randomOrigin: headerText(40),
        extra: fc.option(queryString(), { freq: 3 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async (generated) => {
          // Half the submissions keep form token, request and cookie, so the allow and deny paths run.
          const value = generated.genuine
            ? {
                ...generated,
                request: 'keep',
                csrf: 'keep',
                cookie: 'keep',
                origin: ['none', 'self', 'null'].includes(generated.origin) ? generated.origin : 'self',
              }
            : generated;
          // A real consent page first: its form token and the transaction cookie.
          const jar = new CookieJar();
          const attempt = await authorizationUrl(authServer, fixtures.public);
          const landing = await followRedirects(attempt.url, jar, {
            stopAt: (url) => url.href.startsWith(fixtures.public.redirectUri),
          });
          if (landing.kind !== 'page') throw new Error(`no consent page: ${landing.url}`);
          const form = parseForms(landing.body, landing.url)[0];
          if (!form) throw new Error(`no consent form: ${landing.body.slice(0, 300)}`);
          const requestId = form.fields.request;
          const csrf = form.fields.csrf;
          const txCookie = jar.header(new URL(`${server.url}/consent`)) ?? '';

          const fields: Array<[string, string]> = [];
          const put = (name: string, v: string) => {
            fields.push([name, v]);
            if (value.duplicate === name) fields.push([name, v]);
          };
          if (value.request === 'keep') put('request', requestId);
          if (value.request === 'random') put('request', value.randomValue);
          if (value.request === 'edge') put('request', `${requestId}%00`);
          if (value.csrf === 'keep') put('csrf', csrf);
          if (value.csrf === 'random') put('csrf', value.randomValue);
          if (value.csrf === 'flip') put('csrf', `${csrf[0] === 'A' ? 'B' : 'A'}${csrf.slice(1)}`);
          put('decision', value.decision);
          let text = fields.map(([name, v]) => `${name}=${/%|\+/.test(v) ? v : encodeAll(v)}`).join('&');
          if (value.extra) text += `&${value.extra.slice(1)}`;

          const headers: Array<readonly [string, string]> = [['content-type', value.type]];
          if (value.cookie === 'keep') headers.push(['cookie', txCookie]);
          if (value.cookie === 'random')
            headers.push(['cookie', `mcpgw_tx=${headerSafe(value.randomValue).replace(/;/g, '')}`]);
          if (value.cookie === 'second') headers.push(['cookie', `mcpgw_tx=other; ${txCookie}`]);
          const origins: Record<string, string | undefined> = {
            none: undefined,
            self: server.url,
            null: 'null',
            evil: 'https://evil.example',
            'self-slash': `${server.url}/`,
            random: value.randomOrigin,
          };
          const origin = origins[value.origin];
          // fetch trims header values; an empty Origin is no Origin, which the server (like any
          // non-browser client's request) may accept.
          const originSent = origin?.trim() === '' ? undefined : origin?.trim();
          if (origin !== undefined) headers.push(['origin', origin]);
          const req: FuzzRequest = {
            method: 'POST',
            target: '/consent',
            headers,
            body: encode(text, value.encoding),
          };
          await exchange(req, (obs) => {
            if (obs.status < 300 || obs.status >= 400) return [];
            consented++;
            const location = obs.headers.get('location') ?? '';
            const genuine =
              value.request === 'keep' &&
              value.csrf === 'keep' &&
              value.cookie === 'keep' &&
              (originSent === undefined || originSent === 'null' || originSent === server.url);
            if (!genuine) return [`consent answered ${obs.status} to ${location} for a forged submission`];
            const toClient = location.startsWith(`${fixtures.public.redirectUri}?`);
            const toUpstream = location.startsWith('http://127.0.0.1:') || location.startsWith('http://localhost:');
            if (!toClient && !toUpstream) return [`consent redirected to ${location}`];
            if (toClient && new URL(location).searchParams.get('error') !== 'access_denied') {
              return [`consent redirected to the client without access_denied: ${location}`];
            }
            return [];
          });
        }),
        runs(120),
      );
      expect(consented).toBeGreaterThan(0);
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'GET /callback: arbitrary queries and cookies (state = cookie included); never a redirect',
    async () => {
      const request = fc.record({
        query: queryString(['state', 'code', 'error', 'error_description', 'iss', 'session_state']),
        sameState: fc.option(
          fc.oneof(
            fc.base64String({ minLength: 4, maxLength: 44 }),
            wireValue,
            // Around DynamoDB's 2048-byte key limit (the pending authorization is keyed by state).
            fc.integer({ min: 2000, max: 2100 }).map((length) => 's'.repeat(length)),
          ),
          { freq: 2 },
        ),
        headers: fc.option(headersArb(), { freq: 2 }),
        method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'HEAD', 'OPTIONS'),
        body: anyBody,
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          let target = `/callback${value.query}`;
          const headers = [...(value.headers ?? [])];
          if (value.sameState !== null) {
            const state = headerSafe(value.sameState).replace(/[;,\s]/g, '');
            target += `${target.includes('?') ? '&' : '?'}state=${state}`;
            headers.push(['cookie', `mcpgw_tx=${state}`]);
          }
          const req: FuzzRequest = {
            method: value.method as Method,
            target,
            headers,
            ...(value.body !== undefined ? { body: value.body } : {}),
          };
          await exchange(req, (obs) =>
            obs.status >= 300 && obs.status < 400
              ? [`callback redirected to ${obs.headers.get('location')} without a sign-in`]
              : [],
          );
        }),
        runs(200),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'GET /callback near-valid (a real sign-in, then a mutated return): a code only for the genuine return',
    async () => {
      let codesIssued = 0;
      const MUTATIONS = [
        'code',
        'drop-code',
        'error',
        'iss',
        'state',
        'duplicate',
        'cookie',
        'replay',
        'extra',
      ] as const;
      const request = fc.record({
        mutations: fc.uniqueArray(fc.constantFrom(...MUTATIONS), { maxLength: 2 }),
        text: fc.oneof(wireValue, fc.base64String({ maxLength: 60 })),
        // Non-empty: an empty error parameter is no error (the upstream client library ignores it).
        error: fc.constantFrom('access_denied', 'login_required', 'server_error', 'x'),
        extra: queryString(['session_state', 'error_description', 'error_uri', 'scope', 'code', 'iss']),
      });
      await fc.assert(
        fc.asyncProperty(request, async (v) => {
          const has = (mutation: (typeof MUTATIONS)[number]) => v.mutations.includes(mutation);
          // A real sign-in, stopped where the provider sends the browser back to /callback.
          const jar = new CookieJar();
          const attempt = await authorizationUrl(authServer, fixtures.public);
          const landing = await runBrowser(attempt.url, `${server.url}/callback`, jar);
          if (landing.kind !== 'stopped') throw new Error(`the sign-in did not return: ${landing.url}`);
          const genuine = new URL(landing.url);
          const params = [...genuine.searchParams];
          const rendered: string[] = [];
          for (const [name, value] of params) {
            if (name === 'code' && has('drop-code')) continue;
            let sent = encodeAll(value);
            if (name === 'code' && has('code')) sent = v.text;
            if (name === 'iss' && has('iss')) sent = encodeAll(`${value}/`);
            if (name === 'state' && has('state')) sent = `${sent}x`;
            rendered.push(`${name}=${sent}`);
            if (name === 'state' && has('duplicate')) rendered.push(`${name}=${sent}`);
          }
          if (has('error')) rendered.push(`error=${encodeAll(v.error)}`);
          if (has('extra')) rendered.push(v.extra.slice(1));
          const target = `/callback?${rendered.join('&')}`;
          const cookie = jar.header(new URL(`${server.url}/callback`)) ?? '';
          const headers: Array<readonly [string, string]> = has('cookie') ? [] : [['cookie', cookie]];
          const req: FuzzRequest = { method: 'GET', target, headers };
          if (has('replay')) await send(req);
          const untouched = v.mutations.every((mutation) => mutation === 'extra');
          await exchange(req, (obs) => {
            if (untouched && v.mutations.length === 0 && obs.status !== 302) {
              return [`the genuine return answered ${obs.status}`];
            }
            if (obs.status < 300 || obs.status >= 400) return [];
            const location = obs.headers.get('location') ?? '';
            if (!location.startsWith(`${fixtures.public.redirectUri}?`)) return [`callback redirected to ${location}`];
            const answer = new URL(location).searchParams;
            if (answer.get('state') !== attempt.state) return [`the redirect carries state ${answer.get('state')}`];
            if (answer.has('code')) {
              codesIssued++;
              if (!untouched) return [`a code for a mutated return (${v.mutations.join(', ')})`];
            } else if (!answer.has('error')) return [`a redirect with neither code nor error: ${location}`];
            return [];
          });
        }),
        runs(60),
      );
      expect(codesIssued).toBeGreaterThan(0);
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
  // Was: the pending key `pending#<state>` exceeded DynamoDB's 2048-byte key limit from 2041
  // characters on, and the ValidationException became a 503 temporarily_unavailable where a state of
  // 2040 characters got the 400 page. lambda/store/dynamodb-grant-store.ts now finds no pending
  // authorization for a key DynamoDB could not hold.
  it.each([2040, 2041, 5000])(
    'GET /callback with a %i-character state equal to the cookie: 400, not 5xx',
    async (length) => {
      const state = 'a'.repeat(length);
      const { status, text } = await answer('GET', `/callback?state=${state}`, {
        headers: { Cookie: `mcpgw_tx=${state}` },
      });
      expect(status, text.slice(0, 300)).toBe(400);
    },
  );
});
