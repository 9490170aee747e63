/**
 * The sample MCP server as API Gateway invokes it behind the token authorizer: REST (v1) proxy
 * events built as the local gateway builds them, through the real SDK transport in stateless JSON mode. Each call is a
 * fresh server, so tools/list and tools/call work without a prior initialize in the same
 * process state, as on Lambda where every request may land on another instance.
 */

import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { toProxyResult, toWebRequest } from '../../lambda/http/web-request.js';
import { apiEvent, lambdaContext } from '../support/api-gateway-events.js';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type McpModule = typeof import('../../lambda/mcp-server.js');

const RESOURCE = 'https://api.example/prod/mcp';
const METADATA = 'https://api.example/prod/.well-known/oauth-protected-resource';
const ACCEPT = 'application/json, text/event-stream';
const context = lambdaContext('mcp-server', 'req-1');
const CALLER = { sub: 'user-1', clientId: 'client-1', scope: 'mcp:read mcp:write', principalId: 'user-1' };

let mcp: McpModule;
let handler: ProxyHandler;

async function load(env: Record<string, string | undefined>): Promise<McpModule> {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  vi.resetModules();
  return import('../../lambda/mcp-server.js');
}

interface EventOptions {
  method?: string;
  body?: unknown;
  headers?: Array<[string, string]>;
  authorizer?: Record<string, unknown> | null;
  base64?: boolean;
  query?: Array<[string, string]>;
}

function event(options: EventOptions = {}): APIGatewayProxyEvent {
  const headers = options.headers ?? [
    ['Accept', ACCEPT],
    ['Content-Type', 'application/json'],
    ['Authorization', 'Bearer header.payload.signature'],
  ];
  const text = options.body === undefined ? null : JSON.stringify(options.body);
  const event = apiEvent({
    method: options.method ?? 'POST',
    path: '/mcp',
    headers,
    query: options.query ?? [],
    body: text !== null && options.base64 ? Buffer.from(text).toString('base64') : text,
  });
  // What API Gateway adds: the token authorizer's context, and the body's encoding.
  event.requestContext.authorizer = options.authorizer === undefined ? CALLER : options.authorizer;
  event.isBase64Encoded = options.base64 ?? false;
  return event;
}

/** Headers a client sends after initialization (MCP 2025-06-18 and later: the protocol version). */
const afterInit: Array<[string, string]> = [
  ['Accept', ACCEPT],
  ['Content-Type', 'application/json'],
  ['MCP-Protocol-Version', LATEST_PROTOCOL_VERSION],
  ['Authorization', 'Bearer header.payload.signature'],
];

const rpc = (id: number, method: string, params?: unknown) => ({
  jsonrpc: '2.0',
  id,
  method,
  ...(params ? { params } : {}),
});

function json(result: APIGatewayProxyResult): Record<string, unknown> {
  expect(result.headers?.['content-type']).toMatch(/^application\/json/);
  return JSON.parse(result.body) as Record<string, unknown>;
}

function expectCors(result: APIGatewayProxyResult) {
  expect(result.headers?.['Access-Control-Allow-Origin']).toBe('*');
  expect(result.headers?.['Access-Control-Expose-Headers']).toContain('WWW-Authenticate');
  expect(result.headers?.['Access-Control-Expose-Headers']).toContain('Mcp-Session-Id');
}

beforeAll(async () => {
  mcp = await load({ RESOURCE_URL: RESOURCE, RESOURCE_METADATA_URL: METADATA, REQUIRED_SCOPES: undefined });
  handler = mcp.handler as unknown as ProxyHandler;
});

