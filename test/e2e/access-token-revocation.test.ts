/**
 * End to end over real HTTP (the local server, `npm start`'s entry, in a child process): every
 * way a grant ends stops its access tokens at /mcp, answered `401 invalid_token` with the
 * resource's Bearer challenge, within GRANT_STATUS_CACHE_SECONDS. POST /revoke with a refresh
 * token or with an access token, a replayed code (RFC 6749 4.1.2), a replayed refresh token
 * outside the grace window, the admin CLI (one grant, a person, a deleted client), the connected
 * apps page's "Remove access". A server
 * caching 1 s shows the bound itself: an answer it cached is kept that long, then the revocation
 * is seen. With the grants table unreachable and nothing cached, /mcp refuses with 503.
 */
import { execFile } from 'node:child_process';
import * as oauth from 'oauth4webapi';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambda/contract/environment.js';
import { CookieJar, parseForms } from '../support/browser-like.js';
import { useDynalite } from '../support/dynalite.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { type LocalServer, useLocalServer, useLocalServers } from '../support/local-server-fixture.js';
import {
  authorizationUrl,
  discover,
  INSECURE,
  obtainTokens,
  openAccountPage,
  type RegisteredTestClient,
  registerTestClient,
  runBrowser,
} from '../support/oauth-flow.js';

const REDIRECT_URI = 'https://client.example/callback';

/** Strict servers (every request reads the grant; replays revoke at once) and one caching for 1 s. */
const [strict, cachingOneSecond] = useLocalServers([
  { [ENV.grantStatusCacheSeconds]: '0', [ENV.refreshTokenReuseGraceSeconds]: '0' },
  { [ENV.grantStatusCacheSeconds]: '1' },
]);

interface Flow {
  as: oauth.AuthorizationServer;
  registered: RegisteredTestClient;
}

async function newClient(server: LocalServer): Promise<Flow> {
  const as = await discover(server.url);
  return { as, registered: await registerTestClient(as, 'none', REDIRECT_URI) };
}

/** An MCP initialize at /mcp with the token: what a connector sends first. */
async function mcp(server: LocalServer, accessToken: string) {
  const response = await fetch(`${server.url}/mcp`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${accessToken}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'revocation-test', version: '1' },
      },
    }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

/** The resource's 401: invalid_token, and the challenge that sends a client to the metadata. */
async function expectRefused(server: LocalServer, accessToken: string) {
  const answer = await mcp(server, accessToken);
  expect(answer.status, answer.text).toBe(401);
  expect(JSON.parse(answer.text)).toMatchObject({ error: 'invalid_token' });
  expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="/);
}

async function expectAdmitted(server: LocalServer, accessToken: string) {
  const answer = await mcp(server, accessToken);
  expect(answer.status, answer.text).toBe(200);
}

async function revoke(flow: Flow, token: string) {
  const response = await oauth.revocationRequest(
    flow.as,
    flow.registered.client,
    flow.registered.auth,
    token,
    INSECURE,
  );
  expect(response.status).toBe(200);
}

