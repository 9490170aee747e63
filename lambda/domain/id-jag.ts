/**
 * Enterprise-managed authorization (MCP SEP-990): the Identity Assertion JWT Authorization Grant
 * ("ID-JAG", draft-ietf-oauth-identity-assertion-authz-grant), presented with the RFC 7523 JWT
 * bearer grant (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, `assertion=<ID-JAG>`).
 * The company's identity provider, trusted by this deployment, vouches that one of its people may
 * use one client at one of our resources; no browser, no consent page.
 *
 * Accepted only when every rule holds, each refusal `invalid_grant` (RFC 7521 4.1.1) naming the
 * rule: at most ASSERTION_LIMITS.maxBytes; a JWS whose `typ` is `oauth-id-jag+jwt` and whose
 * `alg` is asymmetric (never `none`, never HMAC: an HMAC "keyed" with a public key is forgeable);
 * `iss` a trusted issuer whose keys verify the signature; `aud` this issuer; `client_id` the
 * authenticated client; `resource` one of ours; `exp` in the future and at most
 * ASSERTION_LIMITS.maxLifetimeSeconds away; `jti` spent once. The token's subject is the IdP's
 * `sub` namespaced by its issuer (`<iss>#<sub>`: an issuer has no fragment, so the first `#`
 * splits them, and two IdPs' subjects never collide). Each token gets its own grant record, as a
 * client-credentials token does, so the grant check and revocation reach it; no refresh token.
 */
