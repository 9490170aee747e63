/**
 * The private_key_jwt assertion rules (RFC 7523 2.2, 3), one refusal per rule, against an
 * in-memory jti store and key source.
 */
import { base64url, type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ASSERTION_LIMITS,
  type AssertingClient,
  type ClientAssertionDeps,
  type ClientJwks,
  jwksProblem,
  verifyClientAssertion,
} from '../../lambda/domain/client-assertion.js';
import { OAuthError } from '../../lambda/domain/oauth-error.js';

const ISSUER = 'https://auth.example';
const CLIENT_ID = 'client-1';
const NOW = 1_800_000_000;
let privateKey: CryptoKey;
let publicJwk: JWK;
let otherKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1' };
  otherKey = (await generateKeyPair('ES256')).privateKey;
});

function deps(jwksAtUri?: ClientJwks): ClientAssertionDeps & { spent: Set<string>; fetches: boolean[] } {
  const spent = new Set<string>();
  const fetches: boolean[] = [];
  return {
    spent,
    fetches,
    keys: {
      jwksAt: async (_uri, { refresh }) => {
        fetches.push(refresh);
        return jwksAtUri ?? { keys: [] };
      },
    },
    replay: {
      spend: async (clientId, jti) => {
        const key = `${clientId}\n${jti}`;
        if (spent.has(key)) return false;
        spent.add(key);
        return true;
      },
    },
    audiences: () => [ISSUER, `${ISSUER}/token`],
    now: () => NOW,
  };
}

const client = (): AssertingClient => ({ client_id: CLIENT_ID, jwks: { keys: [publicJwk] } });

interface Claims {
  [name: string]: unknown;
}

async function sign(claims: Claims = {}, key: CryptoKey = privateKey, header: Record<string, unknown> = {}) {
  const payload: Claims = {
    iss: CLIENT_ID,
    sub: CLIENT_ID,
    aud: ISSUER,
    exp: NOW + 60,
    iat: NOW,
    jti: 'j-1',
    ...claims,
  };
  for (const name of Object.keys(payload)) if (payload[name] === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'k1', ...header }).sign(key);
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthError);
  expect((error as OAuthError).code).toBe('invalid_client');
  return (error as OAuthError).description;
}

function unsigned(header: object, claims: object, signature = ''): string {
  const part = (value: object) => base64url.encode(JSON.stringify(value));
  return `${part(header)}.${part(claims)}.${signature}`;
}

describe('verifyClientAssertion', () => {
  it('accepts an assertion signed by a key of the client, aud the issuer or the token endpoint', async () => {
    const d = deps();
    await verifyClientAssertion(client(), await sign(), d);
    await verifyClientAssertion(client(), await sign({ aud: `${ISSUER}/token`, jti: 'j-2' }), d);
    await verifyClientAssertion(client(), await sign({ aud: [ISSUER], jti: 'j-3' }), d);
    expect(d.spent.size).toBe(3);
  });

  it.each([
    ['iss is another client', { iss: 'client-2' }, /iss/],
    ['sub is another client', { sub: 'client-2' }, /sub/],
    ['aud is another server', { aud: 'https://other.example' }, /aud/],
    ['aud names another server too', { aud: [ISSUER, 'https://other.example'] }, /aud/],
    ['aud is missing', { aud: undefined }, /aud/],
    ['it has expired', { exp: NOW - ASSERTION_LIMITS.clockSkewSeconds - 1 }, /expired/],
    ['exp is missing', { exp: undefined }, /exp/],
    [
      'exp is too far ahead',
      { exp: NOW + ASSERTION_LIMITS.maxLifetimeSeconds + ASSERTION_LIMITS.clockSkewSeconds + 1 },
      /at most 300 seconds/,
    ],
    ['nbf is in the future', { nbf: NOW + 120 }, /nbf/],
    ['jti is missing', { jti: undefined }, /jti/],
  ])('refuses an assertion whose %s', async (_case, claims, reason) => {
    expect(await refusal(verifyClientAssertion(client(), await sign(claims), deps()))).toMatch(reason);
  });

  it('refuses a replayed jti, and spends nothing for a refused signature', async () => {
    const d = deps();
    const assertion = await sign();
    await verifyClientAssertion(client(), assertion, d);
    expect(await refusal(verifyClientAssertion(client(), assertion, d))).toMatch(/already used/);
    expect(await refusal(verifyClientAssertion(client(), await sign({ jti: 'forged' }, otherKey), d))).toMatch(
      /signature/,
    );
    expect(d.spent.has(`${CLIENT_ID}\nforged`)).toBe(false);
  });

  it('refuses alg none', async () => {
    const assertion = unsigned(
      { alg: 'none' },
      { iss: CLIENT_ID, sub: CLIENT_ID, aud: ISSUER, exp: NOW + 60, jti: 'n' },
    );
    expect(await refusal(verifyClientAssertion(client(), assertion, deps()))).toMatch(/alg none is not accepted/);
  });

  it('refuses HS256 keyed with the public key', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const assertion = await new SignJWT({ iss: CLIENT_ID, sub: CLIENT_ID, aud: ISSUER, exp: NOW + 60, jti: 'h' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(secret);
    expect(await refusal(verifyClientAssertion(client(), assertion, deps()))).toMatch(/alg HS256 is not accepted/);
  });

  it('refuses an assertion signed by a key not in the client JWKS (same kid)', async () => {
    expect(await refusal(verifyClientAssertion(client(), await sign({}, otherKey), deps()))).toMatch(/signature/);
  });

  it('refuses a kid the JWKS lacks, after fetching a jwks_uri once more', async () => {
    const d = deps({ keys: [publicJwk] });
    const uriClient: AssertingClient = { client_id: CLIENT_ID, jwks_uri: 'https://client.example/jwks' };
    expect(await refusal(verifyClientAssertion(uriClient, await sign({}, privateKey, { kid: 'k9' }), d))).toMatch(
      /No key/,
    );
    expect(d.fetches).toEqual([false, true]);
    await verifyClientAssertion(uriClient, await sign(), d);
  });

  it('refuses an alg other than the one the client registered', async () => {
    const registered: AssertingClient = { ...client(), token_endpoint_auth_signing_alg: 'RS256' };
    expect(await refusal(verifyClientAssertion(registered, await sign(), deps()))).toMatch(/must be RS256/);
  });

  it('refuses an oversized assertion before parsing it', async () => {
    const assertion = await sign({ padding: 'x'.repeat(ASSERTION_LIMITS.maxBytes) });
    expect(await refusal(verifyClientAssertion(client(), assertion, deps()))).toMatch(/larger than 4096 bytes/);
  });
});

describe('jwksProblem', () => {
  it('accepts public keys and refuses what is not one', async () => {
    expect(jwksProblem({ keys: [publicJwk] })).toBeUndefined();
    const privateJwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
    expect(jwksProblem({ keys: [privateJwk] })).toMatch(/private/);
    expect(jwksProblem({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })).toMatch(/private or symmetric/);
    expect(jwksProblem({ keys: [] })).toMatch(/non-empty/);
    expect(jwksProblem({ keys: Array.from({ length: 11 }, () => publicJwk) })).toMatch(/at most 10 keys/);
  });

  it('refuses an oversized JWKS', () => {
    expect(jwksProblem({ keys: [{ ...publicJwk, kid: 'k', x5c: ['A'.repeat(17_000)] }] })).toMatch(
      /at most 16384 bytes/,
    );
  });
});
