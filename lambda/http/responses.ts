/** Response helpers: every OAuth response is JSON and never cached (RFC 6749 5.1, RFC 7591 3.2). */
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { OAuthError } from '../domain/oauth-error.js';

export const NO_STORE_HEADERS = {
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
} as const;

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...NO_STORE_HEADERS, ...headers },
    body: JSON.stringify(body),
  };
}

export function oauthErrorResponse(error: OAuthError): APIGatewayProxyResult {
  return jsonResponse(error.status, error.toJSON(), { ...error.headers });
}
