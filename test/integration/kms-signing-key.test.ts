/**
 * The KMS signing-key adapters through the real AWS SDK. KMS itself cannot run here (there is
 * no AWS account and no official local KMS), so a tiny fake KMS on 127.0.0.1 speaks the KMS
 * JSON 1.1 protocol for the two operations the adapters use, GetPublicKey and Sign, and each
 * token is verified with jose against the JWKS built from what the fake returned.
 *
 * KMS's Sign with MessageType DIGEST signs the given SHA-256 digest without hashing it again.
 * node:crypto cannot do that for EC keys (`sign(null, data, ecKey)` still hashes with SHA-256,
 * checked empirically on Node 20), so the fake signs with the few lines of textbook ECDSA over
 * P-256 below; a test cross-checks it against node:crypto's verifier.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KMSClient } from '@aws-sdk/client-kms';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../lambda/domain/oauth-error.js';
import { KmsPublicKeys, KmsSigner } from '../../lambda/keys/kms-signing-key.js';

// ---- Textbook ECDSA over NIST P-256 (FIPS 186-4), test-only: signs a digest as given. ----

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G: Point = [
  0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
];
type Point = [bigint, bigint] | null; // null is the point at infinity

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
function inverse(a: bigint, m: bigint): bigint {
  // Fermat: m is prime.
  let [result, base, exponent] = [1n, mod(a, m), m - 2n];
  for (; exponent > 0n; exponent >>= 1n, base = (base * base) % m) if (exponent & 1n) result = (result * base) % m;
  return result;
}
function add(p: Point, q: Point): Point {
  if (!p) return q;
  if (!q) return p;
  const [[x1, y1], [x2, y2]] = [p, q];
  if (x1 === x2 && mod(y1 + y2, P) === 0n) return null;
  const slope = x1 === x2 ? mod((3n * x1 * x1 + A) * inverse(2n * y1, P), P) : mod((y2 - y1) * inverse(x2 - x1, P), P);
  const x3 = mod(slope * slope - x1 - x2, P);
  return [x3, mod(slope * (x1 - x3) - y1, P)];
}
function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  for (let addend = point; k > 0n; k >>= 1n, addend = add(addend, addend)) if (k & 1n) result = add(result, addend);
  return result;
}
const toBigInt = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);

function derInteger(value: bigint): Buffer {
  let bytes = Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
  while (bytes.length > 1 && bytes[0] === 0 && bytes[1] < 0x80) bytes = bytes.subarray(1);
  if (bytes[0] >= 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** An ECDSA P-256 signature of `digest` itself (no further hashing), DER-encoded as KMS returns it. */
function signDigest(digest: Uint8Array, d: bigint): Buffer {
  const z = toBigInt(digest); // 256-bit digest, 256-bit order: no truncation.
  for (;;) {
    const k = toBigInt(randomBytes(32));
    if (k === 0n || k >= N) continue;
    const r = mod((multiply(k, G) as [bigint, bigint])[0], N);
    const s = mod(inverse(k, N) * (z + r * d), N);
    if (r === 0n || s === 0n) continue;
    const body = Buffer.concat([derInteger(r), derInteger(s)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  }
}

// ---- The fake KMS. ----

interface FakeKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyUsage: string;
}

class FakeKms {
  readonly keys = new Map<string, FakeKey>();
  readonly calls: { target: string; body: Record<string, string> }[] = [];
  failing = false;
  private server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target']);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      this.calls.push({ target, body });
      const [status, reply] = this.handle(target, body);
      response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' }).end(JSON.stringify(reply));
    });
  });

  addKey(keyId: string, keyUsage = 'SIGN_VERIFY'): FakeKey {
    const key = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }), keyUsage };
    this.keys.set(keyId, key);
    return key;
  }

  count(target: string, keyId?: string): number {
    return this.calls.filter((call) => call.target === target && (!keyId || call.body.KeyId === keyId)).length;
  }

  private handle(target: string, body: Record<string, string>): [number, object] {
    if (this.failing) return [500, { __type: 'KMSInternalException', message: 'fake outage' }];
    const key = this.keys.get(body.KeyId);
    if (!key) return [400, { __type: 'NotFoundException', message: `no key ${body.KeyId}` }];
    const KeyId = `arn:aws:kms:us-east-1:111122223333:key/${body.KeyId}`;
    if (target === 'TrentService.GetPublicKey') {
      return [
        200,
        {
          KeyId,
          PublicKey: key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
          KeySpec: 'ECC_NIST_P256',
          KeyUsage: key.keyUsage,
          SigningAlgorithms: ['ECDSA_SHA_256'],
        },
      ];
    }
    if (target === 'TrentService.Sign') {
      const digest = Buffer.from(body.Message, 'base64');
      // What real KMS insists on for a DIGEST message with ECDSA_SHA_256.
      if (body.MessageType !== 'DIGEST' || body.SigningAlgorithm !== 'ECDSA_SHA_256' || digest.length !== 32) {
        return [400, { __type: 'ValidationException', message: 'expected a 32-byte DIGEST for ECDSA_SHA_256' }];
      }
      const d = toBigInt(Buffer.from(key.privateKey.export({ format: 'jwk' }).d as string, 'base64url'));
      return [200, { KeyId, Signature: signDigest(digest, d).toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' }];
    }
    return [400, { __type: 'UnknownOperationException', message: target }];
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

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

    // The published key: public members only, identified by its RFC 7638 thumbprint.
    expect(jwks.keys).toHaveLength(1);
    expect(Object.keys(jwks.keys[0]).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0].kid).toBe(await calculateJwkThumbprint(currentKey.publicKey.export({ format: 'jwk' })));
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
    expect(fake.count('TrentService.GetPublicKey', 'current')).toBe(2);
    expect(fake.count('TrentService.Sign', 'current')).toBe(2);
  });

  it('answers temporarily_unavailable while KMS fails, and recovers without a new container', async () => {
    fake.failing = true;
    const signer = new KmsSigner('current', failFastKms);
    const publicKeys = new KmsPublicKeys(['current', 'previous'], failFastKms);
    for (const attempt of [() => publicKeys.jwks(), () => signer.sign(claims, TYP), () => signer.keyId()]) {
      const error = await attempt().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(UnavailableError);
      expect(error).toMatchObject({ code: 'temporarily_unavailable', status: 503 });
    }
    // maxAttempts 1: one request per call, and a failed fetch was retried by the next call, not cached.
    expect(fake.count('TrentService.GetPublicKey', 'current')).toBe(3);

    // A failure is not cached: once KMS is back, the same instances work.
    fake.failing = false;
    const token = await signer.sign(claims, TYP);
    await expect(jwtVerify(token, createLocalJWKSet(await publicKeys.jwks()))).resolves.toBeDefined();
  });

  it('fails a Sign outage after a cached public key as temporarily_unavailable too', async () => {
    const signer = new KmsSigner('current', failFastKms);
    await signer.keyId();
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
