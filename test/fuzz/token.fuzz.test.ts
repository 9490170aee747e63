/**
 * Property-based fuzzing of POST /token over real HTTP: near-valid grants with real codes and
 * refresh tokens, client authentication of every kind, prototype-named fields. A 200 is a token
 * response, and only for a genuine, unspent grant whose family no replay has revoked.
 *
 * The universal properties (no 5xx, JSON errors, no stack traces, the server stays up) are
 * test/fuzz/support/oracles.ts's; the seed and budget are test/fuzz/support/budget.ts's.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/browser-like.js';
import { authorizationUrl, runBrowser } from '../support/oauth-flow.js';
import {
  contentType,
  ENCODINGS,
  type Encoding,
  encode,
  encodeAll,
  headersArb,
  type Json,
  PROTO_NAMES,
  queryString,
  wireValue,
} from './support/arbitraries.js';
import { PROPERTY_TIMEOUT, runs } from './support/budget.js';
import { answer, exchange, expectHealthy, type FuzzRequest } from './support/oracles.js';
import { server } from './support/server.js';
import {
  authServer,
  expectClientsIntact,
  fixtureList,
  fixtures,
  refreshToken,
  useFuzzSession,
} from './support/session.js';

useFuzzSession('token');

/** Token lineage, shared by the /token properties: codes and refresh tokens answered with tokens once. */
const spentGrants = new Set<string>();
/** The grant (authorization) each code and refresh token belongs to, and grants whose family a replay ended. */
const familyOf = new Map<string, number>();
const revokedFamilies = new Set<number>();
let familyCount = 0;

/** Real authorization codes of the public fixture (valid for 60 s), each its own family. */
async function mintCodes(count: number): Promise<Array<{ code: string; verifier: string }>> {
  const jar = new CookieJar();
  const codes: Array<{ code: string; verifier: string }> = [];
  for (let i = 0; i < count; i++) {
    const attempt = await authorizationUrl(authServer, fixtures.public);
    const landing = await runBrowser(attempt.url, fixtures.public.redirectUri, jar);
    const code = landing.kind === 'stopped' ? landing.url.searchParams.get('code') : null;
    if (!code) throw new Error(`no authorization code: ${landing.url}`);
    codes.push({ code, verifier: attempt.codeVerifier });
    familyOf.set(code, ++familyCount);
  }
  return codes;
}

beforeAll(() => {
  // The session's refresh token starts a family of its own.
  familyOf.set(refreshToken, ++familyCount);
});

