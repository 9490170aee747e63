/**
 * The exported verifier (`mcp-oauth-gateway/verifier`) with the library's grant check
 * (`mcp-oauth-gateway/library`: createGrantStatusCheck, DynamoDbGrantStateReader), as a team's
 * own MCP server would wire them, against a grants table in dynalite over the real SDK: a token
 * of a live grant passes; once the grant is revoked (the same write the token service and the
 * admin CLI make) it is refused as soon as the cached answer is older than the period, and at
 * once with a period of 0; a table it cannot read refuses as unavailable, not invalid.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambda/aws/dynamodb.js';
import {
  createAccessTokenVerifier,
  GrantStatusUnavailableError,
  InvalidAccessTokenError,
} from '../../lambda/domain/access-token-verifier.js';
import { LocalSigningKey } from '../../lambda/keys/local-signing-key.js';
import { createGrantStatusCheck, DynamoDbGrantStateReader } from '../../lambda/library.js';
import { DynamoDbGrantStore } from '../../lambda/store/dynamodb-grant-store.js';
import { closedDynamoEndpoint, useDynalite } from '../support/dynalite.js';

const ISSUER = 'https://gateway.example';
const RESOURCE = 'https://mcp.example/mcp';
const db = useDynalite('exported-verifier');
let dir: string;
let key: LocalSigningKey;
let jwks: JWTVerifyGetKey;
let grants: DynamoDbGrantStore;
let clock = 1_700_000_000;
let serial = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'exported-verifier-'));
  key = await LocalSigningKey.loadOrCreate(join(dir, 'key.json'));
  jwks = createLocalJWKSet(await key.jwks());
  grants = new DynamoDbGrantStore(db.grantsTable, db.documents);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A grant as the token service stores it, and an access token of it. */
async function grantAndToken(): Promise<{ grantId: string; token: string }> {
  serial += 1;
  const grantId = `Exported${String(serial).padStart(14, '0')}`;
  await grants.createGrant({
    grant_id: grantId,
    client_id: 'client-1',
    subject: 'alice',
    scope: 'mcp:read',
    resource: RESOURCE,
    created_at: clock,
    grant_expires_at: clock + 86_400,
    expires_at: clock + 3600,
    code_hash: 'h'.repeat(43),
    code_challenge: 'c'.repeat(43),
    redirect_uri: 'https://client.example/cb',
    redirect_uri_in_request: true,
    code_expires_at: clock + 60,
    code_redeemed_at: clock,
  });
  const token = await key.sign(
    { iss: ISSUER, sub: 'alice', aud: RESOURCE, client_id: 'client-1', sid: grantId, iat: clock, exp: clock + 600 },
    'at+jwt',
  );
  return { grantId, token };
}

function verifierWith(ttlSeconds: number, endpoint?: string) {
  const documents = endpoint ? createDocumentClient(endpoint) : db.documents;
  const grantStatus = createGrantStatusCheck({
    reader: new DynamoDbGrantStateReader(db.grantsTable, documents),
    ttlSeconds,
    now: () => clock,
  });
  return createAccessTokenVerifier({ issuer: ISSUER, audience: RESOURCE, jwks, grantStatus, now: () => clock });
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'accepted',
    (error: unknown) => (error instanceof InvalidAccessTokenError ? error.reason : (error as Error).name),
  );
}

describe('the exported verifier with the library’s grant check', () => {
  it('accepts a live grant’s token, and refuses it once the revocation is older than the cached answer', async () => {
    const verifier = verifierWith(30);
    const { grantId, token } = await grantAndToken();
    expect((await verifier.verify(token)).grantId).toBe(grantId);
    await grants.revokeGrant(grantId, clock);
    clock += 29;
    expect(await reasonOf(verifier.verify(token))).toBe('accepted');
    clock += 1;
    expect(await reasonOf(verifier.verify(token))).toBe('revoked');
  });

  it('with a period of 0, refuses the next verification after a revocation', async () => {
    const verifier = verifierWith(0);
    const { grantId, token } = await grantAndToken();
    expect(await reasonOf(verifier.verify(token))).toBe('accepted');
    await grants.revokeGrant(grantId, clock);
    expect(await reasonOf(verifier.verify(token))).toBe('revoked');
  });

  it('refuses as unavailable (GrantStatusUnavailableError), not invalid, when the table cannot be read', async () => {
    const { token } = await grantAndToken();
    const verifier = verifierWith(30, await closedDynamoEndpoint());
    const error = await verifier.verify(token).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GrantStatusUnavailableError);
  }, 30_000);
});
