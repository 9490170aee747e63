/**
 * private_key_jwt client authentication (RFC 7523 section 2.2 and 3, RFC 7521 section 4.2): the
 * client proves itself with a JWT it signed with a key of its registered JWKS (inline `jwks`, or
 * `jwks_uri` fetched through the SSRF-guarded fetcher and cached by an adapter).
 *
 * The rules, in the order they are checked (cheapest and least trusting first):
 * - the assertion is at most ASSERTION_LIMITS.maxBytes, a JWS in compact form (three parts);
 * - its `alg` is asymmetric and one of CLIENT_ASSERTION_SIGNING_ALGS (never `none`, never HMAC:
 *   an HS256 "keyed" with the client's public key is forgeable by anyone who reads the JWKS), and
 *   the client's `token_endpoint_auth_signing_alg` when it registered one;
 * - the signature verifies with a key of the client's JWKS whose kty/crv fit the alg (and whose
 *   `kid` is the header's, when it names one); an unknown kid refetches a `jwks_uri` once, for
 *   key rotation;
 * - `iss` = `sub` = client_id; `aud` is this server's issuer or its token endpoint URL, and names
 *   nothing else (an assertion that several servers accept could be replayed at the others);
 * - `exp` is present, not past (with CLOCK_SKEW), and at most maxLifetimeSeconds ahead: a
 *   long-lived assertion would be a bearer credential; `nbf` and `iat` are not in the future;
 * - `jti` is present and spent exactly once: one conditional write stores it until `exp`
 *   (AssertionReplayStore), after the signature check so that nobody can burn a client's jti.
 *
 * Every refusal is `invalid_client` (401) with a description naming the rule.
 */
import { compactVerify, decodeProtectedHeader, errors, importJWK, type JWK } from 'jose';
import { CLIENT_ASSERTION_SIGNING_ALGS, type ClientAssertionSigningAlg } from '../contract/capabilities.js';
import { OAuthError } from './oauth-error.js';

/** RFC 7523 section 2.2: the client_assertion_type of a JWT client assertion. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export const ASSERTION_LIMITS = {
  /** Largest client_assertion accepted, in bytes (an RS256 assertion with a 4096-bit key is ~1.2 KB). */
  maxBytes: 4096,
  /** Latest `exp` accepted, in seconds from now (plus the skew). */
  maxLifetimeSeconds: 300,
  /** Tolerated clock difference, in seconds, for `exp`, `nbf` and `iat`. */
  clockSkewSeconds: 30,
  /** Longest `jti`. */
  maxJtiLength: 256,
} as const;

export const JWKS_LIMITS = {
  /** Largest JWKS, inline or fetched, in bytes of JSON. */
  maxBytes: 16_384,
  maxKeys: 10,
} as const;

/** A client's public keys, as registered or fetched (checked by jwksProblem). */
export interface ClientJwks {
  keys: JWK[];
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return 'must be a JSON object';
  const jwk = key as Record<string, unknown>;
  for (const member of PRIVATE_MEMBERS) {
    if (Object.hasOwn(jwk, member))
      return `must be a public key: it contains the private or symmetric member "${member}"`;
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'has a use other than "sig"';
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length > 200)) {
    return 'has a kid that is not a string of at most 200 characters';
  }
  if (jwk.alg !== undefined && !(CLIENT_ASSERTION_SIGNING_ALGS as readonly unknown[]).includes(jwk.alg)) {
    return `has alg ${String(jwk.alg)}: use one of ${CLIENT_ASSERTION_SIGNING_ALGS.join(', ')}`;
  }
  const text = (name: string) => typeof jwk[name] === 'string' && (jwk[name] as string).length > 0;
  if (jwk.kty === 'RSA') {
    if (!text('n') || !text('e')) return 'is an RSA key without n and e';
    // base64url of a 2048-bit modulus is 342 characters: smaller keys are refused.
    if ((jwk.n as string).length < 342) return 'is an RSA key shorter than 2048 bits';
    return undefined;
  }
  if (jwk.kty === 'EC') {
    if (jwk.crv !== 'P-256' || !text('x') || !text('y')) return 'is an EC key that is not P-256 with x and y';
    return undefined;
  }
  if (jwk.kty === 'OKP') {
    if (jwk.crv !== 'Ed25519' || !text('x')) return 'is an OKP key that is not Ed25519 with x';
    return undefined;
  }
  return 'has a kty other than RSA, EC or OKP';
}

