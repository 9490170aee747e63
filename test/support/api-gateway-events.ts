/**
 * API Gateway REST (v1) events for tests that invoke a handler directly, built by the same code
 * that builds them for the local gateway (lib/local/api-gateway-events.ts), so a test hands a
 * handler what the local server, and so API Gateway, would. Tests say only the request.
 */
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { authorizerEvent, proxyEvent } from '../../lib/local/api-gateway-events.js';

export { lambdaContext, methodArn } from '../../lib/local/api-gateway-events.js';

/** Pairs in the order sent; a name may repeat. Header names are kept as the client spelled them. */
export type Pairs = ReadonlyArray<readonly [string, string]>;

export interface TestRequest {
  /** GET when not given. */
  method?: string;
  /** The path as sent, percent-encoding and all, e.g. `/register/a%2Fb`. */
  path: string;
  /** The route's resource path, e.g. `/register/{client_id}`; the path when not given. */
  resource?: string;
  pathParameters?: Record<string, string> | null;
  headers?: Pairs | Record<string, string>;
  query?: Pairs | Record<string, string>;
  /**
   * Handed over exactly as given. (API Gateway hands an empty body over as null, as the local
   * gateway does; a test may still send '' to see what a handler makes of it.)
   */
  body?: string | null;
}

const ORIGIN = 'https://gateway.test';

function pairs(value: Pairs | Record<string, string> | undefined): Pairs {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as Pairs) : Object.entries(value);
}

/** A proxy event for the request, as API Gateway hands it to the route's function. */
export function apiEvent(request: TestRequest): APIGatewayProxyEvent {
  const url = new URL(request.path, ORIGIN);
  for (const [name, value] of pairs(request.query)) url.searchParams.append(name, value);
  const headers = new Map<string, string[]>();
  for (const [name, value] of pairs(request.headers)) headers.set(name, [...(headers.get(name) ?? []), value]);
  const raw = {
    method: request.method ?? 'GET',
    url,
    headers: Object.fromEntries(headers),
    body: Buffer.from(request.body ?? '', 'utf8'),
    sourceIp: '127.0.0.1',
  };
  const event = proxyEvent(raw, request.path, request.resource ?? request.path, request.pathParameters ?? null);
  return { ...event, body: request.body ?? null };
}

/**
 * The REQUEST authorizer event API Gateway sends for the request before calling the route's
 * function; `methodArn` replaces the local gateway's (say, with a deployed stage's).
 */
export function authorizerRequest(
  request: TestRequest,
  options: { methodArn?: string } = {},
): APIGatewayRequestAuthorizerEvent {
  const event = authorizerEvent(apiEvent(request));
  return options.methodArn === undefined ? event : { ...event, methodArn: options.methodArn };
}
