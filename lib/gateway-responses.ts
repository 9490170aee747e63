/**
 * API Gateway's own answers (no route, authorizer Deny, missing identity source, throttling,
 * its own faults), rewritten as OAuth error bodies. The construct installs these as gateway
 * responses; the local server renders the same templates, so both answer alike.
 *
 * One body serves people and programs: JSON with `error` for programs and a full sentence
 * in `error_description` for a person, which browsers display as text. We do not rely on
 * API Gateway picking among several templates by Accept header, which it does not document.
 */

import { REFUSAL_CONTEXT_KEYS } from '../lambda/contract/context-keys.js';
import { CORS_RESPONSE_HEADERS } from '../lambda/contract/cors.js';
import type { ApiName } from './routes.js';

export type GatewayResponseType =
  | 'ACCESS_DENIED'
  | 'UNAUTHORIZED'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'AUTHORIZER_FAILURE'
  | 'AUTHORIZER_CONFIGURATION_ERROR'
  | 'THROTTLED'
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX';

export interface GatewayResponseSpec {
  readonly type: GatewayResponseType;
  /**
   * Also carries CORS headers. Off only for the types that happen at /authorize alone (the
   * authorizer's answers), a top-level navigation that must not be readable cross-origin.
   */
  readonly cors: boolean;
  /** Overrides API Gateway's status for this type; undefined keeps the one it chose. */
  readonly statusCode?: number;
  /** application/json body, a Velocity template using $context variables only. */
  readonly template: string;
  /** Static headers this response adds. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Headers on every gateway response. nosniff keeps browsers from rendering the JSON as HTML. */
export const GATEWAY_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

const body = (error: string, description: string) => `{"error":"${error}","error_description":"${description}"}`;

export const GATEWAY_RESPONSES: readonly GatewayResponseSpec[] = [
  {
    // The authorizer's Deny: its context names the OAuth error and says what was wrong.
    type: 'ACCESS_DENIED',
    cors: false,
    statusCode: 403,
    template: body(
      `$context.authorizer.${REFUSAL_CONTEXT_KEYS.error}`,
      `$context.authorizer.${REFUSAL_CONTEXT_KEYS.description}`,
    ),
  },
  {
    // API Gateway refuses before calling the authorizer when an identity source is missing.
    type: 'UNAUTHORIZED',
    cors: false,
    statusCode: 400,
    template: body('invalid_request', 'The authorization request has no client_id.'),
  },
  {
    // REST APIs answer an unknown path or method as if a credential were missing.
    type: 'MISSING_AUTHENTICATION_TOKEN',
    cors: true,
    statusCode: 404,
    template: body('invalid_request', 'No endpoint answers this method and path.'),
  },
  {
    type: 'AUTHORIZER_FAILURE',
    cors: false,
    statusCode: 503,
    template: body('temporarily_unavailable', 'The request could not be checked. Try again shortly.'),
  },
  {
    type: 'AUTHORIZER_CONFIGURATION_ERROR',
    cors: false,
    statusCode: 500,
    template: body('server_error', 'The request could not be checked.'),
  },
  {
    type: 'THROTTLED',
    cors: true,
    statusCode: 429,
    template: body('temporarily_unavailable', 'Too many requests. Slow down and try again.'),
  },
  {
    type: 'DEFAULT_4XX',
    cors: true,
    template: '{"error":"invalid_request","error_description":$context.error.messageString}',
  },
  {
    type: 'DEFAULT_5XX',
    cors: true,
    template: '{"error":"server_error","error_description":$context.error.messageString}',
  },
];

/** RFC 9110 quoted-string of a configured value (a URL, scopes): `"` and `\\` escaped. */
const quoted = (value: string) => `"${value.replace(/["\\]/g, (char) => `\\${char}`)}"`;

/** The one sentence of every insufficient_scope refusal; equal to lambda/domain/resource-scopes.ts (a unit test pins it). */
export const INSUFFICIENT_SCOPE_DESCRIPTION = 'The access token lacks a scope this resource needs.';

/**
 * The resource's two challenges, built from configuration only (one header per API). They equal
 * what lambda/domain/resource-scopes.ts builds for the same values; a unit test pins that.
 */
export function resourceChallenges(resourceMetadataUrl: string, requiredScopes: readonly string[] = []) {
  const scope = requiredScopes.length > 0 ? `, scope=${quoted(requiredScopes.join(' '))}` : '';
  const metadata = `resource_metadata=${quoted(resourceMetadataUrl)}`;
  return {
    tokenRequired: `Bearer ${metadata}${scope}`,
    insufficientScope: `Bearer ${metadata}, error="insufficient_scope", error_description=${quoted(INSUFFICIENT_SCOPE_DESCRIPTION)}${scope}`,
  };
}

/**
 * The MCP server's API. A gateway response's status and headers are fixed per API (its
 * responseParameters take request parameters or static values, not $context.authorizer), so
 * the token authorizer picks the response type by outcome: a thrown `Unauthorized` (no usable
 * token) is UNAUTHORIZED, `401` with the RFC 9728 challenge MCP clients start discovery from
 * and the scopes to ask for; its Deny (a valid token lacking a required scope) is ACCESS_DENIED,
 * `403 insufficient_scope` naming all required scopes (RFC 6750 section 3.1); a failure to check
 * the token is AUTHORIZER_FAILURE, `503`.
 */
export function resourceGatewayResponses(
  resourceMetadataUrl: string,
  requiredScopes: readonly string[] = [],
): readonly GatewayResponseSpec[] {
  const challenges = resourceChallenges(resourceMetadataUrl, requiredScopes);
  return [
    {
      // No Authorization header (API Gateway answers before calling the authorizer), or the
      // authorizer threw Unauthorized: no token, another scheme, a malformed or invalid token.
      type: 'UNAUTHORIZED',
      cors: true,
      statusCode: 401,
      headers: { 'WWW-Authenticate': challenges.tokenRequired },
      template: body('invalid_token', 'This resource needs a valid access token in the Authorization header.'),
    },
    {
      // The token authorizer's Deny: a valid token without every required scope.
      type: 'ACCESS_DENIED',
      cors: true,
      statusCode: 403,
      headers: { 'WWW-Authenticate': challenges.insufficientScope },
      template: body('insufficient_scope', INSUFFICIENT_SCOPE_DESCRIPTION),
    },
    ...GATEWAY_RESPONSES.filter((spec) => spec.type !== 'UNAUTHORIZED' && spec.type !== 'ACCESS_DENIED').map(
      (spec) => ({ ...spec, cors: true }),
    ),
  ];
}

export function gatewayResponsesFor(
  api: ApiName,
  resourceMetadataUrl: string,
  requiredScopes: readonly string[] = [],
): readonly GatewayResponseSpec[] {
  return api === 'resource' ? resourceGatewayResponses(resourceMetadataUrl, requiredScopes) : GATEWAY_RESPONSES;
}

/** The headers a gateway response carries. */
export function gatewayResponseHeaders(spec: GatewayResponseSpec): Record<string, string> {
  return { ...GATEWAY_RESPONSE_HEADERS, ...(spec.cors ? CORS_RESPONSE_HEADERS : {}), ...spec.headers };
}

export function gatewayResponse(
  responses: readonly GatewayResponseSpec[],
  type: GatewayResponseType,
): GatewayResponseSpec {
  const spec =
    responses.find((candidate) => candidate.type === type) ??
    responses.find((candidate) => candidate.type === 'DEFAULT_5XX');
  if (!spec) throw new Error('DEFAULT_5XX gateway response is not defined');
  return spec;
}
