/**
 * The deployed artifact, end to end: the app synthesized as `cdk synth` does, every function
 * run from its bundle under the Lambda runtime interface client on the runtime's Node.js, with
 * only the permissions its role has in the template (see support/deployment.ts for what stands
 * in for AWS, and why). The whole OAuth flow goes through the bundles: register, authorize
 * (the redirect-URI authorizer, then the authorization function), upstream sign-in and
 * callback, token, refresh, revoke, JWKS, the token authorizer and the MCP server. A call a
 * role does not allow fails a test naming it, and so does a grant no call needed.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, type FunctionName } from '../../lib/routes.js';
import { CookieJar, parseForms } from '../support/browser-like.js';
import {
  authorizationUrl,
  INSECURE,
  obtainTokens,
  openAccountPage,
  type RegisteredTestClient,
  registerTestClient,
  runBrowser,
} from '../support/oauth-flow.js';
import type { EndpointMode } from './support/aws-endpoints.js';
import { type SynthesizedApp, synthesizeApp } from './support/cloud-assembly.js';
import { Deployment } from './support/deployment.js';
import type { Statement } from './support/iam.js';

// The test process is the OAuth client and the browser: it trusts the deployment's test
// certificate by not verifying it. The functions, which are what is under test, verify it
// (NODE_EXTRA_CA_CERTS), as they verify AWS's and Cognito's certificates when deployed.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

const REDIRECT_URI = 'http://127.0.0.1:7777/callback';

/**
 * Grants that no request in this suite can need, each with the reason and where it is proven.
 * An entry that no longer matches a grant in the template fails the suite too.
 */
const GRANTS_NOT_EXERCISED_HERE: Record<string, string> = {
  'redirectUriAuthorizer dynamodb:PutItem':
    'caches a fetched Client ID Metadata Document, which needs a public https host (the SSRF guard refuses loopback); proven against dynalite in test/integration/cimd-cache.test.ts',
  'revoke dynamodb:PutItem': 'as for token: a private_key_jwt client revoking (test/e2e/private-key-jwt.test.ts)',
  'revoke dynamodb:GetItem':
    'reads a cached metadata document or JWKS (cimd#, jwks#) when such a client authenticates, or a spent jti on a replay (test/e2e/private-key-jwt.test.ts)',
};

/**
 * The Lambda runtimes' Node.js binaries come from linux-x64 npm packages (lambda-node22/24, in
 * test/deployed/runtimes, which `npm test` installs once: its pretest);
 * elsewhere the suite cannot run the bundles as Lambda does and says so instead of passing.
 */
const LAMBDA_LIKE_HOST = process.platform === 'linux' && process.arch === 'x64';
if (!LAMBDA_LIKE_HOST) console.warn('test/deployed skipped: it needs a linux-x64 host for the Lambda Node.js binaries');

let app: SynthesizedApp;

beforeAll(async () => {
  if (LAMBDA_LIKE_HOST) app = await synthesizeApp();
}, 180_000);

afterAll(() => app?.remove());

async function discover(deployment: Deployment): Promise<oauth.AuthorizationServer> {
  // The issuer carries the stage path, so its metadata lives under it (RFC 8414 section 5's
  // path-inserted URL is outside the stage; MCP clients fall back to this one, see README).
  const response = await fetch(`${deployment.issuer}/.well-known/oauth-authorization-server`);
  return oauth.processDiscoveryResponse(new URL(deployment.issuer), response);
}

async function refresh(as: oauth.AuthorizationServer, registered: RegisteredTestClient, token: string) {
  return oauth.processRefreshTokenResponse(
    as,
    registered.client,
    await oauth.refreshTokenGrantRequest(as, registered.client, registered.auth, token),
  );
}

