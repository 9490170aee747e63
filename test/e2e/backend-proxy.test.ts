/**
 * Local mode fronting the user's own MCP server (MCP_BACKEND_URL): an MCP server made with the
 * official SDK, stateful, behind `npm start`. The SDK client signs in and calls its tools
 * through the gateway; raw requests then check what crosses the proxy: SSE event by event, the
 * identity headers (spoofed ones never reach the backend), the session header both ways and
 * DELETE, a foreign Host refused, and a backend that is down.
 */
import { request as httpRequest } from 'node:http';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLocalServer, useOwnServers } from '../support/local-server-fixture.js';
import { PROGRESS_PAUSE_MS, type SdkMcpBackend, startSdkMcpBackend } from '../support/sdk-mcp-backend.js';
import { connectWithOAuth, InMemoryClientProvider } from '../support/sdk-oauth-client.js';

const REDIRECT_URL = 'http://127.0.0.1:59998/callback';

let backend: SdkMcpBackend;
beforeAll(async () => {
  backend = await startSdkMcpBackend();
});
afterAll(async () => {
  await backend?.close();
});

const gateway = useLocalServer(() => ({ MCP_BACKEND_URL: backend.url }));
const startOwn = useOwnServers();
const provider = new InMemoryClientProvider(REDIRECT_URL);
let accessToken: string;

