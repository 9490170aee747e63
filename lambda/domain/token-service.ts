/**
 * Authorization codes, access tokens and rotating refresh tokens (RFC 6749 4.1, 6; RFC 9068;
 * RFC 9700 4.14), all of one sign-in kept in one grant record (grants.ts): spending a code or
 * rotating a refresh token is one conditional write of it. Pure but for its ports: the grant
 * store, the signer and the clock.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { GrantType } from '../contract/capabilities.js';
import { DEFAULT_LIFETIMES } from '../contract/environment.js';
import type { RegisteredClient } from './clients.js';
import { hashSecret, newSecret } from './credentials.js';
import type { GrantRecord, GrantStore, PendingAuthorization, Rotation } from './grants.js';
import { OAuthError } from './oauth-error.js';
import { pkceVerifierMatches, s256Challenge } from './pkce.js';
import { OFFLINE_ACCESS } from './resource-scopes.js';
import { DEFAULT_REFRESH_TOKEN_REUSE_GRACE, type ServerConfig } from './server-config.js';
import type { AccessTokenSigner } from './signing.js';

export interface TokenDeps {
  grants: GrantStore;
  signer: AccessTokenSigner;
  config: ServerConfig;
  /** Seconds since the epoch. */
  now: () => number;
  /** Told what this service did to a grant, for the audit log; see GrantReport. */
  report?: (what: GrantReport) => void;
}

/**
 * What became of a grant, reported once it happened: tokens issued for it (a code exchange or
 * a refresh), or the whole grant revoked because a code or refresh token was used again.
 * Identifiers only, never a token.
 */
export interface GrantReport {
  what: 'issued' | 'revoked';
  grantId: string;
  clientId: string;
  subject: string;
}

export function reportGrant(
  deps: TokenDeps,
  what: GrantReport['what'],
  grant: Pick<GrantRecord, 'grant_id' | 'client_id' | 'subject'>,
) {
  deps.report?.({ what, grantId: grant.grant_id, clientId: grant.client_id, subject: grant.subject });
}

/** Refresh tokens a generation may hold from the grace window (concurrent or retried refreshes). */
export const MAX_REFRESH_SIBLINGS = 25;

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

export function newGrantId(): string {
  return randomBytes(16).toString('base64url');
}

/** A code or refresh token: the grant's id, then the secret whose hash alone is stored. */
function grantToken(grantId: string, secret: string): string {
  return `${grantId}.${secret}`;
}

const GRANT_TOKEN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** The grant a presented code or refresh token names, and its secret's hash; undefined for anything else. */
export function parseGrantToken(value: string): { grantId: string; hash: string } | undefined {
  const match = GRANT_TOKEN.exec(value);
  return match ? { grantId: match[1], hash: hashSecret(match[2]) } : undefined;
}

/** Mints the code for a completed sign-in: a new grant record; only the code's hash is stored. */
export async function mintAuthorizationCode(
  deps: Pick<TokenDeps, 'grants' | 'now' | 'config'>,
  pending: PendingAuthorization,
  subject: string,
): Promise<string> {
  const now = deps.now();
  const grantId = newGrantId();
  const secret = newSecret();
  const codeExpiresAt = now + DEFAULT_LIFETIMES.authorizationCode;
  const grant: GrantRecord = {
    grant_id: grantId,
    client_id: pending.client_id,
    ...(pending.client_name ? { client_name: pending.client_name } : {}),
    subject,
    scope: pending.scope,
    resource: pending.resource,
    created_at: now,
    grant_expires_at: now + deps.config.refreshTokenAbsoluteTtl,
    expires_at: codeExpiresAt,
    code_hash: hashSecret(secret),
    code_challenge: pending.code_challenge,
    redirect_uri: pending.redirect_uri,
    redirect_uri_in_request: pending.redirect_uri_in_request,
    code_expires_at: codeExpiresAt,
  };
  await deps.grants.createGrant(grant);
  return grantToken(grantId, secret);
}

const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);

export function requireGrantType(client: RegisteredClient, grantType: GrantType): void {
  if (!client.grant_types.includes(grantType)) {
    throw new OAuthError('unauthorized_client', `The client did not register the ${grantType} grant.`);
  }
}

