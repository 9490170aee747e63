/**
 * A local stand-in for the deployed REST API: the same route table, the same handler modules,
 * the same authorizer semantics (identity sources, Allow/Deny policy, context handed to the
 * integration, no result caching) and the same gateway responses. This file is API Gateway's
 * request pipeline (payload limit, stage path, preflight, route, authorizer, integration);
 * route matching (routing.ts), the authorizer's policy (authorizer-policy.ts), the response
 * templates (response-templates.ts) and the Node server (node-adapter.ts) are apart.
 */
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { preflightHeaders } from '../../lambda/contract/cors.js';
import { GATEWAY_RESPONSE_HEADERS, type GatewayResponseSpec, gatewayResponsesFor } from '../gateway-responses.js';
import { ORIGIN_REFUSAL, originAccepted } from '../origin-allow-list.js';
import { type ApiName, AUTHORIZERS, apiOf, FUNCTIONS, type FunctionName, ROUTES, routesOf } from '../routes.js';
import { authorizerEvent, lambdaContext, proxyEvent, type RawRequest } from './api-gateway-events.js';
import { evaluatePolicy, hasIdentitySources } from './authorizer-policy.js';
import { BackendUnavailable, forwardToBackend, type StreamedReply } from './backend-proxy.js';
import { refuseForeignHost } from './host-check.js';
import { type GatewayReply, renderGatewayResponse } from './response-templates.js';
import { RouteMatcher } from './routing.js';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;
type AnyHandler = ProxyHandler | AuthorizerHandler;

/** API Gateway's payload limit for REST APIs. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/** A buffered reply (gateway responses, Lambda proxy results) or one streamed from an MCP backend. */
export type LocalReply = GatewayReply | StreamedReply;

export interface LocalGatewayOptions {
  /** An HTTP MCP server put behind /mcp instead of the sample function (MCP_BACKEND_URL). */
  backend?: URL;
  /** The Host values to answer to; any other is refused with a 421 (DNS rebinding). Unset: no check. */
  allowedHosts?: ReadonlySet<string>;
  /** Scopes the resource requires (RESOURCE_SCOPES): named in its 401 and 403 challenges. */
  requiredScopes?: readonly string[];
  /**
   * The resource's Origin allow-list (MCP_ALLOWED_ORIGINS, lowercased): a resource request whose
   * Origin is another gets ORIGIN_REFUSAL, as the deployed web ACL rule answers. Unset: any Origin.
   */
  allowedOrigins?: readonly string[];
}

/** The resource API's paths: on one local origin with the authorization server's, the Origin rule covers these. */
const RESOURCE_PATHS: ReadonlySet<string> = new Set(routesOf('resource').map((route) => route.path));

export class LocalGateway {
  private readonly routes = new RouteMatcher(ROUTES);
  private readonly handlers = new Map<FunctionName, AnyHandler>();
  private readonly responses: Record<ApiName, readonly GatewayResponseSpec[]>;

  /**
   * Both APIs (the authorization server's and the MCP server's) on one origin, each with its own
   * gateway responses. basePath: serve them under this prefix, as a stage path would.
   */
  constructor(
    private readonly basePath: string,
    resourceMetadataUrl: string,
    private readonly options: LocalGatewayOptions = {},
  ) {
    this.responses = {
      authorization: gatewayResponsesFor('authorization', resourceMetadataUrl),
      resource: gatewayResponsesFor('resource', resourceMetadataUrl, options.requiredScopes),
    };
  }

  /** Imports every function module once; call after the environment is configured. */
  async load(importFunction: (entry: string) => Promise<{ handler: AnyHandler }>): Promise<void> {
    for (const [name, spec] of Object.entries(FUNCTIONS) as Array<[FunctionName, (typeof FUNCTIONS)[FunctionName]]>) {
      const module = await importFunction(spec.entry);
      this.handlers.set(name, module.handler);
    }
  }

  private handler<T extends AnyHandler>(name: FunctionName): T {
    const handler = this.handlers.get(name);
    if (!handler) throw new Error(`function ${name} is not loaded`);
    return handler as T;
  }

