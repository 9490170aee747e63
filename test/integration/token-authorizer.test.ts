/**
 * The resource's token authorizer as API Gateway invokes it, fetching the issuer's JWKS for
 * real over HTTP from a local server: Allow with the caller in its context for a good token,
 * Deny with a ready-made WWW-Authenticate value for anything else, and Deny (fail closed) when
 * the key set cannot be fetched.
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
import { LocalSigningKey } from '../../lambda/keys/local-signing-key.js';
import { evaluatePolicy } from '../../lib/local/authorizer-policy.js';
import { authorizerRequest, lambdaContext } from '../support/api-gateway-events.js';

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

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
}

async function loadAuthorizer(jwksUrl: string): Promise<Authorizer> {
  process.env.JWKS_URL = jwksUrl;
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
    ...overrides,
  };
}

/** A deployed stage's method ARN (region, account, stage `prod`), not the local gateway's. */
function event(headers: Array<[string, string]>, methodArn = METHOD_ARN): APIGatewayRequestAuthorizerEvent {
  return authorizerRequest({ method: methodArn.split('/')[2], path: '/mcp', headers }, { methodArn });
}

const bearer = (token: string): Array<[string, string]> => [['Authorization', `Bearer ${token}`]];

function expectDeny(result: APIGatewayAuthorizerResult, wwwAuthenticate: string, error: string) {
  expect(result.principalId).toBe('anonymous');
  expect(result.policyDocument.Statement).toEqual([
    { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: METHOD_ARN },
  ]);
  expect(evaluatePolicy(result, METHOD_ARN)).toBe('Deny');
  expect(result.context?.wwwAuthenticate).toBe(wwwAuthenticate);
  expect(result.context?.error).toBe(error);
  expect(result.context?.resourceMetadata).toBe(METADATA);
  // The gateway response body template prints these unescaped: no quotes, no backslashes.
  expect(String(result.context?.error_description)).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
}

beforeAll(async () => {
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
  const jwksUrl = await listen(jwksServer);
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

describe('token authorizer: Deny', () => {
  it('answers a request without a token with the bare challenge (RFC 6750 section 3.1)', async () => {
    const plain = `Bearer resource_metadata="${METADATA}"`;
    expectDeny(await authorize(event([]), context), plain, 'invalid_request');
    // Another scheme is no bearer token either.
    expectDeny(await authorize(event([['Authorization', 'Basic dXNlcjpwYXNz']]), context), plain, 'invalid_request');
  });

  it('answers garbage with invalid_token', async () => {
    const result = await authorize(event(bearer('not-a-jwt')), context);
    expectDeny(
      result,
      `Bearer resource_metadata="${METADATA}", error="invalid_token", error_description="The access token is malformed."`,
      'invalid_token',
    );
  });

  it('answers a token with characters outside b64token with invalid_token', async () => {
    const result = await authorize(event([['Authorization', 'Bearer a"b']]), context);
    expectDeny(
      result,
      `Bearer resource_metadata="${METADATA}", error="invalid_token", error_description="The access token is malformed."`,
      'invalid_token',
    );
  });

  it('answers an expired token with invalid_token and says it expired', async () => {
    const token = await key.sign(claims({ iat: now() - 7200, exp: now() - 3600 }), 'at+jwt');
    expectDeny(
      await authorize(event(bearer(token)), context),
      `Bearer resource_metadata="${METADATA}", error="invalid_token", error_description="The access token has expired."`,
      'invalid_token',
    );
  });

  it('answers a token for another resource with invalid_token', async () => {
    const token = await key.sign(claims({ aud: 'https://api.example/prod/other' }), 'at+jwt');
    const result = await authorize(event(bearer(token)), context);
    expectDeny(
      result,
      `Bearer resource_metadata="${METADATA}", error="invalid_token", error_description="The access token was issued for another resource."`,
      'invalid_token',
    );
  });

  it('refuses two Authorization headers with invalid_request', async () => {
    const token = await key.sign(claims(), 'at+jwt');
    const result = await authorize(
      event([
        ['Authorization', `Bearer ${token}`],
        ['Authorization', `Bearer ${token}`],
      ]),
      context,
    );
    expectDeny(
      result,
      `Bearer resource_metadata="${METADATA}", error="invalid_request", error_description="The request carries more than one Authorization header."`,
      'invalid_request',
    );
  });
});

describe('token authorizer: key set unavailable', () => {
  it('denies when the JWKS server is down, without calling the token invalid', async () => {
    const down = createServer();
    const url = await listen(down);
    down.close();
    await once(down, 'close');
    const isolated = await loadAuthorizer(url);
    const result = await isolated(event(bearer(await key.sign(claims(), 'at+jwt'))), context);
    expectDeny(result, `Bearer resource_metadata="${METADATA}"`, 'temporarily_unavailable');
  });

  it('denies when the JWKS endpoint answers with an error status', async () => {
    const failing = createServer((_req, res) => res.writeHead(503).end());
    const isolated = await loadAuthorizer(await listen(failing));
    try {
      const result = await isolated(event(bearer(await key.sign(claims(), 'at+jwt'))), context);
      expectDeny(result, `Bearer resource_metadata="${METADATA}"`, 'temporarily_unavailable');
    } finally {
      failing.closeAllConnections();
      failing.close();
    }
  });
});
