/**
 * Handlers against dynalite through the real AWS SDK: the registration Lambda and the
 * redirect-URI authorizer as API Gateway invokes them, and the DynamoDB ClientStore adapter.
 */
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { secretMatchesHash } from '../../lambda/domain/credentials.js';
import { DynamoDbClientStore } from '../../lambda/store/dynamodb-client-store.js';
import { apiEvent, authorizerRequest, lambdaContext, methodArn } from '../support/api-gateway-events.js';
import { registeredClient } from '../support/clients.js';
import { closedDynamoEndpoint, useDynalite } from '../support/dynalite.js';
import { REGISTRATION_FIXTURES, registrationFixture } from '../support/fixtures.js';

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

const context = lambdaContext('test', 'req-1');

const db = useDynalite('integration');
let store: DynamoDbClientStore;
let register: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;
let authorize: Handler<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>;

beforeAll(async () => {
  Object.assign(process.env, db.env());
  process.env.ISSUER_URL = 'https://gateway.example/v1';
  store = new DynamoDbClientStore(db.clientsTable);
  register = (await import('../../lambda/register.js')).handler as typeof register;
  authorize = (await import('../../lambda/redirect-uri-authorizer.js')).handler as typeof authorize;
});

function registrationEvent(body: string | null, contentType = 'application/json'): APIGatewayProxyEvent {
  return apiEvent({ method: 'POST', path: '/register', headers: { 'Content-Type': contentType }, body });
}

const METHOD_ARN = methodArn('GET', '/authorize');

function authorizeEvent(query: Array<[string, string]>): APIGatewayRequestAuthorizerEvent {
  return authorizerRequest({ path: '/authorize', query });
}

async function registerBody(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const result = await register(registrationEvent(JSON.stringify(body)), context);
  return { status: result.statusCode, json: JSON.parse(result.body) };
}

describe('registration Lambda', () => {
  it.each(REGISTRATION_FIXTURES.map(([file]) => file))(
    'registers %s and stores it whole, with only a hash of any secret',
    async (file) => {
      const body = registrationFixture(file) as { redirect_uris: string[] };
      const { status, json } = await registerBody(body);
      expect(status).toBe(201);
      const stored = await store.getById(json.client_id as string);
      expect(stored?.redirect_uris).toEqual(body.redirect_uris);
      expect(stored?.client_id_issued_at).toBe(json.client_id_issued_at);
      expect(JSON.stringify(stored)).not.toContain('"client_secret"');
      if (json.client_secret) {
        expect(stored?.client_secret_hash).toMatch(/^sha256:/);
        expect(JSON.stringify(stored)).not.toContain(json.client_secret as string);
        expect(secretMatchesHash(json.client_secret as string, stored?.client_secret_hash as string)).toBe(true);
      } else {
        expect(stored?.client_secret_hash).toBeUndefined();
      }
    },
  );

  it('answers 201 with no-store and the RFC 7591 fields', async () => {
    const result = await register(
      registrationEvent(JSON.stringify({ redirect_uris: ['https://app.example.com/cb'] })),
      context,
    );
    expect(result.statusCode).toBe(201);
    expect(result.headers?.['Cache-Control']).toBe('no-store');
    const json = JSON.parse(result.body);
    expect(json).toMatchObject({
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      client_secret_expires_at: 0,
    });
    expect(Number.isInteger(json.client_id_issued_at)).toBe(true);
  });

  it.each([
    ['malformed JSON', registrationEvent('{"redirect_uris":'), 400, 'invalid_client_metadata'],
    ['an empty body', registrationEvent(null), 400, 'invalid_client_metadata'],
    ['a JSON array', registrationEvent('[]'), 400, 'invalid_client_metadata'],
    ['text/plain', registrationEvent('{}', 'text/plain'), 415, 'invalid_request'],
    ['an upper-case JSON media type', registrationEvent('{}', 'Application/JSON'), 400, 'invalid_redirect_uri'],
    ['a body over 64 KiB', registrationEvent(`{"x":"${'a'.repeat(70_000)}"}`), 413, 'invalid_request'],
    [
      'a javascript: redirect URI',
      registrationEvent(JSON.stringify({ redirect_uris: ['javascript:alert(1)'] })),
      400,
      'invalid_redirect_uri',
    ],
  ])('refuses %s with an OAuth error body and stores nothing', async (_name, event, status, error) => {
    const result = await register(event, context);
    expect(result.statusCode).toBe(status);
    expect(result.headers?.['Content-Type']).toBe('application/json');
    const json = JSON.parse(result.body);
    expect(json.error).toBe(error);
    expect(json.error_description).toEqual(expect.any(String));
  });
});

