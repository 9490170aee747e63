/**
 * Authorization codes, access tokens and rotating refresh tokens (RFC 6749 4.1, 6; RFC 9068;
 * RFC 9700 4.14). Pure but for its ports: the grant store, the signer and the clock.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { GrantType } from '../contract/capabilities.js';
import { DEFAULT_LIFETIMES } from '../contract/environment.js';
import type { RegisteredClient } from './clients.js';
import { hashSecret, newSecret } from './credentials.js';
import type {
  AuthorizationCodeRecord,
  ConsumeExpectations,
  GrantStore,
  PendingAuthorization,
  RefreshTokenRecord,
} from './grants.js';
import { OAuthError } from './oauth-error.js';
import { pkceVerifierMatches, s256Challenge } from './pkce.js';
import { OFFLINE_ACCESS } from './resource-scopes.js';
import type { ServerConfig } from './server-config.js';
import type { AccessTokenSigner } from './signing.js';

export interface TokenDeps {
  grants: GrantStore;
  signer: AccessTokenSigner;
  config: ServerConfig;
  /** Seconds since the epoch. */
  now: () => number;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  /**
   * The scope of this access token, always sent (RFC 6749 5.1: OPTIONAL only when identical to
   * the request, REQUIRED otherwise; sending it always keeps that true without the server
   * remembering what was asked). Empty when nothing was granted: the one value that tells a
   * client which asked for scopes that it holds none, where an omitted scope would tell it that
   * it holds them all (section 3.3). A client repeating it on refresh is then accepted.
   */
  scope: string;
}

export function newFamilyId(): string {
  return randomBytes(16).toString('base64url');
}

/** Mints the code for a completed sign-in; only its hash is stored. */
export async function mintAuthorizationCode(
  deps: Pick<TokenDeps, 'grants' | 'now'>,
  pending: PendingAuthorization,
  subject: string,
): Promise<string> {
  const code = newSecret();
  await deps.grants.putCode(hashSecret(code), {
    client_id: pending.client_id,
    redirect_uri: pending.redirect_uri,
    redirect_uri_in_request: pending.redirect_uri_in_request,
    code_challenge: pending.code_challenge,
    scope: pending.scope,
    resource: pending.resource,
    subject,
    family_id: newFamilyId(),
    expires_at: deps.now() + DEFAULT_LIFETIMES.authorizationCode,
  });
  return code;
}

const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);

function requireGrantType(client: RegisteredClient, grantType: GrantType): void {
  if (!client.grant_types.includes(grantType)) {
    throw new OAuthError('unauthorized_client', `The client did not register the ${grantType} grant.`);
  }
}

const withoutOfflineAccess = (scope: string) =>
  scope
    .split(' ')
    .filter((item) => item !== '' && item !== OFFLINE_ACCESS)
    .join(' ');

async function issueTokens(
  deps: TokenDeps,
  client: RegisteredClient,
  grant: {
    subject: string;
    /** Scope of the grant, kept by the new refresh token. */
    scope: string;
    /** Scope of this access token: the grant's, or narrower on a refresh. */
    accessScope: string;
    resource: string;
    familyId: string;
    familyExpiresAt: number;
  },
): Promise<TokenResponse> {
  const now = deps.now();
  const { config } = deps;
  const refreshes = client.grant_types.includes('refresh_token');
  // offline_access asks for a refresh token: without one it is not granted.
  const accessScope = refreshes ? grant.accessScope : withoutOfflineAccess(grant.accessScope);
  const accessToken = await deps.signer.sign(
    {
      iss: config.issuer,
      sub: grant.subject,
      aud: grant.resource,
      client_id: client.client_id,
      ...(accessScope ? { scope: accessScope } : {}),
      iat: now,
      exp: now + config.accessTokenTtl,
      jti: randomUUID(),
    },
    'at+jwt',
  );
  const response: TokenResponse = {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: config.accessTokenTtl,
    scope: accessScope,
  };
  if (refreshes) {
    const refreshToken = newSecret();
    const record: RefreshTokenRecord = {
      client_id: client.client_id,
      subject: grant.subject,
      scope: grant.scope,
      resource: grant.resource,
      family_id: grant.familyId,
      expires_at: Math.min(now + config.refreshTokenIdleTtl, grant.familyExpiresAt),
      family_expires_at: grant.familyExpiresAt,
    };
    await deps.grants.putRefreshToken(hashSecret(refreshToken), record);
    response.refresh_token = refreshToken;
  }
  return response;
}

