/**
 * A local stand-in for the deployed REST API: the same route table, the same handler modules,
 * the same authorizer semantics (identity sources, Allow/Deny policy, context handed to the
 * integration, no result caching) and the same gateway responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { preflightHeaders } from '../../lambda/contract/cors.js';
import {
  type GatewayResponseSpec,
  type GatewayResponseType,
  gatewayResponse,
  gatewayResponseHeaders,
  gatewayResponsesFor,
} from '../gateway-responses.js';
import {
  type ApiName,
  AUTHORIZERS,
  apiOf,
  corsPaths,
  FUNCTIONS,
  type FunctionName,
  ROUTES,
  type RouteSpec,
} from '../routes.js';
import { authorizerEvent, lambdaContext, proxyEvent, type RawRequest } from './api-gateway-events.js';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;
type AnyHandler = ProxyHandler | AuthorizerHandler;

/** API Gateway's payload limit for REST APIs. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

interface CompiledRoute {
  spec: RouteSpec;
  pattern: RegExp;
  parameterNames: string[];
}

function compile(spec: RouteSpec): CompiledRoute {
  return { spec, ...compilePath(spec.path) };
}

function compilePath(path: string): { pattern: RegExp; parameterNames: string[] } {
  const parameterNames: string[] = [];
  const segments = path.split('/').map((segment) => {
    const parameter = /^\{(\w+)\}$/.exec(segment);
    if (!parameter) return segment.replace(/[.*+?^$()|[\]{}\\]/g, '\\$&');
    parameterNames.push(parameter[1]);
    return '([^/]+)';
  });
  return { pattern: new RegExp(`^${segments.join('/')}$`), parameterNames };
}

export interface GatewayReply {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Renders a gateway response template the way API Gateway does for the variables we use. */
export function renderGatewayResponse(
  responses: readonly GatewayResponseSpec[],
  type: GatewayResponseType,
  defaultStatus: number,
  values: { authorizer?: Record<string, unknown>; errorMessage: string },
): GatewayReply {
  const spec = gatewayResponse(responses, type);
  const body = spec.template
    .replace(/\$context\.authorizer\.(\w+)/g, (_m, key: string) => String(values.authorizer?.[key] ?? ''))
    .replace(/\$context\.error\.messageString/g, JSON.stringify(values.errorMessage))
    .replace(/\$context\.error\.message/g, values.errorMessage);
  return {
    statusCode: spec.statusCode ?? defaultStatus,
    headers: gatewayResponseHeaders(spec),
    body: Buffer.from(body),
  };
}

function resourceMatches(pattern: string, arn: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^$()|[\]{}\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return regex.test(arn);
}

type PolicyDecision = 'Allow' | 'Deny' | 'Invalid';

