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
 */
import type { ClientStore, RegisteredClient } from './clients.js';
import { secretMatchesHash } from './credentials.js';
import { OAuthError } from './oauth-error.js';

/** How this request carries the client's credentials: `basic` and `post` carry a secret. */
type Presentation = 'basic' | 'post' | 'none';

interface Presented {
  clientId: string | undefined;
  secret: string | undefined;
  presentation: Presentation;
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
): Promise<RegisteredClient> {
  const presented = presentedCredentials(authorization, params);
  const basicUsed = presented.presentation === 'basic';
  if (!presented.clientId) throw invalidClient('client_id is required.', basicUsed);
  const client = await store.getById(presented.clientId);
  if (!client) throw invalidClient('The client is not registered. Register again.', basicUsed);
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
