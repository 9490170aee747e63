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
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { TOKEN_CONTEXT_KEYS } from './contract/context-keys.js';
import { CORS_RESPONSE_HEADERS, preflightHeaders } from './contract/cors.js';
import { ENV } from './contract/environment.js';
import { METRIC_DIMENSIONS, METRICS } from './contract/metrics.js';
import { bearerChallenge, bearerToken } from './domain/bearer.js';
import { countWithDimension, logger, metrics } from './http/powertools.js';
import { toProxyResult, toWebRequest } from './http/web-request.js';
import { createMcpServer } from './mcp/sample-tools.js';
import { listEnv, requireEnv } from './wiring/env.js';

/** A JSON-RPC message to this sample server is small; the cap keeps a client from making it parse megabytes. */
export const MAX_MCP_BODY_BYTES = 1024 * 1024;

/** Methods of the MCP endpoint (the route table mounts the same three). */
export const MCP_METHODS = ['POST', 'GET', 'DELETE'] as const;

/** Who the token authorizer admitted. */
export interface Caller {
  subject: string;
  clientId: string;
  scope: string[];
}

/** What the handler needs: the resource's identity, and the MCP server to answer with. */
export interface HandlerDeps {
  /** RESOURCE_URL: the audience of the tokens, and the URL every web Request is built on. */
  resourceUrl: string;
  /** RFC 9728 metadata URL every challenge names. */
  resourceMetadata: string;
  /** Scopes every request must carry; missing ones get 403 insufficient_scope. */
  requiredScopes: readonly string[];
  /** A fresh server per request: stateless mode shares nothing between requests. */
  createServer: () => McpServer;
}

/** The deployed dependencies: the sample tools, settings from the environment. */
export function depsFromEnv(): HandlerDeps {
  const resourceUrl = requireEnv(ENV.resourceUrl);
  if (!URL.canParse(resourceUrl)) throw new Error(`${ENV.resourceUrl} must be an absolute URL`);
  return {
    resourceUrl,
    resourceMetadata: requireEnv(ENV.resourceMetadataUrl),
    requiredScopes: listEnv(ENV.requiredScopes),
    createServer: () => createMcpServer((error) => logger.info('MCP protocol error', { error })),
  };
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

function authorizationToken(event: APIGatewayProxyEvent): string {
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  return bearerToken(header) ?? '';
}

function jsonRpcError(statusCode: number, code: number, message: string, headers: Record<string, string> = {}) {
  return {
    statusCode,
    headers: { ...CORS_RESPONSE_HEADERS, 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }),
  } satisfies APIGatewayProxyResult;
}

async function serve(event: APIGatewayProxyEvent, deps: HandlerDeps): Promise<APIGatewayProxyResult> {
  const { resourceUrl, resourceMetadata, requiredScopes } = deps;
  logger.setCorrelationId(event.requestContext?.requestId);
  const method = event.httpMethod.toUpperCase();
  // A CORS preflight carries no credentials, so its route must not have the authorizer. API
  // Gateway's CORS mock integration normally answers it; this covers a proxy-only wiring.
  if (method === 'OPTIONS') {
    countWithDimension(METRICS.mcpRequests, METRIC_DIMENSIONS.outcome, 'preflight');
    return { statusCode: 204, headers: preflightHeaders([...MCP_METHODS, 'OPTIONS']), body: '' };
  }

  const caller = callerFrom(event);
  if (!caller) {
    logger.warn('request reached the MCP server without an authorizer context; refusing');
    countWithDimension(METRICS.mcpRequests, METRIC_DIMENSIONS.outcome, 'unauthenticated');
    return jsonRpcError(401, -32001, 'Unauthorized', { 'WWW-Authenticate': bearerChallenge({ resourceMetadata }) });
  }
  const missing = requiredScopes.filter((scope) => !caller.scope.includes(scope));
  if (missing.length > 0) {
    // RFC 6750 3.1 and the MCP scope step-up: 403 names every scope this resource needs.
    countWithDimension(METRICS.mcpRequests, METRIC_DIMENSIONS.outcome, 'insufficient_scope');
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
    countWithDimension(METRICS.mcpRequests, METRIC_DIMENSIONS.outcome, 'method_not_allowed');
    return jsonRpcError(405, -32000, 'Method not allowed.', { Allow: 'POST, OPTIONS' });
  }

  const bodyBytes = Buffer.byteLength(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (bodyBytes > MAX_MCP_BODY_BYTES) {
    countWithDimension(METRICS.mcpRequests, METRIC_DIMENSIONS.outcome, 'too_large');
    return jsonRpcError(413, -32600, `The request body must be at most ${MAX_MCP_BODY_BYTES} bytes.`);
  }
  let request: Request;
  try {
    request = toWebRequest(event, resourceUrl);
  } catch (error) {
    // Header values the Fetch API refuses, say.
    logger.info('request could not be converted', { error: error as Error });
    countWithDimension(METRICS.mcpRequests, METRIC_DIMENSIONS.outcome, 'bad_request');
    return jsonRpcError(400, -32600, 'Invalid Request');
  }
  const authInfo: AuthInfo = {
    token: authorizationToken(event),
    clientId: caller.clientId,
    scopes: caller.scope,
    resource: new URL(resourceUrl),
    extra: { subject: caller.subject },
  };
  const server = deps.createServer();
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  try {
    await server.connect(transport);
    const response = await transport.handleRequest(request, { authInfo });
    const result = await toProxyResult(response);
    countWithDimension(METRICS.mcpRequests, METRIC_DIMENSIONS.outcome, String(result.statusCode));
    return result;
  } finally {
    await server.close();
  }
}

async function handle(event: APIGatewayProxyEvent, deps: HandlerDeps): Promise<APIGatewayProxyResult> {
  try {
    return await serve(event, deps);
  } catch (error) {
    logger.error('MCP request failed', { error: error as Error });
    countWithDimension(METRICS.mcpRequests, METRIC_DIMENSIONS.outcome, 'error');
    return jsonRpcError(500, -32603, 'Internal error');
  }
}

export function createHandler(deps: HandlerDeps) {
  return middy((event: APIGatewayProxyEvent) => handle(event, deps))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export const handler = createHandler(depsFromEnv());