const withoutOfflineAccess = (scope: string) =>
  scope
    .split(' ')
    .filter((item) => item !== '' && item !== OFFLINE_ACCESS)
    .join(' ');

/**
 * Signs the access token of a grant and answers it, with the refresh token the write just stored.
 * A grant no person made (`grant_type` client_credentials) says so in the token: `gty`.
 */
export async function issueTokens(
  deps: TokenDeps,
  client: RegisteredClient,
  grant: Pick<GrantRecord, 'grant_id' | 'subject' | 'resource' | 'grant_type'>,
  accessScope: string,
  refreshToken: string | undefined,
): Promise<TokenResponse> {
  const now = deps.now();
  const { config } = deps;
  // offline_access asks for a refresh token: without one it is not granted.
  const scope = refreshToken ? accessScope : withoutOfflineAccess(accessScope);
  const accessToken = await deps.signer.sign(
    {
      iss: config.issuer,
      sub: grant.subject,
      aud: grant.resource,
      client_id: client.client_id,
      ...(scope ? { scope } : {}),
      // The grant the token came from (not a secret: a code or refresh token is the id and a
      // secret): the resource checks it is still live, so revoking the grant ends this token.
      sid: grant.grant_id,
      ...(grant.grant_type ? { gty: grant.grant_type } : {}),
      iat: now,
      exp: now + config.accessTokenTtl,
      jti: randomUUID(),
    },
    'at+jwt',
  );
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: config.accessTokenTtl,
    scope,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  };
}

/**
 * Why a code that exists and is unused may not be redeemed by this request, in the order the
 * checks are reported. Throws the OAuth error; returns only when nothing is wrong.
 */
function checkCode(
  code: GrantRecord,
  client: RegisteredClient,
  params: Readonly<Record<string, string>>,
  now: number,
): void {
  if (code.revoked_at !== undefined) throw invalidGrant('The authorization code has been revoked.');
  if ((code.code_expires_at ?? 0) <= now) throw invalidGrant('The authorization code has expired.');
  if (code.client_id !== client.client_id) throw invalidGrant('The authorization code was issued to another client.');
  if (code.redirect_uri_in_request || params.redirect_uri !== undefined) {
    if (params.redirect_uri !== code.redirect_uri) {
      throw invalidGrant('redirect_uri does not match the one in the authorization request.');
    }
  }
  if (!params.code_verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE).');
  if (!pkceVerifierMatches(params.code_verifier, code.code_challenge ?? '')) {
    throw invalidGrant('code_verifier does not match the code_challenge.');
  }
  if (params.resource !== undefined && params.resource !== code.resource) {
    throw new OAuthError('invalid_target', 'resource does not match the one in the authorization request.');
  }
}

/** The S256 challenge of the request's verifier, or '' (which no stored challenge equals). */
function challengeOf(verifier: string | undefined): string {
  return verifier && pkceVerifierMatches(verifier, s256Challenge(verifier)) ? s256Challenge(verifier) : '';
}