describe('MCP over the Lambda proxy integration (stateless, JSON responses)', () => {
  it('initializes without a session', async () => {
    const result = await handler(
      event({
        body: rpc(1, 'initialize', {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: { name: 'test-client', version: '1.0.0' },
        }),
      }),
      context,
    );
    expect(result.statusCode).toBe(200);
    expectCors(result);
    // Stateless: no Mcp-Session-Id, so clients never send one back.
    expect(Object.keys(result.headers ?? {}).map((name) => name.toLowerCase())).not.toContain('mcp-session-id');
    const body = json(result);
    expect(body).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      result: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        serverInfo: { name: 'mcp-oauth-gateway-sample', version: '0.1.0' },
        capabilities: { tools: {} },
      },
    });
  });

  it('accepts the initialized notification with 202 and no body', async () => {
    const result = await handler(
      event({ headers: afterInit, body: { jsonrpc: '2.0', method: 'notifications/initialized' } }),
      context,
    );
    expect(result.statusCode).toBe(202);
    expect(result.body).toBe('');
  });

  it('lists the tools', async () => {
    const result = await handler(event({ headers: afterInit, body: rpc(2, 'tools/list') }), context);
    expect(result.statusCode).toBe(200);
    const body = json(result) as { result: { tools: Array<{ name: string }> } };
    expect(body.result.tools.map((tool) => tool.name).sort()).toEqual(['echo', 'whoami']);
  });

  it('whoami returns the caller the token authorizer admitted', async () => {
    const result = await handler(
      event({ headers: afterInit, body: rpc(3, 'tools/call', { name: 'whoami', arguments: {} }) }),
      context,
    );
    expect(result.statusCode).toBe(200);
    const identity = { subject: 'user-1', clientId: 'client-1', scope: ['mcp:read', 'mcp:write'] };
    expect(json(result)).toEqual({
      jsonrpc: '2.0',
      id: 3,
      result: { content: [{ type: 'text', text: JSON.stringify(identity) }], structuredContent: identity },
    });
  });

  it('whoami reflects another caller in another request (nothing is shared)', async () => {
    const result = await handler(
      event({
        headers: afterInit,
        body: rpc(3, 'tools/call', { name: 'whoami', arguments: {} }),
        authorizer: { sub: 'user-9', clientId: 'client-9', scope: '', principalId: 'user-9' },
      }),
      context,
    );
    const body = json(result) as { result: { structuredContent: unknown } };
    expect(body.result.structuredContent).toEqual({ subject: 'user-9', clientId: 'client-9', scope: [] });
  });

  it('decodes a base64 body (API Gateway binary media types)', async () => {
    const result = await handler(
      event({
        headers: afterInit,
        body: rpc(4, 'tools/call', { name: 'echo', arguments: { text: 'héllo' } }),
        base64: true,
      }),
      context,
    );
    expect(result.statusCode).toBe(200);
    expect(json(result)).toMatchObject({ id: 4, result: { content: [{ type: 'text', text: 'héllo' }] } });
  });

  it('reports a tool input error as a tool result, not a transport failure', async () => {
    const result = await handler(
      event({ headers: afterInit, body: rpc(5, 'tools/call', { name: 'echo', arguments: { text: 42 } }) }),
      context,
    );
    expect(result.statusCode).toBe(200);
    expect(json(result)).toMatchObject({ id: 5, result: { isError: true } });
  });
});

describe('what the SDK transport refuses, passed through', () => {
  it('406 when Accept does not list both application/json and text/event-stream', async () => {
    const result = await handler(
      event({
        headers: [
          ['Accept', 'application/json'],
          ['Content-Type', 'application/json'],
        ],
        body: rpc(6, 'tools/list'),
      }),
      context,
    );
    expect(result.statusCode).toBe(406);
    expectCors(result);
  });

  it('400 for an MCP-Protocol-Version the SDK does not support', async () => {
    const result = await handler(
      event({
        headers: [
          ['Accept', ACCEPT],
          ['Content-Type', 'application/json'],
          ['MCP-Protocol-Version', '1999-01-01'],
        ],
        body: rpc(7, 'tools/list'),
      }),
      context,
    );
    expect(result.statusCode).toBe(400);
    expect(json(result)).toMatchObject({ error: { code: -32000 } });
  });

  it('400 with a JSON-RPC parse error for a body that is not JSON', async () => {
    const broken = { ...event({ headers: afterInit }), body: '{"jsonrpc":' };
    const result = await handler(broken, context);
    expect(result.statusCode).toBe(400);
    expect(json(result)).toMatchObject({ error: { code: -32700 } });
  });
});

