/**
 * The token service against the real DynamoDB grant store on dynalite, a real ES256 key in a
 * temporary directory and a clock the tests move: codes, access tokens, rotating refresh
 * tokens, replays, expiries and revocation.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIFETIMES } from '../../lambda/contract/environment.js';
import type { RegisteredClient } from '../../lambda/domain/clients.js';
import { hashSecret } from '../../lambda/domain/credentials.js';
import type { PendingAuthorization } from '../../lambda/domain/grants.js';
import { OAuthError, UnavailableError } from '../../lambda/domain/oauth-error.js';
import { s256Challenge } from '../../lambda/domain/pkce.js';
import { DEFAULT_REFRESH_TOKEN_REUSE_GRACE, type ServerConfig } from '../../lambda/domain/server-config.js';
import {
  exchangeAuthorizationCode,
  mintAuthorizationCode,
  refreshTokens,
  revokeToken,
  type TokenDeps,
  type TokenResponse,
} from '../../lambda/domain/token-service.js';
import { accessTokenGrants } from '../../lambda/keys/access-token-grants.js';
import { LocalSigningKey } from '../../lambda/keys/local-signing-key.js';
import { DynamoDbGrantStore } from '../../lambda/store/dynamodb-grant-store.js';
import { apiEvent, lambdaContext } from '../support/api-gateway-events.js';
import { registeredClient } from '../support/clients.js';
import { useDynalite } from '../support/dynalite.js';

const START = 1_800_000_000;
const RESOURCE = 'https://mcp.example.com/mcp';
const OTHER_RESOURCE = 'https://mcp.example.com/other';
const REDIRECT_URI = 'https://client.example/callback';

const config: ServerConfig = {
  issuer: 'https://as.example.com',
  resources: [RESOURCE, OTHER_RESOURCE],
  scopes: ['mcp:read', 'mcp:write'],
  accessTokenTtl: 600,
  refreshTokenIdleTtl: 1000,
  refreshTokenAbsoluteTtl: 2500,
};

/** A public client registered just before the tests' clock starts. */
function client(clientId: string, grantTypes: RegisteredClient['grant_types']): RegisteredClient {
  return registeredClient({
    client_id: clientId,
    client_id_issued_at: START - 100,
    redirect_uris: [REDIRECT_URI],
    grant_types: grantTypes,
  });
}

/** The default reuse grace window (config.refreshTokenReuseGrace unset). */
const GRACE = DEFAULT_REFRESH_TOKEN_REUSE_GRACE;

const ALICE_APP = client('alice-app', ['authorization_code', 'refresh_token']);
const OTHER_APP = client('other-app', ['authorization_code', 'refresh_token']);
const NO_REFRESH_APP = client('no-refresh-app', ['authorization_code']);

const db = useDynalite('token-service');
let keyDir: string;
let key: LocalSigningKey;
let clock = START;
let deps: TokenDeps;

beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'token-service-key-'));
  key = await LocalSigningKey.loadOrCreate(join(keyDir, 'signing-key.json'));
  deps = {
    grants: new DynamoDbGrantStore(db.grantsTable, db.documents),
    signer: key,
    config,
    now: () => clock,
  };
});

