/**
 * Local mode's HTTP proxy integration: `/mcp`, once the token authorizer has admitted the
 * request, forwarded to the MCP server the user runs (MCP_BACKEND_URL) instead of the sample
 * Lambda. What the backend receives is the contract of lambda/contract/backend-headers.ts: the
 * method, body and query string as sent, the Streamable HTTP headers both ways, Authorization
 * (the backend is the token's audience and may verify it again), and the verified identity as
 * x-mcp-gateway-* headers, any incoming header of those names removed first. The answer is
 * streamed back chunk by chunk, so a `text/event-stream` reaches the client event by event.
 */
import { IDENTITY_HEADERS } from '../../lambda/contract/backend-headers.js';
import { TOKEN_CONTEXT_KEYS } from '../../lambda/contract/context-keys.js';
import { CORS_RESPONSE_HEADERS } from '../../lambda/contract/cors.js';
import type { RawRequest } from './api-gateway-events.js';

/** A reply whose body is read from the backend as the client reads it. */
export interface StreamedReply {
  statusCode: number;
  headers: Record<string, string | string[]>;
  stream: AsyncIterable<Uint8Array>;
}

/** RFC 9110 §7.6.1 connection-specific fields, never forwarded by a proxy; plus what fetch sets itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);
const IDENTITY_NAMES = new Set<string>(Object.values(IDENTITY_HEADERS));

/** Header names a message's Connection field declares hop-by-hop too. */
function connectionTokens(values: readonly string[] | undefined): Set<string> {
  return new Set(
    (values ?? []).flatMap((value) =>
      value
        .split(',')
        .map((token) => token.trim().toLowerCase())
        .filter(Boolean),
    ),
  );
}

/** The backend URL with the request's query string (the backend's own parameters first). */
export function backendTarget(backend: URL, request: URL): URL {
  const target = new URL(backend);
  for (const [name, value] of request.searchParams) target.searchParams.append(name, value);
  return target;
}

/** What the backend is sent: the caller's headers less hop-by-hop and identity ones, then the verified identity. */
export function backendRequestHeaders(
  incoming: RawRequest['headers'],
  authorizer: Record<string, unknown> | null | undefined,
): Headers {
  const headers = new Headers();
  const dropped = connectionTokens(incoming.connection);
  for (const [name, values] of Object.entries(incoming)) {
    const lower = name.toLowerCase();
    if (!values || HOP_BY_HOP.has(lower) || dropped.has(lower) || IDENTITY_NAMES.has(lower)) continue;
    // Answers are streamed as they come; a compressed one would have to be decoded here first.
    if (lower === 'accept-encoding') continue;
    for (const value of values) headers.append(name, value);
  }
  headers.set('accept-encoding', 'identity');
  const context = authorizer ?? {};
  const identity: Array<[string, unknown]> = [
    [IDENTITY_HEADERS.subject, context[TOKEN_CONTEXT_KEYS.subject]],
    [IDENTITY_HEADERS.clientId, context[TOKEN_CONTEXT_KEYS.clientId]],
    [IDENTITY_HEADERS.scope, context[TOKEN_CONTEXT_KEYS.scope]],
  ];
  for (const [name, value] of identity) if (value !== undefined && value !== null) headers.set(name, String(value));
  return headers;
}

/** What the client is sent back: the backend's headers less hop-by-hop ones, with CORS for browser clients. */
export function clientResponseHeaders(response: Response): Record<string, string | string[]> {
  const dropped = connectionTokens([response.headers.get('connection') ?? '']);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) {
    if (HOP_BY_HOP.has(name) || dropped.has(name)) continue;
    headers[name] = name === 'set-cookie' ? response.headers.getSetCookie() : value;
  }
  // As the sample server's responses: readable by browser-based clients (the Inspector) unless the backend says otherwise.
  if (!('access-control-allow-origin' in headers)) {
    for (const [name, value] of Object.entries(CORS_RESPONSE_HEADERS)) headers[name.toLowerCase()] = value;
  }
  return headers;
}

export class BackendUnavailable extends Error {}

/**
 * Forwards one admitted request. Resolves once the backend's status and headers are in; the
 * body follows through `stream`. Rejects with BackendUnavailable when no answer came at all.
 */
export async function forwardToBackend(
  backend: URL,
  request: RawRequest,
  authorizer: Record<string, unknown> | null | undefined,
  signal?: AbortSignal,
): Promise<StreamedReply> {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body.length > 0;
  let response: Response;
  try {
    response = await fetch(backendTarget(backend, request.url), {
      method: request.method,
      headers: backendRequestHeaders(request.headers, authorizer),
      ...(hasBody ? { body: request.body } : {}),
      redirect: 'manual',
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new BackendUnavailable(
      `The MCP backend ${backend.href} did not answer (${cause?.code ?? cause?.message ?? (error as Error).message}).`,
    );
  }
  const body = response.body;
  return {
    statusCode: response.status,
    headers: clientResponseHeaders(response),
    stream: body ?? emptyStream(),
  };
}

async function* emptyStream(): AsyncIterable<Uint8Array> {}

/** MCP_BACKEND_URL: an absolute http(s) URL, or the reason it is not one. */
export function parseBackendUrl(value: string): URL {
  if (!URL.canParse(value)) throw new Error(`MCP_BACKEND_URL must be an absolute http(s) URL, not ${value}`);
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`MCP_BACKEND_URL must be an http or https URL, not ${value}`);
  if (url.hash) throw new Error(`MCP_BACKEND_URL must not have a fragment: ${value}`);
  return url;
}
