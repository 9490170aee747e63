/**
 * End to end, the way an MCP client connects: the MCP TypeScript SDK, given only the local
 * /mcp URL, gets a 401, discovers the protected resource and the authorization server,
 * registers (or presents a Client ID Metadata Document), sends the person through consent and
 * the development login, exchanges the code, and lists and calls the sample tool.
 */

import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir } from '../support/local-server.js';
import { useLocalServer } from '../support/local-server-fixture.js';
import { runBrowser } from '../support/oauth-flow.js';
import { InMemoryClientProvider } from '../support/sdk-oauth-client.js';

let documents: Server;
let documentUrl: string;
let certDir: string;
let certFile: string;
const REDIRECT_URL = 'http://127.0.0.1:59999/callback';

beforeAll(async () => {
  // A client's metadata document must be https (the SDK insists); serve one on loopback with a
  // certificate the gateway's process is told to trust, and allow loopback documents (test switch).
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    algorithm: 'sha256',
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
  });
  certDir = tempDataDir();
  certFile = join(certDir, 'cert.pem');
  writeFileSync(certFile, pems.cert);
  documents = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    if (req.url !== '/clients/sdk-test.json') return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=600' });
    res.end(
      JSON.stringify({
        client_id: documentUrl,
        client_name: 'CIMD Test Client',
        redirect_uris: [REDIRECT_URL],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }),
    );
  });
  await new Promise<void>((resolve) => documents.listen(0, '127.0.0.1', () => resolve()));
  documentUrl = `https://localhost:${(documents.address() as AddressInfo).port}/clients/sdk-test.json`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (documents ? documents.close(() => resolve()) : resolve()));
  if (certDir) removeDir(certDir);
});

const gateway = useLocalServer(() => ({ CIMD_ALLOW_LOOPBACK_HTTP: 'true', NODE_EXTRA_CA_CERTS: certFile }));

async function connectThroughOAuth(provider: InMemoryClientProvider): Promise<Client> {
  const mcpUrl = new URL(`${gateway.url}/mcp`);
  const client = new Client({ name: 'sdk-e2e', version: '1.0.0' });
  // First contact: 401 with the resource metadata URL, then discovery, registration, and a
  // redirect the provider records instead of opening a browser.
  await expect(client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }))).rejects.toThrow(
    /Unauthorized/,
  );
  expect(provider.authorizationUrl).toBeDefined();
  const landing = await runBrowser(provider.authorizationUrl as URL, REDIRECT_URL);
  if (landing.kind !== 'stopped') throw new Error(`the browser ended on a page: ${landing.body.slice(0, 200)}`);
  const code = landing.url.searchParams.get('code');
  expect(code).toEqual(expect.any(String));
  expect(landing.url.searchParams.get('iss')).toBe(gateway.url);

  const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
  await transport.finishAuth(code as string);
  await client.connect(transport);
  return client;
}

describe('an MCP SDK client given only the /mcp URL', () => {
  it('registers dynamically, authorizes, and calls the tool', async () => {
    const provider = new InMemoryClientProvider(REDIRECT_URL);
    const client = await connectThroughOAuth(provider);
    const clientId = provider.clientInformation()?.client_id;
    expect(clientId).toEqual(expect.any(String));
    expect(clientId).not.toBe(documentUrl);

    const tools = await client.listTools();
    expect(tools.tools.map((tool) => tool.name)).toContain('whoami');
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect(JSON.stringify(result)).toContain(clientId as string);
    expect(JSON.stringify(result)).toContain('alice');
    await client.close();
  });

  it('uses a Client ID Metadata Document when the server supports them', async () => {
    const provider = new InMemoryClientProvider(REDIRECT_URL, { clientMetadataUrl: documentUrl });
    const client = await connectThroughOAuth(provider);
    expect(provider.clientInformation()?.client_id).toBe(documentUrl);
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect(JSON.stringify(result)).toContain(documentUrl);
    await client.close();
  });
});