  /** signal: aborted when the client goes away, which ends a backend request still streaming. */
  async handle(request: RawRequest, signal?: AbortSignal): Promise<LocalReply> {
    if (this.options.allowedHosts) {
      const refusal = refuseForeignHost(this.options.allowedHosts, request.headers.host);
      if (refusal) return refusal;
    }
    if (request.body.length > MAX_PAYLOAD_BYTES) {
      return renderGatewayResponse(this.responses.authorization, 'DEFAULT_4XX', 413, {
        errorMessage: 'Request Too Long',
      });
    }
    const path = this.withoutBasePath(request.url.pathname);
    const { allowedOrigins } = this.options;
    if (allowedOrigins && path !== undefined && RESOURCE_PATHS.has(path)) {
      const origin = request.headers.origin?.filter((value) => value !== '');
      if (!originAccepted(allowedOrigins, origin)) {
        return {
          statusCode: ORIGIN_REFUSAL.statusCode,
          headers: { ...GATEWAY_RESPONSE_HEADERS },
          body: Buffer.from(ORIGIN_REFUSAL.body),
        };
      }
    }
    const preflight = request.method === 'OPTIONS' && path !== undefined ? this.routes.preflightFor(path) : undefined;
    if (preflight) return { statusCode: 204, headers: preflightHeaders(preflight), body: Buffer.alloc(0) };
    const match = path === undefined ? undefined : this.routes.match(request.method, path);
    if (!match || path === undefined) {
      return renderGatewayResponse(this.responses.authorization, 'MISSING_AUTHENTICATION_TOKEN', 403, {
        errorMessage: 'Missing Authentication Token',
      });
    }
    const event = proxyEvent(request, path, match.route.path, match.pathParameters);
    const responses = this.responses[apiOf(match.route)];

    const authorizerName = match.route.authorizer;
    if (authorizerName) {
      const authorizer = AUTHORIZERS[authorizerName];
      if (!hasIdentitySources(authorizer, event))
        return renderGatewayResponse(responses, 'UNAUTHORIZED', 401, { errorMessage: 'Unauthorized' });
      const authEvent = authorizerEvent(event);
      let result: APIGatewayAuthorizerResult;
      try {
        const authorize = this.handler<AuthorizerHandler>(authorizer.function);
        result = await authorize(authEvent, lambdaContext(authorizer.function, event.requestContext.requestId));
      } catch (error) {
        if (error instanceof Error && error.message === 'Unauthorized') {
          return renderGatewayResponse(responses, 'UNAUTHORIZED', 401, { errorMessage: 'Unauthorized' });
        }
        return renderGatewayResponse(responses, 'AUTHORIZER_FAILURE', 500, { errorMessage: 'Internal server error' });
      }
      const decision = evaluatePolicy(result, authEvent.methodArn);
      if (decision === 'Invalid') {
        return renderGatewayResponse(responses, 'AUTHORIZER_CONFIGURATION_ERROR', 500, {
          errorMessage: 'Internal server error',
        });
      }
      if (decision === 'Deny') {
        return renderGatewayResponse(responses, 'ACCESS_DENIED', 403, {
          authorizer: result.context ?? {},
          errorMessage: 'User is not authorized to access this resource with an explicit deny',
        });
      }
      event.requestContext.authorizer = { ...(result.context ?? {}), principalId: result.principalId };
    }

    const backend = this.options.backend;
    if (backend && match.route.function === 'mcpServer') {
      try {
        return await forwardToBackend(backend, request, event.requestContext.authorizer, signal);
      } catch (error) {
        // As API Gateway answers an HTTP integration it cannot reach: the resource API's 5XX response.
        const message = error instanceof BackendUnavailable ? error.message : 'The MCP backend failed.';
        if (!signal?.aborted) console.error(`mcp-oauth-gateway: ${message}`);
        return renderGatewayResponse(responses, 'DEFAULT_5XX', 502, { errorMessage: message });
      }
    }

    try {
      const invoke = this.handler<ProxyHandler>(match.route.function);
      const result = await invoke(event, lambdaContext(match.route.function, event.requestContext.requestId));
      return toReply(result, responses);
    } catch {
      // API Gateway answers a failed Lambda proxy integration with a 502.
      return renderGatewayResponse(responses, 'DEFAULT_5XX', 502, { errorMessage: 'Internal server error' });
    }
  }

  /** The path below the stage (basePath), or undefined when the request is outside it. */
  private withoutBasePath(pathname: string): string | undefined {
    if (!this.basePath) return pathname;
    if (!pathname.startsWith(`${this.basePath}/`)) return undefined;
    return pathname.slice(this.basePath.length);
  }
}

/** A Lambda proxy integration's result as API Gateway answers it; a malformed one is a 502. */
function toReply(result: APIGatewayProxyResult, responses: readonly GatewayResponseSpec[]): GatewayReply {
  if (!result || typeof result.statusCode !== 'number') {
    return renderGatewayResponse(responses, 'DEFAULT_5XX', 502, { errorMessage: 'Internal server error' });
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  return { statusCode: result.statusCode, headers, body };
}
