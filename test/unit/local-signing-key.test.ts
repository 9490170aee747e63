/**
 * The local-mode signing key: tokens it signs verify against the JWKS it publishes, the key
 * survives a restart, and the private half stays in an owner-only file and out of the JWKS.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSigningKey } from '../../lambda/keys/local-signing-key.js';

const TYP = 'at+jwt';
const now = Math.floor(Date.now() / 1000);
const claims = { iss: 'https://issuer.example', sub: 'user-1', aud: 'https://mcp.example', iat: now, exp: now + 300 };

let dir: string;
let file: string;
let key: LocalSigningKey;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-signing-key-'));
  // A parent directory that does not exist yet: loadOrCreate must create it.
  file = join(dir, 'data', 'signing-key.json');
  key = await LocalSigningKey.loadOrCreate(file);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('LocalSigningKey', () => {
  it('signs tokens that verify against its JWKS with header alg, typ and kid', async () => {
    const token = await key.sign(claims, TYP);
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(await key.jwks()), {
      algorithms: ['ES256'],
      typ: TYP,
    });
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: TYP, kid: await key.keyId() });
    // The signer adds no claims of its own: exactly what was passed in comes back.
    expect(payload).toEqual(claims);
  });

  it('uses the RFC 7638 thumbprint of the public key as kid', async () => {
    const [jwk] = (await key.jwks()).keys;
    const thumbprint = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, 'sha256');
    expect(await key.keyId()).toBe(thumbprint);
    expect(jwk.kid).toBe(thumbprint);
  });

  it('reloads the same key from the same file', async () => {
    const reloaded = await LocalSigningKey.loadOrCreate(file);
    expect(await reloaded.keyId()).toBe(await key.keyId());
    // A token signed before the "restart" still verifies after it.
    const token = await key.sign(claims, TYP);
    await expect(jwtVerify(token, createLocalJWKSet(await reloaded.jwks()))).resolves.toBeDefined();
  });

  it('creates a distinct key for a different file', async () => {
    const other = await LocalSigningKey.loadOrCreate(join(dir, 'other', 'signing-key.json'));
    expect(await other.keyId()).not.toBe(await key.keyId());
  });

  it('stores the private key owner-only and publishes only public members', async () => {
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toHaveProperty('d');
    const { keys } = await key.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toHaveProperty('d');
    expect(Object.keys(keys[0]).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
  });

  it('rejects a tampered token', async () => {
    const token = await key.sign(claims, TYP);
    const [header, payload, signature] = token.split('.');
    const jwks = createLocalJWKSet(await key.jwks());
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
    await expect(jwtVerify(`${header}.${forgedPayload}.${signature}`, jwks)).rejects.toThrow(/signature/i);
    // Flip one bit of the signature itself, too.
    const bytes = Buffer.from(signature, 'base64url');
    bytes[10] ^= 1;
    await expect(jwtVerify(`${header}.${payload}.${bytes.toString('base64url')}`, jwks)).rejects.toThrow(/signature/i);
    expect(decodeProtectedHeader(token).kid).toBe(await key.keyId());
  });

  it('refuses a key file that holds no private EC P-256 key instead of replacing it', async () => {
    const bad = join(dir, 'bad.json');
    const [publicOnly] = (await key.jwks()).keys;
    await writeFile(bad, JSON.stringify(publicOnly));
    await expect(LocalSigningKey.loadOrCreate(bad)).rejects.toThrow(/private EC P-256/);
    expect(JSON.parse(await readFile(bad, 'utf8'))).toEqual(publicOnly);
  });
});
