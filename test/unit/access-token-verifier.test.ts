/**
 * The resource server's access-token check against tokens signed the way the token endpoint
 * signs them (LocalSigningKey: ES256, typ at+jwt, kid = thumbprint), and against every way a
 * token can be wrong. Each refusal asserts its reason, so a check that passed for the wrong
 * reason (say, garbage refused as an unknown key) fails too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  base64url,
  createLocalJWKSet,
  errors,
  generateKeyPair,
  type JWTPayload,
  type JWTVerifyGetKey,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  InvalidAccessTokenError,
  type InvalidTokenReason,
  JwksUnavailableError,
} from '../../lambda/domain/access-token-verifier.js';
import {
  createGrantStatusCheck,
  type GrantState,
  type GrantStatus,
  GrantStatusUnavailableError,
} from '../../lambda/domain/grant-status.js';
import { LocalSigningKey } from '../../lambda/keys/local-signing-key.js';

const ISSUER = 'https://gateway.example/v1';
const RESOURCE = 'https://mcp.example/mcp';
const GRANT_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

let dir: string;
let key: LocalSigningKey;
let otherKey: LocalSigningKey;
let jwks: JWTVerifyGetKey;
let verifier: AccessTokenVerifier;

const now = () => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    sub: 'user-1',
    aud: RESOURCE,
    client_id: 'client-1',
    scope: 'mcp:read mcp:write',
    iat: now(),
    exp: now() + 300,
    jti: 'jti-1',
    sid: GRANT_ID,
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base as JWTPayload;
}

async function rejection(token: string, using: AccessTokenVerifier = verifier): Promise<unknown> {
  try {
    await using.verify(token);
  } catch (error) {
    return error;
  }
  throw new Error('the token was accepted');
}

async function expectRefused(token: string, reason: InvalidTokenReason, using?: AccessTokenVerifier) {
  const error = await rejection(token, using);
  expect(error).toBeInstanceOf(InvalidAccessTokenError);
  expect((error as InvalidAccessTokenError).reason).toBe(reason);
  // Fixed sentences only: printable ASCII without quotes or backslashes (header- and template-safe).
  expect((error as Error).message).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-token-verifier-'));
  key = await LocalSigningKey.loadOrCreate(join(dir, 'key.json'));
  otherKey = await LocalSigningKey.loadOrCreate(join(dir, 'other.json'));
  jwks = createLocalJWKSet(await key.jwks());
  verifier = createAccessTokenVerifier({ issuer: ISSUER, audience: RESOURCE, jwks });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createAccessTokenVerifier: accepted tokens', () => {
  it('returns subject, client, scope and expiry of a valid token', async () => {
    const payload = claims();
    const result = await verifier.verify(await key.sign(payload, 'at+jwt'));
    expect(result).toEqual({
      subject: 'user-1',
      clientId: 'client-1',
      scope: ['mcp:read', 'mcp:write'],
      expiresAt: payload.exp,
      grantId: GRANT_ID,
    });
  });

  it('accepts typ application/at+jwt (RFC 9068 section 4)', async () => {
    const result = await verifier.verify(await key.sign(claims(), 'application/at+jwt'));
    expect(result.subject).toBe('user-1');
  });

  it('accepts an audience array that contains the resource', async () => {
    const token = await key.sign(claims({ aud: ['https://other.example', RESOURCE] }), 'at+jwt');
    expect((await verifier.verify(token)).clientId).toBe('client-1');
  });

  it('gives an empty scope list when the token has no scope claim', async () => {
    const result = await verifier.verify(await key.sign(claims({ scope: undefined }), 'at+jwt'));
    expect(result.scope).toEqual([]);
  });

  it('applies the configured clock tolerance to exp, and none by default', async () => {
    const token = await key.sign(claims({ exp: now() - 10 }), 'at+jwt');
    await expectRefused(token, 'expired');
    const lenient = createAccessTokenVerifier({ issuer: ISSUER, audience: RESOURCE, jwks, clockToleranceSeconds: 60 });
    expect((await lenient.verify(token)).subject).toBe('user-1');
  });
});

describe('createAccessTokenVerifier: refused claims', () => {
  it('refuses another issuer, including one differing only by a trailing slash', async () => {
    await expectRefused(await key.sign(claims({ iss: 'https://evil.example/v1' }), 'at+jwt'), 'wrong_issuer');
    await expectRefused(await key.sign(claims({ iss: `${ISSUER}/` }), 'at+jwt'), 'wrong_issuer');
  });

  it('refuses another audience, a near miss, and an array without the resource', async () => {
    await expectRefused(await key.sign(claims({ aud: 'https://other.example/mcp' }), 'at+jwt'), 'wrong_audience');
    await expectRefused(await key.sign(claims({ aud: `${RESOURCE}/` }), 'at+jwt'), 'wrong_audience');
    await expectRefused(
      await key.sign(claims({ aud: ['https://a.example', 'https://b.example'] }), 'at+jwt'),
      'wrong_audience',
    );
  });

  it('refuses an expired token', async () => {
    await expectRefused(await key.sign(claims({ iat: now() - 7200, exp: now() - 3600 }), 'at+jwt'), 'expired');
  });

  it('refuses a token that is not valid yet', async () => {
    await expectRefused(await key.sign(claims({ nbf: now() + 600 }), 'at+jwt'), 'not_yet_valid');
  });

  it.each(['client_id', 'sub', 'exp', 'iss', 'aud', 'sid'])('refuses a token without %s', async (claim) => {
    await expectRefused(await key.sign(claims({ [claim]: undefined }), 'at+jwt'), 'missing_claim');
  });

  it.each([
    ['client_id', 42],
    ['client_id', ''],
    ['sub', ['user-1']],
    ['scope', ['mcp:read']],
    ['exp', String(now() + 300)],
    ['sid', 7],
    ['sid', ''],
  ])('refuses %s of the wrong type (%j)', async (claim, value) => {
    await expectRefused(await key.sign(claims({ [claim]: value }), 'at+jwt'), 'invalid_claim');
  });
});

describe('createAccessTokenVerifier: refused headers and signatures', () => {
  it('refuses typ JWT (an ID token, say) and a missing typ', async () => {
    await expectRefused(await key.sign(claims(), 'JWT'), 'wrong_type');
    const { privateKey } = await generateKeyPair('ES256');
    const noTyp = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'ES256', kid: await key.keyId() })
      .sign(privateKey);
    await expectRefused(noTyp, 'wrong_type');
  });

  it('refuses HS256, including HS256 keyed with the public key (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!!');
    const hs = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(secret);
    await expectRefused(hs, 'unsupported_algorithm');
    const [publicJwk] = (await key.jwks()).keys;
    const confused = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: await key.keyId() })
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    await expectRefused(confused, 'unsupported_algorithm');
  });

  it('refuses alg none', async () => {
    const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
    const unsigned = `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode(claims())}.`;
    await expectRefused(unsigned, 'unsupported_algorithm');
  });

  it('refuses a token signed by a key the issuer does not publish', async () => {
    await expectRefused(await otherKey.sign(claims(), 'at+jwt'), 'unknown_key');
  });

  it('refuses a token signed by another key that claims the published kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: await key.keyId() })
      .sign(privateKey);
    await expectRefused(forged, 'bad_signature');
  });

  it('refuses a valid token whose payload was altered', async () => {
    const [header, , signature] = (await key.sign(claims(), 'at+jwt')).split('.');
    const altered = base64url.encode(JSON.stringify(claims({ sub: 'admin' })));
    await expectRefused(`${header}.${altered}.${signature}`, 'bad_signature');
  });

  it('refuses a token without kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).sign(privateKey);
    await expectRefused(token, 'malformed');
  });

  it.each([
    ['an empty string', ''],
    ['a word', 'garbage'],
    ['three dots of nothing', 'a.b.c'],
    ['a JWE-shaped value', 'eyJhbGciOiJFUzI1NiJ9.a.b.c.d'],
    ['an oversized value', `eyJhbGciOiJFUzI1NiJ9.${'A'.repeat(10_000)}.x`],
  ])('refuses garbage: %s', async (_label, token) => {
    await expectRefused(token, 'malformed');
  });
});

describe('createAccessTokenVerifier: key set failures', () => {
  it('reports a key set that cannot be fetched as JwksUnavailableError, not as a bad token', async () => {
    const unreachable: JWTVerifyGetKey = async () => {
      throw new TypeError('fetch failed');
    };
    const timingOut: JWTVerifyGetKey = async () => {
      throw new errors.JWKSTimeout();
    };
    const token = await key.sign(claims(), 'at+jwt');
    for (const keys of [unreachable, timingOut]) {
      const error = await rejection(
        token,
        createAccessTokenVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: keys }),
      );
      expect(error).toBeInstanceOf(JwksUnavailableError);
      expect(error).not.toBeInstanceOf(InvalidAccessTokenError);
    }
  });

  it('reports an ambiguous key set (two keys with one kid) as unavailable', async () => {
    const [jwk] = (await key.jwks()).keys;
    const duplicated = createLocalJWKSet({ keys: [jwk, { ...jwk }] });
    const error = await rejection(
      await key.sign(claims(), 'at+jwt'),
      createAccessTokenVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: duplicated }),
    );
    expect(error).toBeInstanceOf(JwksUnavailableError);
  });
});

describe('createAccessTokenVerifier: the grant check', () => {
  const live: GrantState = { expires_at: now() + 600, grant_expires_at: now() + 6000 };

  function withGrant(state: GrantState | undefined | 'down') {
    const seen: string[] = [];
    const grantStatus = createGrantStatusCheck({
      ttlSeconds: 0,
      reader: {
        async read(grantId) {
          seen.push(grantId);
          if (state === 'down') throw new Error('connect ECONNREFUSED 127.0.0.1:8000');
          return state;
        },
      },
    });
    return { seen, verifier: createAccessTokenVerifier({ issuer: ISSUER, audience: RESOURCE, jwks, grantStatus }) };
  }

  it('accepts a token of a live grant, having asked about the grant its sid names', async () => {
    const { seen, verifier: checked } = withGrant(live);
    expect((await checked.verify(await key.sign(claims(), 'at+jwt'))).grantId).toBe(GRANT_ID);
    expect(seen).toEqual([GRANT_ID]);
  });

  it.each<[string, GrantState | undefined, InvalidTokenReason]>([
    ['revoked', { ...live, revoked_at: now() - 1 }, 'revoked'],
    ['past its idle deadline', { ...live, expires_at: now() - 1 }, 'grant_expired'],
    ['past its absolute end', { ...live, grant_expires_at: now() - 1 }, 'grant_expired'],
    ['gone from the table', undefined, 'unknown_grant'],
  ])('refuses a valid token whose grant is %s', async (_what, state, reason) => {
    await expectRefused(await key.sign(claims(), 'at+jwt'), reason, withGrant(state).verifier);
  });

  it('refuses a token whose sid is no grant id, without a read', async () => {
    const { seen, verifier: checked } = withGrant(live);
    await expectRefused(await key.sign(claims({ sid: 'not-a-grant' }), 'at+jwt'), 'unknown_grant', checked);
    expect(seen).toEqual([]);
  });

  it('a grants table that cannot be read is GrantStatusUnavailableError, not an invalid token', async () => {
    const error = await rejection(await key.sign(claims(), 'at+jwt'), withGrant('down').verifier);
    expect(error).toBeInstanceOf(GrantStatusUnavailableError);
    expect(error).not.toBeInstanceOf(InvalidAccessTokenError);
  });

  it('checks the grant only after the signature: a forged token costs no read', async () => {
    const { seen, verifier: checked } = withGrant(live);
    await expectRefused(await otherKey.sign(claims(), 'at+jwt'), 'unknown_key', checked);
    await expectRefused(await key.sign(claims({ exp: now() - 5 }), 'at+jwt'), 'expired', checked);
    expect(seen).toEqual([]);
  });

  it('a port that throws something else still fails closed as unavailable', async () => {
    const grantStatus = {
      status: async (): Promise<GrantStatus> => {
        throw new TypeError('bug');
      },
    };
    const checked = createAccessTokenVerifier({ issuer: ISSUER, audience: RESOURCE, jwks, grantStatus });
    expect(await rejection(await key.sign(claims(), 'at+jwt'), checked)).toBeInstanceOf(GrantStatusUnavailableError);
  });
});
