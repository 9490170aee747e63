/**
 * The deployed artifact, end to end: the app synthesized as `cdk synth` does, every function
 * run from its bundle under the Lambda runtime interface client on the runtime's Node.js, with
 * only the permissions its role has in the template (see support/deployment.ts for what stands
 * in for AWS, and why). The whole OAuth flow goes through the bundles: register, authorize
 * (the redirect-URI authorizer, then the authorization function), upstream sign-in and
 * callback, token, refresh, revoke, JWKS, the token authorizer and the MCP server.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, type FunctionName } from '../../lib/routes.js';
import { obtainTokens, registerTestClient } from '../support/oauth-flow.js';
import { type SynthesizedApp, synthesizeApp } from './support/cloud-assembly.js';
import { Deployment } from './support/deployment.js';

// The test process is the OAuth client and the browser: it trusts the deployment's test
// certificate by not verifying it. The functions, which are what is under test, verify it
// (NODE_EXTRA_CA_CERTS), as they verify AWS's and Cognito's certificates when deployed.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

let app: SynthesizedApp;
let deployment: Deployment;

beforeAll(async () => {
  app = await synthesizeApp();
  deployment = await Deployment.start(app);
}, 180_000);

afterAll(async () => {
  await deployment?.close();
  app?.remove();
});

describe('the synthesized template', () => {
  it('has a function for every route-table entry, each on a Lambda Node.js runtime this suite runs', () => {
    expect(app.functions.map((fn) => fn.name).sort()).toEqual((Object.keys(FUNCTIONS) as FunctionName[]).sort());
    for (const fn of deployment.functions.values()) expect(fn.runtime).toMatch(/^nodejs(22|24)\.x$/);
  });
});

describe('the OAuth flow through the bundles', () => {
  let as: oauth.AuthorizationServer;

  beforeAll(async () => {
    // The issuer carries the stage path, so its metadata lives under it (RFC 8414 section 5's
    // path-inserted URL is outside the stage; MCP clients fall back to this one, see README).
    const response = await fetch(`${deployment.issuer}/.well-known/oauth-authorization-server`);
    as = await oauth.processDiscoveryResponse(new URL(deployment.issuer), response);
  });

  it('registers, signs in, issues tokens, refreshes, calls the MCP server and revokes', async () => {
    const registered = await registerTestClient(as, 'none', 'http://127.0.0.1:7777/callback');
    const tokens = await obtainTokens(as, registered);
    expect(tokens.token_type).toBe('bearer');

    const transport = new StreamableHTTPClientTransport(new URL(deployment.resourceUrl), {
      requestInit: { headers: { Authorization: `Bearer ${tokens.access_token}` } },
    });
    const client = new Client({ name: 'deployed-test', version: '1.0.0' });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(0);
    await client.close();

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      registered.client,
      await oauth.refreshTokenGrantRequest(as, registered.client, registered.auth, tokens.refresh_token as string),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    const revoked = await oauth.revocationRequest(
      as,
      registered.client,
      registered.auth,
      refreshed.refresh_token as string,
    );
    await oauth.processRevocationResponse(revoked);
    const afterRevoke = await oauth.refreshTokenGrantRequest(
      as,
      registered.client,
      registered.auth,
      refreshed.refresh_token as string,
    );
    expect(afterRevoke.status).toBe(400);
  });

  it('made no call its role does not allow', () => {
    const refused = deployment.aws.calls.filter((call) => !call.allowed);
    expect(refused.map((call) => `${call.caller}: ${call.action} on ${call.resource}`)).toEqual([]);
  });
});