/**
 * Why a code that exists and is unused may not be redeemed by this request, in the order the
 * checks are reported. Throws the OAuth error; returns only when nothing is wrong.
 */
function checkCode(
  code: AuthorizationCodeRecord,
  client: RegisteredClient,
  params: Readonly<Record<string, string>>,
  now: number,
): void {
  if (code.expires_at <= now) throw invalidGrant('The authorization code has expired.');
  if (code.client_id !== client.client_id) throw invalidGrant('The authorization code was issued to another client.');
  if (code.redirect_uri_in_request || params.redirect_uri !== undefined) {
    if (params.redirect_uri !== code.redirect_uri) {
      throw invalidGrant('redirect_uri does not match the one in the authorization request.');
    }
  }
  if (!params.code_verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE).');
  if (!pkceVerifierMatches(params.code_verifier, code.code_challenge)) {
    throw invalidGrant('code_verifier does not match the code_challenge.');
  }
  if (params.resource !== undefined && params.resource !== code.resource) {
    throw new OAuthError('invalid_target', 'resource does not match the one in the authorization request.');
  }
}

/**
 * The same checks as conditions of the redeeming write, so a valid request spends the code
 * without reading it first and a refused one writes nothing. A challenge that cannot be
 * computed (no or a malformed verifier) is a condition no stored code meets.
 */
function redemptionExpectations(
  client: RegisteredClient,
  params: Readonly<Record<string, string>>,
  now: number,
): ConsumeExpectations {
  const verifier = params.code_verifier;
  const challenge = verifier && pkceVerifierMatches(verifier, s256Challenge(verifier)) ? s256Challenge(verifier) : '';
  return {
    validAt: now,
    equals: {
      client_id: client.client_id,
      code_challenge: challenge,
      ...(params.redirect_uri !== undefined
        ? { redirect_uri: params.redirect_uri }
        : { redirect_uri_in_request: false }),
      ...(params.resource !== undefined ? { resource: params.resource } : {}),
    },
  };
}

/** RFC 6749 4.1.3 with PKCE (RFC 7636 4.6) and resource indicators (RFC 8707 2.2). */
export async function exchangeAuthorizationCode(
  deps: TokenDeps,
  client: RegisteredClient,
  params: Readonly<Record<string, string>>,
): Promise<TokenResponse> {
  requireGrantType(client, 'authorization_code');
  if (!params.code) throw new OAuthError('invalid_request', 'code is required.');
  const now = deps.now();
  // One conditional write checks and spends the code: of two concurrent redemptions exactly one
  // succeeds, and a refused request changes nothing.
  const redemption = await deps.grants.redeemCode(
    hashSecret(params.code),
    now,
    redemptionExpectations(client, params, now),
  );
  if (redemption.outcome === 'missing') throw invalidGrant('The authorization code is not valid.');
  const code = redemption.record;
  if (redemption.outcome === 'replayed') return replayedCode(deps, code.family_id, now);
  if (redemption.outcome === 'refused') {
    checkCode(code, client, params, now);
    throw invalidGrant('The authorization code is not valid.');
  }
  return issueOrRelease(
    () =>
      issueTokens(deps, client, {
        subject: code.subject,
        scope: code.scope,
        accessScope: code.scope,
        resource: code.resource,
        familyId: code.family_id,
        familyExpiresAt: now + deps.config.refreshTokenAbsoluteTtl,
      }),
    () => deps.grants.releaseCode(hashSecret(params.code), now),
  );
}

