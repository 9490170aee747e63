/**
 * Verifies the access tokens this gateway issues (RFC 9068 JWT profile, as token-service.ts
 * mints them) for one protected resource: ES256 only, header typ at+jwt, a kid naming one key of
 * the issuer's JWKS, iss exactly the issuer, aud containing exactly the resource, and exp, sub,
 * client_id and sid (the grant the token came from) present. Failures say why in a short fixed
 * sentence, never in a library's words or with anything taken from the token, so the text can
 * go into a header or a gateway response template as it is.
 *
 * Given `grantStatus` (grant-status.ts), a token whose grant was revoked, has expired or is gone
 * is refused too, within that check's cache period: that is how a revocation reaches access
 * tokens. Without it only the signature and claims are checked, and a revoked grant's access
 * tokens live until their `exp`.
 *
 * A key set that cannot be fetched or read is not the token's fault: that is a
 * JwksUnavailableError; a grant whose state cannot be read, a GrantStatusUnavailableError. A
 * caller can refuse the request and still tell either apart from an invalid token.
 */
import {
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
  type ProtectedHeaderParameters,
} from 'jose';
import { type GrantStatusCheck, GrantStatusUnavailableError } from './grant-status.js';

export { GrantStatusUnavailableError };

export const ACCESS_TOKEN_ALGORITHM = 'ES256';
/** RFC 9068 section 2.1; jose compares media types case-insensitively, with or without `application/`. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
const ACCEPTED_TYPES = new Set(['at+jwt', 'application/at+jwt']);

/** Far above any token this server signs (a few hundred bytes); bounds the work on garbage. */
const MAX_TOKEN_LENGTH = 8192;

export type InvalidTokenReason =
  | 'malformed'
  | 'unsupported_algorithm'
  | 'wrong_type'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim'
  | 'invalid_claim'
  | 'revoked'
  | 'grant_expired'
  | 'unknown_grant';

/** Fixed sentences: printable ASCII, no quotes or backslashes (safe in headers and templates). */
const DESCRIPTIONS: Record<InvalidTokenReason, string> = {
  malformed: 'The access token is malformed.',
  unsupported_algorithm: 'The access token is not signed with ES256.',
  wrong_type: 'The access token is not of type at+jwt.',
  unknown_key: 'The access token is signed with a key the issuer does not publish.',
  bad_signature: 'The access token signature is not valid.',
  expired: 'The access token has expired.',
  not_yet_valid: 'The access token is not valid yet.',
  wrong_issuer: 'The access token was issued by another authorization server.',
  wrong_audience: 'The access token was issued for another resource.',
  missing_claim: 'The access token lacks a required claim.',
  invalid_claim: 'The access token has a claim of the wrong type.',
  revoked: 'The access token has been revoked.',
  grant_expired: 'The grant of the access token has expired.',
  unknown_grant: 'The access token names no grant of this authorization server.',
};

/** The token is not acceptable; `message` is a fixed sentence safe to show the caller. */
export class InvalidAccessTokenError extends Error {
  override readonly name = 'InvalidAccessTokenError';
  constructor(
    readonly reason: InvalidTokenReason,
    options?: ErrorOptions,
  ) {
    super(DESCRIPTIONS[reason], options);
  }
}

/** The issuer's key set could not be fetched or used; says nothing about the token. */
export class JwksUnavailableError extends Error {
  override readonly name = 'JwksUnavailableError';
  constructor(options?: ErrorOptions) {
    super('The signing keys of the authorization server could not be read.', options);
  }
}

export interface VerifiedAccessToken {
  subject: string;
  clientId: string;
  /** The scope claim split on spaces; empty when the token carries none. */
  scope: string[];
  /** The exp claim: seconds since the epoch. */
  expiresAt: number;
  /** The sid claim: the id of the grant (the sign-in) the token came from; not a secret. */
  grantId: string;
}

export interface AccessTokenVerifierOptions {
  /** Compared byte for byte with `iss`. */
  issuer: string;
  /** The resource identifier (RFC 8707); `aud` must be it or an array containing it (or one of several given). */
  audience: string | string[];
  /** For instance jose's createRemoteJWKSet(new URL(jwksUrl), {...}) or createLocalJWKSet(jwks). */
  jwks: JWTVerifyGetKey;
  /** Leeway for exp and nbf; 0 unless set (issuer and resource share NTP-synchronised clocks). */
  clockToleranceSeconds?: number;
  /** Seconds since the epoch, for exp and nbf; the system clock unless set (tests). */
  now?: () => number;
  /**
   * The grant check (createGrantStatusCheck, with the library's DynamoDbGrantStateReader):
   * refuses tokens of revoked or expired grants within its cache period. Without it, a revoked
   * grant's access tokens are accepted until they expire.
   */
  grantStatus?: Pick<GrantStatusCheck, 'status'>;
}

export interface AccessTokenVerifier {
  verify(token: string): Promise<VerifiedAccessToken>;
}