import { createLocalJWKSet, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import { CLIENT_ASSERTION_SIGNING_ALGS } from '../contract/capabilities.js';
import { ASSERTION_LIMITS, type ClientJwks, type ClientKeySource, jwksProblem } from './client-assertion.js';
import type { RegisteredClient } from './clients.js';
import type { GrantRecord } from './grants.js';
import { OAuthError } from './oauth-error.js';
import { OFFLINE_ACCESS } from './resource-scopes.js';
import { grantableScope } from './server-config.js';
import {
  issueTokens,
  newGrantId,
  reportGrant,
  requireGrantType,
  type TokenDeps,
  type TokenResponse,
} from './token-service.js';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ID_JAG_TYP = 'oauth-id-jag+jwt';
/** Trusted issuers one deployment may list. */
export const MAX_TRUSTED_ISSUERS = 20;

/** One trusted enterprise IdP (ID_JAG_TRUSTED_ISSUERS): its issuer and where its keys are. */
export type TrustedIssuer = { issuer: string; jwks_uri: string } | { issuer: string; jwks: ClientJwks };

/**
 * Reads ID_JAG_TRUSTED_ISSUERS (a JSON array, shape pinned in INTERFACES.md). Unset or empty: no
 * issuer is trusted. Anything malformed throws, naming the entry: the function then fails at its
 * cold start instead of refusing every enterprise client later.
 */
export function parseTrustedIssuers(raw: string | undefined, name = 'ID_JAG_TRUSTED_ISSUERS'): TrustedIssuer[] {
  if (raw === undefined || raw.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`${name} must be a JSON array`);
  }
  if (!Array.isArray(value)) throw new Error(`${name} must be a JSON array`);
  if (value.length > MAX_TRUSTED_ISSUERS) throw new Error(`${name} may list at most ${MAX_TRUSTED_ISSUERS} issuers`);
  const seen = new Set<string>();
  return value.map((entry, index) => {
    const where = `${name}[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new Error(`${where} must be an object`);
    }
    const { issuer, jwks_uri: uri, jwks } = entry as Record<string, unknown>;
    if (typeof issuer !== 'string' || !URL.canParse(issuer) || issuer.includes('#')) {
      throw new Error(`${where}.issuer must be a URL without a fragment`);
    }
    if (seen.has(issuer)) throw new Error(`${where}.issuer ${issuer} is listed twice`);
    seen.add(issuer);
    if ((uri === undefined) === (jwks === undefined))
      throw new Error(`${where} needs exactly one of jwks_uri and jwks`);
    if (uri !== undefined) {
      if (typeof uri !== 'string' || !URL.canParse(uri)) throw new Error(`${where}.jwks_uri must be a URL`);
      return { issuer, jwks_uri: uri };
    }
    const problem = jwksProblem(jwks);
    if (problem) throw new Error(`${where}.jwks ${problem}`);
    return { issuer, jwks: jwks as ClientJwks };
  });
}

/** Spent ID-JAG ids, per issuer (the same conditional write as client assertions' jti, its own prefix). */
export interface IdJagReplayStore {
  /** Records `jti` of `issuer` until `expiresAt`; resolves false when it was already recorded. */
  spend(issuer: string, jti: string, expiresAt: number): Promise<boolean>;
}

export interface IdJagDeps {
  issuers: readonly TrustedIssuer[];
  /** Fetches a `jwks_uri` through the SSRF guard, cached (the client-assertion key source). */
  keys: ClientKeySource;
  replay: IdJagReplayStore;
}

const refuse = (description: string) => new OAuthError('invalid_grant', description);

async function issuerKeys(trusted: TrustedIssuer, keys: ClientKeySource, refresh: boolean): Promise<ClientJwks> {
  return 'jwks' in trusted ? trusted.jwks : keys.jwksAt(trusted.jwks_uri, { refresh });
}

async function verifiedClaims(assertion: string, trusted: TrustedIssuer, keys: ClientKeySource): Promise<JWTPayload> {
  const attempt = async (refresh: boolean) =>
    (
      await jwtVerify(assertion, createLocalJWKSet(await issuerKeys(trusted, keys, refresh)), {
        algorithms: [...CLIENT_ASSERTION_SIGNING_ALGS],
        typ: ID_JAG_TYP,
      })
    ).payload;
  try {
    try {
      return await attempt(false);
    } catch (error) {
      // An unknown kid may be a key the IdP has just rotated in: fetch its JWKS once more.
      if (error instanceof errors.JWKSNoMatchingKey && 'jwks_uri' in trusted) return await attempt(true);
      throw error;
    }
  } catch (error) {
    if (error instanceof OAuthError) throw error;
    if (error instanceof errors.JWTExpired) throw refuse('The assertion has expired (exp).');
    if (error instanceof errors.JWKSNoMatchingKey) throw refuse("No key of the issuer's JWKS fits the assertion.");
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      throw refuse("The assertion's signature does not verify with the issuer's keys.");
    }
    throw refuse(`The assertion is not a valid ID-JAG (${(error as Error).message}).`);
  }
}

/** The checks before any key is used: size, form, typ, alg, and a trusted issuer. */
function preflight(assertion: string, issuers: readonly TrustedIssuer[]): TrustedIssuer {
  if (Buffer.byteLength(assertion, 'utf8') > ASSERTION_LIMITS.maxBytes) {
    throw refuse(`The assertion is larger than ${ASSERTION_LIMITS.maxBytes} bytes.`);
  }
  const parts = assertion.split('.');
  if (parts.length !== 3) throw refuse('The assertion must be a signed JWT in compact form.');
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(assertion);
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw refuse('The assertion is not a JWT.');
  }
  if (typeof header.typ !== 'string' || header.typ.toLowerCase().replace(/^application\//, '') !== ID_JAG_TYP) {
    throw refuse(`The assertion's typ must be ${ID_JAG_TYP}.`);
  }
  if (typeof header.alg !== 'string' || !(CLIENT_ASSERTION_SIGNING_ALGS as readonly string[]).includes(header.alg)) {
    throw refuse(
      `The assertion's alg ${String(header.alg)} is not accepted: it must be one of ${CLIENT_ASSERTION_SIGNING_ALGS.join(', ')}.`,
    );
  }
  const trusted = issuers.find((each) => each.issuer === payload?.iss);
  if (!trusted) throw refuse("The assertion's issuer (iss) is not a trusted identity provider.");
  return trusted;
}

/** RFC 7523 2.1 with an ID-JAG: verifies the assertion and issues an access token for its subject. */
export async function idJagGrant(
  deps: TokenDeps & { idJag?: IdJagDeps },
  client: RegisteredClient,
  params: Readonly<Record<string, string>>,
): Promise<TokenResponse> {
  if (client.token_endpoint_auth_method === 'none') {
    throw new OAuthError('unauthorized_client', 'The jwt-bearer grant is for confidential clients only.');
  }
  requireGrantType(client, JWT_BEARER_GRANT);
  if (!params.assertion) throw new OAuthError('invalid_request', 'assertion is required.');
  const issuers = deps.idJag?.issuers ?? [];
  if (!deps.idJag || issuers.length === 0) {
    throw refuse('This server trusts no identity provider for ID-JAG assertions.');
  }
  const trusted = preflight(params.assertion, issuers);
  const claims = await verifiedClaims(params.assertion, trusted, deps.idJag.keys);
  const now = deps.now();
  const { config } = deps;
  const aud = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
  if (aud.length !== 1 || aud[0] !== config.issuer) throw refuse(`The assertion's aud must be ${config.issuer}.`);
  if (claims.client_id !== client.client_id) {
    throw refuse("The assertion's client_id is not the authenticated client.");
  }
  if (typeof claims.exp !== 'number') throw refuse('The assertion must have an exp.');
  if (claims.exp > now + ASSERTION_LIMITS.maxLifetimeSeconds + ASSERTION_LIMITS.clockSkewSeconds) {
    throw refuse(`The assertion's exp is more than ${ASSERTION_LIMITS.maxLifetimeSeconds} seconds away.`);
  }
  if (typeof claims.sub !== 'string' || claims.sub === '' || claims.sub.length > 255) {
    throw refuse('The assertion must have a sub of at most 255 characters.');
  }
  const resource = typeof claims.resource === 'string' ? claims.resource : undefined;
  if (!resource || !config.resources.includes(resource)) {
    throw refuse("The assertion's resource is not a resource this server issues tokens for.");
  }
  if (params.resource !== undefined && params.resource !== resource) {
    throw new OAuthError('invalid_target', "resource does not match the assertion's resource.");
  }
  if (typeof claims.jti !== 'string' || claims.jti === '' || claims.jti.length > ASSERTION_LIMITS.maxJtiLength) {
    throw refuse(`The assertion must have a jti of at most ${ASSERTION_LIMITS.maxJtiLength} characters.`);
  }
  if (!(await deps.idJag.replay.spend(trusted.issuer, claims.jti, claims.exp + ASSERTION_LIMITS.clockSkewSeconds))) {
    throw refuse('The assertion was already used (jti).');
  }
  const asserted = typeof claims.scope === 'string' ? claims.scope : '';
  const scope = grantableScope(config, asserted)
    .split(' ')
    .filter((each) => each !== '' && each !== OFFLINE_ACCESS)
    .join(' ');
  const ends = now + config.accessTokenTtl;
  const grant: GrantRecord = {
    grant_id: newGrantId(),
    grant_type: JWT_BEARER_GRANT,
    client_id: client.client_id,
    ...(client.client_name ? { client_name: client.client_name } : {}),
    subject: `${trusted.issuer}#${claims.sub}`,
    scope,
    resource,
    created_at: now,
    grant_expires_at: ends,
    expires_at: ends,
  };
  await deps.grants.createGrant(grant);
  const tokens = await issueTokens(deps, client, grant, scope, undefined);
  reportGrant(deps, 'issued', grant);
  return tokens;
}