/**
 * Issues tokens for a code or refresh token this request has just spent. If that fails (the
 * signing key or the table is unreachable: a 503), the spending is undone before the error is
 * answered, so the client's retry can succeed instead of meeting a replay and a revoked family.
 */
async function issueOrRelease(issue: () => Promise<TokenResponse>, release: () => Promise<void>) {
  try {
    return await issue();
  } catch (error) {
    await release();
    throw error;
  }
}

/** RFC 6749 4.1.2: a code used twice revokes the tokens it was used for. */
async function replayedCode(deps: TokenDeps, familyId: string, now: number): Promise<never> {
  await deps.grants.revokeFamily(familyId, now + deps.config.refreshTokenAbsoluteTtl);
  throw invalidGrant('The authorization code was already used; tokens issued for it are revoked.');
}

/** RFC 6749 6 with rotation: every use returns a new refresh token; a replay ends the family. */
export async function refreshTokens(
  deps: TokenDeps,
  client: RegisteredClient,
  params: Readonly<Record<string, string>>,
): Promise<TokenResponse> {
  requireGrantType(client, 'refresh_token');
  if (!params.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required.');
  const now = deps.now();
  const tokenHash = hashSecret(params.refresh_token);
  const token = await deps.grants.getRefreshToken(tokenHash);
  if (!token) throw invalidGrant('The refresh token is not valid.');
  if (token.client_id !== client.client_id) throw invalidGrant('The refresh token was issued to another client.');
  if (token.used_at !== undefined) return replayedRefreshToken(deps, token);
  if (token.expires_at <= now || token.family_expires_at <= now) throw invalidGrant('The refresh token has expired.');
  if (await deps.grants.isFamilyRevoked(token.family_id)) throw invalidGrant('The refresh token has been revoked.');
  let accessScope = token.scope;
  // RFC 6749 3.2: a parameter sent without a value is treated as omitted, so `scope=` (what a
  // client repeating an empty grant sends) keeps the granted scope.
  if (params.scope) {
    const granted = new Set(token.scope.split(' ').filter(Boolean));
    const asked = params.scope.split(' ').filter(Boolean);
    if (!asked.every((item) => granted.has(item))) {
      throw new OAuthError('invalid_scope', 'A refresh may only narrow the scope that was granted.');
    }
    accessScope = [...new Set(asked)].join(' ');
  }
  if (params.resource !== undefined && params.resource !== token.resource) {
    throw new OAuthError('invalid_target', 'resource does not match the one the refresh token was issued for.');
  }
  // Checks first, then one conditional write: a refused request leaves the token usable.
  const use = await deps.grants.useRefreshToken(tokenHash, now);
  if (use.outcome !== 'consumed') return replayedRefreshToken(deps, token);
  return issueOrRelease(
    () =>
      issueTokens(deps, client, {
        subject: token.subject,
        // RFC 6749 6: the new refresh token keeps the scope of the one it replaces.
        scope: token.scope,
        accessScope,
        resource: token.resource,
        familyId: token.family_id,
        familyExpiresAt: token.family_expires_at,
      }),
    () => deps.grants.releaseRefreshToken(tokenHash, now),
  );
}

async function replayedRefreshToken(deps: TokenDeps, token: RefreshTokenRecord): Promise<never> {
  await deps.grants.revokeFamily(token.family_id, token.family_expires_at);
  throw invalidGrant('The refresh token was already used; its whole family is revoked.');
}

/**
 * RFC 7009: a refresh token of this client ends its family at once. Access tokens are
 * self-contained JWTs and live out their short lifetime; unknown tokens are not an error.
 */
export async function revokeToken(
  deps: Pick<TokenDeps, 'grants'>,
  client: RegisteredClient,
  token: string | undefined,
): Promise<void> {
  if (!token) throw new OAuthError('invalid_request', 'token is required.');
  const record = await deps.grants.getRefreshToken(hashSecret(token));
  if (record && record.client_id === client.client_id) {
    await deps.grants.revokeFamily(record.family_id, record.family_expires_at);
  }
}
