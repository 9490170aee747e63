/**
 * The resource's token authorizer as API Gateway invokes it, fetching the issuer's JWKS for
 * real over HTTP from a local server: Allow with the caller in its context for a good token;
 * `Unauthorized` thrown (API Gateway's UNAUTHORIZED, 401) for no usable token; a Deny (its
 * ACCESS_DENIED, 403 insufficient_scope) for a valid token lacking a REQUIRED_SCOPES scope; and
 * another error (AUTHORIZER_FAILURE, fail closed) when the key set cannot be fetched. The grant
 * each token names (`sid`) is read from a grants table in dynalite over the real SDK: a revoked
 * or expired grant is a 401, a table that cannot be read (nothing cached) a failure.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import type { JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../lambda/contract/environment.js';
import type { GrantRecord } from '../../lambda/domain/grants.js';
import { LocalSigningKey } from '../../lambda/keys/local-signing-key.js';
import { DynamoDbGrantStore } from '../../lambda/store/dynamodb-grant-store.js';
import { evaluatePolicy } from '../../lib/local/authorizer-policy.js';
import { authorizerRequest, lambdaContext } from '../support/api-gateway-events.js';
import { closedDynamoEndpoint, useDynalite } from '../support/dynalite.js';

type Authorizer = (event: APIGatewayRequestAuthorizerEvent, context: Context) => Promise<APIGatewayAuthorizerResult>;

const ISSUER = 'https://gateway.example/v1';
const RESOURCE = 'https://api.example/prod/mcp';
const METADATA = 'https://api.example/prod/.well-known/oauth-protected-resource';
const API = 'arn:aws:execute-api:us-east-1:123456789012:abc123';
const METHOD_ARN = `${API}/prod/POST/mcp`;
const context = lambdaContext('token-authorizer', 'req-1');

let dir: string;
let key: LocalSigningKey;
let jwksServer: Server;
let jwksFetches = 0;
let authorize: Authorizer;
let grants: DynamoDbGrantStore;
/** The working JWKS server's URL (some tests point an authorizer elsewhere). */
let jwksUrl: string;

const db = useDynalite('token-authorizer');
/** The grant every token of this suite names unless told otherwise: live for an hour. */
const GRANT_ID = 'LiveGrantLiveGrantLive';

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
}

async function loadAuthorizer(
  jwksUrl: string,
  requiredScopes?: string,
  env: Record<string, string> = {},
): Promise<Authorizer> {
  Object.assign(process.env, db.env(), env);
  if (env[ENV.grantStatusCacheSeconds] === undefined) delete process.env[ENV.grantStatusCacheSeconds];
  process.env.JWKS_URL = jwksUrl;
  if (requiredScopes === undefined) delete process.env.REQUIRED_SCOPES;
  else process.env.REQUIRED_SCOPES = requiredScopes;
  vi.resetModules();
  return (await import('../../lambda/token-authorizer.js')).handler as unknown as Authorizer;
}

const now = () => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  return {
    iss: ISSUER,
    sub: 'user-1',
    aud: RESOURCE,
    client_id: 'client-1',
    scope: 'mcp:read mcp:write',
    iat: now(),
    exp: now() + 300,
    jti: 'jti-1',
    sid: GRANT_ID,
    ...overrides,
  };
}

/** A deployed stage's method ARN (region, account, stage `prod`), not the local gateway's. */
function event(headers: Array<[string, string]>, methodArn = METHOD_ARN): APIGatewayRequestAuthorizerEvent {
  return authorizerRequest({ method: methodArn.split('/')[2], path: '/mcp', headers }, { methodArn });
}

const bearer = (token: string): Array<[string, string]> => [['Authorization', `Bearer ${token}`]];

/** API Gateway answers exactly this thrown message with its UNAUTHORIZED gateway response (401). */
async function expectUnauthorized(result: Promise<APIGatewayAuthorizerResult>) {
  await expect(result).rejects.toThrow(/^Unauthorized$/);
}

/** Any other error is AUTHORIZER_FAILURE: the token was not judged. */
async function expectFailure(result: Promise<APIGatewayAuthorizerResult>) {
  const error = await result.then(
    () => undefined,
    (caught: unknown) => caught as Error,
  );
  expect(error).toBeInstanceOf(Error);
  expect(error?.message).not.toBe('Unauthorized');
}

/** A grant record as the token service writes one, after its code was redeemed. */
async function storeGrant(grantId: string, overrides: Partial<GrantRecord> = {}): Promise<void> {
  await grants.createGrant({
    grant_id: grantId,
    client_id: 'client-1',
    subject: 'user-1',
    scope: 'mcp:read mcp:write',
    resource: RESOURCE,
    created_at: now(),
    grant_expires_at: now() + 86_400,
    expires_at: now() + 3600,
    code_hash: 'h'.repeat(43),
    code_challenge: 'c'.repeat(43),
    redirect_uri: 'https://client.example/cb',
    redirect_uri_in_request: true,
    code_expires_at: now() + 60,
    code_redeemed_at: now(),
    ...overrides,
  });
}

