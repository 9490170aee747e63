/**
 * GET /authorize, placeholder backend until the built-in authorization server lands. It runs
 * only after the redirect-URI authorizer allowed the request, and trusts the redirect URI the
 * authorizer matched (from its context), never the query's copy.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { parseAuthorizationRequest, redirectWithParams } from './domain/authorization-request.js';
import { ADMISSION_CONTEXT_KEYS } from './domain/authorize-admission.js';
import { OAuthError } from './domain/oauth-error.js';
import { singleValuedQuery } from './domain/query.js';
import { escapeHtml, PAGE_HEADERS, page } from './http/html.js';
import { httpFunction } from './http/pipeline.js';
import { NO_STORE_HEADERS } from './http/responses.js';

function errorRedirect(redirectUri: string, error: OAuthError, state: string | undefined): APIGatewayProxyResult {
  return {
    statusCode: 302,
    headers: {
      Location: redirectWithParams(redirectUri, {
        error: error.code,
        error_description: error.description,
        state,
      }),
      ...NO_STORE_HEADERS,
    },
    body: '',
  };
}

export async function handleAuthorize(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const context = event.requestContext.authorizer ?? {};
  const redirectUri = context[ADMISSION_CONTEXT_KEYS.redirectUri];
  const clientId = context[ADMISSION_CONTEXT_KEYS.clientId];
  if (typeof redirectUri !== 'string' || typeof clientId !== 'string' || !redirectUri || !clientId) {
    // Reached without the authorizer: a deployment mistake. Never redirect anywhere unverified.
    throw new Error('GET /authorize invoked without the redirect-URI authorizer context');
  }
  const query = singleValuedQuery(event.multiValueQueryStringParameters, event.queryStringParameters);
  if (!query.ok) {
    const error = new OAuthError('invalid_request', `${query.repeated} appears more than once.`);
    return errorRedirect(redirectUri, error, undefined);
  }
  const state = query.params.state;
  try {
    parseAuthorizationRequest(query.params);
  } catch (error) {
    if (error instanceof OAuthError) return errorRedirect(redirectUri, error, state);
    throw error;
  }
  const clientName = context[ADMISSION_CONTEXT_KEYS.clientName];
  const name = typeof clientName === 'string' && clientName ? clientName : clientId;
  return {
    statusCode: 200,
    headers: { ...PAGE_HEADERS },
    body: page(
      'Authorization request is valid',
      `<h1>Authorization request is valid</h1>
<p>The request from <strong>${escapeHtml(name)}</strong> is well formed and its redirect URI
<code>${escapeHtml(redirectUri)}</code> is registered.</p>
<p>No authorization backend is configured for this gateway yet, so nobody can sign in here.</p>`,
    ),
  };
}

export const handler = httpFunction(handleAuthorize, { refusalMetric: 'AuthorizeRefused' });