afterAll(() => {
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

beforeEach(() => {
  clock = START;
});

function verifier(): string {
  return randomBytes(32).toString('base64url');
}

interface IssuedCode {
  code: string;
  codeVerifier: string;
  pending: PendingAuthorization;
}

/** A code as the callback would mint it, for a hand-made pending authorization. */
async function issueCode(overrides: Partial<PendingAuthorization> = {}, subject = 'alice'): Promise<IssuedCode> {
  const codeVerifier = verifier();
  const pending: PendingAuthorization = {
    id: randomBytes(32).toString('base64url'),
    client_id: ALICE_APP.client_id,
    redirect_uri: REDIRECT_URI,
    redirect_uri_in_request: true,
    code_challenge: s256Challenge(codeVerifier),
    state: 'state-1',
    scope: 'mcp:read mcp:write',
    resource: RESOURCE,
    upstream_nonce: 'nonce',
    upstream_code_verifier: verifier(),
    expires_at: clock + 600,
    ...overrides,
  };
  const code = await mintAuthorizationCode(deps, pending, subject);
  return { code, codeVerifier, pending };
}

function exchangeParams(
  issued: IssuedCode,
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  const params: Record<string, string | undefined> = {
    grant_type: 'authorization_code',
    code: issued.code,
    redirect_uri: issued.pending.redirect_uri,
    code_verifier: issued.codeVerifier,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

function refresh(token: string | undefined, who = ALICE_APP, extra: Record<string, string> = {}) {
  return refreshTokens(deps, who, { grant_type: 'refresh_token', refresh_token: token as string, ...extra });
}

async function refusal(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error, 'expected the call to be refused').toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

/** The access token verifies against the key, for the resource, at the test's clock. */
async function verifyAccessToken(token: string): Promise<void> {
  await jwtVerify(token, createLocalJWKSet(await key.jwks()), {
    issuer: config.issuer,
    audience: RESOURCE,
    typ: 'at+jwt',
    currentDate: new Date(clock * 1000),
  });
}

async function expectRefused(promise: Promise<unknown>, code: string, status = 400): Promise<void> {
  const error = await refusal(promise);
  expect(error.code, error.description).toBe(code);
  expect(error.status).toBe(status);
}

async function tokensFor(overrides: Partial<PendingAuthorization> = {}, who = ALICE_APP): Promise<TokenResponse> {
  const issued = await issueCode({ client_id: who.client_id, ...overrides });
  return exchangeAuthorizationCode(deps, who, exchangeParams(issued));
}

describe('authorization code exchange', () => {
  it('issues an RFC 9068 access token signed by the key, with the grant in its claims', async () => {
    const issued = await issueCode();
    const tokens = await exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued));
    expect(tokens).toMatchObject({
      token_type: 'Bearer',
      expires_in: config.accessTokenTtl,
      scope: 'mcp:read mcp:write',
      refresh_token: expect.any(String),
    });

    const header = decodeProtectedHeader(tokens.access_token);
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: await key.keyId() });
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(await key.jwks()), {
      issuer: config.issuer,
      audience: RESOURCE,
      typ: 'at+jwt',
      algorithms: ['ES256'],
      currentDate: new Date(clock * 1000),
    });
    expect(payload).toEqual({
      iss: config.issuer,
      sub: 'alice',
      aud: RESOURCE,
      client_id: ALICE_APP.client_id,
      scope: 'mcp:read mcp:write',
      iat: START,
      exp: START + config.accessTokenTtl,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      // The grant it came from (the code's and refresh token's prefix), never their secret part.
      sid: issued.code.split('.')[0],
    });
    expect(tokens.refresh_token?.startsWith(`${payload.sid}.`)).toBe(true);
  });

  it('gives every access token its own jti', async () => {
    const first = await tokensFor();
    const second = await tokensFor();
    const jti = async (token: string) =>
      (
        await jwtVerify(token, createLocalJWKSet(await key.jwks()), {
          currentDate: new Date(clock * 1000),
        })
      ).payload.jti;
    expect(await jti(first.access_token)).not.toBe(await jti(second.access_token));
  });

  it('says scope "" in the response, and has no scope claim in the token, when none was granted', async () => {
    const tokens = await tokensFor({ scope: '' });
    expect(tokens.scope).toBe('');
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(await key.jwks()), {
      currentDate: new Date(clock * 1000),
    });
    expect(payload).not.toHaveProperty('scope');
    expect(payload.aud).toBe(RESOURCE);
  });

  it('issues for the resource of the authorization request, also when the token request names it again', async () => {
    const issued = await issueCode({ resource: OTHER_RESOURCE });
    const tokens = await exchangeAuthorizationCode(
      deps,
      ALICE_APP,
      exchangeParams(issued, { resource: OTHER_RESOURCE }),
    );
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(await key.jwks()), {
      currentDate: new Date(clock * 1000),
    });
    expect(payload.aud).toBe(OTHER_RESOURCE);
  });

  it('refuses a reused code and revokes the refresh family its first redemption started', async () => {
    const issued = await issueCode();
    const first = await exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued));
    await expectRefused(exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued)), 'invalid_grant');
    await expectRefused(refresh(first.refresh_token), 'invalid_grant');
  });

  it('of 20 concurrent redemptions of one code, exactly one succeeds', async () => {
    const issued = await issueCode();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued))),
    );
    const fulfilled = results.filter((result) => result.status === 'fulfilled');
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(19);
    for (const result of rejected)
      expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'invalid_grant' });
    // The losers were replays, so the winner's refresh family is revoked as well (RFC 6749 4.1.2).
    const winner = (fulfilled[0] as PromiseFulfilledResult<TokenResponse>).value;
    await expectRefused(refresh(winner.refresh_token), 'invalid_grant');
  });

  it('accepts a code one second before it expires', async () => {
    const issued = await issueCode();
    clock += DEFAULT_LIFETIMES.authorizationCode - 1;
    const tokens = await exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued));
    expect(tokens.access_token).toEqual(expect.any(String));
  });

  it('refuses a code 61 seconds after it was issued', async () => {
    const issued = await issueCode();
    clock += 61;
    await expectRefused(exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued)), 'invalid_grant');
  });

  it('refuses a code that was never issued', async () => {
    await expectRefused(
      exchangeAuthorizationCode(deps, ALICE_APP, {
        grant_type: 'authorization_code',
        code: 'never-issued',
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier(),
      }),
      'invalid_grant',
    );
  });

  it('refuses a request without a code', async () => {
    await expectRefused(
      exchangeAuthorizationCode(deps, ALICE_APP, { grant_type: 'authorization_code', code_verifier: verifier() }),
      'invalid_request',
    );
  });

  it('refuses a code issued to another client', async () => {
    const issued = await issueCode();
    await expectRefused(exchangeAuthorizationCode(deps, OTHER_APP, exchangeParams(issued)), 'invalid_grant');
  });

  it.each([
    ['another redirect_uri', 'https://client.example/other'],
    ['a trailing slash added', `${REDIRECT_URI}/`],
    ['an empty redirect_uri', ''],
  ])('refuses %s', async (_name, redirectUri) => {
    const issued = await issueCode();
    await expectRefused(
      exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued, { redirect_uri: redirectUri })),
      'invalid_grant',
    );
  });

  it('refuses an omitted redirect_uri when the authorization request included it', async () => {
    const issued = await issueCode({ redirect_uri_in_request: true });
    await expectRefused(
      exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued, { redirect_uri: undefined })),
      'invalid_grant',
    );
  });

  it('accepts an omitted redirect_uri when the authorization request omitted it too', async () => {
    const issued = await issueCode({ redirect_uri_in_request: false });
    const tokens = await exchangeAuthorizationCode(
      deps,
      ALICE_APP,
      exchangeParams(issued, { redirect_uri: undefined }),
    );
    expect(tokens.access_token).toEqual(expect.any(String));
  });

  it('refuses a wrong redirect_uri even when the authorization request omitted it', async () => {
    const issued = await issueCode({ redirect_uri_in_request: false });
    await expectRefused(
      exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued, { redirect_uri: 'https://evil.example/cb' })),
      'invalid_grant',
    );
  });

  it('refuses a missing code_verifier as invalid_request', async () => {
    const issued = await issueCode();
    await expectRefused(
      exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued, { code_verifier: undefined })),
      'invalid_request',
    );
  });

  it.each([
    ['a wrong code_verifier', () => verifier()],
    ['a too-short code_verifier', () => 'a'.repeat(42)],
  ])('refuses %s as invalid_grant', async (_name, wrong) => {
    const issued = await issueCode();
    await expectRefused(
      exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued, { code_verifier: wrong() })),
      'invalid_grant',
    );
  });

  it.each([
    ['another configured resource', OTHER_RESOURCE],
    ['an unknown resource', 'https://evil.example/mcp'],
    ['the resource with a trailing slash', `${RESOURCE}/`],
  ])('refuses %s at /token as invalid_target', async (_name, resource) => {
    const issued = await issueCode({ resource: RESOURCE });
    await expectRefused(
      exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued, { resource })),
      'invalid_target',
    );
  });

  it('refuses a client that did not register the authorization_code grant', async () => {
    const issued = await issueCode();
    await expectRefused(
      exchangeAuthorizationCode(deps, client(ALICE_APP.client_id, ['refresh_token']), exchangeParams(issued)),
      'unauthorized_client',
    );
  });
});

