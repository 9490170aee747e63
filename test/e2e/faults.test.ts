/**
 * End to end: the local server (`npm start`'s entry point in a child process) on a DynamoDB that
 * fails. dynalite runs here, behind the fault proxy (test/support/fault-proxy.ts), and the server
 * is pointed at the proxy with DYNAMODB_ENDPOINT. While the table throttles, errs, drops
 * connections or is slow, every answer comes within a bounded time: 503 temporarily_unavailable
 * from /register and /token, a 403 deny with no redirect from /authorize, never a hang, a stack
 * or the SDK's words. Once the faults stop, everything works, and nothing a refused request
 * touched is left half-done.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type * as oauth from 'oauth4webapi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambda/contract/environment.js';
import { useDynalite } from '../support/dynalite.js';
import { type FaultAction, type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { useLocalServer } from '../support/local-server-fixture.js';
import {
  authorizationUrl,
  discover,
  obtainTokens,
  type RegisteredTestClient,
  registerTestClient,
  runBrowser,
} from '../support/oauth-flow.js';

/** A liveness bound on each answer: 3 attempts of at most 2 s each, plus backoff, plus slack. */
const ANSWER_BOUND_MS = 15_000;
const REDIRECT_URI = 'https://client.example/callback';

const FAULTS: Array<[string, FaultAction]> = [
  ['500 InternalServerError', { kind: 'internal-error' }],
  ['ProvisionedThroughputExceededException', { kind: 'throttle' }],
  ['ThrottlingException', { kind: 'throttle', error: 'ThrottlingException' }],
  ['dropped connections', { kind: 'drop' }],
];

