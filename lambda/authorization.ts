/**
 * The built-in authorization server's browser endpoints: GET /authorize (behind the
 * redirect-URI authorizer), POST /consent and GET /callback. One function, since a person
 * goes through all three within a minute and one warm container serves them.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ADMISSION_CONTEXT_KEYS } from './contract/context-keys.js';
import { ENDPOINTS } from './contract/endpoints.js';
import { ENV } from './contract/environment.js';
import { METRICS } from './contract/metrics.js';
import { completeCallback, type FlowDeps, startAuthorization, submitConsent } from './domain/authorization-flow.js';
import { OAuthError } from './domain/oauth-error.js';
import { singleValuedForm, singleValuedQuery } from './domain/query.js';
import { type CookieSettings, FLOW_COOKIES, readCookie } from './http/cookies.js';
import { renderFlowOutcome } from './http/flow-responses.js';
import { httpFunction, MAX_BODY_BYTES } from './http/pipeline.js';
import { DynamoDbGrantStore } from './store/dynamodb-grant-store.js';
import { OpenIdUpstream } from './upstream/openid-upstream.js';
import { requireEnv } from './wiring/env.js';
import { onFirstUse, requiredSecretReader, secretReader } from './wiring/secrets.js';
import { serverConfigFromEnv } from './wiring/server-config.js';

const config = serverConfigFromEnv();
const cookies: CookieSettings = { secure: process.env[ENV.cookieSecure] !== 'false' };
const grants = new DynamoDbGrantStore(requireEnv(ENV.grantsTableName));
const upstreamSecret = secretReader(ENV.upstreamClientSecret, ENV.upstreamClientSecretArn);
const cookieKey = requiredSecretReader(ENV.cookieSecret, ENV.cookieSecretArn);
/** Built on the first request, once its secrets are read; a failed read answers 503 and is retried. */
// Settings are read at load, so a misconfigured function fails its first cold start; only the
// secrets wait for the first request.
const upstream = {
  issuer: requireEnv(ENV.upstreamIssuer),
  clientId: requireEnv(ENV.upstreamClientId),
  redirectUri: `${config.issuer}${ENDPOINTS.callback}`,
  scope: process.env[ENV.upstreamScope] || 'openid',
  allowInsecureHttp: process.env[ENV.upstreamAllowHttp] === 'true',
};
const flowDeps = onFirstUse(async (): Promise<FlowDeps> => {
  const [clientSecret, key] = await Promise.all([upstreamSecret(), cookieKey()]);
  return {
    grants,
    upstream: new OpenIdUpstream({ ...upstream, ...(clientSecret ? { clientSecret } : {}) }),
    config,
    cookieKey: key,
    now: () => Math.floor(Date.now() / 1000),
  };
});

function queryOf(event: APIGatewayProxyEvent) {
  return singleValuedQuery(event.multiValueQueryStringParameters, event.queryStringParameters);
}

async function authorize(event: APIGatewayProxyEvent, deps: FlowDeps): Promise<APIGatewayProxyResult> {
  const context = event.requestContext.authorizer ?? {};
  const text = (key: string) => (typeof context[key] === 'string' ? (context[key] as string) : '');
  const redirectUri = text(ADMISSION_CONTEXT_KEYS.redirectUri);
  const clientId = text(ADMISSION_CONTEXT_KEYS.clientId);
  if (!redirectUri || !clientId) {
    // Reached without the authorizer: a deployment mistake. Never redirect anywhere unverified.
    throw new Error('GET /authorize invoked without the redirect-URI authorizer context');
  }
  const outcome = await startAuthorization(
    deps,
    {
      clientId,
      clientName: text(ADMISSION_CONTEXT_KEYS.clientName),
      clientUri: text(ADMISSION_CONTEXT_KEYS.clientUri),
      redirectUri,
    },
    queryOf(event),
    readCookie(event.headers, cookies, FLOW_COOKIES.consent),
  );
  return renderFlowOutcome(outcome, cookies);
}

function formOf(event: APIGatewayProxyEvent): Record<string, string> | undefined {
  const type = event.headers['content-type']?.toLowerCase() ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString() : (event.body ?? '');
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) {
    throw new OAuthError('invalid_request', `The request body must be at most ${MAX_BODY_BYTES} bytes.`, 413);
  }
  const fields: Record<string, string[]> = Object.create(null);
  for (const [name, value] of new URLSearchParams(raw)) (fields[name] ??= []).push(value);
  const form = singleValuedForm(fields);
  return form.ok ? form.params : undefined;
}

async function consent(event: APIGatewayProxyEvent, deps: FlowDeps): Promise<APIGatewayProxyResult> {
  const form = formOf(event);
  if (!form) throw new OAuthError('invalid_request', 'The consent form must be a form-encoded POST.');
  const outcome = await submitConsent(deps, {
    form,
    transactionCookie: readCookie(event.headers, cookies, FLOW_COOKIES.transaction),
    consentCookie: readCookie(event.headers, cookies, FLOW_COOKIES.consent),
    origin: event.headers.origin,
  });
  return renderFlowOutcome(outcome, cookies);
}

async function callback(event: APIGatewayProxyEvent, deps: FlowDeps): Promise<APIGatewayProxyResult> {
  const query = queryOf(event);
  if (!query.ok) throw new OAuthError('invalid_request', `${query.repeated} appears more than once.`);
  // The URL the provider redirected to, rebuilt on the configured issuer, never the Host header.
  const callbackUrl = new URL(`${config.issuer}${ENDPOINTS.callback}`);
  for (const [name, value] of Object.entries(query.params)) callbackUrl.searchParams.append(name, value);
  const outcome = await completeCallback(
    deps,
    query.params,
    callbackUrl,
    readCookie(event.headers, cookies, FLOW_COOKIES.transaction),
  );
  return renderFlowOutcome(outcome, cookies);
}

const ROUTES = new Map<string, (event: APIGatewayProxyEvent, deps: FlowDeps) => Promise<APIGatewayProxyResult>>([
  [`GET ${ENDPOINTS.authorization}`, authorize],
  [`POST ${ENDPOINTS.consent}`, consent],
  [`GET ${ENDPOINTS.callback}`, callback],
]);

export const handler = httpFunction(
  async (event) => {
    const route = ROUTES.get(`${event.httpMethod} ${event.resource}`);
    if (!route) throw new OAuthError('invalid_request', 'No endpoint answers this method and path.', 404);
    return route(event, await flowDeps());
  },
  { refusalMetric: METRICS.authorizationRefused },
);
