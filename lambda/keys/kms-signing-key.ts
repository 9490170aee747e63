/**
 * KMS adapters of the signing-key ports. The private key is an ECC_NIST_P256 SIGN_VERIFY KMS
 * key and never leaves KMS: this code builds the JWS signing input, has KMS sign its SHA-256
 * digest, and reshapes the DER signature into JOSE's fixed-width r||s.
 *
 * The `kid` is derived from the key's configured identifier (kmsKeyKid), not from its public
 * key: the signer then makes exactly one KMS call per token (Sign) and its role needs nothing
 * else, and the JWKS function, configured with the same identifiers, publishes the same kid.
 * Public keys are immutable for a key id, so the JWKS function fetches each once per container;
 * a failed fetch is not cached, so one KMS blip does not poison the container. KMS faults
 * surface as UnavailableError (503); a key of the wrong kind is a deployment error, thrown as is.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, type GetPublicKeyCommandOutput, type KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { derToJose } from 'ecdsa-sig-formatter';
import type { JWK, JWTPayload } from 'jose';
import { UnavailableError } from '../domain/oauth-error.js';
import type { AccessTokenSigner, PublicKeySource } from '../domain/signing.js';

/**
 * The `kid` of the KMS key configured as `kmsKeyId` (its ARN, as the construct configures it):
 * the SHA-256 of that identifier, base64url. Stable for a key, the same in the token and the
 * JWKS functions, and it names no account or key id in public.
 */
export function kmsKeyKid(kmsKeyId: string): string {
  return createHash('sha256').update(`kms-key:${kmsKeyId}`, 'utf8').digest('base64url');
}

export class KmsSigner implements AccessTokenSigner {
  private readonly kid: string;

  constructor(
    /** KMS key id or ARN. */
    private readonly kmsKeyId: string,
    private readonly kms: KMSClient,
  ) {
    this.kid = kmsKeyKid(kmsKeyId);
  }

  async keyId(): Promise<string> {
    return this.kid;
  }

  async sign(payload: JWTPayload, typ: string): Promise<string> {
    const header = { alg: 'ES256', typ, kid: await this.keyId() };
    const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`;
    // ES256 signs SHA-256(signing input); hashing here keeps KMS requests small whatever the claims.
    const digest = createHash('sha256').update(signingInput, 'ascii').digest();
    let signature: Uint8Array | undefined;
    try {
      ({ Signature: signature } = await this.kms.send(
        new SignCommand({
          KeyId: this.kmsKeyId,
          Message: digest,
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ));
    } catch (error) {
      throw unavailable('The token signing key is unreachable; try again.', error);
    }
    if (!signature) throw new UnavailableError('The token signing key returned no signature; try again.');
    return `${signingInput}.${derToJose(Buffer.from(signature), 'ES256')}`;
  }
}

export class KmsPublicKeys implements PublicKeySource {
  private readonly publicKeys: CachedPublicKey[];

  /** `keyIds` in publication order: the current signing key first, then any being retired. */
  constructor(keyIds: string[], kms: KMSClient) {
    this.publicKeys = keyIds.map((keyId) => new CachedPublicKey(keyId, kms));
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    const keys = await Promise.all(this.publicKeys.map((key) => key.get()));
    // Copies, so no caller can alter the cached keys.
    return { keys: keys.map((key) => ({ ...key })) };
  }
}

/** One KMS key's public JWK (kty, crv, x, y, kid, alg, use), fetched on first use and kept after success. */
class CachedPublicKey {
  private pending: Promise<JWK> | undefined;

  constructor(
    private readonly kmsKeyId: string,
    private readonly kms: KMSClient,
  ) {}

  get(): Promise<JWK> {
    if (!this.pending) {
      // Concurrent callers share one request; a rejection clears the slot so the next call retries.
      const pending = this.fetch();
      this.pending = pending;
      pending.catch(() => {
        if (this.pending === pending) this.pending = undefined;
      });
    }
    return this.pending;
  }

  private async fetch(): Promise<JWK> {
    let response: GetPublicKeyCommandOutput;
    try {
      response = await this.kms.send(new GetPublicKeyCommand({ KeyId: this.kmsKeyId }));
    } catch (error) {
      throw unavailable('The token signing key is unreachable; try again.', error);
    }
    const { PublicKey, KeySpec, KeyUsage } = response;
    if (!PublicKey) throw new UnavailableError('The token signing key returned no public key; try again.');
    // Publishing any other kind of key under alg ES256 would announce a key no token can verify with.
    if ((KeySpec && KeySpec !== 'ECC_NIST_P256') || (KeyUsage && KeyUsage !== 'SIGN_VERIFY')) {
      throw new Error(`KMS key ${this.kmsKeyId} is ${KeySpec}/${KeyUsage}, not an ECC_NIST_P256 SIGN_VERIFY key`);
    }
    const { kty, crv, x, y } = createPublicKey({ key: Buffer.from(PublicKey), format: 'der', type: 'spki' }).export({
      format: 'jwk',
    });
    if (kty !== 'EC' || crv !== 'P-256') throw new Error(`KMS key ${this.kmsKeyId} is not an EC P-256 key`);
    const jwk: JWK = { kty, crv, x, y };
    return { ...jwk, kid: kmsKeyKid(this.kmsKeyId), alg: 'ES256', use: 'sig' };
  }
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** The SDK error stays on `cause` for operators' logs; callers and clients see only the description. */
function unavailable(description: string, cause: unknown): UnavailableError {
  const error = new UnavailableError(description);
  error.cause = cause;
  return error;
}