async function callMcpServer(deployment: Deployment, accessToken: string): Promise<string[]> {
  const transport = new StreamableHTTPClientTransport(new URL(deployment.resourceUrl), {
    requestInit: { headers: { Authorization: `Bearer ${accessToken}` } },
  });
  const client = new Client({ name: 'deployed-test', version: '1.0.0' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  await client.close();
  return tools.map((tool) => tool.name);
}

/** One MCP initialize with the token, as its status and body: what the token authorizer decided. */
async function mcpStatus(deployment: Deployment, accessToken: string) {
  const response = await fetch(deployment.resourceUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'deployed-test', version: '1' } },
    }),
  });
  const text = await response.text();
  return { status: response.status, error: text.startsWith('{"error"') ? JSON.parse(text).error : undefined };
}

/**
 * POST /revoke with an access token (the revocation function verifies it with the published
 * keys: kms:GetPublicKey), then that token at the MCP server: the token authorizer reads its
 * grant (GetItem on grant#, never cached before) and refuses it.
 */
async function revokeByAccessToken(deployment: Deployment, as: oauth.AuthorizationServer) {
  const registered = await registerTestClient(as, 'none', REDIRECT_URI);
  const tokens = await obtainTokens(as, registered);
  const revoked = await oauth.revocationRequest(as, registered.client, registered.auth, tokens.access_token);
  const refresh = await oauth.refreshTokenGrantRequest(
    as,
    registered.client,
    registered.auth,
    tokens.refresh_token as string,
  );
  return { revoked: revoked.status, mcp: await mcpStatus(deployment, tokens.access_token), refresh: refresh.status };
}

/** The whole flow a connector goes through, ending with a revoked grant. */
async function fullFlow(deployment: Deployment) {
  const as = await discover(deployment);
  const registered = await registerTestClient(as, 'none', REDIRECT_URI);
  const tokens = await obtainTokens(as, registered);
  const tools = await callMcpServer(deployment, tokens.access_token);
  const refreshed = await refresh(as, registered, tokens.refresh_token as string);
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, registered.client, registered.auth, refreshed.refresh_token as string),
  );
  const afterRevoke = await oauth.refreshTokenGrantRequest(
    as,
    registered.client,
    registered.auth,
    refreshed.refresh_token as string,
  );
  return { as, registered, tokens, tools, refreshed, afterRevoke };
}

/**
 * A machine client (client_credentials, no redirect URI): its token's grant record is one PutItem
 * of grant# by the token function; the MCP server accepts the token, and refuses it once revoked.
 */
async function machineClient(deployment: Deployment, as: oauth.AuthorizationServer) {
  const response = await oauth.dynamicClientRegistrationRequest(as, {
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_basic',
    client_name: 'Deployed CI job',
  } as unknown as Partial<oauth.Client>);
  const client = (await oauth.processDynamicClientRegistrationResponse(response)) as oauth.Client;
  const auth = oauth.ClientSecretBasic(client.client_secret as string);
  const issue = async () =>
    oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams()),
    );
  const tokens = await issue();
  const tools = await callMcpServer(deployment, tokens.access_token);
  // A second token, revoked before its first use (so no cached answer): each has its own grant.
  const second = await issue();
  const revoked = await oauth.revocationRequest(as, client, auth, second.access_token);
  return { tokens, tools, revoked: revoked.status, afterRevoke: await mcpStatus(deployment, second.access_token) };
}

/** RFC 7592: read, replace and delete a registration with its registration access token. */
async function manageRegistration(as: oauth.AuthorizationServer) {
  const registered = await registerTestClient(as, 'none', REDIRECT_URI);
  const uri = registered.client.registration_client_uri as string;
  const headers = { Authorization: `Bearer ${registered.client.registration_access_token}` };
  const read = await fetch(uri, { headers });
  const current = (await read.json()) as Record<string, unknown>;
  const { registration_access_token: _t, registration_client_uri: _u, client_id_issued_at: _i, ...metadata } = current;
  const replaced = await fetch(uri, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ ...metadata, client_name: 'Renamed' }),
  });
  const name = ((await replaced.json()) as { client_name?: string }).client_name;
  const deleted = (await fetch(uri, { method: 'DELETE', headers })).status;
  const afterDelete = (await fetch(uri, { headers })).status;
  return { read: read.status, replaced: replaced.status, name, deleted, afterDelete };
}