/** Why `value` is not a usable client JWKS, or undefined when it is. */
export function jwksProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be a JSON object';
  const size = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (size > JWKS_LIMITS.maxBytes) return `must be at most ${JWKS_LIMITS.maxBytes} bytes`;
  const keys = (value as Record<string, unknown>).keys;
  if (!Array.isArray(keys) || keys.length === 0) return 'must have a non-empty "keys" array';
  if (keys.length > JWKS_LIMITS.maxKeys) return `must contain at most ${JWKS_LIMITS.maxKeys} keys`;
  for (const [index, key] of keys.entries()) {
    const problem = keyProblem(key);
    if (problem) return `keys[${index}] ${problem}`;
  }
  return undefined;
}

/** The client fields assertion verification reads. */
export interface AssertingClient {
  client_id: string;
  jwks?: ClientJwks;
  jwks_uri?: string;
  token_endpoint_auth_signing_alg?: ClientAssertionSigningAlg;
}

/** Where a `jwks_uri` client's keys come from (an adapter fetches through the SSRF guard and caches). */
export interface ClientKeySource {
  /**
   * The JWKS at `uri`, already checked with jwksProblem. With `refresh`, a copy fetched now rather
   * than a cached one (the adapter may rate-limit this and answer from its cache). Throws an
   * OAuthError when the keys cannot be had.
   */
  jwksAt(uri: string, options: { refresh: boolean }): Promise<ClientJwks>;
}

/** Spent assertion ids. */
export interface AssertionReplayStore {
  /**
   * Records `jti` as used by `clientId` until `expiresAt` (seconds), in one conditional write.
   * Resolves false when it was already recorded (a replay).
   */
  spend(clientId: string, jti: string, expiresAt: number): Promise<boolean>;
}

export interface ClientAssertionDeps {
  keys: ClientKeySource;
  replay: AssertionReplayStore;
  /** The `aud` values accepted: this server's issuer and its token endpoint URL. */
  audiences: () => readonly string[];
  /** Seconds since the epoch. */
  now: () => number;
}

function refuse(description: string): OAuthError {
  return new OAuthError('invalid_client', description, 401);
}

const KEY_SHAPE: Record<ClientAssertionSigningAlg, { kty: string; crv?: string }> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  RS256: { kty: 'RSA' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
};

const sameAlg = (a: string, b: string) =>
  a === b ||
  (KEY_SHAPE[a as ClientAssertionSigningAlg]?.crv === 'Ed25519' &&
    KEY_SHAPE[b as ClientAssertionSigningAlg]?.crv === 'Ed25519');

function candidateKeys(jwks: ClientJwks, alg: ClientAssertionSigningAlg, kid: string | undefined): JWK[] {
  const shape = KEY_SHAPE[alg];
  return jwks.keys.filter(
    (key) =>
      key.kty === shape.kty &&
      (shape.crv === undefined || key.crv === shape.crv) &&
      (key.alg === undefined || sameAlg(key.alg, alg)) &&
      (key.use === undefined || key.use === 'sig') &&
      (key.key_ops === undefined || key.key_ops.includes('verify')) &&
      (kid === undefined || key.kid === kid),
  );
}

async function verifiedPayload(
  assertion: string,
  client: AssertingClient,
  alg: ClientAssertionSigningAlg,
  kid: string | undefined,
  deps: ClientAssertionDeps,
): Promise<Uint8Array> {
  let candidates: JWK[];
  if (client.jwks) {
    candidates = candidateKeys(client.jwks, alg, kid);
  } else if (client.jwks_uri) {
    candidates = candidateKeys(await deps.keys.jwksAt(client.jwks_uri, { refresh: false }), alg, kid);
    // An unknown kid may be a key the client has just rotated in: fetch once more.
    if (candidates.length === 0) {
      candidates = candidateKeys(await deps.keys.jwksAt(client.jwks_uri, { refresh: true }), alg, kid);
    }
  } else {
    throw refuse('The client has no registered keys (jwks or jwks_uri).');
  }
  if (candidates.length === 0) {
    throw refuse(
      `No key of the client's JWKS fits the assertion (alg ${alg}${kid === undefined ? '' : `, kid ${kid}`}).`,
    );
  }
  for (const jwk of candidates) {
    let key: Awaited<ReturnType<typeof importJWK>>;
    try {
      key = await importJWK(jwk, alg);
    } catch {
      continue;
    }
    try {
      const { payload } = await compactVerify(assertion, key, { algorithms: [alg] });
      return payload;
    } catch (error) {
      if (error instanceof errors.JWSSignatureVerificationFailed) continue;
      throw refuse('client_assertion is not a valid JWS.');
    }
  }
  throw refuse("client_assertion's signature does not verify with any key of the client.");
}