export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const verifyOptions: JWTVerifyOptions = {
    algorithms: [ACCESS_TOKEN_ALGORITHM],
    typ: ACCESS_TOKEN_TYPE,
    issuer: options.issuer,
    audience: options.audience,
    requiredClaims: ['iss', 'aud', 'exp', 'sub', 'client_id', 'sid'],
    clockTolerance: options.clockToleranceSeconds ?? 0,
  };

  // Errors of the key lookup are sorted here, where their origin is still known: no key with
  // the token's kid is the token's fault; anything else (network, HTTP status, timeout, a
  // malformed or ambiguous key set) is the key set's.
  const resolveKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await options.jwks(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) throw new InvalidAccessTokenError('unknown_key', { cause: error });
      throw new JwksUnavailableError({ cause: error });
    }
  };

  return {
    async verify(token) {
      checkHeader(token);
      let payload: JWTPayload;
      const clock = options.now ? { currentDate: new Date(options.now() * 1000) } : {};
      try {
        ({ payload } = await jwtVerify(token, resolveKey, { ...verifyOptions, ...clock }));
      } catch (error) {
        throw classify(error);
      }
      const verified = claimsOf(payload);
      if (options.grantStatus) await checkGrant(options.grantStatus, verified.grantId, verified.clientId);
      return verified;
    },
  };
}

/**
 * Refuses on the header alone what jwtVerify would also refuse, before any key lookup: a
 * token of another algorithm, type or without kid never costs a JWKS fetch. Our tokens always
 * carry kid; requiring it keeps the lookup to exactly one key.
 */
function checkHeader(token: string): void {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    throw new InvalidAccessTokenError('malformed');
  }
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (error) {
    throw new InvalidAccessTokenError('malformed', { cause: error });
  }
  if (token.split('.').length !== 3) throw new InvalidAccessTokenError('malformed');
  if (header.alg !== ACCESS_TOKEN_ALGORITHM) throw new InvalidAccessTokenError('unsupported_algorithm');
  if (typeof header.typ !== 'string' || !ACCEPTED_TYPES.has(header.typ.toLowerCase())) {
    throw new InvalidAccessTokenError('wrong_type');
  }
  if (typeof header.kid !== 'string' || header.kid === '') throw new InvalidAccessTokenError('malformed');
}

function classify(error: unknown): Error {
  if (error instanceof InvalidAccessTokenError || error instanceof JwksUnavailableError) return error;
  const cause = { cause: error };
  if (error instanceof errors.JWTExpired) return new InvalidAccessTokenError('expired', cause);
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'typ':
        return new InvalidAccessTokenError('wrong_type', cause);
      case 'iss':
        return new InvalidAccessTokenError(error.reason === 'missing' ? 'missing_claim' : 'wrong_issuer', cause);
      case 'aud':
        return new InvalidAccessTokenError(error.reason === 'missing' ? 'missing_claim' : 'wrong_audience', cause);
      case 'nbf':
        return new InvalidAccessTokenError(error.reason === 'invalid' ? 'invalid_claim' : 'not_yet_valid', cause);
      default:
        return new InvalidAccessTokenError(error.reason === 'missing' ? 'missing_claim' : 'invalid_claim', cause);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new InvalidAccessTokenError('unsupported_algorithm', cause);
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new InvalidAccessTokenError('bad_signature', cause);
  // JWSInvalid, JWTInvalid (bad encoding, unknown crit, non-object claims) and the rest.
  if (error instanceof errors.JOSEError) return new InvalidAccessTokenError('malformed', cause);
  // Not from jose: a bug or a platform failure. The caller fails closed on it and logs it.
  return error instanceof Error ? error : new Error(String(error));
}

/** Only a live grant's token passes; a read that failed stays a GrantStatusUnavailableError (not the token's fault). */
async function checkGrant(check: Pick<GrantStatusCheck, 'status'>, grantId: string, clientId: string): Promise<void> {
  let status: Awaited<ReturnType<GrantStatusCheck['status']>>;
  try {
    status = await check.status(grantId, clientId);
  } catch (error) {
    throw error instanceof GrantStatusUnavailableError ? error : new GrantStatusUnavailableError({ cause: error });
  }
  if (status === 'revoked') throw new InvalidAccessTokenError('revoked');
  if (status === 'expired') throw new InvalidAccessTokenError('grant_expired');
  if (status === 'unknown') throw new InvalidAccessTokenError('unknown_grant');
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** jose checked presence, iss, aud and that exp is a number; the types of the rest are ours to check. */
function claimsOf(payload: JWTPayload): VerifiedAccessToken {
  const { sub, client_id: clientId, scope, exp, sid } = payload;
  if (!nonEmptyString(sub) || !nonEmptyString(clientId) || !nonEmptyString(sid)) {
    throw new InvalidAccessTokenError('invalid_claim');
  }
  if (scope !== undefined && typeof scope !== 'string') throw new InvalidAccessTokenError('invalid_claim');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new InvalidAccessTokenError('invalid_claim');
  return {
    subject: sub,
    clientId,
    scope: (scope ?? '').split(' ').filter((item) => item !== ''),
    expiresAt: exp,
    grantId: sid,
  };
}