function mcp(
  method: 'POST' | 'GET' | 'DELETE',
  options: { body?: unknown; session?: string; headers?: Record<string, string> } = {},
) {
  return fetch(`${gateway.url}/mcp`, {
    method,
    headers: {
      Authorization: `Bearer ${accessToken}`,
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION,
      ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(options.session ? { 'Mcp-Session-Id': options.session } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** A raw session: initialize, then the initialized notification; returns its Mcp-Session-Id. */
async function openSession(headers: Record<string, string> = {}): Promise<string> {
  const response = await mcp('POST', { body: INITIALIZE, headers });
  expect(response.status).toBe(200);
  const session = response.headers.get('mcp-session-id');
  await response.text();
  expect(session).toEqual(expect.any(String));
  const initialized = await mcp('POST', {
    body: { jsonrpc: '2.0', method: 'notifications/initialized' },
    session: session as string,
  });
  expect(initialized.status).toBe(202);
  return session as string;
}

describe('MCP_BACKEND_URL: the user’s MCP server behind the local /mcp', () => {
  it('says at start which backend /mcp fronts', () => {
    expect(gateway.process.output()).toContain(`/mcp fronts your MCP server at ${backend.url}`);
  });

  it('lets the SDK client sign in, list and call the backend’s tools', async () => {
    const client = await connectWithOAuth(new URL(`${gateway.url}/mcp`), provider);
    const tools = await client.listTools();
    expect(tools.tools.map((tool) => tool.name).sort()).toEqual(['echo-identity', 'progress']);

    const progress: number[] = [];
    const result = await client.callTool({ name: 'progress', arguments: {} }, undefined, {
      onprogress: (update) => progress.push(update.progress),
    });
    expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(progress).toEqual([1]);

    const identity = await client.callTool({ name: 'echo-identity', arguments: {} });
    const headers = JSON.parse((identity.content as Array<{ text: string }>)[0].text);
    expect(headers).toEqual({
      'x-mcp-gateway-sub': 'alice',
      'x-mcp-gateway-client-id': provider.clientInformation()?.client_id,
      'x-mcp-gateway-scope': expect.any(String),
    });
    await client.close();
    accessToken = provider.tokens()?.access_token as string;
    expect(accessToken).toEqual(expect.any(String));
  });

  it('streams an SSE answer event by event: the progress event arrives before the stream ends', async () => {
    const session = await openSession();
    const started = performance.now();
    const response = await mcp('POST', {
      session,
      body: {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'progress', arguments: {}, _meta: { progressToken: 't' } },
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    let firstEventAt: number | undefined;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (firstEventAt === undefined && text.includes('notifications/progress') && text.includes('\n\n'))
        firstEventAt = performance.now();
    }
    const endedAt = performance.now();
    expect(firstEventAt).toBeDefined();
    // The backend pauses between the two events; a buffering proxy would deliver both at the end.
    expect(endedAt - (firstEventAt as number)).toBeGreaterThan(PROGRESS_PAUSE_MS * 0.75);
    expect(text).toContain('"result"');
    console.log(
      `SSE through the gateway: first event after ${((firstEventAt as number) - started).toFixed(0)} ms, end after ${(endedAt - started).toFixed(0)} ms`,
    );
  });

  it('passes the verified identity and never a caller’s x-mcp-gateway-* headers', async () => {
    const spoofed = {
      'x-mcp-gateway-sub': 'mallory',
      'x-mcp-gateway-client-id': 'spoofed-client',
      'x-mcp-gateway-scope': 'admin',
    };
    const before = backend.received.length;
    const session = await openSession(spoofed);
    const call = await mcp('POST', {
      session,
      headers: spoofed,
      body: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo-identity', arguments: {} } },
    });
    const body = await call.text();
    expect(body).not.toContain('mallory');
    const seen = backend.received.slice(before);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const request of seen) {
      expect(request.headers['x-mcp-gateway-sub']).toBe('alice');
      expect(request.headers['x-mcp-gateway-client-id']).toBe(provider.clientInformation()?.client_id);
      expect(request.headers['x-mcp-gateway-scope']).not.toBe('admin');
      expect(request.headers.authorization).toBe(`Bearer ${accessToken}`);
      expect(JSON.stringify(request.headers)).not.toMatch(/mallory|spoofed-client/);
    }
  });

  it('carries Mcp-Session-Id both ways, the query string, GET for the SSE stream, and DELETE ends the session', async () => {
    const session = await openSession();
    expect(backend.sessions()).toContain(session);

    const before = backend.received.length;
    const stream = new AbortController();
    const get = await fetch(`${gateway.url}/mcp?probe=1`, {
      headers: {
        Authorization: `Bearer ${accessToken}`,
        Accept: 'text/event-stream',
        'Mcp-Session-Id': session,
        'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION,
      },
      signal: stream.signal,
    });
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toContain('text/event-stream');
    expect(backend.received[before]).toMatchObject({ method: 'GET', url: '/mcp?probe=1' });
    expect(backend.received[before].headers['mcp-session-id']).toBe(session);
    expect(backend.received[before].headers['mcp-protocol-version']).toBe(LATEST_PROTOCOL_VERSION);
    stream.abort();

    const deleted = await mcp('DELETE', { session });
    expect(deleted.status).toBe(200);
    expect(backend.sessions()).not.toContain(session);
    const after = await mcp('POST', { session, body: { jsonrpc: '2.0', id: 3, method: 'tools/list' } });
    expect(after.status).toBe(404);
  });

  it('refuses a request whose Host is not its own (DNS rebinding)', async () => {
    const { port } = new URL(gateway.url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { Host: `attacker.example:${port}` } },
        (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(answer.status).toBe(421);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_request' });
    expect(JSON.parse(answer.body).error_description).toContain('attacker.example');
    // Its own names are fine, and a browser client's Origin (the Inspector on another port) too.
    const own = await fetch(
      `${gateway.url.replace('127.0.0.1', 'localhost')}/.well-known/oauth-protected-resource/mcp`,
      {
        headers: { Origin: 'http://localhost:6274' },
      },
    );
    expect(own.status).toBe(200);
    const inspector = await mcp('POST', { body: INITIALIZE, headers: { Origin: 'http://localhost:6274' } });
    expect(inspector.status).toBe(200);
    expect(inspector.headers.get('access-control-allow-origin')).toBe('*');
    expect(inspector.headers.get('access-control-expose-headers')).toContain('Mcp-Session-Id');
    await inspector.text();
  });

  it('refuses to start with an MCP_BACKEND_URL that is not an absolute http(s) URL', async () => {
    await expect(startOwn({ MCP_BACKEND_URL: 'ftp://127.0.0.1/mcp' })).rejects.toThrow(
      /MCP_BACKEND_URL must be an http or https URL/,
    );
    await expect(startOwn({ MCP_BACKEND_URL: '127.0.0.1:8080/mcp' })).rejects.toThrow(
      /MCP_BACKEND_URL must be an absolute http\(s\) URL/,
    );
  });

  it('answers 502 with an OAuth-shaped error, and no stack, when the backend is down', async () => {
    await backend.close();
    const response = await mcp('POST', { body: INITIALIZE });
    expect(response.status).toBe(502);
    const body = await response.json();
    expect(body).toEqual({ error: 'server_error', error_description: expect.stringContaining(backend.url) });
    expect(JSON.stringify(body)).not.toMatch(/\bat .+\.(ts|js):\d+/);
  });
});