beforeAll(async () => {
  grants = new DynamoDbGrantStore(db.grantsTable, db.documents);
  await storeGrant(GRANT_ID);
  dir = await mkdtemp(join(tmpdir(), 'token-authorizer-'));
  key = await LocalSigningKey.loadOrCreate(join(dir, 'signing-key.json'));
  const jwks = JSON.stringify(await key.jwks());
  jwksServer = createServer((req, res) => {
    jwksFetches += 1;
    if (req.method === 'GET' && req.url === '/jwks') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(jwks);
    } else {
      res.writeHead(404).end();
    }
  });
  jwksUrl = await listen(jwksServer);
  // A trailing slash on ISSUER_URL is dropped, as serverConfigFromEnv does on the issuing side.
  process.env.ISSUER_URL = `${ISSUER}/`;
  process.env.RESOURCE_URL = RESOURCE;
  process.env.RESOURCE_METADATA_URL = METADATA;
  authorize = await loadAuthorizer(jwksUrl);
});

afterAll(async () => {
  jwksServer.closeAllConnections();
  jwksServer.close();
  await rm(dir, { recursive: true, force: true });
});

describe('token authorizer: Allow', () => {
  it('allows a valid token for every method of the stage and passes the caller on', async () => {
    const fetchesBefore = jwksFetches;
    const result = await authorize(event(bearer(await key.sign(claims(), 'at+jwt'))), context);
    expect(jwksFetches).toBe(fetchesBefore + 1);
    expect(result.principalId).toBe('user-1');
    expect(result.policyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: `${API}/prod/*/*` }],
    });
    expect(result.context).toEqual({ sub: 'user-1', clientId: 'client-1', scope: 'mcp:read mcp:write' });
    // As API Gateway (here its local stand-in) evaluates it: this stage only, any method.
    for (const method of ['POST', 'GET', 'DELETE'])
      expect(evaluatePolicy(result, `${API}/prod/${method}/mcp`)).toBe('Allow');
    expect(evaluatePolicy(result, `${API}/test/POST/mcp`)).toBe('Deny');
    expect(evaluatePolicy(result, 'arn:aws:execute-api:us-east-1:123456789012:other/prod/POST/mcp')).toBe('Deny');
  });

  it('reads the header and the scheme in any case, and reuses the fetched keys', async () => {
    const fetchesBefore = jwksFetches;
    const token = await key.sign(claims({ sub: 'user-2', scope: undefined }), 'at+jwt');
    const result = await authorize(event([['authorization', `bearer ${token}`]]), context);
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(result.context).toEqual({ sub: 'user-2', clientId: 'client-1', scope: '' });
    expect(jwksFetches).toBe(fetchesBefore);
  });
});

describe('token authorizer: no usable token is a 401 (thrown Unauthorized)', () => {
  it('a request without a token, or with another scheme (RFC 6750 section 3.1)', async () => {
    await expectUnauthorized(authorize(event([]), context));
    await expectUnauthorized(authorize(event([['Authorization', 'Basic dXNlcjpwYXNz']]), context));
  });

  it('garbage, and characters outside b64token', async () => {
    await expectUnauthorized(authorize(event(bearer('not-a-jwt')), context));
    await expectUnauthorized(authorize(event([['Authorization', 'Bearer a"b']]), context));
  });

  it('an expired token, and a token for another resource', async () => {
    const expired = await key.sign(claims({ iat: now() - 7200, exp: now() - 3600 }), 'at+jwt');
    await expectUnauthorized(authorize(event(bearer(expired)), context));
    const other = await key.sign(claims({ aud: 'https://api.example/prod/other' }), 'at+jwt');
    await expectUnauthorized(authorize(event(bearer(other)), context));
  });

  it('two Authorization headers', async () => {
    const token = await key.sign(claims(), 'at+jwt');
    await expectUnauthorized(
      authorize(
        event([
          ['Authorization', `Bearer ${token}`],
          ['Authorization', `Bearer ${token}`],
        ]),
        context,
      ),
    );
  });
});

describe('token authorizer: REQUIRED_SCOPES', () => {
  let strict: Authorizer;
  beforeAll(async () => {
    strict = await loadAuthorizer(process.env.JWKS_URL as string, 'mcp:read, mcp:admin');
  });
  afterAll(() => {
    delete process.env.REQUIRED_SCOPES;
  });

  it('denies a valid token lacking one, naming every required scope (403 insufficient_scope)', async () => {
    const result = await strict(
      event(bearer(await key.sign(claims({ scope: 'mcp:read mcp:write' }), 'at+jwt'))),
      context,
    );
    expect(result.principalId).toBe('anonymous');
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: METHOD_ARN },
    ]);
    expect(evaluatePolicy(result, METHOD_ARN)).toBe('Deny');
    expect(result.context).toEqual({
      wwwAuthenticate: `Bearer resource_metadata="${METADATA}", error="insufficient_scope", error_description="The access token lacks a scope this resource needs.", scope="mcp:read mcp:admin"`,
      error: 'insufficient_scope',
      error_description: 'The access token lacks a scope this resource needs.',
      resourceMetadata: METADATA,
    });
  });

  it('denies a token with no scope at all', async () => {
    const result = await strict(event(bearer(await key.sign(claims({ scope: undefined }), 'at+jwt'))), context);
    expect(evaluatePolicy(result, METHOD_ARN)).toBe('Deny');
  });

  it('allows a token carrying all of them (and more)', async () => {
    const token = await key.sign(claims({ scope: 'mcp:admin mcp:write mcp:read' }), 'at+jwt');
    const result = await strict(event(bearer(token)), context);
    expect(evaluatePolicy(result, METHOD_ARN)).toBe('Allow');
    expect(result.context).toMatchObject({ scope: 'mcp:admin mcp:write mcp:read' });
  });

  it('still answers a bad token with 401, not 403', async () => {
    await expectUnauthorized(strict(event(bearer('not-a-jwt')), context));
  });
});