/** RFC 6749 4.1.3 with PKCE (RFC 7636 4.6) and resource indicators (RFC 8707 2.2). */
export async function exchangeAuthorizationCode(
  deps: TokenDeps,
  client: RegisteredClient,
  params: Readonly<Record<string, string>>,
): Promise<TokenResponse> {
  requireGrantType(client, 'authorization_code');
  if (!params.code) throw new OAuthError('invalid_request', 'code is required.');
  const presented = parseGrantToken(params.code);
  if (!presented) throw invalidGrant('The authorization code is not valid.');
  const now = deps.now();
  const refreshSecret = client.grant_types.includes('refresh_token') ? newSecret() : undefined;
  // One conditional write checks and spends the code and starts the grant's refresh tokens: of
  // two concurrent redemptions exactly one succeeds, and a refused request changes nothing.
  const redemption = await deps.grants.redeemCode({
    grantId: presented.grantId,
    codeHash: presented.hash,
    now,
    clientId: client.client_id,
    codeChallenge: challengeOf(params.code_verifier),
    redirectUri: params.redirect_uri,
    resource: params.resource,
    refreshHash: refreshSecret ? hashSecret(refreshSecret) : undefined,
    // The grant lives as long as its refresh token may idle, or as its access token without one.
    expiresAt: refreshSecret ? now + deps.config.refreshTokenIdleTtl : now + deps.config.accessTokenTtl,
  });
  if (redemption.outcome === 'missing') throw invalidGrant('The authorization code is not valid.');
  if (redemption.outcome === 'refused') {
    const grant = redemption.record;
    if (grant.code_hash !== presented.hash) throw invalidGrant('The authorization code is not valid.');
    if (grant.code_redeemed_at !== undefined) return replayedCode(deps, grant, now);
    checkCode(grant, client, params, now);
    throw invalidGrant('The authorization code is not valid.');
  }
  const grant = redemption.before;
  const refreshToken = refreshSecret && grantToken(grant.grant_id, refreshSecret);
  const tokens = await issueOrRelease(
    () => issueTokens(deps, client, grant, grant.scope, refreshToken),
    () => deps.grants.releaseCode(grant.grant_id, now, grant.code_expires_at ?? now),
  );
  reportGrant(deps, 'issued', grant);
  return tokens;
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

/** RFC 6749 4.1.2: a code used twice revokes the grant, and so the tokens it was used for. */
async function replayedCode(deps: TokenDeps, grant: GrantRecord, now: number): Promise<never> {
  await deps.grants.revokeGrant(grant.grant_id, now);
  reportGrant(deps, 'revoked', grant);
  throw invalidGrant('The authorization code was already used; tokens issued for it are revoked.');
}

/** Why a grant's refresh token cannot be used now, when the rotating write was refused. */
function refreshRefusal(grant: GrantRecord, client: RegisteredClient, now: number): OAuthError | undefined {
  if (grant.client_id !== client.client_id) return invalidGrant('The refresh token was issued to another client.');
  if (grant.revoked_at !== undefined) return invalidGrant('The refresh token has been revoked.');
  if (grant.expires_at <= now || grant.grant_expires_at <= now) return invalidGrant('The refresh token has expired.');
  return undefined;
}

/**
 * RFC 6749 6 with rotation (RFC 9700 4.14.2): every use returns a new refresh token. A token of
 * the previous generation presented again within the reuse grace window (several processes of
 * one client sharing a token, a lost answer retried) gets a new token of the current generation,
 * so every answer's token stays usable; any other reuse revokes the grant.
 */
export async function refreshTokens(
  deps: TokenDeps,
  client: RegisteredClient,
  params: Readonly<Record<string, string>>,
): Promise<TokenResponse> {
  requireGrantType(client, 'refresh_token');
  if (!params.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required.');
  if (params.scope !== undefined && params.scope.length > 1000) {
    throw new OAuthError('invalid_scope', 'scope is too long.');
  }
  const presented = parseGrantToken(params.refresh_token);
  if (!presented) throw invalidGrant('The refresh token is not valid.');
  const now = deps.now();
  const newSecretValue = newSecret();
  const rotation: Rotation = {
    grantId: presented.grantId,
    clientId: client.client_id,
    presentedHash: presented.hash,
    newHash: hashSecret(newSecretValue),
    now,
    // May pass the grant's absolute end, which every use checks apart (grant_expires_at).
    expiresAt: now + deps.config.refreshTokenIdleTtl,
  };
  // One conditional write; the scope and resource are then checked against the grant it
  // returns, and a refused request releases what it took.
  const rotated = await deps.grants.rotateRefreshToken(rotation);
  let grant: GrantRecord;
  let release: () => Promise<void>;
  if (rotated.outcome === 'written') {
    grant = rotated.before;
    release = () => deps.grants.releaseRotation(rotation, rotated.before);
  } else {
    if (rotated.outcome === 'missing') throw invalidGrant('The refresh token is not valid.');
    const current = rotated.record;
    const refusal = refreshRefusal(current, client, now);
    if (refusal) throw refusal;
    const grace = deps.config.refreshTokenReuseGrace ?? DEFAULT_REFRESH_TOKEN_REUSE_GRACE;
    const inWindow =
      grace > 0 &&
      (current.previous_hashes ?? []).includes(presented.hash) &&
      current.rotated_at !== undefined &&
      now - current.rotated_at <= grace;
    if (!inWindow) return replayedRefreshToken(deps, current, now);
    const added = await deps.grants.addRefreshSibling({
      ...rotation,
      rotatedAfter: now - grace,
      maxSiblings: MAX_REFRESH_SIBLINGS,
    });
    if (added.outcome !== 'written') {
      throw invalidGrant('The refresh token is no longer valid: too many concurrent refreshes.');
    }
    grant = added.before;
    // A sibling needs no release: the presented token stays valid within the window.
    release = async () => undefined;
  }
  let accessScope = grant.scope;
  try {
    // RFC 6749 3.2: a parameter sent without a value is treated as omitted, so `scope=` (what a
    // client repeating an empty grant sends) keeps the granted scope.
    if (params.scope) {
      const granted = new Set(grant.scope.split(' ').filter(Boolean));
      const asked = params.scope.split(' ').filter(Boolean);
      if (!asked.every((item) => granted.has(item))) {
        throw new OAuthError('invalid_scope', 'A refresh may only narrow the scope that was granted.');
      }
      accessScope = [...new Set(asked)].join(' ');
    }
    if (params.resource !== undefined && params.resource !== grant.resource) {
      throw new OAuthError('invalid_target', 'resource does not match the one the refresh token was issued for.');
    }
  } catch (error) {
    // A refused request changes nothing: the presented token stays usable.
    await release();
    throw error;
  }
  const tokens = await issueOrRelease(
    // RFC 6749 6: the new refresh token keeps the grant's scope; the access token may be narrower.
    () => issueTokens(deps, client, grant, accessScope, grantToken(grant.grant_id, newSecretValue)),
    release,
  );
  reportGrant(deps, 'issued', grant);
  return tokens;
}

async function replayedRefreshToken(deps: TokenDeps, grant: GrantRecord, now: number): Promise<never> {
  await deps.grants.revokeGrant(grant.grant_id, now);
  reportGrant(deps, 'revoked', grant);
  throw invalidGrant('The refresh token was already used; its whole grant is revoked.');
}

/**
 * What a presented access token says about its grant, once its signature, issuer and audience
 * are verified; undefined for anything that is not a valid access token of this server.
 */
export interface AccessTokenGrants {
  grantOf(token: string): Promise<{ grantId: string; clientId: string } | undefined>;
}

/**
 * RFC 7009: a live refresh token of this client ends its grant at once, in one conditional
 * write. So does a valid access token of this client (section 2.1 leaves it to the server what
 * else revoking an access token ends): its whole grant, refresh tokens and every access token of
 * it, which the resource refuses within its grant-status cache period. Unknown tokens, expired
 * ones and other clients' tokens are not an error and end nothing. Returns the id of the grant it
 * ended, if it ended one (for the log).
 */
export async function revokeToken(
  deps: Pick<TokenDeps, 'grants' | 'now'> & { accessTokens?: AccessTokenGrants },
  client: RegisteredClient,
  token: string | undefined,
): Promise<string | undefined> {
  if (!token) throw new OAuthError('invalid_request', 'token is required.');
  const presented = parseGrantToken(token);
  if (!presented) return revokeByAccessToken(deps, client, token);
  const ended = await deps.grants.revokeGrantByRefreshToken(
    presented.grantId,
    client.client_id,
    presented.hash,
    deps.now(),
  );
  return ended ? presented.grantId : undefined;
}

async function revokeByAccessToken(
  deps: Pick<TokenDeps, 'grants' | 'now'> & { accessTokens?: AccessTokenGrants },
  client: RegisteredClient,
  token: string,
): Promise<string | undefined> {
  const claims = await deps.accessTokens?.grantOf(token);
  // The token's client_id is signed with its sid: a client ends only grants of its own.
  if (!claims || claims.clientId !== client.client_id) return undefined;
  await deps.grants.revokeGrant(claims.grantId, deps.now());
  return claims.grantId;
}