describe('refresh tokens', () => {
  it('are not issued to a client without the refresh_token grant, which cannot refresh', async () => {
    const tokens = await tokensFor({}, NO_REFRESH_APP);
    expect(tokens.access_token).toEqual(expect.any(String));
    expect(tokens).not.toHaveProperty('refresh_token');
    const other = await tokensFor();
    await expectRefused(refresh(other.refresh_token, NO_REFRESH_APP), 'unauthorized_client');
  });

  it('rotate: a new refresh token each time, with a fresh access token for the same grant', async () => {
    const first = await tokensFor();
    clock += 10;
    const second = await refresh(first.refresh_token);
    expect(second.refresh_token).toEqual(expect.any(String));
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.scope).toBe('mcp:read mcp:write');
    const { payload } = await jwtVerify(second.access_token, createLocalJWKSet(await key.jwks()), {
      issuer: config.issuer,
      audience: RESOURCE,
      currentDate: new Date(clock * 1000),
    });
    expect(payload).toMatchObject({ sub: 'alice', client_id: ALICE_APP.client_id, iat: clock });
    const third = await refresh(second.refresh_token);
    expect(third.refresh_token).not.toBe(second.refresh_token);
  });

  it('a refresh token replayed after the reuse grace window is refused and revokes its grant, so the rotated one fails too', async () => {
    const first = await tokensFor();
    const second = await refresh(first.refresh_token);
    clock += GRACE + 1;
    await expectRefused(refresh(first.refresh_token), 'invalid_grant');
    await expectRefused(refresh(second.refresh_token), 'invalid_grant');
  });

  it('a replay in one grant leaves another grant of the same person alone', async () => {
    const mine = await tokensFor();
    const other = await tokensFor();
    await refresh(mine.refresh_token);
    clock += GRACE + 1;
    await expectRefused(refresh(mine.refresh_token), 'invalid_grant');
    const refreshed = await refresh(other.refresh_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
  });

  it('are refused once idle past their idle lifetime', async () => {
    const tokens = await tokensFor();
    clock += config.refreshTokenIdleTtl;
    await expectRefused(refresh(tokens.refresh_token), 'invalid_grant');
  });

  it('are accepted just before their idle lifetime ends', async () => {
    const tokens = await tokensFor();
    clock += config.refreshTokenIdleTtl - 1;
    const refreshed = await refresh(tokens.refresh_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
  });

  it('end at the absolute lifetime even when used within every idle period', async () => {
    let tokens = await tokensFor();
    const familyEnd = START + config.refreshTokenAbsoluteTtl;
    // 900 s steps keep every token inside its 1000 s idle lifetime.
    for (clock = START + 900; clock < familyEnd; clock += 900) {
      tokens = await refresh(tokens.refresh_token);
    }
    clock = familyEnd - 1;
    tokens = await refresh(tokens.refresh_token);
    clock = familyEnd;
    await expectRefused(refresh(tokens.refresh_token), 'invalid_grant');
  });

  it('may narrow the scope', async () => {
    const tokens = await tokensFor();
    const narrowed = await refresh(tokens.refresh_token, ALICE_APP, { scope: 'mcp:read' });
    expect(narrowed.scope).toBe('mcp:read');
    const { payload } = await jwtVerify(narrowed.access_token, createLocalJWKSet(await key.jwks()), {
      currentDate: new Date(clock * 1000),
    });
    expect(payload.scope).toBe('mcp:read');
  });

  it('take an empty scope parameter as omitted (RFC 6749 section 3.2): the granted scope, not none', async () => {
    const tokens = await tokensFor();
    const refreshed = await refresh(tokens.refresh_token, ALICE_APP, { scope: '' });
    expect(refreshed.scope).toBe('mcp:read mcp:write');
  });

  it('keep the originally granted scope after a narrowed refresh (RFC 6749 section 6)', async () => {
    // "If a new refresh token is issued, the refresh token scope MUST be identical to that of
    // the refresh token included by the client in the request."
    const tokens = await tokensFor();
    const narrowed = await refresh(tokens.refresh_token, ALICE_APP, { scope: 'mcp:read' });
    const again = await refresh(narrowed.refresh_token);
    expect(again.scope).toBe('mcp:read mcp:write');
  });

  it.each([
    ['a scope that was not granted', 'mcp:read mcp:admin'],
    ['a scope the deployment does not define', 'claudeai'],
  ])('may not widen the scope: %s is invalid_scope', async (_name, scope) => {
    const tokens = await tokensFor({ scope: 'mcp:read' });
    await expectRefused(refresh(tokens.refresh_token, ALICE_APP, { scope }), 'invalid_scope');
  });

  it('a refused widening does not use up the refresh token', async () => {
    // An error response changes nothing: otherwise the client's retry with the token it holds
    // is taken for a replay and its whole grant is revoked.
    const tokens = await tokensFor({ scope: 'mcp:read' });
    await expectRefused(refresh(tokens.refresh_token, ALICE_APP, { scope: 'mcp:write' }), 'invalid_scope');
    const refreshed = await refresh(tokens.refresh_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
  });

  it('refuses another resource at refresh as invalid_target', async () => {
    const tokens = await tokensFor();
    await expectRefused(refresh(tokens.refresh_token, ALICE_APP, { resource: OTHER_RESOURCE }), 'invalid_target');
  });

  it('refuses a refresh token presented by another client', async () => {
    const tokens = await tokensFor();
    await expectRefused(refresh(tokens.refresh_token, OTHER_APP), 'invalid_grant');
  });

  it.each([
    ['an unknown refresh token', 'not-a-refresh-token'],
    ['an access token', undefined],
  ])('refuses %s as invalid_grant', async (_name, token) => {
    const presented = token ?? (await tokensFor()).access_token;
    await expectRefused(refresh(presented), 'invalid_grant');
  });

  it('refuses a request without a refresh_token as invalid_request', async () => {
    await expectRefused(refreshTokens(deps, ALICE_APP, { grant_type: 'refresh_token' }), 'invalid_request');
  });
});

describe('refresh with a reuse grace window (RFC 9700 4.14.2): parallel clients and retried answers', () => {
  it('20 concurrent refreshes with one token all succeed, and every token they answer refreshes again', async () => {
    const first = await tokensFor();
    const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(first.refresh_token)));
    const tokens = answers.map((answer) => answer.refresh_token as string);
    expect(new Set(tokens).size, 'each answer its own refresh token').toBe(20);
    for (const answer of answers) await verifyAccessToken(answer.access_token);
    // The grant survives: any of the answers' tokens is good for the next refresh (the first
    // of them rotates the generation, the others are its previous one, within the window).
    const next = await Promise.all(tokens.map((token) => refresh(token)));
    expect(next.every((answer) => typeof answer.refresh_token === 'string')).toBe(true);
  });

  it('a retried refresh (the answer was lost) within the window gets a working token, and the grant lives on', async () => {
    const first = await tokensFor();
    const lost = await refresh(first.refresh_token);
    clock += GRACE;
    const retried = await refresh(first.refresh_token);
    expect(retried.refresh_token).not.toBe(lost.refresh_token);
    // Both answers' tokens work: the retried client's and, had it arrived, the lost one.
    await refresh(retried.refresh_token);
  });

  it('a token two generations old is a reuse even within the window: the grant is revoked', async () => {
    const first = await tokensFor();
    const second = await refresh(first.refresh_token);
    await refresh(second.refresh_token);
    await expectRefused(refresh(first.refresh_token), 'invalid_grant');
    await expectRefused(refresh(second.refresh_token), 'invalid_grant');
  });

  it('with the window at 0 (strict), the first reuse revokes the grant', async () => {
    const strict = { ...deps, config: { ...config, refreshTokenReuseGrace: 0 } };
    const issued = await issueCode();
    const first = await exchangeAuthorizationCode(strict, ALICE_APP, exchangeParams(issued));
    const params = (token: string | undefined) => ({ grant_type: 'refresh_token', refresh_token: token as string });
    const second = await refreshTokens(strict, ALICE_APP, params(first.refresh_token));
    await expectRefused(refreshTokens(strict, ALICE_APP, params(first.refresh_token)), 'invalid_grant');
    await expectRefused(refreshTokens(strict, ALICE_APP, params(second.refresh_token)), 'invalid_grant');
  });

  it('a refused refresh within the window (a scope not granted) leaves every token usable', async () => {
    const first = await tokensFor();
    const second = await refresh(first.refresh_token);
    await expectRefused(refresh(first.refresh_token, ALICE_APP, { scope: 'admin' }), 'invalid_scope');
    await expectRefused(refresh(second.refresh_token, ALICE_APP, { scope: 'admin' }), 'invalid_scope');
    await refresh(second.refresh_token);
  });

  it('a token of another client is refused without revoking the grant', async () => {
    const first = await tokensFor();
    await expectRefused(refresh(first.refresh_token, OTHER_APP), 'invalid_grant');
    await refresh(first.refresh_token);
  });
});