async function tokenRequest(server: LocalServer, params: Record<string, string>) {
  const response = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('every revocation path stops the access tokens (GRANT_STATUS_CACHE_SECONDS=0)', () => {
  let flow: Flow;
  beforeAll(async () => {
    flow = await newClient(strict);
  });

  it('POST /revoke with the refresh token: the access token is refused at /mcp', async () => {
    const tokens = await obtainTokens(flow.as, flow.registered);
    await expectAdmitted(strict, tokens.access_token);
    await revoke(flow, tokens.refresh_token as string);
    await expectRefused(strict, tokens.access_token);
  });

  it('POST /revoke with the access token ends its whole grant: the token, and the refresh token at /token', async () => {
    const tokens = await obtainTokens(flow.as, flow.registered);
    await expectAdmitted(strict, tokens.access_token);
    await revoke(flow, tokens.access_token);
    await expectRefused(strict, tokens.access_token);
    const refreshed = await tokenRequest(strict, {
      grant_type: 'refresh_token',
      client_id: flow.registered.client.client_id,
      refresh_token: tokens.refresh_token as string,
    });
    expect(refreshed).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('POST /revoke with another client’s access token ends nothing (and still answers 200)', async () => {
    const tokens = await obtainTokens(flow.as, flow.registered);
    const other = await newClient(strict);
    await revoke(other, tokens.access_token);
    await expectAdmitted(strict, tokens.access_token);
  });

  it('a replayed code: the access token the first redemption got is refused', async () => {
    const attempt = await authorizationUrl(flow.as, flow.registered);
    const landing = await runBrowser(attempt.url, REDIRECT_URI);
    if (landing.kind !== 'stopped') throw new Error('the flow ended on a page');
    const params = {
      grant_type: 'authorization_code',
      client_id: flow.registered.client.client_id,
      code: landing.url.searchParams.get('code') as string,
      redirect_uri: REDIRECT_URI,
      code_verifier: attempt.codeVerifier,
    };
    const first = await tokenRequest(strict, params);
    expect(first.status).toBe(200);
    await expectAdmitted(strict, first.body.access_token as string);
    const replay = await tokenRequest(strict, params);
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    await expectRefused(strict, first.body.access_token as string);
  });

  it('a replayed refresh token (no grace window): every access token of the grant is refused', async () => {
    const tokens = await obtainTokens(flow.as, flow.registered);
    const refresh = (refreshToken: string) =>
      tokenRequest(strict, {
        grant_type: 'refresh_token',
        client_id: flow.registered.client.client_id,
        refresh_token: refreshToken,
      });
    const rotated = await refresh(tokens.refresh_token as string);
    expect(rotated.status).toBe(200);
    await expectAdmitted(strict, rotated.body.access_token as string);
    const replay = await refresh(tokens.refresh_token as string);
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    await expectRefused(strict, tokens.access_token);
    await expectRefused(strict, rotated.body.access_token as string);
  });
});

/** One admin CLI run against a local server's tables (its data directory's manifest). */
function admin(server: LocalServer, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const name of ['DYNAMODB_ENDPOINT', 'TABLE_NAME', 'GRANTS_TABLE_NAME', 'DATA_DIR']) delete env[name];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bin/admin.ts', ...args, '--local', '--data-dir', server.process.dataDir],
      { cwd: process.cwd(), env, timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

describe('a client that deletes itself (RFC 7592 DELETE) loses its access tokens too', () => {
  it("its access token is refused at /mcp once the registration is deleted; another client's is not", async () => {
    const mine = await newClient(strict);
    const other = await newClient(strict);
    const tokens = await obtainTokens(mine.as, mine.registered);
    const others = await obtainTokens(other.as, other.registered);
    await expectAdmitted(strict, tokens.access_token);
    const deleted = await fetch(mine.registered.client.registration_client_uri as string, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${mine.registered.client.registration_access_token}` },
    });
    expect(deleted.status).toBe(204);
    await expectRefused(strict, tokens.access_token);
    await expectAdmitted(strict, others.access_token);
  });
});

describe('the admin CLI’s revocations stop access tokens too', () => {
  it('grants revoke <grant_id>, grants revoke --subject (off-boarding), clients delete', async () => {
    const flow = await newClient(strict);
    const one = await obtainTokens(flow.as, flow.registered, { username: 'carol' });
    const person = await obtainTokens(flow.as, flow.registered, { username: 'dave' });
    const doomed = await newClient(strict);
    const ofClient = await obtainTokens(doomed.as, doomed.registered, { username: 'erin' });
    for (const tokens of [one, person, ofClient]) await expectAdmitted(strict, tokens.access_token);

    const grantId = (one.refresh_token as string).split('.')[0];
    expect((await admin(strict, ['grants', 'revoke', grantId])).code).toBe(0);
    await expectRefused(strict, one.access_token);
    await expectAdmitted(strict, person.access_token);

    const offboard = await admin(strict, ['grants', 'revoke', '--subject', 'dave']);
    expect(offboard.code, offboard.stderr).toBe(0);
    await expectRefused(strict, person.access_token);

    const deleted = await admin(strict, ['clients', 'delete', doomed.registered.client.client_id as string]);
    expect(deleted.code, deleted.stderr).toBe(0);
    await expectRefused(strict, ofClient.access_token);
  }, 60_000);
});

describe('the connected apps page’s Remove access stops access tokens too', () => {
  it('a person removes the client at /account: its access token is refused at /mcp', async () => {
    const flow = await newClient(strict);
    const jar = new CookieJar();
    const tokens = await obtainTokens(flow.as, flow.registered, { jar, username: 'frank' });
    await expectAdmitted(strict, tokens.access_token);
    const page = await openAccountPage(strict.url, jar, 'frank');
    const form = parseForms(page.body, page.url).find(
      (each) => each.fields.client === flow.registered.client.client_id,
    );
    expect(form, page.body.slice(0, 500)).toBeDefined();
    const cookie = jar.header(new URL(`${strict.url}/account`));
    const removed = await fetch(`${strict.url}/account`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: new URL(strict.url).origin,
        ...(cookie ? { cookie } : {}),
      },
      body: new URLSearchParams(form?.fields ?? {}),
    });
    expect(removed.status).toBe(303);
    await expectRefused(strict, tokens.access_token);
  });
});

describe('the bound: GRANT_STATUS_CACHE_SECONDS=1', () => {
  it('an instance that cached the grant as live admits for at most the period, then refuses', async () => {
    const flow = await newClient(cachingOneSecond);
    const tokens = await obtainTokens(flow.as, flow.registered);
    await expectAdmitted(cachingOneSecond, tokens.access_token);
    await revoke(flow, tokens.refresh_token as string);
    // Within the period the cached answer may stand; once it has passed, the revocation is seen.
    await new Promise((done) => setTimeout(done, 1100));
    await expectRefused(cachingOneSecond, tokens.access_token);
  });

  it('a token of an already revoked grant that was never cached is refused at once', async () => {
    const flow = await newClient(cachingOneSecond);
    const tokens = await obtainTokens(flow.as, flow.registered);
    await revoke(flow, tokens.access_token);
    await expectRefused(cachingOneSecond, tokens.access_token);
  });
});

describe('fail closed: the grants table unreachable and no cached answer', () => {
  const db = useDynalite('revocation-faults');
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(db.endpoint);
    return () => proxy.close();
  });
  const server = useLocalServer(() => ({ ...db.env(), [ENV.dynamodbEndpoint]: proxy.url }));
  afterEach(() => proxy.clearFaults());

  it('answers 503 temporarily_unavailable (never 200, never 401), and admits once the table is back', async () => {
    const flow = await newClient(server);
    const tokens = await obtainTokens(flow.as, flow.registered);
    proxy.inject({ operation: 'GetItem', action: { kind: 'internal-error' } });
    const refused = await mcp(server, tokens.access_token);
    expect(refused.status, refused.text).toBe(503);
    expect(JSON.parse(refused.text)).toMatchObject({ error: 'temporarily_unavailable' });
    proxy.clearFaults();
    await expectAdmitted(server, tokens.access_token);
  }, 30_000);
});
