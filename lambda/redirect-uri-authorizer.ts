/**
 * REQUEST authorizer on GET /authorize. Allow only this method for a registered client and
 * one of its redirect URIs; Deny everything else, including any failure (fail closed).
 * A Deny carries the OAuth error in its context for the ACCESS_DENIED gateway response.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { ADMISSION_CONTEXT_KEYS, REFUSAL_CONTEXT_KEYS } from './contract/context-keys.js';
import { METRIC_DIMENSIONS, METRICS } from './contract/metrics.js';
import { admitAuthorizeRequest } from './domain/authorization-admission.js';
import { REFUSALS, type Refusal } from './domain/authorization-refusal.js';
import type { ClientStore } from './domain/clients.js';
import { clientVersion } from './domain/consent-memory.js';
import { isLoopbackRedirectUri } from './domain/redirect-uri-policy.js';
import { invokePolicy } from './http/invoke-policy.js';
import { countWithDimension, logger, metrics } from './http/powertools.js';
import { clientDirectoryFromEnv } from './wiring/clients.js';

/** What the handler needs: where a client_id is looked up (it only ever reads). */
export interface HandlerDeps {
  clients: Pick<ClientStore, 'getById'>;
}

/** The deployed dependencies: the client directory (clients table, client metadata documents). */
export function depsFromEnv(): HandlerDeps {
  return { clients: clientDirectoryFromEnv() };
}

function deny(methodArn: string, refusal: Refusal): APIGatewayAuthorizerResult {
  countWithDimension(METRICS.authorizeDecisions, METRIC_DIMENSIONS.decision, `deny_${refusal.error}`);
  logger.info('authorize request denied', { error: refusal.error, reason: refusal.error_description });
  return {
    principalId: 'anonymous',
    policyDocument: invokePolicy('Deny', methodArn),
    context: {
      [REFUSAL_CONTEXT_KEYS.error]: refusal.error,
      [REFUSAL_CONTEXT_KEYS.description]: refusal.error_description,
    },
  };
}

async function authorize(
  event: APIGatewayRequestAuthorizerEvent,
  { clients }: HandlerDeps,
): Promise<APIGatewayAuthorizerResult> {
  logger.setCorrelationId(event.requestContext?.requestId);
  const methodArn = event.methodArn;
  if (event.httpMethod !== 'GET') return deny(methodArn, REFUSALS.malformed);
  try {
    const admission = await admitAuthorizeRequest(
      event.multiValueQueryStringParameters,
      event.queryStringParameters,
      (clientId) => clients.getById(clientId),
    );
    if (!admission.admitted) return deny(methodArn, admission.refusal);
    const { client, redirectUri } = admission;
    countWithDimension(METRICS.authorizeDecisions, METRIC_DIMENSIONS.decision, 'allow');
    logger.info('authorize request allowed', { client_id: client.client_id });
    return {
      principalId: client.client_id,
      // Only this method on this resource: the decision says nothing about any other route.
      policyDocument: invokePolicy('Allow', methodArn),
      context: {
        [ADMISSION_CONTEXT_KEYS.clientId]: client.client_id,
        [ADMISSION_CONTEXT_KEYS.clientName]: client.client_name ?? '',
        [ADMISSION_CONTEXT_KEYS.clientUri]: client.client_uri ?? '',
        [ADMISSION_CONTEXT_KEYS.redirectUri]: redirectUri,
        [ADMISSION_CONTEXT_KEYS.tokenEndpointAuthMethod]: client.token_endpoint_auth_method,
        [ADMISSION_CONTEXT_KEYS.clientVersion]: clientVersion(client),
        // Registered clients have an issue time; a metadata document's client has none (0).
        [ADMISSION_CONTEXT_KEYS.metadataDocument]: client.client_id_issued_at === 0 ? 'true' : '',
        [ADMISSION_CONTEXT_KEYS.loopbackOnly]: client.redirect_uris.every(isLoopbackRedirectUri) ? 'true' : '',
      },
    };
  } catch (error) {
    logger.error('authorizer failed; denying', { error: error as Error });
    return deny(methodArn, REFUSALS.registryUnavailable);
  }
}

export function createHandler(deps: HandlerDeps) {
  return middy((event: APIGatewayRequestAuthorizerEvent) => authorize(event, deps))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export const handler = createHandler(depsFromEnv());
