/**
 * The KMS signing-key adapters through the real AWS SDK, against the KMS stand-in of
 * test/support/fake-kms.ts (KMS cannot run here); each token is verified with jose against the
 * JWKS built from what the stand-in returned.
 */
import { createHash, verify } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../lambda/domain/oauth-error.js';
import { KmsPublicKeys, KmsSigner, kmsKeyKid } from '../../lambda/keys/kms-signing-key.js';
import { FakeKms, G, multiply, signDigest, toBigInt } from '../support/fake-kms.js';

// ---- Tests. ----

const TYP = 'at+jwt';
const now = Math.floor(Date.now() / 1000);
const claims = { iss: 'https://issuer.example', sub: 'user-1', aud: 'https://mcp.example', iat: now, exp: now + 300 };

const fake = new FakeKms();
const currentKey = fake.addKey('current');
fake.addKey('previous');
fake.addKey('agreement', 'KEY_AGREEMENT');
let kms: KMSClient;
let failFastKms: KMSClient;

beforeAll(async () => {
  const endpoint = await fake.listen();
  const config = { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
  kms = new KMSClient(config);
  failFastKms = new KMSClient({ ...config, maxAttempts: 1 });
});

afterAll(async () => {
  kms.destroy();
  failFastKms.destroy();
  await fake.close();
});

beforeEach(() => {
  fake.failing = false;
  fake.calls.length = 0;
});

describe('the fake KMS', () => {
  it('signs a digest without hashing it again, as KMS does (cross-checked by node:crypto)', () => {
    const d = toBigInt(Buffer.from(currentKey.privateKey.export({ format: 'jwk' }).d as string, 'base64url'));
    const { x, y } = currentKey.publicKey.export({ format: 'jwk' });
    expect(multiply(d, G)).toEqual([x, y].map((c) => toBigInt(Buffer.from(c as string, 'base64url'))));
    const message = Buffer.from('header.payload');
    const signature = signDigest(createHash('sha256').update(message).digest(), d);
    expect(verify('sha256', message, { key: currentKey.publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
    expect(
      verify('sha256', Buffer.from('header.other'), { key: currentKey.publicKey, dsaEncoding: 'der' }, signature),
    ).toBe(false);
  });
});

describe('KmsSigner and KmsPublicKeys', () => {
  it('signs tokens with a digest in KMS that verify against the published JWKS', async () => {
    const signer = new KmsSigner('current', kms);
    const token = await signer.sign(claims, TYP);
    const jwks = await new KmsPublicKeys(['current'], kms).jwks();
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      algorithms: ['ES256'],
      typ: TYP,
    });
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: TYP, kid: await signer.keyId() });
    expect(payload).toEqual(claims);

    // KMS saw only the SHA-256 digest of the signing input, never the claims.
    const signingInput = token.slice(0, token.lastIndexOf('.'));
    const [sign] = fake.calls.filter((call) => call.target === 'TrentService.Sign');
    expect(sign.body).toMatchObject({ KeyId: 'current', MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' });
    expect(sign.body.Message).toBe(createHash('sha256').update(signingInput).digest('base64'));

    // The published key: public members only, named by the digest of the configured key id.
    expect(jwks.keys).toHaveLength(1);
    expect(Object.keys(jwks.keys[0]).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    const { x, y } = currentKey.publicKey.export({ format: 'jwk' });
    expect(jwks.keys[0]).toMatchObject({ x, y, kid: kmsKeyKid('current') });
  });

  it('signs with exactly one KMS call per token, Sign: the signer needs no kms:GetPublicKey', async () => {
    const signer = new KmsSigner('current', kms);
    expect(await signer.keyId()).toBe(kmsKeyKid('current'));
    await signer.sign(claims, TYP);
    await signer.sign(claims, TYP);
    expect(fake.calls.map((call) => call.target)).toEqual(['TrentService.Sign', 'TrentService.Sign']);
  });

  it('derives a kid that is stable per key, differs between keys and names no account', () => {
    const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(kmsKeyKid(arn)).toBe(kmsKeyKid(arn));
    expect(kmsKeyKid(arn)).not.toBe(kmsKeyKid(arn.replace('1234abcd', '9999abcd')));
    expect(kmsKeyKid(arn)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(kmsKeyKid(arn)).not.toContain('111122223333');
  });

  it('rejects a token signed by a different key', async () => {
    const token = await new KmsSigner('current', kms).sign(claims, TYP);
    const forged = await new KmsSigner('previous', kms).sign(claims, TYP);
    const jwks = createLocalJWKSet(await new KmsPublicKeys(['current'], kms).jwks());
    const [header, payload] = token.split('.');
    // The other key's signature under this key's header and claims.
    await expect(jwtVerify(`${header}.${payload}.${forged.split('.')[2]}`, jwks)).rejects.toThrow(/signature/i);
  });

  it('publishes every key in the order given, current first, and verifies tokens of each', async () => {
    const current = new KmsSigner('current', kms);
    const previous = new KmsSigner('previous', kms);
    const { keys } = await new KmsPublicKeys(['current', 'previous'], kms).jwks();
    expect(keys.map((key) => key.kid)).toEqual([await current.keyId(), await previous.keyId()]);
    expect(keys[0].kid).not.toBe(keys[1].kid);
    const reversed = await new KmsPublicKeys(['previous', 'current'], kms).jwks();
    expect(reversed.keys.map((key) => key.kid)).toEqual([keys[1].kid, keys[0].kid]);

    const jwks = createLocalJWKSet({ keys });
    const { protectedHeader } = await jwtVerify(await previous.sign(claims, TYP), jwks);
    expect(protectedHeader.kid).toBe(keys[1].kid);
    await expect(jwtVerify(await current.sign(claims, TYP), jwks)).resolves.toBeDefined();
  });

  it('fetches each public key once per container', async () => {
    const publicKeys = new KmsPublicKeys(['current', 'previous'], kms);
    await Promise.all([publicKeys.jwks(), publicKeys.jwks()]);
    await publicKeys.jwks();
    // A caller mutating the returned keys does not alter what is published next.
    (await publicKeys.jwks()).keys[0].kid = 'mutated';
    expect((await publicKeys.jwks()).keys[0].kid).not.toBe('mutated');
    expect(fake.count('TrentService.GetPublicKey', 'current')).toBe(1);
    expect(fake.count('TrentService.GetPublicKey', 'previous')).toBe(1);

    const signer = new KmsSigner('current', kms);
    await Promise.all([signer.keyId(), signer.sign(claims, TYP), signer.sign(claims, TYP)]);
    expect(fake.count('TrentService.GetPublicKey', 'current')).toBe(1);
    expect(fake.count('TrentService.Sign', 'current')).toBe(2);
  });

  it('answers temporarily_unavailable while KMS fails, and recovers without a new container', async () => {
    fake.failing = true;
    const signer = new KmsSigner('current', failFastKms);
    const publicKeys = new KmsPublicKeys(['current', 'previous'], failFastKms);
    for (const attempt of [() => publicKeys.jwks(), () => signer.sign(claims, TYP)]) {
      const error = await attempt().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(UnavailableError);
      expect(error).toMatchObject({ code: 'temporarily_unavailable', status: 503 });
    }
    // maxAttempts 1: one request per call, and a failed fetch was retried by the next call, not cached.
    expect(fake.count('TrentService.GetPublicKey', 'current')).toBe(1);

    // A failure is not cached: once KMS is back, the same instances work.
    fake.failing = false;
    const token = await signer.sign(claims, TYP);
    await expect(jwtVerify(token, createLocalJWKSet(await publicKeys.jwks()))).resolves.toBeDefined();
  });

  it('fails a Sign outage as temporarily_unavailable, one request per attempt', async () => {
    const signer = new KmsSigner('current', failFastKms);
    fake.failing = true;
    await expect(signer.sign(claims, TYP)).rejects.toMatchObject({ code: 'temporarily_unavailable' });
    expect(fake.count('TrentService.Sign', 'current')).toBe(1);
  });

  it('refuses to publish a key that is not an ES256 signing key, as a deployment error rather than a 503', async () => {
    const error = await new KmsPublicKeys(['agreement'], kms).jwks().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(UnavailableError);
    expect(String(error)).toMatch(/KEY_AGREEMENT/);
  });
});
