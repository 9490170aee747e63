/**
 * REQUEST authorizer of the protected resource (the MCP endpoint): admits a request whose
 * `Authorization: Bearer` header holds an access token this gateway issued for RESOURCE_URL
 * carrying every REQUIRED_SCOPES scope, and refuses everything else, any failure included (fail
 * closed). Each outcome picks the API Gateway answer whose status is right for it, since a
 * gateway response's status and headers are fixed per API (responseParameters take request
 * parameters or static values, not the authorizer's context):
 *
 * - no usable token (none, another scheme, malformed, invalid, two headers, or a token whose
 *   grant was revoked or has expired): throw `Unauthorized`, which API Gateway answers with the
 *   UNAUTHORIZED gateway response, `401` `invalid_token` with the static `resource_metadata` +
 *   `scope` challenge;
 * - a valid token lacking a required scope: a Deny, answered with ACCESS_DENIED, `403` with the
 *   static `insufficient_scope` challenge naming all the required scopes;
 * - the keys could not be fetched, the grant's state could not be read (grants table unreachable,
 *   no fresh answer cached), or anything unexpected: any other error, AUTHORIZER_FAILURE (`503`
 *   temporarily_unavailable), so a client retries rather than discarding a token nobody checked.
 *
 * The grant check (domain/grant-status.ts) reads the token's grant (`sid`) at most once per
 * GRANT_STATUS_CACHE_SECONDS per instance: a revocation stops its access tokens within that long.
 *
 * An Allow hands the integration `sub`, `clientId` and `scope` (space-separated) in
 * `requestContext.authorizer`.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createRemoteJWKSet } from 'jose';
import { CHALLENGE_CONTEXT_KEYS, TOKEN_CONTEXT_KEYS } from './contract/context-keys.js';
import { ENV } from './contract/environment.js';
import { METRIC_DIMENSIONS, METRICS, TOKEN_CHECK_FAILED } from './contract/metrics.js';
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  InvalidAccessTokenError,
  JwksUnavailableError,
} from './domain/access-token-verifier.js';
import { bearerCredentials } from './domain/bearer.js';
import { GrantStatusUnavailableError } from './domain/grant-status.js';
import {
  INSUFFICIENT_SCOPE_DESCRIPTION,
  insufficientScopeChallenge,
  missingScopes,
  normalizeRequiredScopes,
} from './domain/resource-scopes.js';
import { invokePolicy } from './http/invoke-policy.js';
import { countWithDimension, logger, metrics } from './http/powertools.js';
import { listEnv, requireEnv } from './wiring/env.js';
import { grantStatusFromEnv } from './wiring/grant-status.js';
import { issuerFromEnv } from './wiring/server-config.js';

/** JWKS fetching, tuned for an authorizer that must answer within API Gateway's 29 s (and its own timeout). */
export const JWKS_FETCH_OPTIONS = {
  /** A fetch taking longer fails the request (closed) rather than the whole authorizer timing out. */
  timeoutDuration: 3000,
  /** An unknown kid refetches the set at most this often, so garbage tokens cannot hammer the issuer. */
  cooldownDuration: 30_000,
  /** Keys are refetched this often; a retired key stops verifying at most this long after removal. */
  cacheMaxAge: 10 * 60_000,
} as const;

/** What the handler needs: a verifier for this resource's tokens, where its metadata is, the scopes it requires. */
export interface HandlerDeps {
  verifier: AccessTokenVerifier;
  /** RFC 9728 metadata URL every challenge names. */
  resourceMetadata: string;
  /** Scopes every request's token must carry (REQUIRED_SCOPES); empty: none. */
  requiredScopes?: readonly string[];
}

/** The deployed dependencies. Created once per execution environment: warm invocations reuse the cached keys. */
export function depsFromEnv(): HandlerDeps {
  return {
    verifier: createAccessTokenVerifier({
      // Same normalisation as serverConfigFromEnv, so `iss` compares equal to what the issuer signs.
      issuer: issuerFromEnv(),
      audience: requireEnv(ENV.resourceUrl),
      jwks: createRemoteJWKSet(new URL(requireEnv(ENV.jwksUrl)), JWKS_FETCH_OPTIONS),
      grantStatus: grantStatusFromEnv(),
    }),
    resourceMetadata: requireEnv(ENV.resourceMetadataUrl),
    requiredScopes: normalizeRequiredScopes(listEnv(ENV.requiredScopes)),
  };
}

/** The error API Gateway answers with its UNAUTHORIZED gateway response (401): the exact message matters. */
export const UNAUTHORIZED = 'Unauthorized';

/** Why a request had no usable token: the metric dimension and log field of its 401. */
type TokenProblem = 'no_token' | 'repeated_header' | InvalidAccessTokenError['reason'];

/** A refusal with 401: API Gateway answers a thrown `Unauthorized` with the UNAUTHORIZED gateway response. */
function unauthorized(outcome: TokenProblem, cause?: unknown): never {
  countWithDimension(METRICS.tokenDecisions, METRIC_DIMENSIONS.decision, `deny_${outcome}`);
  logger.info('resource request denied', { outcome, ...(cause === undefined ? {} : { error: cause as Error }) });
  throw new Error(UNAUTHORIZED);
}

