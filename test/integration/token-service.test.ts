/**
 * The token service against the real DynamoDB grant store on dynalite, a real ES256 key in a
 * temporary directory and a clock the tests move: codes, access tokens, rotating refresh
 * tokens, replays, expiries and revocation.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIFETIMES } from '../../lambda/contract/environment.js';
import type { RegisteredClient } from '../../lambda/domain/clients.js';
import type { PendingAuthorization } from '../../lambda/domain/grants.js';
import { OAuthError, UnavailableError } from '../../lambda/domain/oauth-error.js';
import { s256Challenge } from '../../lambda/domain/pkce.js';
import type { ServerConfig } from '../../lambda/domain/server-config.js';
import {
  exchangeAuthorizationCode,
  mintAuthorizationCode,
  refreshTokens,
  revokeToken,
  type TokenDeps,
  type TokenResponse,
} from '../../lambda/domain/token-service.js';
import { LocalSigningKey } from '../../lambda/keys/local-signing-key.js';
import { DynamoDbGrantStore } from '../../lambda/store/dynamodb-grant-store.js';
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
    });
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

  it('omits scope from the token and the response when none was granted', async () => {
    const tokens = await tokensFor({ scope: '' });
    expect(tokens).not.toHaveProperty('scope');
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

  it('a replayed refresh token is refused and revokes its family, so the rotated one fails too', async () => {
    const first = await tokensFor();
    const second = await refresh(first.refresh_token);
    await expectRefused(refresh(first.refresh_token), 'invalid_grant');
    await expectRefused(refresh(second.refresh_token), 'invalid_grant');
  });

  it('a replay in one family leaves another family of the same person alone', async () => {
    const mine = await tokensFor();
    const other = await tokensFor();
    await refresh(mine.refresh_token);
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