describe('methods and guards of the handler itself', () => {
  // In stateless mode the SDK would answer a GET (Accept: text/event-stream) with an SSE stream
  // that never ends: on Lambda that holds the invocation until it times out. The MCP transport
  // specification lets a server without such a stream answer GET with 405, and a server
  // without sessions DELETE with 405, so the handler does both before the transport.
  it.each(['GET', 'DELETE'])('answers %s with 405 and Allow: POST', async (method) => {
    const result = await handler(
      event({ method, headers: [['Accept', 'text/event-stream'], ...afterInit.slice(2)] }),
      context,
    );
    expect(result.statusCode).toBe(405);
    expect(result.headers?.Allow).toBe('POST, OPTIONS');
    expectCors(result);
  });

  it('answers the CORS preflight without any authorizer context', async () => {
    const result = await handler(event({ method: 'OPTIONS', headers: [], authorizer: null }), context);
    expect(result.statusCode).toBe(204);
    expect(result.headers?.['Access-Control-Allow-Origin']).toBe('*');
    expect(result.headers?.['Access-Control-Allow-Headers']).toMatch(/Authorization/i);
    expect(result.headers?.['Access-Control-Allow-Headers']).toMatch(/Mcp-Protocol-Version/i);
    expect(result.headers?.['Access-Control-Allow-Methods']).toMatch(/POST/);
  });

  it('refuses with 401 and the challenge when no authorizer vouched for the caller', async () => {
    for (const authorizer of [null, { clientId: 'client-1' }, { sub: '', clientId: 'client-1' }]) {
      const result = await handler(event({ body: rpc(8, 'tools/list'), authorizer }), context);
      expect(result.statusCode).toBe(401);
      expect(result.headers?.['WWW-Authenticate']).toBe(`Bearer resource_metadata="${METADATA}"`);
      expectCors(result);
    }
  });

  it('builds the request URL from RESOURCE_URL and the query, never from Host', () => {
    const request = toWebRequest(
      event({
        headers: [
          ['Host', 'evil.example'],
          ['X-Multi', 'a'],
          ['X-Multi', 'b'],
        ],
        query: [
          ['q', '1'],
          ['q', '2'],
        ],
        body: {},
      }),
      RESOURCE,
    );
    expect(request.url).toBe(`${RESOURCE}?q=1&q=2`);
    expect(request.headers.get('host')).toBeNull();
    expect(request.headers.get('x-multi')).toBe('a, b');
    expect(request.method).toBe('POST');
  });

  it('keeps repeated response headers as multi-value headers', async () => {
    const response = new Response('ok', {
      status: 201,
      headers: [
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
        ['X-One', 'x'],
      ],
    });
    const result = await toProxyResult(response);
    expect(result).toMatchObject({
      statusCode: 201,
      body: 'ok',
      multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'] },
      headers: { 'x-one': 'x', 'Access-Control-Allow-Origin': '*' },
    });
  });
});

describe('REQUIRED_SCOPES', () => {
  it('answers a token without a required scope with 403 insufficient_scope and the scopes needed', async () => {
    const strict = await load({ REQUIRED_SCOPES: 'mcp:read,mcp:admin' });
    const call = strict.handler as unknown as ProxyHandler;
    const refused = await call(event({ headers: afterInit, body: rpc(9, 'tools/list') }), context);
    expect(refused.statusCode).toBe(403);
    expect(refused.headers?.['WWW-Authenticate']).toBe(
      `Bearer resource_metadata="${METADATA}", error="insufficient_scope", error_description="The access token lacks a scope this resource needs.", scope="mcp:read mcp:admin"`,
    );
    const admitted = await call(
      event({
        headers: afterInit,
        body: rpc(10, 'tools/list'),
        authorizer: { ...CALLER, scope: 'mcp:admin mcp:read' },
      }),
      context,
    );
    expect(admitted.statusCode).toBe(200);
  });
});

describe('protected resource metadata endpoint (the other function of the resource API)', () => {
  it('serves the RFC 9728 document for the configured resource, cacheable and cross-origin', async () => {
    process.env.ISSUER_URL = 'https://gateway.example/v1/';
    process.env.RESOURCE_SCOPES = 'mcp:read, mcp:write';
    process.env.RESOURCE_NAME = 'Sample MCP server';
    vi.resetModules();
    const { handler: metadata } = await import('../../lambda/protected-resource-metadata.js');
    const result = (await (metadata as unknown as ProxyHandler)(
      event({ method: 'GET', headers: [], authorizer: null }),
      context,
    )) as APIGatewayProxyResult;
    expect(result.statusCode).toBe(200);
    expect(result.headers).toMatchObject({
      'Content-Type': 'application/json',
      'Access-Control-Allow-Origin': '*',
      'Cache-Control': 'public, max-age=300',
    });
    expect(JSON.parse(result.body)).toEqual({
      resource: RESOURCE,
      authorization_servers: ['https://gateway.example/v1'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:read', 'mcp:write'],
      resource_name: 'Sample MCP server',
    });
  });
});