/**
 * The connected apps page: a person signs in to a client, opens /account (a second sign-in, for
 * the page), sees the client and removes it; the client's refresh token then no longer works.
 */
async function connectedApps(deployment: Deployment, as: oauth.AuthorizationServer) {
  const registered = await registerTestClient(as, 'none', REDIRECT_URI, { client_name: 'Deployed Notes' });
  const jar = new CookieJar();
  const tokens = await obtainTokens(as, registered, { jar, extra: { scope: 'offline_access' } });
  const page = await openAccountPage(deployment.issuer, jar);
  const form = parseForms(page.body, page.url).find((each) => each.fields.client === registered.client.client_id);
  const listed = page.response.status === 200 && form !== undefined && page.body.includes('Deployed Notes');
  const cookie = jar.header(new URL(`${deployment.issuer}/account`));
  const removed = await fetch(`${deployment.issuer}/account`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: new URL(deployment.issuer).origin,
      ...(cookie ? { cookie } : {}),
    },
    body: new URLSearchParams(form?.fields ?? {}),
  });
  const afterRemoval = await oauth.refreshTokenGrantRequest(
    as,
    registered.client,
    registered.auth,
    tokens.refresh_token as string,
    INSECURE,
  );
  return { listed, removed: removed.status, afterRemoval: afterRemoval.status };
}

/** GET /authorize for a URL client_id: the authorizer looks in its cache, then may not fetch loopback. */
async function authorizeMetadataDocumentClient(as: oauth.AuthorizationServer): Promise<number> {
  const url = new URL(as.authorization_endpoint as string);
  url.searchParams.set('client_id', 'https://127.0.0.1/client.json');
  url.searchParams.set('redirect_uri', REDIRECT_URI);
  return (await fetch(url, { redirect: 'manual' })).status;
}

