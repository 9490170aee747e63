/**
 * The sample MCP server behind the token authorizer: a Lambda proxy integration (REST API, v1
 * events) speaking MCP Streamable HTTP in the SDK's stateless JSON mode. Each invocation turns
 * the event into a web Request, gives it to a fresh McpServer and transport (stateless: no
 * session outlives the request, so any Lambda instance can answer any request), and turns the
 * web Response back into a proxy result.
 *
 * The caller is who the token authorizer said it is: `sub`, `clientId` and `scope` from
 * requestContext.authorizer, handed to tools as the SDK's authInfo. A request without that
 * context (a route wired without the authorizer) is refused with 401, never served anonymously.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import { TOKEN_CONTEXT_KEYS } from './contract/context-keys.js';
import { CORS_RESPONSE_HEADERS, preflightHeaders } from './contract/cors.js';
import { ENV } from './contract/environment.js';
import { METRICS } from './contract/metrics.js';
import { bearerChallenge } from './domain/resource-challenge.js';
import { countWithDimension, logger, metrics } from './http/powertools.js';
import { listEnv, requireEnv } from './wiring/env.js';

/** A JSON-RPC message to this sample server is small; the cap keeps a client from making it parse megabytes. */
export const MAX_MCP_BODY_BYTES = 1024 * 1024;

export const SERVER_INFO = { name: 'mcp-oauth-gateway-sample', version: '0.1.0' } as const;

const resourceUrl = requireEnv(ENV.resourceUrl);
const resourceMetadata = requireEnv(ENV.resourceMetadataUrl);
const requiredScopes = listEnv(ENV.requiredScopes);
if (!URL.canParse(resourceUrl)) throw new Error(`${ENV.resourceUrl} must be an absolute URL`);

/**
 * The project's CORS values (lambda/http/cors.ts): any origin, WWW-Authenticate and
 * Mcp-Session-Id exposed, so browser-based clients can read the challenge. `*` grants no
 * ambient authority: credentials travel in the Authorization header, never in cookies.
 */
export const MCP_METHODS = ['POST', 'GET', 'DELETE'] as const;

/** Framing and routing headers of the hop to API Gateway; the Request computes its own. */
const HOP_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length']);

/** Who the token authorizer admitted. */
export interface Caller {
  subject: string;
  clientId: string;
  scope: string[];
}

function callerFrom(event: APIGatewayProxyEvent): Caller | undefined {
  const context = event.requestContext?.authorizer;
  if (!context || typeof context !== 'object') return undefined;
  const values = context as Record<string, unknown>;
  const sub = values[TOKEN_CONTEXT_KEYS.subject];
  const clientId = values[TOKEN_CONTEXT_KEYS.clientId];
  const scope = values[TOKEN_CONTEXT_KEYS.scope];
  if (typeof sub !== 'string' || sub === '' || typeof clientId !== 'string' || clientId === '') return undefined;
  return {
    subject: sub,
    clientId,
    scope: (typeof scope === 'string' ? scope : '').split(' ').filter((item) => item !== ''),
  };
}

