/**
 * Local-mode adapter of the signing-key ports: an ES256 key generated once into the data
 * directory, so tokens issued before a restart still verify after it. The file holds the
 * private key, so it is created owner-only and written atomically: a crash mid-write leaves
 * either no key or a whole one, never a truncated file that would fail every later start.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import type { AccessTokenSigner, PublicKeySource } from '../domain/signing.js';

export class LocalSigningKey implements AccessTokenSigner, PublicKeySource {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly kid: string,
    /** Public members only (kty, crv, x, y) plus kid, alg and use: never `d`. */
    private readonly publicJwk: JWK,
  ) {}

  static async loadOrCreate(file: string): Promise<LocalSigningKey> {
    const privateJwk = (await readKeyFile(file)) ?? (await createKeyFile(file));
    if (privateJwk.kty !== 'EC' || privateJwk.crv !== 'P-256' || !privateJwk.d || !privateJwk.x || !privateJwk.y) {
      // Refuse rather than regenerate: silently replacing the key would invalidate every issued token.
      throw new Error(`${file} does not hold a private EC P-256 JWK`);
    }
    const privateKey = (await importJWK(privateJwk, 'ES256')) as CryptoKey;
    const publicJwk: JWK = { kty: 'EC', crv: 'P-256', x: privateJwk.x, y: privateJwk.y };
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    return new LocalSigningKey(privateKey, kid, { ...publicJwk, kid, alg: 'ES256', use: 'sig' });
  }

  async keyId(): Promise<string> {
    return this.kid;
  }

  async sign(payload: JWTPayload, typ: string): Promise<string> {
    // The payload carries every claim (iat, exp included); the signer adds none of its own.
    return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ, kid: this.kid }).sign(this.privateKey);
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    // A copy, so no caller can alter the key this instance publishes.
    return { keys: [{ ...this.publicJwk }] };
  }
}

async function readKeyFile(file: string): Promise<JWK | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as JWK;
}

async function createKeyFile(file: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Same directory, so the rename is atomic; 'wx' with 0o600 means the private key is never,
  // even briefly, in a file another user can read (the umask can only remove permissions).
  const temp = `${file}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(jwk)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  return jwk;
}
