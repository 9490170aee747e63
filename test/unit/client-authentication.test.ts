/**
 * Client authentication at /token and /revoke (RFC 6749 2.3, 5.2): a public client stays public,
 * a client with a secret proves it by HTTP Basic or in the body, whichever it registered.
 */
import { describe, expect, it } from 'vitest';
import { authenticateClient } from '../../lambda/domain/client-authentication.js';
import type { ClientStore, RegisteredClient } from '../../lambda/domain/clients.js';
import { hashSecret } from '../../lambda/domain/credentials.js';
import { OAuthError } from '../../lambda/domain/oauth-error.js';
import { registeredClient } from '../support/clients.js';

describe('authenticateClient', () => {
  const SECRET = 'secret with spaces & symbols: /+=%';
  const PUBLIC_ID = 'public-client';
  const BASIC_ID = 'basic:client id';
  const POST_ID = 'post-client';

  function client(clientId: string, method: RegisteredClient['token_endpoint_auth_method']): RegisteredClient {
    return registeredClient({
      client_id: clientId,
      redirect_uris: ['https://client.example/cb'],
      token_endpoint_auth_method: method,
      ...(method === 'none' ? {} : { client_secret_hash: hashSecret(SECRET) }),
    });
  }

  const CLIENTS = new Map<string, RegisteredClient>([
    [PUBLIC_ID, client(PUBLIC_ID, 'none')],
    [BASIC_ID, client(BASIC_ID, 'client_secret_basic')],
    [POST_ID, client(POST_ID, 'client_secret_post')],
  ]);

  const store: ClientStore = {
    async create() {
      throw new Error('not used');
    },
    async getById(clientId) {
      return CLIENTS.get(clientId);
    },
  };

  /** RFC 6749 2.3.1: each part form-urlencoded, then joined with ':' and Base64-encoded. */
  const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  const basic = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}`;

  type Case = [string, string | undefined, Record<string, string>];

  it.each([
    ['a none client sending only client_id', undefined, { client_id: PUBLIC_ID }, PUBLIC_ID],
    ['a basic client via HTTP Basic', basic(BASIC_ID, SECRET), {}, BASIC_ID],
    [
      'a basic client via HTTP Basic with the same client_id in the body',
      basic(BASIC_ID, SECRET),
      { client_id: BASIC_ID },
      BASIC_ID,
    ],
    [
      'a basic client via Basic with a lower-case scheme',
      basic(BASIC_ID, SECRET).replace('Basic', 'basic'),
      {},
      BASIC_ID,
    ],
    ['a post client via the body', undefined, { client_id: POST_ID, client_secret: SECRET }, POST_ID],
    // RFC 6749 2.3.1: the server MUST support Basic for every client with a secret; the body is
    // the other way to send the same secret. Libraries choose per call (Authlib revokes with Basic).
    ['a post client via HTTP Basic', basic(POST_ID, SECRET), {}, POST_ID],
    [
      'a post client via HTTP Basic with the same client_id in the body',
      basic(POST_ID, SECRET),
      { client_id: POST_ID },
      POST_ID,
    ],
    ['a basic client via the body', undefined, { client_id: BASIC_ID, client_secret: SECRET }, BASIC_ID],
  ] as Array<[...Case, string]>)('accepts %s', async (_name, authorization, params, expectedId) => {
    const result = await authenticateClient(store, authorization, params);
    expect(result.client_id).toBe(expectedId);
  });

  async function refusal(authorization: string | undefined, params: Record<string, string>): Promise<OAuthError> {
    const error = await authenticateClient(store, authorization, params).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(OAuthError);
    return error as OAuthError;
  }

  it.each([
    ['a none client that also sends a secret', undefined, { client_id: PUBLIC_ID, client_secret: 'anything' }],
    ['a none client that also sends an empty secret', undefined, { client_id: PUBLIC_ID, client_secret: '' }],
    ['a basic client with a wrong secret in the body', undefined, { client_id: BASIC_ID, client_secret: `${SECRET}x` }],
    ['a basic client with an empty secret in the body', undefined, { client_id: BASIC_ID, client_secret: '' }],
    ['a basic client without client_id, secret in the body', undefined, { client_secret: SECRET }],
    ['a basic client sending only client_id', undefined, { client_id: BASIC_ID }],
    ['a post client sending only client_id', undefined, { client_id: POST_ID }],
    ['an unknown client', undefined, { client_id: 'no-such-client' }],
    ['a missing client_id', undefined, {}],
    ['an empty client_id', undefined, { client_id: '' }],
    ['an unknown client with a secret in the body', undefined, { client_id: 'no-such-client', client_secret: 'x' }],
    ['a post client with a wrong secret', undefined, { client_id: POST_ID, client_secret: `${SECRET}x` }],
    ['a post client with an empty secret', undefined, { client_id: POST_ID, client_secret: '' }],
  ] as Case[])('refuses %s: 401 invalid_client, no WWW-Authenticate', async (_name, authorization, params) => {
    const error = await refusal(authorization, params);
    expect(error.code).toBe('invalid_client');
    expect(error.status).toBe(401);
    expect(error.headers['WWW-Authenticate']).toBeUndefined();
  });

  it.each([
    ['a basic client with a wrong secret', basic(BASIC_ID, 'wrong'), {}],
    ['a basic client with an empty secret', basic(BASIC_ID, ''), {}],
    ['a basic client whose secret was form-encoded twice', basic(BASIC_ID, formEncode(SECRET)), {}],
    ['a post client with a wrong secret via HTTP Basic', basic(POST_ID, 'wrong'), {}],
    ['a post client with an empty secret via HTTP Basic', basic(POST_ID, ''), {}],
    ['a none client via HTTP Basic', basic(PUBLIC_ID, ''), {}],
    ['a none client via HTTP Basic with a secret', basic(PUBLIC_ID, SECRET), {}],
    ['an unknown client via HTTP Basic', basic('no-such-client', SECRET), {}],
    ['Basic with a different client_id in the body', basic(BASIC_ID, SECRET), { client_id: POST_ID }],
    ['a malformed Basic header (not Base64)', 'Basic !!!not-base64!!!', {}],
    ['a malformed Basic header (no colon)', `Basic ${Buffer.from('no-colon').toString('base64')}`, {}],
    ['a malformed Basic header (bad percent-encoding)', `Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}`, {}],
    ['an empty Basic header', 'Basic ', {}],
    ['Basic with an empty client id', `Basic ${Buffer.from(`:${SECRET}`).toString('base64')}`, {}],
  ] as Case[])('refuses %s: 401 invalid_client with WWW-Authenticate Basic', async (_name, authorization, params) => {
    const error = await refusal(authorization, params);
    expect(error.code).toBe('invalid_client');
    expect(error.status).toBe(401);
    expect(error.headers['WWW-Authenticate']).toMatch(/^Basic/);
  });

  it.each([
    [
      'a none client presenting a secret in the body',
      undefined,
      { client_id: PUBLIC_ID, client_secret: SECRET },
      /none/,
    ],
    ['a none client presenting HTTP Basic', basic(PUBLIC_ID, SECRET), {}, /none/],
    ['a basic client falling back to none', undefined, { client_id: BASIC_ID }, /issued a secret/],
    ['a post client falling back to none', undefined, { client_id: POST_ID }, /issued a secret/],
  ] as Array<[...Case, RegExp]>)('says why it refuses %s', async (_name, authorization, params, reason) => {
    const error = await refusal(authorization, params);
    expect(error.code).toBe('invalid_client');
    expect(error.description).toMatch(reason);
  });

  it.each([
    ['both Basic and client_secret, both correct', basic(BASIC_ID, SECRET), { client_secret: SECRET }],
    [
      'both Basic and client_secret for a post client',
      basic(POST_ID, SECRET),
      { client_id: POST_ID, client_secret: SECRET },
    ],
    ['both Basic and client_secret for a none client', basic(PUBLIC_ID, ''), { client_secret: '' }],
  ] as Case[])('refuses %s as 400 invalid_request', async (_name, authorization, params) => {
    const error = await refusal(authorization, params);
    expect(error.code).toBe('invalid_request');
    expect(error.status).toBe(400);
  });
});
