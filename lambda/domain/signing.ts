/**
 * Ports for the access-token signing key. Deployed, the private key is an asymmetric KMS key
 * that never leaves KMS; locally it is a key generated into the data directory. Both sign
 * ES256 with a stable `kid`: the RFC 7638 thumbprint of a local key, a digest of a KMS key's ARN.
 */
import type { JWK, JWTPayload } from 'jose';

export interface AccessTokenSigner {
  /** The `kid` that tokens signed now carry. */
  keyId(): Promise<string>;
  /** A compact JWS: header {alg: 'ES256', typ, kid}, the given claims, an ES256 signature. */
  sign(payload: JWTPayload, typ: string): Promise<string>;
}

export interface PublicKeySource {
  /** Every key a token may still be verified with: the current one and any being retired. */
  jwks(): Promise<{ keys: JWK[] }>;
}