describe('revocation', () => {
  it('of a refresh token ends its family', async () => {
    const tokens = await tokensFor();
    await revokeToken(deps, ALICE_APP, tokens.refresh_token);
    await expectRefused(refresh(tokens.refresh_token), 'invalid_grant');
  });

  it('of an already rotated refresh token ends the family, so the current one fails', async () => {
    const first = await tokensFor();
    const second = await refresh(first.refresh_token);
    await revokeToken(deps, ALICE_APP, first.refresh_token);
    await expectRefused(refresh(second.refresh_token), 'invalid_grant');
  });

  it("of another client's refresh token does nothing", async () => {
    const tokens = await tokensFor();
    await revokeToken(deps, OTHER_APP, tokens.refresh_token);
    const refreshed = await refresh(tokens.refresh_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
  });

  it.each([
    ['an unknown token', 'garbage'],
    ['an access token', undefined],
  ])('of %s does not throw and changes nothing', async (_name, token) => {
    const tokens = await tokensFor();
    await expect(revokeToken(deps, ALICE_APP, token ?? tokens.access_token)).resolves.toBeUndefined();
    const refreshed = await refresh(tokens.refresh_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
  });

  it('without a token is invalid_request', async () => {
    await expectRefused(revokeToken(deps, ALICE_APP, undefined), 'invalid_request');
  });
});

describe('revocation by access token (its whole grant)', () => {
  const withAccessTokens = () => ({ ...deps, accessTokens: accessTokenGrants(config, key, () => clock) });

  it('ends the grant the token came from: its refresh token no longer refreshes, and the grant is revoked', async () => {
    const tokens = await tokensFor();
    const grantId = (tokens.refresh_token as string).split('.')[0];
    await expect(revokeToken(withAccessTokens(), ALICE_APP, tokens.access_token)).resolves.toBe(grantId);
    expect((await deps.grants.getGrant(grantId))?.revoked_at).toBe(clock);
    await expectRefused(refresh(tokens.refresh_token), 'invalid_grant');
  });

  it('of an access token from an earlier refresh ends the same grant', async () => {
    const first = await tokensFor();
    const second = await refresh(first.refresh_token);
    await revokeToken(withAccessTokens(), ALICE_APP, first.access_token);
    await expectRefused(refresh(second.refresh_token), 'invalid_grant');
  });

  it.each<[string, () => Promise<string>]>([
    [
      'signed by another key (forged)',
      async () => {
        const dir = mkdtempSync(join(tmpdir(), 'token-service-other-'));
        try {
          const other = await LocalSigningKey.loadOrCreate(join(dir, 'k.json'));
          const payload = decodeJwt((await tokensFor()).access_token);
          return await other.sign(payload, 'at+jwt');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    ],
    [
      'expired',
      async () => {
        const token = (await tokensFor()).access_token;
        clock += config.accessTokenTtl;
        return token;
      },
    ],
  ])('of an access token %s ends nothing', async (_what, make) => {
    const token = await make();
    const grantId = decodeJwt(token).sid as string;
    await expect(revokeToken(withAccessTokens(), ALICE_APP, token)).resolves.toBeUndefined();
    expect((await deps.grants.getGrant(grantId))?.revoked_at).toBeUndefined();
  });

  it("of another client's access token ends nothing", async () => {
    const tokens = await tokensFor();
    await expect(revokeToken(withAccessTokens(), OTHER_APP, tokens.access_token)).resolves.toBeUndefined();
    await expect(refresh(tokens.refresh_token)).resolves.toMatchObject({ token_type: 'Bearer' });
  });
});

describe('a signing-key outage after the code or refresh token was spent', () => {
  /** The real key, but the next `failures` signatures fail as a KMS outage does (503). */
  function flakySigner(failures: number): TokenDeps['signer'] {
    let left = failures;
    return {
      keyId: () => key.keyId(),
      sign: (payload, typ) => {
        if (left-- > 0) return Promise.reject(new UnavailableError('The token signing key is unreachable; try again.'));
        return key.sign(payload, typ);
      },
    };
  }

  it('answers 503 and leaves the code redeemable: the retry gets tokens that refresh', async () => {
    const issued = await issueCode();
    const flaky = { ...deps, signer: flakySigner(1) };
    await expectRefused(
      exchangeAuthorizationCode(flaky, ALICE_APP, exchangeParams(issued)),
      'temporarily_unavailable',
      503,
    );
    const tokens = await exchangeAuthorizationCode(flaky, ALICE_APP, exchangeParams(issued));
    expect(tokens.access_token).toEqual(expect.any(String));
    // The family was not revoked as a replay: its refresh token works.
    await expect(refresh(tokens.refresh_token)).resolves.toMatchObject({ token_type: 'Bearer' });
    // And the code is spent now: a third redemption is a replay.
    await expectRefused(exchangeAuthorizationCode(deps, ALICE_APP, exchangeParams(issued)), 'invalid_grant');
  });

  it('answers 503 and leaves the refresh token usable: the retry rotates it', async () => {
    const first = await tokensFor();
    const flaky = { ...deps, signer: flakySigner(1) };
    const params = { grant_type: 'refresh_token', refresh_token: first.refresh_token as string };
    await expectRefused(refreshTokens(flaky, ALICE_APP, params), 'temporarily_unavailable', 503);
    const second = await refreshTokens(flaky, ALICE_APP, params);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    await expect(refresh(second.refresh_token)).resolves.toMatchObject({ token_type: 'Bearer' });
  });
});

// --- through the handlers: POST /token and POST /revoke as API Gateway invokes them ------------

type Handler = (
  event: ReturnType<typeof apiEvent>,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyResult>;

const SECRET = 'the client secret';
const PUBLIC_APP = ALICE_APP;
const BASIC_APP = registeredClient({
  client_id: 'basic-app',
  client_id_issued_at: START - 100,
  redirect_uris: [REDIRECT_URI],
  token_endpoint_auth_method: 'client_secret_basic',
  client_secret_hash: hashSecret(SECRET),
});
const POST_APP = registeredClient({
  client_id: 'post-app',
  client_id_issued_at: START - 100,
  redirect_uris: [REDIRECT_URI],
  token_endpoint_auth_method: 'client_secret_post',
  client_secret_hash: hashSecret(SECRET),
});
const HANDLER_CLIENTS = new Map([PUBLIC_APP, BASIC_APP, POST_APP].map((app) => [app.client_id, app]));

let tokenHandler: Handler;
let revokeHandler: Handler;

beforeAll(async () => {
  // The entries build a handler from the environment when imported: point that one at the same
  // tables and key, then build the handlers under test from the suite's own ports and clock.
  const env = { ...db.env(), SIGNING_KEY_FILE: join(keyDir, 'signing-key.json'), ISSUER_URL: config.issuer };
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    const token = await import('../../lambda/token.js');
    const revoke = await import('../../lambda/revoke.js');
    const clients = { getById: async (clientId: string) => HANDLER_CLIENTS.get(clientId) };
    tokenHandler = token.createHandler({ ...deps, clients, activity: { recordUse: async () => {} } }) as Handler;
    revokeHandler = revoke.createHandler({ clients, grants: deps.grants }) as Handler;
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

/** RFC 6749 2.3.1: each part form-urlencoded, then joined with ':' and Base64-encoded. */
function basicAuthorization(clientId: string, secret: string): string {
  const form = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${form(clientId)}:${form(secret)}`).toString('base64')}`;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  json: Record<string, unknown>;
}

async function post(
  handler: Handler,
  path: string,
  fields: Record<string, string>,
  authorization?: string,
): Promise<Reply> {
  const result = await handler(
    apiEvent({
      method: 'POST',
      path,
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(authorization ? { Authorization: authorization } : {}),
      },
      body: new URLSearchParams(fields).toString(),
    }),
    lambdaContext(path.slice(1), 'req-1'),
  );
  const headers = Object.fromEntries(
    Object.entries(result.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
  );
  return { status: result.statusCode, headers, json: result.body ? JSON.parse(result.body) : {} };
}

/** How each way of authenticating puts the client's credentials on a request. */
type Way = 'basic' | 'post' | 'none';
function credentials(
  way: Way,
  app: RegisteredClient,
  secret = SECRET,
): { fields: Record<string, string>; authorization: string | undefined } {
  switch (way) {
    case 'basic':
      return { fields: {}, authorization: basicAuthorization(app.client_id, secret) };
    case 'post':
      return { fields: { client_id: app.client_id, client_secret: secret }, authorization: undefined };
    case 'none':
      return { fields: { client_id: app.client_id }, authorization: undefined };
  }
}

async function tokenCall(app: RegisteredClient, way: Way, fields: Record<string, string>, secret = SECRET) {
  const auth = credentials(way, app, secret);
  return post(tokenHandler, '/token', { ...auth.fields, ...fields }, auth.authorization);
}

async function codeCall(app: RegisteredClient, way: Way, scope: string, secret = SECRET) {
  const issued = await issueCode({ client_id: app.client_id, scope });
  return tokenCall(app, way, exchangeParams(issued), secret);
}

const wayOf = (app: RegisteredClient): Way =>
  app.token_endpoint_auth_method === 'none'
    ? 'none'
    : app.token_endpoint_auth_method === 'client_secret_basic'
      ? 'basic'
      : 'post';

function expectOAuthError(reply: Reply, status: number, error: string): void {
  expect(reply.json.error, JSON.stringify(reply.json)).toBe(error);
  expect(reply.status).toBe(status);
}

describe('POST /token: the scope granted, always in the response (RFC 6749 3.3, 5.1)', () => {
  // The pending authorization holds what /authorize granted: the requested scopes the deployment
  // defines (grantableScope). The client asked for more than each of these cases holds.
  it.each([
    ['everything it asked for', 'mcp:read mcp:write'],
    ['part of what it asked for', 'mcp:read'],
    ['nothing it asked for, as an empty scope', ''],
  ])('an authorization_code grant of %s says so', async (_name, granted) => {
    const reply = await codeCall(PUBLIC_APP, 'none', granted);
    expect(reply.status).toBe(200);
    expect(reply.json).toHaveProperty('scope', granted);
  });

  it('a refresh repeating the scope of the token response is accepted, and says the scope again', async () => {
    const first = await codeCall(PUBLIC_APP, 'none', 'mcp:read');
    const again = await tokenCall(PUBLIC_APP, 'none', {
      grant_type: 'refresh_token',
      refresh_token: first.json.refresh_token as string,
      scope: first.json.scope as string,
    });
    expect(again.status).toBe(200);
    expect(again.json).toHaveProperty('scope', 'mcp:read');
  });

  it('a refresh without scope says the granted scope', async () => {
    const first = await codeCall(PUBLIC_APP, 'none', 'mcp:read');
    const again = await tokenCall(PUBLIC_APP, 'none', {
      grant_type: 'refresh_token',
      refresh_token: first.json.refresh_token as string,
    });
    expect(again.json).toHaveProperty('scope', 'mcp:read');
  });

  it('a narrowing refresh says the narrower scope', async () => {
    const first = await codeCall(PUBLIC_APP, 'none', 'mcp:read mcp:write');
    const again = await tokenCall(PUBLIC_APP, 'none', {
      grant_type: 'refresh_token',
      refresh_token: first.json.refresh_token as string,
      scope: 'mcp:write',
    });
    expect(again.json).toHaveProperty('scope', 'mcp:write');
  });

  it('after an empty grant, a refresh repeating the empty scope is accepted and still says scope ""', async () => {
    const first = await codeCall(PUBLIC_APP, 'none', '');
    const again = await tokenCall(PUBLIC_APP, 'none', {
      grant_type: 'refresh_token',
      refresh_token: first.json.refresh_token as string,
      scope: first.json.scope as string,
    });
    expect(again.status).toBe(200);
    expect(again.json).toHaveProperty('scope', '');
  });

  it.each([
    ['a scope it asked for and was not granted', 'mcp:read', 'mcp:read mcp:write'],
    ['any scope after an empty grant', '', 'mcp:read'],
  ])('a refresh asking for %s is invalid_scope, and the refresh token still works', async (_name, granted, asked) => {
    const first = await codeCall(PUBLIC_APP, 'none', granted);
    const refreshToken = first.json.refresh_token as string;
    expectOAuthError(
      await tokenCall(PUBLIC_APP, 'none', { grant_type: 'refresh_token', refresh_token: refreshToken, scope: asked }),
      400,
      'invalid_scope',
    );
    const again = await tokenCall(PUBLIC_APP, 'none', { grant_type: 'refresh_token', refresh_token: refreshToken });
    expect(again.status).toBe(200);
  });
});

describe('POST /token and /revoke: a client with a secret by HTTP Basic or in the body (RFC 6749 2.3.1)', () => {
  it.each([
    ['client_secret_basic', 'basic', BASIC_APP],
    ['client_secret_basic', 'post', BASIC_APP],
    ['client_secret_post', 'post', POST_APP],
    ['client_secret_post', 'basic', POST_APP],
  ] as const)('a %s client authenticating with %s gets tokens, refreshes and revokes', async (_method, way, app) => {
    const tokens = await codeCall(app, way, 'mcp:read');
    expect(tokens.status, JSON.stringify(tokens.json)).toBe(200);
    const refreshed = await tokenCall(app, way, {
      grant_type: 'refresh_token',
      refresh_token: tokens.json.refresh_token as string,
    });
    expect(refreshed.status, JSON.stringify(refreshed.json)).toBe(200);

    const auth = credentials(way, app);
    const revoked = await post(
      revokeHandler,
      '/revoke',
      { ...auth.fields, token: refreshed.json.refresh_token as string },
      auth.authorization,
    );
    expect(revoked.status).toBe(200);
    expectOAuthError(
      await tokenCall(app, way, { grant_type: 'refresh_token', refresh_token: refreshed.json.refresh_token as string }),
      400,
      'invalid_grant',
    );
  });

  it('revocation with the method the client did not register takes effect (Authlib revokes with Basic)', async () => {
    const tokens = await codeCall(POST_APP, 'post', 'mcp:read');
    const revoked = await post(
      revokeHandler,
      '/revoke',
      { token: tokens.json.refresh_token as string, token_type_hint: 'refresh_token' },
      basicAuthorization(POST_APP.client_id, SECRET),
    );
    expect(revoked.status).toBe(200);
    expectOAuthError(
      await tokenCall(POST_APP, 'post', {
        grant_type: 'refresh_token',
        refresh_token: tokens.json.refresh_token as string,
      }),
      400,
      'invalid_grant',
    );
  });

  it.each([BASIC_APP, POST_APP])(
    'a secret client ($token_endpoint_auth_method) never falls back to none',
    async (app) => {
      const reply = await codeCall(app, 'none', 'mcp:read');
      expectOAuthError(reply, 401, 'invalid_client');
      expect(reply.headers['www-authenticate']).toBeUndefined();
      const revoke = await post(revokeHandler, '/revoke', { client_id: app.client_id, token: 'anything' });
      expectOAuthError(revoke, 401, 'invalid_client');
    },
  );

  it.each(['basic', 'post'] as const)('a public client presenting a secret by %s is invalid_client', async (way) => {
    const reply = await codeCall(PUBLIC_APP, way, 'mcp:read', 'a made-up secret');
    expectOAuthError(reply, 401, 'invalid_client');
    const auth = credentials(way, PUBLIC_APP, 'a made-up secret');
    const revoke = await post(revokeHandler, '/revoke', { ...auth.fields, token: 'anything' }, auth.authorization);
    expectOAuthError(revoke, 401, 'invalid_client');
  });

  it.each([
    ['client_secret_basic', BASIC_APP],
    ['client_secret_post', POST_APP],
  ] as const)(
    'a %s client with a wrong secret: by Basic 401 with WWW-Authenticate Basic, in the body without',
    async (_method, app) => {
      const byBasic = await codeCall(app, 'basic', 'mcp:read', 'wrong');
      expectOAuthError(byBasic, 401, 'invalid_client');
      expect(byBasic.headers['www-authenticate']).toMatch(/^Basic /);
      const inBody = await codeCall(app, 'post', 'mcp:read', 'wrong');
      expectOAuthError(inBody, 401, 'invalid_client');
      expect(inBody.headers['www-authenticate']).toBeUndefined();
    },
  );

  it.each([BASIC_APP, POST_APP])(
    'both Basic and client_secret in one request ($token_endpoint_auth_method) is invalid_request',
    async (app) => {
      const issued = await issueCode({ client_id: app.client_id, scope: 'mcp:read' });
      const reply = await post(
        tokenHandler,
        '/token',
        { ...exchangeParams(issued), client_secret: SECRET },
        basicAuthorization(app.client_id, SECRET),
      );
      expectOAuthError(reply, 400, 'invalid_request');
      // The refusal did not spend the code: the client's own method still redeems it.
      expect((await tokenCall(app, wayOf(app), exchangeParams(issued))).status).toBe(200);
    },
  );
});
