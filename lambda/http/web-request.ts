/**
 * API Gateway REST (v1) proxy events to web Requests and web Responses back: the adapter that
 * lets a Fetch-API server (the MCP SDK's web-standard transport) run as a Lambda proxy
 * integration.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CORS_RESPONSE_HEADERS } from '../contract/cors.js';

/** Framing and routing headers of the hop to API Gateway; the Request computes its own. */
const HOP_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length']);

/**
 * The web Request for an event. The URL is RESOURCE_URL plus the query string: the Host header
 * is the caller's to choose, so nothing is ever derived from it.
 */
export function toWebRequest(event: APIGatewayProxyEvent, resourceUrl: string): Request {
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
