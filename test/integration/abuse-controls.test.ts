/**
 * Abuse controls against dynalite: the RFC 7591 initial access token at POST /register, and
 * idle expiry of registered clients (use recorded at most once a day, by the token endpoint).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DAY_SECONDS, isIdleExpired, shouldRecordUse } from '../../lambda/domain/client-activity.js';
import type { RegisteredClient } from '../../lambda/domain/clients.js';
import { DynamoDbClientStore } from '../../lambda/store/dynamodb-client-store.js';
import { ClientDirectory } from '../../lambda/wiring/clients.js';
import { apiEvent, lambdaContext } from '../support/api-gateway-events.js';
import { registeredClient } from '../support/clients.js';
import { useDynalite } from '../support/dynalite.js';

const context = lambdaContext('register', 'r');
const db = useDynalite('abuse');

beforeAll(() => {
  Object.assign(process.env, db.env(), { ISSUER_URL: 'https://gateway.example' });
});

function registration(authorization?: string): APIGatewayProxyEvent {
  return apiEvent({
    method: 'POST',
    path: '/register',
    headers: { 'Content-Type': 'application/json', ...(authorization ? { Authorization: authorization } : {}) },
    body: JSON.stringify({ redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none' }),
  });
}

describe('initial access token (RFC 7591 section 3)', () => {
  type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  let register: Handler;

  beforeAll(async () => {
    process.env.INITIAL_ACCESS_TOKEN = 'let-me-register-0123456789';
    vi.resetModules();
    register = (await import('../../lambda/register.js')).handler as Handler;
    delete process.env.INITIAL_ACCESS_TOKEN;
  });

  it.each([
    ['no token', undefined, 'Bearer'],
    ['a wrong token', 'Bearer not-the-token', 'Bearer error="invalid_token"'],
    ['the token under another scheme', 'Basic let-me-register-0123456789', 'Bearer'],
  ])('refuses %s with 401 invalid_token', async (_name, authorization, challenge) => {
    const result = await register(registration(authorization), context);
    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body).error).toBe('invalid_token');
    expect(result.headers?.['WWW-Authenticate']).toBe(challenge);
  });

  it('registers with the right token', async () => {
    const result = await register(registration('Bearer let-me-register-0123456789'), context);
    expect(result.statusCode).toBe(201);
  });

  it('is not asked for when none is configured', async () => {
    vi.resetModules();
    const open = (await import('../../lambda/register.js')).handler as Handler;
    expect((await open(registration(), context)).statusCode).toBe(201);
  });
});

describe('idle expiry', () => {
  const now = 1_900_000_000;
  /** Registered 100 days before `now`, never used. */
  const client = (overrides: Partial<RegisteredClient> = {}): RegisteredClient =>
    registeredClient({ client_id_issued_at: now - 100 * DAY_SECONDS, ...overrides });

  const cases: Array<[string, RegisteredClient, number, boolean]> = [
    ['never used, issued 100 days ago, 90-day limit', client(), 90, true],
    ['used 10 days ago', client({ last_used_at: now - 10 * DAY_SECONDS }), 90, false],
    ['issued yesterday', client({ client_id_issued_at: now - DAY_SECONDS }), 90, false],
    ['expiry off', client(), 0, false],
    ['a metadata-document client (issued_at 0)', client({ client_id_issued_at: 0 }), 1, false],
  ];
  // Titled by the expected outcome, not by the record (whose client_id is random).
  for (const [name, subject, days, expected] of cases) {
    it(`${name}: expired=${expected}`, () => {
      expect(isIdleExpired(subject, now, days)).toBe(expected);
    });
  }

  it('records use at most once a day', () => {
    expect(shouldRecordUse(client(), now)).toBe(true);
    expect(shouldRecordUse(client({ last_used_at: now - 3600 }), now)).toBe(false);
    expect(shouldRecordUse(client({ last_used_at: now - DAY_SECONDS }), now)).toBe(true);
  });

  it('hides an idle client from every look-up, and a recorded use brings it back', async () => {
    const store = new DynamoDbClientStore(db.clientsTable);
    const idle = client();
    await store.create(idle);
    const documents = { allowLoopbackHttp: false, resolve: async () => Promise.reject(new Error('unused')) };
    const directory = new ClientDirectory(store, documents, 90, () => now);
    expect(await directory.getById(idle.client_id)).toBeUndefined();
    await store.recordUse(idle.client_id, now - DAY_SECONDS);
    expect((await directory.getById(idle.client_id))?.client_id).toBe(idle.client_id);
  });

  it('does not bring a deleted client back by recording its use', async () => {
    const store = new DynamoDbClientStore(db.clientsTable);
    await store.recordUse('never-registered', now);
    expect(await store.getById('never-registered')).toBeUndefined();
  });
});
