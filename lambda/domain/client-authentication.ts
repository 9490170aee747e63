/**
 * Client authentication at the token and revocation endpoints (RFC 6749 2.3, 5.2). A public
 * client (`none`) sends only client_id and stays public: a secret it presents is refused. A
 * client that was issued a secret (`client_secret_basic` or `client_secret_post`) proves it with
 * HTTP Basic or with client_secret in the form, whichever of the two it registered: RFC 6749
 * 2.3.1 says the server MUST support Basic for such clients, and libraries pick the method on
 * their own (Authlib revokes with Basic by default, whatever was registered). The secret is
 * what authenticates the client, not the way it travels; a secret client can never fall back to
 * `none`. One method per request. Secrets are compared as hashes in constant time. Every
 * failure is 401 invalid_client, which makes MCP clients register again.
 *
 * A `private_key_jwt` client (RFC 7523 2.2) sends client_assertion_type and client_assertion
 * (domain/client-assertion.ts verifies it); client_id is optional then (RFC 7521 4.2), taken from
 * the assertion's unverified `sub` only to find the client whose keys must verify it. A key-based
 * client never falls back to `none` or a secret, and no other client may present an assertion.
 */
import { decodeJwt } from 'jose';
import { CLIENT_ASSERTION_TYPE, type ClientAssertionDeps, verifyClientAssertion } from './client-assertion.js';
import type { ClientStore, RegisteredClient } from './clients.js';
import { secretMatchesHash } from './credentials.js';
import { OAuthError } from './oauth-error.js';

/** How this request carries the client's credentials: `basic` and `post` carry a secret. */
type Presentation = 'basic' | 'post' | 'jwt' | 'none';

interface Presented {
  clientId: string | undefined;
  secret: string | undefined;
  assertion?: string;
  presentation: Presentation;
}

/** The client_id of an assertion sent without one: its unverified `sub`, only to look the client up. */
function assertedClientId(assertion: string): string | undefined {
  try {
    const { sub } = decodeJwt(assertion);
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

function invalidClient(description: string, basicUsed: boolean): OAuthError {
  // RFC 6749 5.2: a 401 after HTTP Basic must name the scheme the client should use.
  const headers: Record<string, string> = basicUsed
    ? { 'WWW-Authenticate': 'Basic realm="token", charset="UTF-8"' }
    : {};
  return new OAuthError('invalid_client', description, 401, headers);
}

function decodeBasic(header: string): { clientId: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    // RFC 6749 2.3.1: both parts are form-urlencoded before Base64.
    const form = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
    return { clientId: form(decoded.slice(0, colon)), secret: form(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function presentedCredentials(authorization: string | undefined, params: Readonly<Record<string, string>>): Presented {
  const asserted = params.client_assertion !== undefined || params.client_assertion_type !== undefined;
  if (asserted && ((authorization && /^Basic\s/i.test(authorization)) || params.client_secret !== undefined)) {
    throw new OAuthError('invalid_request', 'Use one client authentication method, not two.');
  }
  if (asserted) {
    if (params.client_assertion_type !== CLIENT_ASSERTION_TYPE) {
      throw invalidClient(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}.`, false);
    }
    if (!params.client_assertion) throw invalidClient('client_assertion is required.', false);
    const assertion = params.client_assertion;
    return {
      clientId: params.client_id ?? assertedClientId(assertion),
      secret: undefined,
      assertion,
      presentation: 'jwt',
    };
  }
  if (authorization && /^Basic\s/i.test(authorization)) {
    const basic = decodeBasic(authorization);
    if (!basic) throw invalidClient('The Authorization header is not valid HTTP Basic credentials.', true);
    if (params.client_secret !== undefined) {
      throw new OAuthError('invalid_request', 'Use one client authentication method, not two.');
    }
    if (params.client_id !== undefined && params.client_id !== basic.clientId) {
      throw invalidClient('client_id does not match the Authorization header.', true);
    }
    return { clientId: basic.clientId, secret: basic.secret, presentation: 'basic' };
  }
  if (params.client_secret !== undefined) {
    return { clientId: params.client_id, secret: params.client_secret, presentation: 'post' };
  }
  return { clientId: params.client_id, secret: undefined, presentation: 'none' };
}

export async function authenticateClient(
  store: Pick<ClientStore, 'getById'>,
  authorization: string | undefined,
  params: Readonly<Record<string, string>>,
  /** Verifies private_key_jwt assertions; without it such clients are refused. */
  assertions?: ClientAssertionDeps,
): Promise<RegisteredClient> {
  const presented = presentedCredentials(authorization, params);
  const basicUsed = presented.presentation === 'basic';
  if (!presented.clientId) throw invalidClient('client_id is required.', basicUsed);
  const client = await store.getById(presented.clientId);
  if (!client) throw invalidClient('The client is not registered. Register again.', basicUsed);
  if (client.token_endpoint_auth_method === 'private_key_jwt') {
    if (presented.presentation !== 'jwt' || presented.assertion === undefined) {
      throw invalidClient(
        'The client registered token_endpoint_auth_method private_key_jwt: authenticate with a client_assertion signed by its key.',
        basicUsed,
      );
    }
    if (!assertions) throw invalidClient('This endpoint cannot verify client assertions.', false);
    await verifyClientAssertion(client, presented.assertion, assertions);
    return client;
  }
  if (presented.presentation === 'jwt') {
    throw invalidClient(
      `The client registered token_endpoint_auth_method ${client.token_endpoint_auth_method}: it may not authenticate with a client_assertion.`,
      false,
    );
  }
  if (client.token_endpoint_auth_method === 'none') {
    if (presented.presentation !== 'none') {
      throw invalidClient(
        'The client registered token_endpoint_auth_method none: send client_id only, no secret.',
        basicUsed,
      );
    }
    return client;
  }
  if (presented.presentation === 'none') {
    throw invalidClient(
      'The client was issued a secret: authenticate with HTTP Basic or with client_secret in the body.',
      basicUsed,
    );
  }
  const matches =
    client.client_secret_hash !== undefined && secretMatchesHash(presented.secret ?? '', client.client_secret_hash);
  if (!matches) throw invalidClient('Client authentication failed.', basicUsed);
  return client;
}