describe('HTTP fuzzing of POST /token', () => {
  it(
    'POST /token: near-valid grants, client authentication and prototype-named fields; a 200 is a token response',
    async () => {
      const clients = fixtureList();
      // Real authorization codes, so the fuzz reaches PKCE, client and replay checks.
      const codes = await mintCodes(10);
      const grantType = fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom('authorization_code', 'refresh_token') },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            'client_credentials',
            'password',
            'implicit',
            'urn:ietf:params:oauth:grant-type:device_code',
            'AUTHORIZATION_CODE',
            '',
          ),
        },
        { weight: 2, arbitrary: fc.constantFrom(...PROTO_NAMES) },
        { weight: 1, arbitrary: fc.string() },
      );
      const request = fc.record({
        client: fc.oneof(fc.constant(fixtures.public), fc.constantFrom(...clients)),
        clientId: fc.constantFrom('own', 'own', 'own', 'other', 'random', 'missing'),
        realCode: fc.option(fc.nat({ max: 9 }), { freq: 2 }),
        realVerifier: fc.constantFrom('right', 'right', 'other', 'none'),
        auth: fc.constantFrom('right', 'right', 'wrong-secret', 'basic-for-post', 'post-for-basic', 'none', 'both'),
        grantType,
        code: fc.option(fc.oneof(fc.base64String({ maxLength: 60 }), wireValue), { freq: 3 }),
        verifier: fc.option(fc.oneof(fc.stringMatching(/^[A-Za-z0-9._~-]{43,128}$/), wireValue), { freq: 3 }),
        refresh: fc.option(fc.oneof(fc.constant('known'), fc.base64String({ maxLength: 60 }), wireValue), {
          freq: 3,
        }),
        redirect: fc.option(fc.oneof(fc.constant('own'), wireValue), { freq: 2 }),
        scope: fc.option(fc.constantFrom('', 'mcp', 'openid', 'a b'), { freq: 2 }),
        resource: fc.option(fc.constantFrom('own', '', 'https://evil.example/mcp'), { freq: 2 }),
        duplicate: fc.constantFrom('none', 'none', 'none', 'grant_type', 'client_id', 'code'),
        extra: fc.option(queryString(), { freq: 4 }),
        type: fc.oneof(
          { weight: 5, arbitrary: fc.constant('application/x-www-form-urlencoded') },
          { weight: 1, arbitrary: contentType },
        ),
        encoding: fc.constantFrom('utf8', 'utf8', 'utf8', 'utf8', 'latin1', 'utf16le', 'utf8-bom'),
        otherHeaders: fc.option(headersArb(), { freq: 4 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const { client } = value;
          const fields: Array<[string, string]> = [];
          const put = (name: string, v: string, raw = false) => {
            const rendered = raw ? v : encodeAll(v);
            fields.push([name, rendered]);
            if (value.duplicate === name) fields.push([name, rendered]);
          };
          put('grant_type', value.grantType);
          const ownId = client.client.client_id;
          const otherId = clients.find((other) => other !== client)?.client.client_id ?? ownId;
          const idValue = { own: ownId, other: otherId, random: 'Zm9vYmFy', missing: undefined }[value.clientId];
          const headers: Array<readonly [string, string]> = [['content-type', value.type]];
          const secret = client.secret ?? '';
          const basic = (id: string, s: string) =>
            `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(s)}`).toString('base64')}`;
          const method = client.client.token_endpoint_auth_method;
          if (value.auth === 'right' || value.auth === 'both') {
            if (method === 'client_secret_basic') headers.push(['authorization', basic(idValue ?? ownId, secret)]);
            if (method === 'client_secret_post') put('client_secret', secret);
          }
          if (value.auth === 'wrong-secret') {
            if (method === 'client_secret_basic') headers.push(['authorization', basic(ownId, `${secret}x`)]);
            else put('client_secret', `${secret}x`);
          }
          if (value.auth === 'basic-for-post') headers.push(['authorization', basic(ownId, secret || 'x')]);
          if (value.auth === 'post-for-basic') put('client_secret', secret || 'x');
          if (value.auth === 'both') put('client_secret', secret || 'x');
          if (idValue !== undefined) put('client_id', idValue);
          const real = value.realCode === null ? undefined : codes[value.realCode];
          const sentCode = real?.code ?? value.code;
          if (sentCode !== null) put('code', sentCode, true);
          const verifier =
            real === undefined || value.realVerifier === 'none'
              ? value.verifier
              : value.realVerifier === 'right'
                ? real.verifier
                : codes[(codes.indexOf(real) + 1) % codes.length].verifier;
          if (verifier !== null) put('code_verifier', verifier, true);
          if (value.refresh !== null)
            put('refresh_token', value.refresh === 'known' ? refreshToken : value.refresh, true);
          if (value.redirect !== null) {
            put(
              'redirect_uri',
              value.redirect === 'own' ? client.redirectUri : value.redirect,
              value.redirect !== 'own',
            );
          }
          if (value.scope !== null) put('scope', value.scope);
          if (value.resource !== null) put('resource', value.resource === 'own' ? `${server.url}/mcp` : value.resource);
          let text = fields.map(([name, v]) => `${name}=${v}`).join('&');
          if (value.extra) text += `&${value.extra.slice(1)}`;
          for (const [name, v] of value.otherHeaders ?? []) {
            if (name !== 'content-type' && name !== 'authorization') headers.push([name, v]);
          }
          const req: FuzzRequest = {
            method: 'POST',
            target: '/token',
            headers,
            body: encode(text, value.encoding as Encoding),
          };
          await exchange(req, (obs) => {
            if (obs.status !== 200) return [];
            const body = JSON.parse(obs.text) as unknown;
            const problems: string[] = [];
            if (value.grantType !== 'authorization_code' && value.grantType !== 'refresh_token') {
              problems.push(`200 for grant_type ${JSON.stringify(value.grantType)}`);
            }
            const token = typeof body === 'object' && body !== null ? (body as Json) : {};
            if (typeof token.access_token !== 'string' || String(token.token_type).toLowerCase() !== 'bearer') {
              problems.push(`200 whose body is not a token response: ${obs.text.slice(0, 200)}`);
            }
            if (value.grantType === 'authorization_code') {
              if (!real) problems.push('tokens for a code this server never issued');
              else if (verifier !== real.verifier) problems.push('tokens for a code with the wrong code_verifier');
              if (client !== fixtures.public) problems.push('tokens for a code issued to another client');
              if (sentCode !== null && spentGrants.has(sentCode))
                problems.push('tokens twice for one authorization code');
              if (sentCode !== null) spentGrants.add(sentCode);
            }
            if (value.grantType === 'refresh_token') {
              const sentRefresh = value.refresh === 'known' ? refreshToken : value.refresh;
              if (sentRefresh !== refreshToken) problems.push('tokens for a refresh token this server never issued');
              if (sentRefresh !== null && spentGrants.has(sentRefresh))
                problems.push('tokens twice for one refresh token');
              if (sentRefresh !== null) spentGrants.add(sentRefresh);
            }
            return problems;
          });
        }),
        runs(250),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'POST /token near-valid (a real code or refresh token, one or two mutations): tokens only for a genuine, unspent grant',
    async () => {
      const publicId = fixtures.public.client.client_id;
      const codes = await mintCodes(12);
      const verifierOf = new Map(codes.map(({ code, verifier }) => [code, verifier]));
      const refreshTokens: string[] = [];
      let issued = 0;
      const MUTATIONS = [
        'grant_type',
        'client_id',
        'client_auth',
        'code',
        'code_verifier',
        'redirect_uri',
        'resource',
        'scope',
        'refresh_token',
        'duplicate',
        'drop',
        'extra',
        'content_type',
        'encoding',
        'replay',
      ] as const;
      const request = fc.record({
        grant: fc.constantFrom('authorization_code', 'refresh_token', 'refresh_token'),
        pick: fc.nat({ max: 1000 }),
        mutations: fc.uniqueArray(fc.constantFrom(...MUTATIONS), { maxLength: 2 }),
        dropOrDuplicate: fc.constantFrom(
          'grant_type',
          'client_id',
          'code',
          'code_verifier',
          'refresh_token',
          'redirect_uri',
        ),
        grantType: fc.oneof(
          fc.constantFrom('client_credentials', 'AUTHORIZATION_CODE', 'refresh_token ', ''),
          fc.constantFrom('authorization_code', 'refresh_token'),
          wireValue,
        ),
        clientId: fc.oneof(
          fc.constantFrom(...fixtureList().map((fixture) => fixture.client.client_id)),
          fc.constantFrom('', `${publicId} `, publicId.toUpperCase(), `${publicId}%00`),
          wireValue,
        ),
        auth: fc.constantFrom('basic-public', 'basic-garbage', 'post-secret', 'basic-other'),
        text: fc.oneof(wireValue, fc.base64String({ maxLength: 60 }), fc.stringMatching(/^[A-Za-z0-9._~-]{43,128}$/)),
        redirect: fc.constantFrom(
          'https://client.example/callback/',
          'https://client.example/basic',
          'https://CLIENT.example/callback',
          '',
        ),
        resource: fc.constantFrom(`${server.url}/mcp`, '', 'https://evil.example/mcp', `${server.url}/mcp/`),
        scope: fc.constantFrom('', ' ', 'mcp', 'openid', 'a b'),
        extra: queryString(),
        contentType,
        encoding: fc.constantFrom(...ENCODINGS),
      });
      await fc.assert(
        fc.asyncProperty(request, async (v) => {
          const has = (mutation: (typeof MUTATIONS)[number]) => v.mutations.includes(mutation);
          const spentOfKind = [...spentGrants].filter((grant) =>
            v.grant === 'authorization_code' ? verifierOf.has(grant) : !verifierOf.has(grant),
          );
          const grant = v.grant === 'refresh_token' && refreshTokens.length === 0 ? 'authorization_code' : v.grant;
          const code = codes[v.pick % codes.length];
          let presented = grant === 'authorization_code' ? code.code : refreshTokens[v.pick % refreshTokens.length];
          if (has('replay') && spentOfKind.length > 0) presented = spentOfKind[v.pick % spentOfKind.length];
          const fields: Array<[string, string]> = [['grant_type', has('grant_type') ? v.grantType : grant]];
          fields.push(['client_id', has('client_id') ? v.clientId : publicId]);
          if (grant === 'authorization_code') {
            fields.push(['code', has('code') ? v.text : presented]);
            fields.push([
              'code_verifier',
              has('code_verifier') ? v.text : (verifierOf.get(presented) ?? code.verifier),
            ]);
            fields.push(['redirect_uri', has('redirect_uri') ? v.redirect : fixtures.public.redirectUri]);
          } else {
            fields.push(['refresh_token', has('refresh_token') ? v.text : presented]);
          }
          if (has('resource')) fields.push(['resource', v.resource]);
          if (has('scope')) fields.push(['scope', v.scope]);
          const headers: Array<readonly [string, string]> = [
            ['content-type', has('content_type') ? v.contentType : 'application/x-www-form-urlencoded'],
          ];
          if (has('client_auth')) {
            const other = fixtures.basic;
            if (v.auth === 'post-secret') fields.push(['client_secret', 'x']);
            else {
              const pair = {
                'basic-public': `${publicId}:`,
                'basic-garbage': 'a:b:c',
                'basic-other': `${other.client.client_id}:${other.secret ?? ''}`,
              }[v.auth];
              headers.push(['authorization', `Basic ${Buffer.from(pair).toString('base64')}`]);
            }
          }
          const target = v.dropOrDuplicate;
          const rendered: string[] = [];
          for (const [name, value] of fields) {
            if (has('drop') && name === target) continue;
            const pair = `${name}=${encodeAll(value)}`;
            rendered.push(pair);
            if (has('duplicate') && name === target) rendered.push(pair);
          }
          if (has('extra')) rendered.push(v.extra.slice(1));
          const body = encode(rendered.join('&'), has('encoding') ? v.encoding : 'utf8');
          const req: FuzzRequest = { method: 'POST', target: '/token', headers, body };

          // What the server reads (UTF-8, then form decoding), to judge an answer of tokens.
          const form = new URLSearchParams(body.toString('utf8'));
          const one = (name: string) => (form.getAll(name).length === 1 ? form.get(name) : null);
          // The credential the server reads for the grant type sent: a refresh_token field in a code
          // exchange (or a code in a refresh) is noise it ignores, not the grant.
          const sentGrantType = one('grant_type');
          const sentGrant =
            sentGrantType === 'authorization_code'
              ? one('code')
              : sentGrantType === 'refresh_token'
                ? one('refresh_token')
                : (one('refresh_token') ?? one('code'));
          await exchange(req, (obs) => {
            if (obs.status === 400 && sentGrant !== null && familyOf.has(sentGrant)) {
              const error = JSON.parse(obs.text) as Json;
              if (error.error === 'invalid_grant' && /already used/.test(String(error.error_description))) {
                revokedFamilies.add(familyOf.get(sentGrant) as number);
              }
            }
            if (obs.status !== 200) return [];
            issued++;
            const problems: string[] = [];
            const keys = [...form.keys()];
            const repeated = keys.find((key, index) => keys.indexOf(key) !== index);
            if (repeated) problems.push(`tokens although ${repeated} was repeated`);
            const grantType = one('grant_type');
            if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
              problems.push(`tokens for grant_type ${JSON.stringify(grantType)}`);
            }
            if (one('client_id') !== publicId)
              problems.push(`tokens for client_id ${JSON.stringify(one('client_id'))}`);
            if (headers.some(([name]) => name === 'authorization') || form.has('client_secret')) {
              problems.push('tokens for a public client that presented a secret');
            }
            if (sentGrant === null || !familyOf.has(sentGrant))
              problems.push('tokens for a grant this server never issued');
            else {
              if (spentGrants.has(sentGrant)) problems.push('tokens twice for one code or refresh token');
              if (revokedFamilies.has(familyOf.get(sentGrant) as number)) {
                problems.push('tokens for a grant whose family a replay revoked');
              }
            }
            if (grantType === 'authorization_code') {
              if (sentGrant !== null && one('code_verifier') !== verifierOf.get(sentGrant)) {
                problems.push('tokens for a wrong code_verifier');
              }
              if (one('redirect_uri') !== fixtures.public.redirectUri) problems.push('tokens for another redirect_uri');
            }
            const resource = form.get('resource');
            if (resource !== null && resource !== `${server.url}/mcp`) problems.push(`tokens for resource ${resource}`);
            // The grant had no scope: a refresh may narrow it to nothing, never widen it (a code
            // exchange takes no scope parameter, RFC 6749 4.1.3).
            if (grantType === 'refresh_token' && (form.get('scope') ?? '').split(' ').some(Boolean)) {
              problems.push('tokens for a wider scope');
            }
            if (sentGrant !== null && familyOf.has(sentGrant)) {
              spentGrants.add(sentGrant);
              const next = (JSON.parse(obs.text) as Json).refresh_token;
              if (typeof next === 'string') {
                familyOf.set(next, familyOf.get(sentGrant) as number);
                refreshTokens.push(next);
              }
            }
            return problems;
          });
        }),
        runs(250),
      );
      // The generators must reach issuance, or the properties above check nothing.
      expect(issued).toBeGreaterThanOrEqual(5);
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
  // Was: lambda/token.ts's GRANTS[params.grant_type] found inherited members, so an authenticated
  // client got a 500 (Object called as a grant, then JSON.stringify of the dependencies failed; or
  // "not a function") or, for toString, a 200 whose body was "[object Undefined]".
  it.each(['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty'])(
    'POST /token grant_type=%s by a registered client: 400 unsupported_grant_type',
    async (grantType) => {
      const { status, text } = await answer('POST', '/token', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `grant_type=${grantType}&client_id=${fixtures.public.client.client_id}`,
      });
      expect(status, text).toBe(400);
      expect((JSON.parse(text) as Json).error).toBe('unsupported_grant_type');
    },
  );
});
