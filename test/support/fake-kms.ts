/**
 * A KMS stand-in for tests: KMS itself cannot run here (there is no AWS account and no official
 * local KMS), so this speaks the KMS JSON 1.1 protocol on 127.0.0.1 for the two operations the
 * adapters use, GetPublicKey and Sign, with real P-256 keys.
 *
 * KMS's Sign with MessageType DIGEST signs the given SHA-256 digest without hashing it again.
 * node:crypto cannot do that for EC keys (`sign(null, data, ecKey)` still hashes with SHA-256,
 * checked empirically on Node 20), so the stand-in signs with the few lines of textbook ECDSA
 * over P-256 below; test/integration/kms-signing-key.test.ts cross-checks it against
 * node:crypto's verifier.
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// ---- Textbook ECDSA over NIST P-256 (FIPS 186-4), test-only: signs a digest as given. ----

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
export const G: Point = [
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
export function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  for (let addend = point; k > 0n; k >>= 1n, addend = add(addend, addend)) if (k & 1n) result = add(result, addend);
  return result;
}
export const toBigInt = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);

function derInteger(value: bigint): Buffer {
  let bytes = Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
  while (bytes.length > 1 && bytes[0] === 0 && bytes[1] < 0x80) bytes = bytes.subarray(1);
  if (bytes[0] >= 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** An ECDSA P-256 signature of `digest` itself (no further hashing), DER-encoded as KMS returns it. */
export function signDigest(digest: Uint8Array, d: bigint): Buffer {
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

export interface FakeKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyUsage: string;
}

export class FakeKms {
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
    return kmsOperation(target, body, {
      ...key,
      arn: `arn:aws:kms:us-east-1:111122223333:key/${body.KeyId}`,
      keySpec: 'ECC_NIST_P256',
    });
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

/** A P-256 key as the KMS stand-ins hold it: its ARN, its pair, and what KMS reports of it. */
export interface StandInKmsKey {
  arn: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  keySpec: string;
  keyUsage: string;
}

/**
 * The KMS JSON 1.1 answer to GetPublicKey or Sign on `key`, as KMS gives it: the public key as
 * DER SPKI, and for a DIGEST message with ECDSA_SHA_256 (what real KMS insists on) a DER ECDSA
 * signature of the digest itself.
 */
export function kmsOperation(target: string, body: Record<string, string>, key: StandInKmsKey): [number, object] {
  if (target === 'TrentService.GetPublicKey') {
    return [
      200,
      {
        KeyId: key.arn,
        PublicKey: key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        KeySpec: key.keySpec,
        KeyUsage: key.keyUsage,
        SigningAlgorithms: ['ECDSA_SHA_256'],
      },
    ];
  }
  if (target === 'TrentService.Sign') {
    const digest = Buffer.from(body.Message ?? '', 'base64');
    if (body.MessageType !== 'DIGEST' || body.SigningAlgorithm !== 'ECDSA_SHA_256' || digest.length !== 32) {
      return [400, { __type: 'ValidationException', message: 'expected a 32-byte DIGEST for ECDSA_SHA_256' }];
    }
    const d = toBigInt(Buffer.from(key.privateKey.export({ format: 'jwk' }).d as string, 'base64url'));
    return [
      200,
      { KeyId: key.arn, Signature: signDigest(digest, d).toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' },
    ];
  }
  return [400, { __type: 'UnknownOperationException', message: target }];
}