describe('token authorizer: key set unavailable', () => {
  it('fails (AUTHORIZER_FAILURE) when the JWKS server is down, without calling the token invalid', async () => {
    const down = createServer();
    const url = await listen(down);
    down.close();
    await once(down, 'close');
    const isolated = await loadAuthorizer(url);
    await expectFailure(isolated(event(bearer(await key.sign(claims(), 'at+jwt'))), context));
  });

  it('fails when the JWKS endpoint answers with an error status', async () => {
    const failing = createServer((_req, res) => res.writeHead(503).end());
    const isolated = await loadAuthorizer(await listen(failing));
    try {
      await expectFailure(isolated(event(bearer(await key.sign(claims(), 'at+jwt'))), context));
    } finally {
      failing.closeAllConnections();
      failing.close();
    }
  });
});

describe('token authorizer: the grant a token names (sid)', () => {
  /** A grant of its own per test, so no answer cached by another test decides. */
  let serial = 0;
  async function freshGrant(overrides: Partial<GrantRecord> = {}): Promise<string> {
    serial += 1;
    const grantId = `TestGrant${String(serial).padStart(13, '0')}`;
    await storeGrant(grantId, overrides);
    return grantId;
  }
  const tokenOf = (grantId: string) => key.sign(claims({ sid: grantId }), 'at+jwt');

  it('a revoked grant’s token is a 401', async () => {
    const grantId = await freshGrant({ revoked_at: now() - 1 });
    await expectUnauthorized(authorize(event(bearer(await tokenOf(grantId))), context));
  });

  it.each<[string, Partial<GrantRecord>]>([
    ['past its idle deadline', { expires_at: now() - 1 }],
    ['past its absolute end', { grant_expires_at: now() - 1 }],
  ])('a grant %s: its token is a 401', async (_what, overrides) => {
    const grantId = await freshGrant(overrides);
    await expectUnauthorized(authorize(event(bearer(await tokenOf(grantId))), context));
  });

  it('a grant that is not stored (never, or removed by TTL): 401', async () => {
    await expectUnauthorized(authorize(event(bearer(await tokenOf('NoSuchGrantNoSuchGrant'))), context));
  });

  it('a token without sid (minted before grants were checked): 401', async () => {
    await expectUnauthorized(authorize(event(bearer(await key.sign(claims({ sid: undefined }), 'at+jwt'))), context));
  });

  it('GRANT_STATUS_CACHE_SECONDS=0: a revocation stops the next request', async () => {
    const every = await loadAuthorizer(jwksUrl, undefined, {
      [ENV.grantStatusCacheSeconds]: '0',
    });
    const grantId = await freshGrant();
    const token = await tokenOf(grantId);
    expect(evaluatePolicy(await every(event(bearer(token)), context), METHOD_ARN)).toBe('Allow');
    await grants.revokeGrant(grantId, now());
    await expectUnauthorized(every(event(bearer(token)), context));
  });

  it('GRANT_STATUS_CACHE_SECONDS=1: an instance allows until its answer is a second old, then refuses', async () => {
    const cached = await loadAuthorizer(jwksUrl, undefined, {
      [ENV.grantStatusCacheSeconds]: '1',
    });
    const grantId = await freshGrant();
    const token = await tokenOf(grantId);
    expect(evaluatePolicy(await cached(event(bearer(token)), context), METHOD_ARN)).toBe('Allow');
    await grants.revokeGrant(grantId, now());
    // Within the period the cached answer stands: the stated bound, not longer.
    await new Promise((done) => setTimeout(done, 1100));
    await expectUnauthorized(cached(event(bearer(token)), context));
  });

  it('fails closed (AUTHORIZER_FAILURE, not 401) when the grants table cannot be read and nothing is cached', async () => {
    const down = await loadAuthorizer(jwksUrl, undefined, {
      [ENV.dynamodbEndpoint]: await closedDynamoEndpoint(),
    });
    try {
      const error = await down(event(bearer(await tokenOf(GRANT_ID))), context).then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
      expect(error?.message).not.toBe('Unauthorized');
      // Failed for the grants table, not for something else on the way (the keys are up).
      expect((error?.cause as Error | undefined)?.name).toBe('GrantStatusUnavailableError');
    } finally {
      process.env[ENV.dynamodbEndpoint] = db.endpoint;
    }
  }, 30_000);
});
