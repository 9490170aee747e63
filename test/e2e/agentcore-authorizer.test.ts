/**
 * Amazon Bedrock AgentCore Gateway as a front door: its inbound "custom JWT" authorizer
 * (CustomJWTAuthorizerConfiguration) is given this gateway's OpenID discovery URL, and checks
 * a bearer token's signature against the discovered jwks_uri, its `aud` against
 * allowedAudience, its `client_id` claim against allowedClients and its `scope` against
 * allowedScopes (at least one must match), as the AgentCore developer guide describes
 * ("Configure inbound JWT authorizer"). AgentCore cannot run here: `agentCoreAccepts` below is a
 * stand-in that does exactly those documented checks, with jose over real HTTP, against tokens
 * the local gateway issues through a real authorization-code flow.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambda/contract/environment.js';
import { useLocalServer } from '../support/local-server-fixture.js';
import { discover, obtainTokens, registerTestClient } from '../support/oauth-flow.js';

/** CustomJWTAuthorizerConfiguration.discoveryUrl must match this pattern (AgentCore API reference). */
const DISCOVERY_URL_PATTERN = /^.+\/\.well-known\/openid-configuration$/;

interface CustomJwtAuthorizer {
  discoveryUrl: string;
  allowedAudience?: string[];
  allowedClients?: string[];
  allowedScopes?: string[];
}

/** The documented checks of AgentCore's inbound JWT authorizer; the reason when it would refuse. */
async function agentCoreAccepts(config: CustomJwtAuthorizer, token: string): Promise<true | string> {
  if (!DISCOVERY_URL_PATTERN.test(config.discoveryUrl)) return 'discovery URL pattern';
  const discovery = (await (await fetch(config.discoveryUrl)).json()) as { issuer: string; jwks_uri: string };
  try {
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
      issuer: discovery.issuer,
      ...(config.allowedAudience ? { audience: config.allowedAudience } : {}),
    });
    if (config.allowedClients && !config.allowedClients.includes(String(payload.client_id))) return 'client_id';
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (config.allowedScopes && !config.allowedScopes.some((scope) => scopes.includes(scope))) return 'scope';
    return true;
  } catch (error) {
    return (error as Error).message;
  }
}

const server = useLocalServer({ [ENV.scopes]: 'mcp:tools,mcp:admin' });

describe('this gateway as the authorization server of an AgentCore Gateway', () => {
  let issuer: string;
  let resource: string;
  let accessToken: string;
  let clientId: string;

  beforeAll(async () => {
    issuer = server.url;
    resource = `${issuer}/mcp`;
    const as = await discover(issuer);
    const registered = await registerTestClient(as, 'none');
    clientId = registered.client.client_id;
    const tokens = await obtainTokens(as, registered, { extra: { scope: 'mcp:tools', resource } });
    accessToken = tokens.access_token;
  });

  it('serves OpenID discovery at <issuer>/.well-known/openid-configuration, the only form AgentCore takes', async () => {
    const discoveryUrl = `${issuer}/.well-known/openid-configuration`;
    expect(discoveryUrl).toMatch(DISCOVERY_URL_PATTERN);
    const response = await fetch(discoveryUrl);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Record<string, unknown>;
    // OpenID Connect Discovery 1.0 section 4.3: issuer identical to the URL it was fetched under.
    expect(document.issuer).toBe(issuer);
    expect(document.jwks_uri).toBe(`${issuer}/jwks`);
    expect(document.id_token_signing_alg_values_supported).toEqual(['ES256']);
    const jwks = (await (await fetch(document.jwks_uri as string)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((key) => key.kid)).toContain(decodeProtectedHeader(accessToken).kid);
  });

  it('issues access tokens carrying what the authorizer reads: iss, aud, client_id and scope', async () => {
    const config = {
      discoveryUrl: `${issuer}/.well-known/openid-configuration`,
      allowedAudience: [resource],
      allowedClients: [clientId],
      allowedScopes: ['mcp:tools'],
    };
    expect(await agentCoreAccepts(config, accessToken)).toBe(true);
  });

  it('is refused by the same authorizer for another audience, another client or another scope', async () => {
    const discoveryUrl = `${issuer}/.well-known/openid-configuration`;
    expect(
      await agentCoreAccepts({ discoveryUrl, allowedAudience: ['https://other.example/mcp'] }, accessToken),
    ).toMatch(/aud/);
    expect(await agentCoreAccepts({ discoveryUrl, allowedClients: ['someone-else'] }, accessToken)).toBe('client_id');
    expect(await agentCoreAccepts({ discoveryUrl, allowedScopes: ['mcp:admin'] }, accessToken)).toBe('scope');
    expect(
      await agentCoreAccepts({ discoveryUrl: `${issuer}/.well-known/oauth-authorization-server` }, accessToken),
    ).toBe('discovery URL pattern');
  });
});