/** The token was not checked: fail closed with AUTHORIZER_FAILURE (503), never with a 401 that calls it invalid. */
function unavailable(outcome: keyof typeof TOKEN_CHECK_FAILED, cause: unknown): never {
  countWithDimension(METRICS.tokenDecisions, METRIC_DIMENSIONS.decision, TOKEN_CHECK_FAILED[outcome]);
  logger.error('resource request could not be checked', { outcome, error: cause as Error });
  throw new Error('The access token could not be checked', { cause });
}

// arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{path} becomes
// arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/*/*: every method and path of this
// API's stage, nothing of other stages or APIs.
//
// Why not the method ARN alone: the MCP endpoint takes POST, GET and DELETE with the same token,
// and the decision depends on the token and the resource (its audience), never on the method.
// API Gateway caches a policy per identity source (the Authorization header) when result
// caching is on; a policy naming only the first method's ARN would then make the next request
// with the same token but another method fail with 403. A stage-wide Allow stays correct with
// or without caching, provided every method under this authorizer serves the same resource,
// which holds when the authorizer guards only the resource API.
export function stageWideArn(methodArn: string): string | undefined {
  const [prefix, stage] = methodArn.split('/');
  if (!prefix?.startsWith('arn:') || prefix.split(':').length !== 6 || !stage) return undefined;
  return `${prefix}/${stage}/*/*`;
}

/** A valid token without a required scope: a Deny, which API Gateway answers with ACCESS_DENIED (403). */
function insufficientScope(
  resourceMetadata: string,
  methodArn: string,
  required: readonly string[],
  missing: string[],
) {
  countWithDimension(METRICS.tokenDecisions, METRIC_DIMENSIONS.decision, 'deny_insufficient_scope');
  logger.info('resource request denied', { outcome: 'insufficient_scope', missing });
  return {
    principalId: 'anonymous',
    // Only the method asked about; with caching on, any other method is denied implicitly anyway.
    policyDocument: invokePolicy('Deny', methodArn),
    // For logs and templates; the gateway response itself is static (the same for every Deny).
    context: {
      [CHALLENGE_CONTEXT_KEYS.wwwAuthenticate]: insufficientScopeChallenge({ resourceMetadata, required }),
      [CHALLENGE_CONTEXT_KEYS.error]: 'insufficient_scope',
      [CHALLENGE_CONTEXT_KEYS.description]: INSUFFICIENT_SCOPE_DESCRIPTION,
      [CHALLENGE_CONTEXT_KEYS.resourceMetadata]: resourceMetadata,
    },
  } satisfies APIGatewayAuthorizerResult;
}

/** The Authorization header values, whatever case the client gave the name in. */
function authorizationValues(event: APIGatewayRequestAuthorizerEvent): string[] {
  const values: string[] = [];
  const multi = event.multiValueHeaders ?? {};
  for (const [name, list] of Object.entries(multi)) {
    if (name.toLowerCase() === 'authorization' && list) values.push(...list);
  }
  if (values.length > 0) return values;
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (name.toLowerCase() === 'authorization' && value !== undefined) values.push(value);
  }
  return values;
}

async function authorize(
  event: APIGatewayRequestAuthorizerEvent,
  { verifier, resourceMetadata, requiredScopes = [] }: HandlerDeps,
): Promise<APIGatewayAuthorizerResult> {
  logger.setCorrelationId(event.requestContext?.requestId);
  const methodArn = event.methodArn;
  const values = authorizationValues(event);
  if (values.length > 1) unauthorized('repeated_header');
  const credentials = bearerCredentials(values[0]);
  // RFC 6750 section 3.1: a request without a Bearer credential gets the challenge without an error.
  if (credentials.kind === 'absent') unauthorized('no_token');
  if (credentials.kind === 'malformed') unauthorized('malformed');

  let token: Awaited<ReturnType<AccessTokenVerifier['verify']>>;
  try {
    token = await verifier.verify(credentials.token);
  } catch (error) {
    if (error instanceof InvalidAccessTokenError) unauthorized(error.reason, error.cause);
    unavailable(
      error instanceof JwksUnavailableError
        ? 'jwksUnavailable'
        : error instanceof GrantStatusUnavailableError
          ? 'grantStatusUnavailable'
          : 'error',
      error,
    );
  }
  const missing = missingScopes(token.scope, requiredScopes);
  if (missing.length > 0) return insufficientScope(resourceMetadata, methodArn, requiredScopes, missing);
  const allowed = stageWideArn(methodArn);
  if (!allowed) unavailable('error', new Error('methodArn is not an execute-api ARN'));
  countWithDimension(METRICS.tokenDecisions, METRIC_DIMENSIONS.decision, 'allow');
  logger.info('resource request allowed', { client_id: token.clientId, grant_id: token.grantId });
  return {
    principalId: token.subject,
    policyDocument: invokePolicy('Allow', allowed),
    context: {
      [TOKEN_CONTEXT_KEYS.subject]: token.subject,
      [TOKEN_CONTEXT_KEYS.clientId]: token.clientId,
      [TOKEN_CONTEXT_KEYS.scope]: token.scope.join(' '),
    },
  };
}

export function createHandler(deps: HandlerDeps) {
  return middy((event: APIGatewayRequestAuthorizerEvent) => authorize(event, deps))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export const handler = createHandler(depsFromEnv());