/** IAM evaluation as API Gateway applies it to the method ARN: an explicit Deny wins. */
export function evaluatePolicy(result: unknown, arn: string): PolicyDecision {
  const document = (result as APIGatewayAuthorizerResult | undefined)?.policyDocument;
  if (
    !document ||
    !Array.isArray(document.Statement) ||
    typeof (result as APIGatewayAuthorizerResult).principalId !== 'string'
  ) {
    return 'Invalid';
  }
  let allowed = false;
  for (const statement of document.Statement as unknown as Array<Record<string, unknown>>) {
    const actions = ([] as unknown[]).concat(statement.Action);
    const resources = ([] as unknown[]).concat(statement.Resource);
    const invokes = actions.some(
      (action) => action === 'execute-api:Invoke' || action === '*' || action === 'execute-api:*',
    );
    const covers = resources.some((resource) => typeof resource === 'string' && resourceMatches(resource, arn));
    if (!invokes || !covers) continue;
    if (statement.Effect === 'Deny') return 'Deny';
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'Allow' : 'Deny';
}

export class LocalGateway {
  private readonly routes = ROUTES.map(compile);
  private readonly handlers = new Map<FunctionName, AnyHandler>();
  /** The CORS mock integrations: OPTIONS on each CORS path, with the methods it allows. */
  private readonly preflights = [...corsPaths(ROUTES)].map(([path, methods]) => ({
    pattern: compilePath(path).pattern,
    methods,
  }));
  private readonly responses: Record<ApiName, readonly GatewayResponseSpec[]>;

  /**
   * Both APIs (the authorization server's and the MCP server's) on one origin, each with its own
   * gateway responses. basePath: serve them under this prefix, as a stage path would.
   */
  constructor(
    private readonly basePath: string,
    resourceMetadataUrl: string,
  ) {
    this.responses = {
      authorization: gatewayResponsesFor('authorization', resourceMetadataUrl),
      resource: gatewayResponsesFor('resource', resourceMetadataUrl),
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

  async handle(request: RawRequest): Promise<GatewayReply> {
    if (request.body.length > MAX_PAYLOAD_BYTES) {
      return renderGatewayResponse(this.responses.authorization, 'DEFAULT_4XX', 413, {
        errorMessage: 'Request Too Long',
      });
    }
    const path = this.withoutBasePath(request.url.pathname);
    const preflight = request.method === 'OPTIONS' && path !== undefined ? this.preflightFor(path) : undefined;
    if (preflight) return { statusCode: 204, headers: preflightHeaders(preflight), body: Buffer.alloc(0) };
    const match = path === undefined ? undefined : this.match(request.method, path);
    if (!match || path === undefined) {
      return renderGatewayResponse(this.responses.authorization, 'MISSING_AUTHENTICATION_TOKEN', 403, {
        errorMessage: 'Missing Authentication Token',
      });
    }
    const event = proxyEvent(request, path, match.route.spec.path, match.pathParameters);
    const responses = this.responses[apiOf(match.route.spec)];

    const authorizerName = match.route.spec.authorizer;
    if (authorizerName) {
      const authorizer = AUTHORIZERS[authorizerName];
      const headers = new Map(Object.entries(event.headers).map(([name, value]) => [name.toLowerCase(), value]));
      const missingIdentity =
        authorizer.identityQueryParameters.some((name) => !event.queryStringParameters?.[name]) ||
        authorizer.identityHeaders.some((name) => !headers.get(name.toLowerCase()));
      if (missingIdentity)
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

    try {
      const invoke = this.handler<ProxyHandler>(match.route.spec.function);
      const result = await invoke(event, lambdaContext(match.route.spec.function, event.requestContext.requestId));
      return toReply(result, responses);
    } catch {
      // API Gateway answers a failed Lambda proxy integration with a 502.
      return renderGatewayResponse(responses, 'DEFAULT_5XX', 502, { errorMessage: 'Internal server error' });
    }
  }

  private preflightFor(path: string): string[] | undefined {
    return this.preflights.find((preflight) => preflight.pattern.test(path))?.methods;
  }

  private withoutBasePath(pathname: string): string | undefined {
    if (!this.basePath) return pathname;
    if (!pathname.startsWith(`${this.basePath}/`)) return undefined;
    return pathname.slice(this.basePath.length);
  }

  private match(method: string, path: string) {
    for (const route of this.routes) {
      if (route.spec.method !== method) continue;
      const m = route.pattern.exec(path);
      if (!m) continue;
      const pathParameters =
        route.parameterNames.length === 0
          ? null
          : Object.fromEntries(route.parameterNames.map((name, i) => [name, decodePathSegment(m[i + 1])]));
      return { route, pathParameters };
    }
    return undefined;
  }
}

/** API Gateway decodes path parameters; a segment that is not valid UTF-8 when decoded stays as sent. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

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

/** Reads a Node request fully (bounded), hands it to the gateway, writes the reply. */
export async function serveNodeRequest(
  gateway: LocalGateway,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_PAYLOAD_BYTES + 1) chunks.push(chunk as Buffer);
  }
  // Origin-form targets only ("/path?query"); prefixing keeps "//x" a path, never a host.
  const target = req.url?.startsWith('/') ? req.url : '/';
  const url = URL.canParse(`http://127.0.0.1${target}`)
    ? new URL(`http://127.0.0.1${target}`)
    : new URL('http://127.0.0.1/');
  const reply = await gateway.handle({
    method: req.method ?? 'GET',
    url,
    headers: req.headersDistinct,
    body: Buffer.concat(chunks),
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  });
  res.writeHead(reply.statusCode, { ...reply.headers, 'Content-Length': String(reply.body.length) });
  res.end(reply.body);
}