/** What a code exchange answers, as status and OAuth error (if any). */
async function exchange(as: oauth.AuthorizationServer, registered: RegisteredTestClient, code: URL, verifier: string) {
  const response = await fetch(as.token_endpoint as string, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: registered.client.client_id,
      code: code.searchParams.get('code') as string,
      redirect_uri: registered.redirectUri,
      code_verifier: verifier,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe.runIf(LAMBDA_LIKE_HOST)('deployed as synthesized (the template runtime)', () => {
  let deployment: Deployment;
  let flow: Awaited<ReturnType<typeof fullFlow>>;
  let byAccessToken: Awaited<ReturnType<typeof revokeByAccessToken>>;
  let management: Awaited<ReturnType<typeof manageRegistration>>;
  let cimdStatus: number;
  let account: Awaited<ReturnType<typeof connectedApps>>;
  let machine: Awaited<ReturnType<typeof machineClient>>;

  // Every request the IAM tests below account for is made here, before any test runs.
  beforeAll(async () => {
    deployment = await Deployment.start(app);
    flow = await fullFlow(deployment);
    byAccessToken = await revokeByAccessToken(deployment, flow.as);
    management = await manageRegistration(flow.as);
    cimdStatus = await authorizeMetadataDocumentClient(flow.as);
    account = await connectedApps(deployment, flow.as);
    machine = await machineClient(deployment, flow.as);
  }, 180_000);

  afterAll(async () => {
    await deployment?.close();
  });

  it('has a function for every route-table entry, each on a Lambda Node.js runtime this suite runs', () => {
    expect(app.functions.map((fn) => fn.name).sort()).toEqual((Object.keys(FUNCTIONS) as FunctionName[]).sort());
    for (const fn of deployment.functions.values()) expect(fn.runtime).toMatch(/^nodejs(22|24)\.x$/);
  });

  it('registers, signs in through the upstream provider, issues tokens that the MCP server accepts', () => {
    expect(flow.tokens.token_type).toBe('bearer');
    expect(flow.tokens.refresh_token).toEqual(expect.any(String));
    expect(flow.tools.length).toBeGreaterThan(0);
  });

  it('issues a machine client a client_credentials token the MCP server accepts until it is revoked', () => {
    expect(machine.tokens.refresh_token).toBeUndefined();
    expect(machine.tools.length).toBeGreaterThan(0);
    expect(machine.revoked).toBe(200);
    expect(machine.afterRevoke).toEqual({ status: 401, error: 'invalid_token' });
  });

  it('rotates the refresh token, and a revoked one no longer refreshes', async () => {
    expect(flow.refreshed.refresh_token).not.toBe(flow.tokens.refresh_token);
    expect(flow.afterRevoke.status).toBe(400);
    expect(await flow.afterRevoke.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('revokes a grant by its access token: the MCP server then refuses that token (401 invalid_token), /token its refresh token', () => {
    expect(byAccessToken).toEqual({ revoked: 200, mcp: { status: 401, error: 'invalid_token' }, refresh: 400 });
  });

  it('answers the MCP server without a token with a Bearer challenge naming its metadata, which it serves', async () => {
    const response = await fetch(deployment.resourceUrl, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1] as string;
    expect(metadataUrl).toBeDefined();
    const metadata = await (await fetch(metadataUrl)).json();
    expect(metadata).toMatchObject({ resource: deployment.resourceUrl, authorization_servers: [deployment.issuer] });
  });

  it("lists a signed-in person's app on the connected apps page, and removing it ends its refresh token", () => {
    expect(account).toEqual({ listed: true, removed: 303, afterRemoval: 400 });
  });

  it('reads, replaces and deletes a registration (RFC 7592)', () => {
    expect(management).toEqual({ read: 200, replaced: 200, name: 'Renamed', deleted: 204, afterDelete: 401 });
  });

  it('looks up a Client ID Metadata Document client in its cache, and refuses one it may not fetch', () => {
    expect(cimdStatus).toBeGreaterThanOrEqual(400);
    expect(
      deployment.aws.calls.some(
        (call) => call.caller === 'redirectUriAuthorizer' && call.action === 'dynamodb:GetItem' && call.allowed,
      ),
    ).toBe(true);
  });

  it('logs no secret: no token, code, registration secret or Secrets Manager value appears in any function output', () => {
    const logs = deployment.logs();
    expect(logs.length).toBeGreaterThan(0);
    const secrets = [
      flow.tokens.access_token,
      flow.tokens.refresh_token,
      flow.refreshed.refresh_token,
      flow.registered.client.registration_access_token,
      ...deployment.aws.secrets.map((secret) => secret.value),
    ].filter((value): value is string => typeof value === 'string');
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });

  describe('IAM', () => {
    it('no function made a call its role does not allow', () => {
      const refused = deployment.aws.calls.filter((call) => !call.allowed);
      expect(refused.map((call) => `${call.caller}: ${call.action} on ${call.resource}`)).toEqual([]);
    });

    it.each(Object.keys(FUNCTIONS) as FunctionName[])('%s holds no grant that no call needed', (name) => {
      const fn = deployment.function(name);
      const used = (statement: Statement, action: string) =>
        deployment.aws.calls.some(
          (call) =>
            call.caller === name &&
            call.allowed &&
            call.grantedBy === statement &&
            call.action.toLowerCase() === action.toLowerCase(),
        );
      const unused = fn.statements
        // Log delivery is the Lambda service's own use of the role, not the function code's.
        .flatMap((statement) =>
          statement.actions.filter((action) => !action.startsWith('logs:')).map((action) => ({ statement, action })),
        )
        .filter(({ statement, action }) => !used(statement, action))
        .map(({ action }) => `${name} ${action}`)
        .filter((grant) => !(grant in GRANTS_NOT_EXERCISED_HERE));
      expect(unused, 'grants in the template that no request of this suite used').toEqual([]);
    });

    it('the token authorizer read grant records and deleted clients only: GetItem of grant# and deleted# items', () => {
      const reads = deployment.aws.calls.filter(
        (call) => call.caller === 'tokenAuthorizer' && call.service === 'dynamodb',
      );
      expect(reads.length).toBeGreaterThan(0);
      for (const call of reads) {
        expect(call.action).toBe('dynamodb:GetItem');
        expect(call.context['dynamodb:LeadingKeys']).toEqual([expect.stringMatching(/^(grant|deleted)#/)]);
        expect(call.grantedBy?.conditions).toEqual({
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['grant#*', 'deleted#*'] },
        });
      }
      // Each check read the grant and its client's deletion, side by side.
      expect(reads.some((call) => String(call.context['dynamodb:LeadingKeys']).startsWith('deleted#'))).toBe(true);
    });

    it('every grant this suite excuses from use is still in the template', () => {
      for (const grant of Object.keys(GRANTS_NOT_EXERCISED_HERE)) {
        const [name, action] = grant.split(' ') as [FunctionName, string];
        expect(
          deployment.function(name).statements.some((statement) => statement.actions.includes(action)),
          grant,
        ).toBe(true);
      }
    });
  });

  describe('when a dependency fails', () => {
    /** Runs `request` with the endpoint in `mode`, and puts the endpoint back up whatever happens. */
    async function whileEndpoint<T>(endpoint: { mode: EndpointMode }, mode: EndpointMode, request: () => Promise<T>) {
      endpoint.mode = mode;
      try {
        return await request();
      } finally {
        endpoint.mode = 'up';
      }
    }

    /** A fresh code of the flow's client, up to the redirect back to it (not yet exchanged). */
    async function freshCode() {
      const attempt = await authorizationUrl(flow.as, flow.registered);
      const landing = await runBrowser(attempt.url, REDIRECT_URI, new CookieJar());
      expect(landing.kind).toBe('stopped');
      return () => exchange(flow.as, flow.registered, landing.url, attempt.codeVerifier);
    }

    async function expectUnavailable(response: Response) {
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
    }

    it('a Secrets Manager outage at a cold start answers 503 temporarily_unavailable, and the same environment recovers', async () => {
      const authorization = deployment.function('authorization').lambda;
      await authorization.recycle();
      const attempt = await authorizationUrl(flow.as, flow.registered);
      const refused = await whileEndpoint(deployment.aws.secretsManager, 'down', () =>
        fetch(attempt.url, { redirect: 'manual' }),
      );
      await expectUnavailable(refused);
      const coldStarts = authorization.coldStarts;
      const again = await fetch(attempt.url, { redirect: 'manual' });
      expect(again.status).toBe(200);
      expect(authorization.coldStarts).toBe(coldStarts);
    });

    it('a stalled Secrets Manager answers 503 within the function timeout, not a Lambda timeout', async () => {
      const authorization = deployment.function('authorization').lambda;
      await authorization.recycle();
      const attempt = await authorizationUrl(flow.as, flow.registered);
      const refused = await whileEndpoint(deployment.aws.secretsManager, 'stall', () =>
        fetch(attempt.url, { redirect: 'manual' }),
      );
      // A timed-out invocation would have been ended by the runtime (Sandbox.Timedout: a 502).
      await expectUnavailable(refused);
      expect(authorization.lastDurationMs).toBeLessThan(
        deployment.function('authorization').spec.timeoutSeconds * 1000,
      );
    }, 30_000);

    it('a KMS outage at POST /token answers 503 and leaves the code redeemable', async () => {
      const redeem = await freshCode();
      const refused = await whileEndpoint(deployment.aws.kms, 'down', redeem);
      expect(refused).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
      const retried = await redeem();
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) });
    }, 30_000);

    it('a stalled KMS at POST /token answers 503 within the function timeout', async () => {
      const redeem = await freshCode();
      const refused = await whileEndpoint(deployment.aws.kms, 'stall', redeem);
      expect(refused).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
      const token = deployment.function('token');
      expect(token.lambda.lastDurationMs).toBeLessThan(token.spec.timeoutSeconds * 1000);
    }, 30_000);

    it('a DynamoDB outage at the MCP server, with the grant never read before, answers 503 temporarily_unavailable (fail closed)', async () => {
      const redeem = await freshCode();
      const { body } = await redeem();
      const token = body.access_token as string;
      const refused = await whileEndpoint(deployment.aws.dynamodb, 'down', () => mcpStatus(deployment, token));
      expect(refused).toEqual({ status: 503, error: 'temporarily_unavailable' });
      expect(await mcpStatus(deployment, token)).toEqual({ status: 200, error: undefined });
    }, 30_000);

    it('a DynamoDB outage at POST /register answers 503 temporarily_unavailable', async () => {
      const refused = await whileEndpoint(deployment.aws.dynamodb, 'down', () =>
        fetch(flow.as.registration_endpoint as string, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
        }),
      );
      await expectUnavailable(refused);
    }, 30_000);
  });
});

describe.runIf(LAMBDA_LIKE_HOST)(
  'deployed on Node.js 22 (the older Lambda runtime the code must stay valid on)',
  () => {
    let deployment: Deployment;

    beforeAll(async () => {
      deployment = await Deployment.start(app, { runtime: 'nodejs22.x' });
    }, 180_000);

    afterAll(async () => {
      await deployment?.close();
    });

    it('runs the whole flow with no refused call', async () => {
      const flow = await fullFlow(deployment);
      expect(flow.tools.length).toBeGreaterThan(0);
      expect(flow.afterRevoke.status).toBe(400);
      expect(deployment.aws.calls.filter((call) => !call.allowed)).toEqual([]);
      for (const fn of deployment.functions.values()) expect(fn.runtime).toBe('nodejs22.x');
    });
  },
);

describe.runIf(LAMBDA_LIKE_HOST)('deployed with an initial access token required at /register', () => {
  let variant: SynthesizedApp;
  let deployment: Deployment;

  beforeAll(async () => {
    variant = await synthesizeApp({ GATEWAY_REQUIRE_INITIAL_ACCESS_TOKEN: 'true' });
    deployment = await Deployment.start(variant);
  }, 180_000);

  afterAll(async () => {
    await deployment?.close();
    variant?.remove();
  });

  it('reads the token from Secrets Manager under its own grant, refuses without it and registers with it', async () => {
    const register = (authorization?: string) =>
      fetch(`${deployment.issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
      });
    const without = await register();
    expect(without.status).toBe(401);
    expect(await without.json()).toMatchObject({ error: 'invalid_token' });
    const secretArn = deployment.function('register').environment.INITIAL_ACCESS_TOKEN_ARN;
    const token = deployment.aws.secrets.find((secret) => secret.arn === secretArn)?.value as string;
    expect(token).toEqual(expect.any(String));
    expect((await register(`Bearer ${token}`)).status).toBe(201);
    const reads = deployment.aws.calls.filter(
      (call) => call.caller === 'register' && call.service === 'secretsmanager',
    );
    // Read once, on the first registration, and kept.
    expect(reads.map((call) => [call.action, call.resource, call.allowed])).toEqual([
      ['secretsmanager:GetSecretValue', secretArn, true],
    ]);
    expect(deployment.aws.calls.filter((call) => !call.allowed)).toEqual([]);
    expect(deployment.logs()).not.toContain(token);
  });
});