/** Anything that would betray internals: stack frames, SDK or Node error names, the table. */
const INTERNALS = /\bat \S+ \(|Exception|ECONN|socket|smithy|aws-sdk|DynamoDB|dynalite|\.ts\b|\.js\b/i;

const db = useDynalite('faults-e2e');
let proxy: FaultProxy;
let as: oauth.AuthorizationServer;
let registered: RegisteredTestClient;

beforeAll(async () => {
  proxy = await startFaultProxy(db.endpoint);
});

afterAll(async () => {
  await proxy?.close();
});

// The server reaches the tables only through the proxy; at its start (no faults yet) it finds them made.
const server = useLocalServer(() => ({ ...db.env(), [ENV.dynamodbEndpoint]: proxy.url }));

beforeAll(async () => {
  as = await discover(server.url);
  registered = await registerTestClient(as, 'none', REDIRECT_URI);
});

afterEach(() => {
  proxy.clearFaults();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  ms: number;
}

/** One request, cut off (and so failed) if no answer comes well past the bound. */
async function send(url: string | URL, init: RequestInit = {}): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(url, { redirect: 'manual', ...init, signal: AbortSignal.timeout(ANSWER_BOUND_MS * 2) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, ms: performance.now() - started };
}

function register(body: Record<string, unknown>): Promise<Answer> {
  return send(`${server.url}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function token(params: Record<string, string>): Promise<Answer> {
  return send(`${server.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
}

/** An OAuth error body, in time, with exactly the two fields and nothing internal. */
function expectOAuthError(answer: Answer, status: number, error: string): void {
  expect(answer.ms, 'the answer must come within the bound').toBeLessThan(ANSWER_BOUND_MS);
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  expect(body.error).toBe(error);
  expect(body.error_description).toEqual(expect.any(String));
  expect(answer.text).not.toMatch(INTERNALS);
}

async function clientCount(): Promise<number> {
  const { Count } = await db.documents.send(new ScanCommand({ TableName: db.clientsTable, Select: 'COUNT' }));
  return Count ?? 0;
}

/** A code for the registered client, obtained through consent and sign-in with no faults. */
async function authorizationCode(): Promise<{ code: string; codeVerifier: string }> {
  const attempt = await authorizationUrl(as, registered);
  const landing = await runBrowser(attempt.url, REDIRECT_URI);
  if (landing.kind !== 'stopped') throw new Error(`the flow ended on a page: ${landing.url}`);
  const code = landing.url.searchParams.get('code');
  if (!code) throw new Error(`no code: ${landing.url}`);
  return { code, codeVerifier: attempt.codeVerifier };
}

describe('while DynamoDB fails', () => {
  it.each(FAULTS)(
    'POST /register answers 503 temporarily_unavailable under %s, storing nothing',
    async (_n, action) => {
      const before = await clientCount();
      proxy.inject({ operation: '*', action });
      const answer = await register({ redirect_uris: [REDIRECT_URI], client_name: 'Fault' });
      expectOAuthError(answer, 503, 'temporarily_unavailable');
      proxy.clearFaults();
      expect(await clientCount()).toBe(before);
    },
  );

  it.each(FAULTS)('GET /authorize is denied with 403 and no redirect under %s', async (_n, action) => {
    const attempt = await authorizationUrl(as, registered);
    proxy.inject({ operation: '*', action });
    const answer = await send(attempt.url);
    expectOAuthError(answer, 403, 'temporarily_unavailable');
    expect(answer.headers.get('location')).toBeNull();
  });

  it.each(FAULTS)('POST /token answers 503 under %s', async (_n, action) => {
    proxy.inject({ operation: '*', action });
    const answer = await token({
      grant_type: 'authorization_code',
      client_id: registered.client.client_id,
      code: 'any-code',
      redirect_uri: REDIRECT_URI,
      code_verifier: 'v'.repeat(43),
    });
    expectOAuthError(answer, 503, 'temporarily_unavailable');
  });

  it('a code whose redemption the table refused is not spent: it redeems once the table is back', async () => {
    const { code, codeVerifier } = await authorizationCode();
    const params = {
      grant_type: 'authorization_code',
      client_id: registered.client.client_id,
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: codeVerifier,
    };
    const rule = proxy.inject({ operation: 'UpdateItem', action: { kind: 'internal-error' } });
    expectOAuthError(await token(params), 503, 'temporarily_unavailable');
    expect(rule.hits).toBe(3);
    proxy.clearFaults();

    const answer = await token(params);
    expect(answer.status, answer.text).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
    });
    // And only once.
    expectOAuthError(await token(params), 400, 'invalid_grant');
  });

  it('a table slower than the request timeout: /authorize is denied within the bound, not left waiting', async () => {
    const attempt = await authorizationUrl(as, registered);
    proxy.inject({ operation: 'GetItem', action: { kind: 'delay', ms: 20_000 } });
    const answer = await send(attempt.url);
    expectOAuthError(answer, 403, 'temporarily_unavailable');
    expect(answer.headers.get('location')).toBeNull();
    // Three attempts, each cut at the 2 s request timeout.
    expect(answer.ms).toBeGreaterThanOrEqual(5_900);
  });
});

describe('when the table writes but its answer is lost', () => {
  it('POST /register answers 201 once, and the credentials it gave work', async () => {
    const before = await clientCount();
    const rule = proxy.inject({ operation: 'PutItem', action: { kind: 'drop-after-forward' }, times: 1 });
    const answer = await register({ redirect_uris: [REDIRECT_URI], client_name: 'Unheard' });
    expect(rule.hits).toBe(1);
    expect(answer.status, answer.text).toBe(201);
    expect(await clientCount()).toBe(before + 1);
    const info = JSON.parse(answer.text) as { registration_client_uri: string; registration_access_token: string };
    const read = await send(info.registration_client_uri, {
      headers: { Authorization: `Bearer ${info.registration_access_token}` },
    });
    expect(read.status, read.text).toBe(200);
    expect(JSON.parse(read.text)).toMatchObject({ client_name: 'Unheard', redirect_uris: [REDIRECT_URI] });
  });

  it('POST /token whose redemption answer is lost: the code is spent and yields no tokens, now or later', async () => {
    const { code, codeVerifier } = await authorizationCode();
    const params = {
      grant_type: 'authorization_code',
      client_id: registered.client.client_id,
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: codeVerifier,
    };
    proxy.inject({ operation: 'UpdateItem', action: { kind: 'drop-after-forward' }, times: 1 });
    expectOAuthError(await token(params), 400, 'invalid_grant');
    proxy.clearFaults();
    expectOAuthError(await token(params), 400, 'invalid_grant');
  });
});

describe('once DynamoDB recovers', () => {
  it('registration, authorization and tokens all work again', async () => {
    proxy.inject({ operation: '*', action: { kind: 'internal-error' } });
    expectOAuthError(await register({ redirect_uris: [REDIRECT_URI] }), 503, 'temporarily_unavailable');
    proxy.clearFaults();

    const fresh = await registerTestClient(as, 'client_secret_basic', REDIRECT_URI);
    const measured = await proxy.measure(() => obtainTokens(as, fresh));
    expect(measured.result.access_token).toEqual(expect.any(String));
    expect(measured.result.refresh_token).toEqual(expect.any(String));
    // The whole flow's DynamoDB requests, as a benchmark would count them.
    expect(Object.keys(measured.counts)).toEqual(
      expect.arrayContaining(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']),
    );
    expect(measured.total).toBeGreaterThanOrEqual(8);
  });
});