function claims(payload: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw refuse("client_assertion's payload is not a JSON object.");
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw refuse("client_assertion's payload is not a JSON object.");
  }
  return parsed as Record<string, unknown>;
}

/**
 * Verifies `assertion` as `client`'s private_key_jwt credential and spends its `jti`; resolves
 * when the client is authenticated, throws an `invalid_client` OAuthError naming the broken rule
 * otherwise (or an adapter's UnavailableError).
 */
export async function verifyClientAssertion(
  client: AssertingClient,
  assertion: string,
  deps: ClientAssertionDeps,
): Promise<void> {
  if (Buffer.byteLength(assertion, 'utf8') > ASSERTION_LIMITS.maxBytes) {
    throw refuse(`client_assertion is larger than ${ASSERTION_LIMITS.maxBytes} bytes.`);
  }
  if (assertion.split('.').length !== 3) throw refuse('client_assertion must be a signed JWT in compact form.');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw refuse('client_assertion is not a JWT.');
  }
  const alg = header.alg;
  if (typeof alg !== 'string' || !(CLIENT_ASSERTION_SIGNING_ALGS as readonly string[]).includes(alg)) {
    throw refuse(
      `client_assertion alg ${String(alg)} is not accepted: sign with one of ${CLIENT_ASSERTION_SIGNING_ALGS.join(', ')}.`,
    );
  }
  const signingAlg = alg as ClientAssertionSigningAlg;
  if (client.token_endpoint_auth_signing_alg && !sameAlg(client.token_endpoint_auth_signing_alg, signingAlg)) {
    throw refuse(`client_assertion alg must be ${client.token_endpoint_auth_signing_alg}, as the client registered.`);
  }
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const payload = claims(await verifiedPayload(assertion, client, signingAlg, kid, deps));

  if (payload.iss !== client.client_id) throw refuse('client_assertion iss must equal the client_id.');
  if (payload.sub !== client.client_id) throw refuse('client_assertion sub must equal the client_id.');
  const audiences = deps.audiences();
  const aud = typeof payload.aud === 'string' ? [payload.aud] : payload.aud;
  if (
    !Array.isArray(aud) ||
    aud.length === 0 ||
    !aud.every((value) => typeof value === 'string' && audiences.includes(value))
  ) {
    throw refuse("client_assertion aud must be this server's issuer or its token endpoint URL, and nothing else.");
  }
  const now = deps.now();
  const skew = ASSERTION_LIMITS.clockSkewSeconds;
  const { exp, nbf, iat, jti } = payload;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw refuse('client_assertion exp is required.');
  if (exp + skew <= now) throw refuse('client_assertion has expired.');
  if (exp > now + ASSERTION_LIMITS.maxLifetimeSeconds + skew) {
    throw refuse(`client_assertion exp must be at most ${ASSERTION_LIMITS.maxLifetimeSeconds} seconds from now.`);
  }
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf - skew > now)) {
    throw refuse('client_assertion is not valid yet (nbf).');
  }
  if (iat !== undefined && (typeof iat !== 'number' || iat - skew > now)) {
    throw refuse('client_assertion iat is in the future.');
  }
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > ASSERTION_LIMITS.maxJtiLength) {
    throw refuse(`client_assertion jti is required (a string of at most ${ASSERTION_LIMITS.maxJtiLength} characters).`);
  }
  // Stored as long as the assertion could pass the exp check above; one conditional write.
  if (!(await deps.replay.spend(client.client_id, jti, Math.ceil(exp) + skew))) {
    throw refuse('client_assertion was already used: its jti is single-use.');
  }
}
