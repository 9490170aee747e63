/**
 * REQUEST authorizer of the protected resource (the MCP endpoint): admits a request whose
 * `Authorization: Bearer` header holds an access token this gateway issued for RESOURCE_URL,
 * and refuses everything else, any failure included (fail closed).
 *
 * An Allow hands the integration `sub`, `clientId` and `scope` (space-separated) in
 * `requestContext.authorizer`. A Deny carries the complete challenge in `wwwAuthenticate`, for
 * the ACCESS_DENIED gateway response to map into its WWW-Authenticate header, and the same
 * facts in plain pieces (`error`, `error_description`, `resourceMetadata`) for its body
 * template, which prints them without escaping: so every description is a fixed sentence with
 * no quotes or backslashes, and nothing the caller sent is ever echoed.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createRemoteJWKSet } from 'jose';
import { CHALLENGE_CONTEXT_KEYS, TOKEN_CONTEXT_KEYS } from './contract/context-keys.js';
import { ENV } from './contract/environment.js';
import { METRIC_DIMENSIONS, METRICS } from './contract/metrics.js';
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  InvalidAccessTokenError,
  JwksUnavailableError,
} from './domain/access-token-verifier.js';
import { type BearerErrorCode, bearerChallenge, bearerCredentials } from './domain/bearer.js';
import { invokePolicy } from './http/invoke-policy.js';
import { countWithDimension, logger, metrics } from './http/powertools.js';
import { requireEnv } from './wiring/env.js';
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

/** What the handler needs: a verifier for this resource's tokens, and where its metadata is. */
export interface HandlerDeps {
  verifier: AccessTokenVerifier;
  /** RFC 9728 metadata URL every challenge names. */
  resourceMetadata: string;
}

/** The deployed dependencies. Created once per execution environment: warm invocations reuse the cached keys. */
export function depsFromEnv(): HandlerDeps {
  return {
    verifier: createAccessTokenVerifier({
      // Same normalisation as serverConfigFromEnv, so `iss` compares equal to what the issuer signs.
      issuer: issuerFromEnv(),
      audience: requireEnv(ENV.resourceUrl),
      jwks: createRemoteJWKSet(new URL(requireEnv(ENV.jwksUrl)), JWKS_FETCH_OPTIONS),
    }),
    resourceMetadata: requireEnv(ENV.resourceMetadataUrl),
  };
}

interface Refusal {
  /** RFC 6750 code for the header; undefined when no token was presented. */
  challengeError?: BearerErrorCode;
  /** Code for the JSON body, always present. */
  error: string;
  description: string;
  /** Metric dimension and log field. */
  outcome: string;
}

const REFUSALS = {
  noToken: {
    error: 'invalid_request',
    description: 'This resource needs an access token in the Authorization header.',
    outcome: 'no_token',
  },
  repeatedHeader: {
    challengeError: 'invalid_request',
    error: 'invalid_request',
    description: 'The request carries more than one Authorization header.',
    outcome: 'repeated_header',
  },
  // The token was not checked: say so without calling it invalid, so a client does not
  // discard a good token. The status stays that of the ACCESS_DENIED gateway response.
  keysUnavailable: {
    error: 'temporarily_unavailable',
    description: 'The access token could not be checked. Try again shortly.',
    outcome: 'jwks_unavailable',
  },
  internal: {
    error: 'temporarily_unavailable',
    description: 'The access token could not be checked. Try again shortly.',
    outcome: 'error',
  },
} as const satisfies Record<string, Refusal>;

function invalidToken(error: InvalidAccessTokenError): Refusal {
  return { challengeError: 'invalid_token', error: 'invalid_token', description: error.message, outcome: error.reason };
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

function deny(
  resourceMetadata: string,
  methodArn: string,
  refusal: Refusal,
  level: 'info' | 'warn' | 'error' = 'info',
  cause?: unknown,
) {
  countWithDimension(METRICS.tokenDecisions, METRIC_DIMENSIONS.decision, `deny_${refusal.outcome}`);
  const details = { outcome: refusal.outcome, ...(cause === undefined ? {} : { error: cause as Error }) };
  logger[level]('resource request denied', details);
  const wwwAuthenticate = bearerChallenge({
    resourceMetadata,
    ...(refusal.challengeError ? { error: refusal.challengeError, errorDescription: refusal.description } : {}),
  });
  return {
    principalId: 'anonymous',
    // Only the method asked about; with caching on, any other method is denied implicitly anyway.
    policyDocument: invokePolicy('Deny', methodArn),
    context: {
      [CHALLENGE_CONTEXT_KEYS.wwwAuthenticate]: wwwAuthenticate,
      [CHALLENGE_CONTEXT_KEYS.error]: refusal.error,
      [CHALLENGE_CONTEXT_KEYS.description]: refusal.description,
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
  { verifier, resourceMetadata }: HandlerDeps,
): Promise<APIGatewayAuthorizerResult> {
  logger.setCorrelationId(event.requestContext?.requestId);
  const methodArn = event.methodArn;
  const refuse = (refusal: Refusal, level?: 'info' | 'warn' | 'error', cause?: unknown) =>
    deny(resourceMetadata, methodArn, refusal, level, cause);
  try {
    const values = authorizationValues(event);
    if (values.length > 1) return refuse(REFUSALS.repeatedHeader);
    const credentials = bearerCredentials(values[0]);
    // RFC 6750 section 3.1: a request without a Bearer credential gets the bare challenge.
    if (credentials.kind === 'absent') return refuse(REFUSALS.noToken);
    if (credentials.kind === 'malformed') return refuse(invalidToken(new InvalidAccessTokenError('malformed')));

    const token = await verifier.verify(credentials.token);
    const allowed = stageWideArn(methodArn);
    if (!allowed) throw new Error('methodArn is not an execute-api ARN');
    countWithDimension(METRICS.tokenDecisions, METRIC_DIMENSIONS.decision, 'allow');
    logger.info('resource request allowed', { client_id: token.clientId });
    return {
      principalId: token.subject,
      policyDocument: invokePolicy('Allow', allowed),
      context: {
        [TOKEN_CONTEXT_KEYS.subject]: token.subject,
        [TOKEN_CONTEXT_KEYS.clientId]: token.clientId,
        [TOKEN_CONTEXT_KEYS.scope]: token.scope.join(' '),
      },
    };
  } catch (error) {
    if (error instanceof InvalidAccessTokenError) return refuse(invalidToken(error), 'info', error.cause);
    if (error instanceof JwksUnavailableError) return refuse(REFUSALS.keysUnavailable, 'error', error.cause ?? error);
    return refuse(REFUSALS.internal, 'error', error);
  }
}

export function createHandler(deps: HandlerDeps) {
  return middy((event: APIGatewayRequestAuthorizerEvent) => authorize(event, deps))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export const handler = createHandler(depsFromEnv());
