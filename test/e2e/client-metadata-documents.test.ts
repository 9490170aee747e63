/**
 * End to end: Client ID Metadata Documents at /authorize over the local server, with documents
 * served by a test server on loopback (the local-only switch lets them be plain http there).
 * A good document admits its client; each bad one is refused with a clear OAuth error and no
 * redirect.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLocalServer } from '../support/local-server-fixture.js';

const REDIRECT_URI = 'https://app.example/callback';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
let documents: Server;
let base: string;
const fetches = new Map<string, number>();

function document(path: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    client_id: `${base}${path}`,
    client_name: 'Document Client',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...overrides,
  });
}

beforeAll(async () => {
  documents = createServer((req, res) => {
    const path = req.url ?? '';
    fetches.set(path, (fetches.get(path) ?? 0) + 1);
    const json = (body: string) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
    switch (path) {
      case '/clients/good.json':
        return json(document(path));
      case '/clients/other-id.json':
        return json(document(path, { client_id: `${base}/clients/someone-else.json` }));
      case '/clients/big.json':
        return json(document(path, { client_name: 'x'.repeat(150), padding: 'y'.repeat(6000) }));
      case '/clients/bad-redirect.json':
        return json(document(path, { redirect_uris: ['javascript:alert(1)'] }));
      case '/clients/confidential.json':
        return json(document(path, { token_endpoint_auth_method: 'client_secret_basic' }));
      case '/clients/slow.json':
        setTimeout(() => json(document(path)), 6000).unref();
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => documents.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(documents.address() as AddressInfo).port}`;
});

afterAll(async () => {
  documents?.closeAllConnections();
  await new Promise<void>((resolve) => (documents ? documents.close(() => resolve()) : resolve()));
});

const gateway = useLocalServer({ CIMD_ALLOW_LOOPBACK_HTTP: 'true' });

function authorize(clientId: string): Promise<Response> {
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    state: 'cimd',
  });
  return fetch(`${gateway.url}/authorize?${query}`, { redirect: 'manual' });
}

describe('client metadata documents at /authorize', () => {
  it('admits the client a good document describes, and fetches it once per cache lifetime', async () => {
    const first = await authorize(`${base}/clients/good.json`);
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('Document Client');
    const again = await authorize(`${base}/clients/good.json`);
    expect(again.status).toBe(200);
    expect(fetches.get('/clients/good.json')).toBe(1);
  });

  it('advertises the support in its metadata', async () => {
    const metadata = (await (await fetch(`${gateway.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata.client_id_metadata_document_supported).toBe(true);
  });

  it.each([
    ['a document whose client_id differs', '/clients/other-id.json', /client_id/],
    ['an oversized document', '/clients/big.json', /larger than/],
    ['a document with a bad redirect URI', '/clients/bad-redirect.json', /redirect_uris/],
    ['a document of a confidential client', '/clients/confidential.json', /token_endpoint_auth_method/],
    ['a missing document', '/clients/missing.json', /404|status/],
  ])('refuses %s with invalid_client and no redirect', async (_name, path, reason) => {
    const response = await authorize(`${base}${path}`);
    expect(response.status).toBe(403);
    expect(response.headers.get('location')).toBeNull();
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_client');
    expect(body.error_description).toMatch(reason);
  });

  it('refuses a slow document within its time limit', async () => {
    const started = Date.now();
    const response = await authorize(`${base}/clients/slow.json`);
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error_description: string }).error_description).toMatch(/within/);
    expect(Date.now() - started).toBeLessThan(5500);
  });

  it('refuses a document on a private address without connecting to it', async () => {
    const response = await authorize('https://10.0.0.1/clients/internal.json');
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_client');
    expect(body.error_description).toMatch(/private|address/);
  });
});