/** The tools of this sample. Built per request: stateless mode shares nothing between requests. */
export function createMcpServer(): McpServer {
  const server = new McpServer(SERVER_INFO, { capabilities: { tools: {} } });
  server.registerTool(
    'whoami',
    {
      title: 'Who am I',
      description: 'Returns the subject, client and scope of the access token this request was made with.',
      outputSchema: { subject: z.string(), clientId: z.string(), scope: z.array(z.string()) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (extra) => {
      const auth = extra.authInfo;
      const identity = {
        subject: typeof auth?.extra?.subject === 'string' ? auth.extra.subject : '',
        clientId: auth?.clientId ?? '',
        scope: auth?.scopes ?? [],
      };
      return { content: [{ type: 'text', text: JSON.stringify(identity) }], structuredContent: identity };
    },
  );
  server.registerTool(
    'echo',
    {
      title: 'Echo',
      description: 'Returns the text it is given.',
      inputSchema: { text: z.string().max(10_000) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.server.onerror = (error) => logger.info('MCP protocol error', { error });
  return server;
}

function authorizationToken(event: APIGatewayProxyEvent): string {
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  return /^bearer +(\S+)/i.exec(header?.trim() ?? '')?.[1] ?? '';
}

/**
 * The web Request for an event. The URL is RESOURCE_URL plus the query string: the Host header
 * is the caller's to choose, so nothing is ever derived from it.
 */
export function toWebRequest(event: APIGatewayProxyEvent): Request {
  const url = new URL(resourceUrl);
  const query = event.multiValueQueryStringParameters;
  if (query) {
    for (const [name, values] of Object.entries(query)) {
      for (const value of values ?? []) url.searchParams.append(name, value);
    }
  } else {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
      if (value !== undefined) url.searchParams.append(name, value);
    }
  }
  const headers = new Headers();
  const multi = event.multiValueHeaders;
  const entries: Array<[string, string[]]> = multi
    ? Object.entries(multi).map(([name, values]) => [name, values ?? []])
    : Object.entries(event.headers ?? {}).map(([name, value]) => [name, value === undefined ? [] : [value]]);
  for (const [name, values] of entries) {
    if (HOP_HEADERS.has(name.toLowerCase())) continue;
    for (const value of values) headers.append(name, value);
  }
  const method = event.httpMethod.toUpperCase();
  const hasBody = method !== 'GET' && method !== 'HEAD' && event.body !== null && event.body !== undefined;
  const body = hasBody ? (event.isBase64Encoded ? Buffer.from(event.body as string, 'base64') : event.body) : undefined;
  return new Request(url, { method, headers, body });
}

/** The proxy result for a web Response: every header, repeated ones (Set-Cookie) as multi-value. */
export async function toProxyResult(response: Response): Promise<APIGatewayProxyResult> {
  const headers: Record<string, string> = { ...CORS_RESPONSE_HEADERS };
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  if (!response.headers.has('cache-control')) headers['Cache-Control'] = 'no-store';
  const cookies = response.headers.getSetCookie();
  return {
    statusCode: response.status,
    headers,
    ...(cookies.length > 0 ? { multiValueHeaders: { 'set-cookie': cookies } } : {}),
    body: await response.text(),
  };
}

function jsonRpcError(statusCode: number, code: number, message: string, headers: Record<string, string> = {}) {
  return {
    statusCode,
    headers: { ...CORS_RESPONSE_HEADERS, 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }),
  } satisfies APIGatewayProxyResult;
}

async function serve(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  logger.setCorrelationId(event.requestContext?.requestId);
  const method = event.httpMethod.toUpperCase();
  // A CORS preflight carries no credentials, so its route must not have the authorizer. API
  // Gateway's CORS mock integration normally answers it; this covers a proxy-only wiring.
  if (method === 'OPTIONS') {
    countWithDimension(METRICS.mcpRequests, 'outcome', 'preflight');
    return { statusCode: 204, headers: preflightHeaders([...MCP_METHODS, 'OPTIONS']), body: '' };
  }

  const caller = callerFrom(event);
  if (!caller) {
    logger.warn('request reached the MCP server without an authorizer context; refusing');
    countWithDimension(METRICS.mcpRequests, 'outcome', 'unauthenticated');
    return jsonRpcError(401, -32001, 'Unauthorized', { 'WWW-Authenticate': bearerChallenge({ resourceMetadata }) });
  }
  const missing = requiredScopes.filter((scope) => !caller.scope.includes(scope));
  if (missing.length > 0) {
    // RFC 6750 3.1 and the MCP scope step-up: 403 names every scope this resource needs.
    countWithDimension(METRICS.mcpRequests, 'outcome', 'insufficient_scope');
    return jsonRpcError(403, -32001, 'Forbidden', {
      'WWW-Authenticate': bearerChallenge({
        resourceMetadata,
        error: 'insufficient_scope',
        errorDescription: 'The access token lacks a scope this resource needs.',
        scope: requiredScopes.join(' '),
      }),
    });
  }
  // Stateless and JSON-only, this server offers no SSE stream to GET (the SDK would open one
  // that never ends, holding the Lambda until its timeout) and has no session to DELETE: the
  // MCP transport specification lets a server answer both with 405.
  if (method !== 'POST') {
    countWithDimension(METRICS.mcpRequests, 'outcome', 'method_not_allowed');
    return jsonRpcError(405, -32000, 'Method not allowed.', { Allow: 'POST, OPTIONS' });
  }

  const bodyBytes = Buffer.byteLength(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (bodyBytes > MAX_MCP_BODY_BYTES) {
    countWithDimension(METRICS.mcpRequests, 'outcome', 'too_large');
    return jsonRpcError(413, -32600, `The request body must be at most ${MAX_MCP_BODY_BYTES} bytes.`);
  }
  let request: Request;
  try {
    request = toWebRequest(event);
  } catch (error) {
    // Header values the Fetch API refuses, say.
    logger.info('request could not be converted', { error: error as Error });
    countWithDimension(METRICS.mcpRequests, 'outcome', 'bad_request');
    return jsonRpcError(400, -32600, 'Invalid Request');
  }
  const authInfo: AuthInfo = {
    token: authorizationToken(event),
    clientId: caller.clientId,
    scopes: caller.scope,
    resource: new URL(resourceUrl),
    extra: { subject: caller.subject },
  };
  const server = createMcpServer();
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  try {
    await server.connect(transport);
    const response = await transport.handleRequest(request, { authInfo });
    const result = await toProxyResult(response);
    countWithDimension(METRICS.mcpRequests, 'outcome', String(result.statusCode));
    return result;
  } finally {
    await server.close();
  }
}

async function handle(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  try {
    return await serve(event);
  } catch (error) {
    logger.error('MCP request failed', { error: error as Error });
    countWithDimension(METRICS.mcpRequests, 'outcome', 'error');
    return jsonRpcError(500, -32603, 'Internal error');
  }
}

export const handler = middy(handle)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