describe('redirect-URI authorizer', () => {
  let clientId: string;
  let twoUriClientId: string;

  beforeAll(async () => {
    clientId = (
      await registerBody({ redirect_uris: ['https://claude.ai/api/mcp/auth_callback'], client_name: 'Claude' })
    ).json.client_id as string;
    twoUriClientId = (
      await registerBody({
        redirect_uris: ['http://127.0.0.1/callback', 'https://app.example.com/cb'],
        token_endpoint_auth_method: 'none',
      })
    ).json.client_id as string;
  });

  function expectAllow(result: APIGatewayAuthorizerResult, redirectUri: string, id: string) {
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN },
    ]);
    expect(result.principalId).toBe(id);
    expect(result.context).toMatchObject({ clientId: id, redirectUri });
    expect(result.context?.tokenEndpointAuthMethod).toEqual(expect.any(String));
  }

  function expectDeny(result: APIGatewayAuthorizerResult, error: string) {
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: METHOD_ARN },
    ]);
    expect(result.context?.error).toBe(error);
    expect(result.context?.error_description).toEqual(expect.any(String));
  }

  it('allows a registered client with its registered redirect URI, at once after registration', async () => {
    const result = await authorize(
      authorizeEvent([
        ['client_id', clientId],
        ['redirect_uri', 'https://claude.ai/api/mcp/auth_callback'],
      ]),
      context,
    );
    expectAllow(result, 'https://claude.ai/api/mcp/auth_callback', clientId);
    expect(result.context?.clientName).toBe('Claude');
  });

  it('allows an omitted redirect_uri when the client registered exactly one, handing that one on', async () => {
    const result = await authorize(authorizeEvent([['client_id', clientId]]), context);
    expectAllow(result, 'https://claude.ai/api/mcp/auth_callback', clientId);
  });

  it('allows a loopback redirect URI on another port and hands on the requested one', async () => {
    const result = await authorize(
      authorizeEvent([
        ['client_id', twoUriClientId],
        ['redirect_uri', 'http://127.0.0.1:49152/callback'],
      ]),
      context,
    );
    expectAllow(result, 'http://127.0.0.1:49152/callback', twoUriClientId);
  });

  it.each([
    ['an unknown client', () => [['client_id', 'no-such-client']], 'invalid_client'],
    ['a missing client_id', () => [['redirect_uri', 'https://claude.ai/api/mcp/auth_callback']], 'invalid_request'],
    [
      'an unregistered redirect URI',
      () => [
        ['client_id', clientId],
        ['redirect_uri', 'https://evil.example/cb'],
      ],
      'invalid_request',
    ],
    [
      'a redirect URI with a trailing slash',
      () => [
        ['client_id', clientId],
        ['redirect_uri', 'https://claude.ai/api/mcp/auth_callback/'],
      ],
      'invalid_request',
    ],
    ['an omitted redirect URI with two registered', () => [['client_id', twoUriClientId]], 'invalid_request'],
    [
      'a repeated redirect_uri',
      () => [
        ['client_id', clientId],
        ['redirect_uri', 'https://claude.ai/api/mcp/auth_callback'],
        ['redirect_uri', 'https://evil.example/cb'],
      ],
      'invalid_request',
    ],
    ['an over-long client_id', () => [['client_id', 'x'.repeat(5000)]], 'invalid_client'],
  ] as Array<[string, () => Array<[string, string]>, string]>)('denies %s', async (_name, query, error) => {
    expectDeny(await authorize(authorizeEvent(query()), context), error);
  });

  it('denies a method other than GET', async () => {
    const event = { ...authorizeEvent([['client_id', clientId]]), httpMethod: 'POST' };
    expectDeny(await authorize(event, context), 'invalid_request');
  });
});

describe('when the table fails', () => {
  it('the DynamoDB store reports the registry as unavailable, and the authorizer denies', async () => {
    const endpoint = await closedDynamoEndpoint();
    const { createDocumentClient } = await import('../../lambda/aws/dynamodb.js');
    const unreachable = new DynamoDbClientStore(db.clientsTable, createDocumentClient(endpoint));
    await expect(unreachable.getById('anything')).rejects.toMatchObject({ code: 'temporarily_unavailable' });
    await expect(unreachable.create(registeredClient({ client_id: 'x' }))).rejects.toMatchObject({
      code: 'temporarily_unavailable',
      status: 503,
    });
  });

  it('the registration Lambda answers 503 temporarily_unavailable and the authorizer denies, with no internals', async () => {
    const endpoint = await closedDynamoEndpoint();
    process.env.DYNAMODB_ENDPOINT = endpoint;
    const { vi } = await import('vitest');
    vi.resetModules();
    const freshRegister = (await import('../../lambda/register.js')).handler as typeof register;
    const freshAuthorize = (await import('../../lambda/redirect-uri-authorizer.js')).handler as typeof authorize;
    process.env.DYNAMODB_ENDPOINT = db.endpoint;

    const result = await freshRegister(
      registrationEvent(JSON.stringify({ redirect_uris: ['https://app.example.com/cb'] })),
      context,
    );
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toEqual({
      error: 'temporarily_unavailable',
      error_description: expect.not.stringMatching(/ECONNREFUSED|at |Error/),
    });
    const denied = await freshAuthorize(authorizeEvent([['client_id', 'some-client']]), context);
    expect(denied.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    expect(denied.context?.error).toBe('temporarily_unavailable');
  });
});
