import { describe, expect, it, vi } from 'vitest';
import { admitAuthorizeRequest, type ClientLookup } from '../../lambda/domain/authorization-admission.js';
import { REFUSALS, type Refusal } from '../../lambda/domain/authorization-refusal.js';
import type { RegisteredClient } from '../../lambda/domain/clients.js';
import { UnavailableError } from '../../lambda/domain/oauth-error.js';
import type { MultiValueQuery } from '../../lambda/domain/query.js';
import { registeredClient } from '../support/clients.js';

function client(client_id: string, redirect_uris: string[]): RegisteredClient {
  return registeredClient({
    client_id,
    client_id_issued_at: 1_750_000_000,
    redirect_uris,
    grant_types: ['authorization_code'],
  });
}

const CLAUDE = client('claude', ['https://claude.ai/api/mcp/auth_callback']);
const VSCODE = client('vscode', ['https://vscode.dev/redirect', 'http://127.0.0.1/', 'http://127.0.0.1:33418/']);
const LOOPBACK = client('loopback', ['http://127.0.0.1/callback']);

const registry = new Map([CLAUDE, VSCODE, LOOPBACK].map((c) => [c.client_id, c]));
const inMemory: ClientLookup = async (clientId) => registry.get(clientId);

/** API Gateway's multi-value form of a query; an array value means the parameter was repeated. */
function multi(params: Record<string, string | string[]>): MultiValueQuery {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
}

describe('admitAuthorizeRequest: admitted', () => {
  it.each([
    // [query, client admitted, redirect URI to use, reason]
    [
      { client_id: 'claude', redirect_uri: 'https://claude.ai/api/mcp/auth_callback' },
      'claude',
      'https://claude.ai/api/mcp/auth_callback',
      'registered URI named exactly',
    ],
    [{ client_id: 'claude' }, 'claude', 'https://claude.ai/api/mcp/auth_callback', 'omitted, the only registered URI'],
    [
      { client_id: 'vscode', redirect_uri: 'https://vscode.dev/redirect' },
      'vscode',
      'https://vscode.dev/redirect',
      'one of several, named',
    ],
    [
      { client_id: 'vscode', redirect_uri: 'http://127.0.0.1:51234/' },
      'vscode',
      'http://127.0.0.1:51234/',
      'loopback on any port, requested port kept',
    ],
    [
      { client_id: 'loopback', redirect_uri: 'http://127.0.0.1:5000/callback', response_type: 'token' },
      'loopback',
      'http://127.0.0.1:5000/callback',
      'the rest of the request is the backend to judge',
    ],
  ] as [Record<string, string>, string, string, string][])(
    '%j admits %s with %s (%s)',
    async (query, clientId, redirectUri) => {
      const admission = await admitAuthorizeRequest(multi(query), null, inMemory);
      expect(admission).toStrictEqual({ admitted: true, client: registry.get(clientId), redirectUri });
    },
  );

  it('reads the single-value form when the multi-value form is absent', async () => {
    const admission = await admitAuthorizeRequest(null, { client_id: 'claude' }, inMemory);
    expect(admission).toStrictEqual({
      admitted: true,
      client: CLAUDE,
      redirectUri: 'https://claude.ai/api/mcp/auth_callback',
    });
  });
});

describe('admitAuthorizeRequest: refused', () => {
  it.each([
    // [query, refusal, reason]
    [{ client_id: ['claude', 'claude'] }, REFUSALS.repeatedParameter, 'client_id repeated'],
    [
      {
        client_id: 'claude',
        redirect_uri: ['https://claude.ai/api/mcp/auth_callback', 'https://evil.example/cb'],
      },
      REFUSALS.repeatedParameter,
      'redirect_uri repeated',
    ],
    [{ client_id: 'claude', state: ['a', 'b'] }, REFUSALS.repeatedParameter, 'any parameter repeated'],
    [{}, REFUSALS.missingClientId, 'no query'],
    [{ redirect_uri: 'https://claude.ai/api/mcp/auth_callback' }, REFUSALS.missingClientId, 'client_id missing'],
    [{ client_id: '' }, REFUSALS.missingClientId, 'client_id empty'],
    [{ client_id: 'nobody' }, REFUSALS.unknownClient, 'unregistered client'],
    [{ client_id: 'vscode' }, REFUSALS.redirectUriRequired, 'omitted with several registered'],
    [
      { client_id: 'claude', redirect_uri: 'https://evil.example/cb' },
      REFUSALS.redirectUriNotRegistered,
      'another host',
    ],
    [
      { client_id: 'claude', redirect_uri: 'https://claude.ai@evil.com/api/mcp/auth_callback' },
      REFUSALS.redirectUriNotRegistered,
      'userinfo trick',
    ],
    [
      { client_id: 'claude', redirect_uri: 'https://vscode.dev/redirect' },
      REFUSALS.redirectUriNotRegistered,
      'a URI another client registered',
    ],
    [{ client_id: 'claude', redirect_uri: '' }, REFUSALS.redirectUriNotRegistered, 'empty redirect_uri'],
    [
      { client_id: 'loopback', redirect_uri: 'http://127.0.0.1:5000/other' },
      REFUSALS.redirectUriNotRegistered,
      'loopback with another path',
    ],
  ] as [Record<string, string | string[]>, Refusal, string][])('%j -> %j (%s)', async (query, refusal) => {
    const admission = await admitAuthorizeRequest(multi(query), null, inMemory);
    expect(admission).toStrictEqual({ admitted: false, refusal });
  });

  it.each([
    ['an UnavailableError', () => Promise.reject(new UnavailableError())],
    ['an unexpected Error', () => Promise.reject(new Error('boom'))],
    ['a non-Error rejection', () => Promise.reject('boom')],
    [
      'a synchronous throw',
      () => {
        throw new TypeError('boom');
      },
    ],
  ] as [string, ClientLookup][])('fails closed when the lookup throws %s', async (_reason, lookup) => {
    const admission = await admitAuthorizeRequest(multi({ client_id: 'claude' }), null, lookup);
    expect(admission).toStrictEqual({ admitted: false, refusal: REFUSALS.registryUnavailable });
  });

  it.each([
    [{ client_id: ['claude', 'claude'] }, 'repeated parameter'],
    [{}, 'missing client_id'],
  ] as [Record<string, string | string[]>, string][])(
    '%j: does not read the registry for a request refused before lookup (%s)',
    async (query) => {
      const lookup = vi.fn(inMemory);
      await admitAuthorizeRequest(multi(query), null, lookup);
      expect(lookup).not.toHaveBeenCalled();
    },
  );

  it('looks up exactly the client_id sent', async () => {
    const lookup = vi.fn(inMemory);
    await admitAuthorizeRequest(multi({ client_id: 'claude' }), null, lookup);
    expect(lookup).toHaveBeenCalledExactlyOnceWith('claude');
  });
});
