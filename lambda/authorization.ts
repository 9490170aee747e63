/**
 * The built-in authorization server's browser endpoints: GET /authorize (behind the
 * redirect-URI authorizer), POST /consent and GET /callback, and the person's connected apps
 * page, GET and POST /account, which signs in through the same callback. One function, since a
 * person goes through the first three within a minute and one warm container serves them.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { sharedDocumentClient } from './aws/dynamodb.js';
import { ADMISSION_CONTEXT_KEYS } from './contract/context-keys.js';
import { ENDPOINTS } from './contract/endpoints.js';
import { ENV } from './contract/environment.js';
import { METRICS } from './contract/metrics.js';
import { type AccountDeps, endAccess, openAccount } from './domain/account.js';
import { completeCallback, type FlowOutcome, startAuthorization, submitConsent } from './domain/authorization-flow.js';
import { OAuthError } from './domain/oauth-error.js';
import { singleParams, singleValuedForm, singleValuedQuery } from './domain/query.js';
import { audit } from './http/audit.js';
import { type CookieSettings, FLOW_COOKIES, readCookie } from './http/cookies.js';
import { renderAccountOutcome, renderFlowOutcome } from './http/flow-responses.js';
import { httpFunction, MAX_BODY_BYTES } from './http/pipeline.js';
import { DynamoDbAccessAdminStore } from './store/dynamodb-access-admin-store.js';
import { DynamoDbConsentWithdrawals } from './store/dynamodb-consent-withdrawals.js';
import { DynamoDbGrantStore } from './store/dynamodb-grant-store.js';
import { OpenIdUpstream } from './upstream/openid-upstream.js';
import { requireEnv } from './wiring/env.js';
import { onFirstUse, requiredSecretReader, secretReader } from './wiring/secrets.js';
import { serverConfigFromEnv } from './wiring/server-config.js';

/** What the handler needs: the flow's ports (built once the secrets are read), and the cookie rules. */
export interface HandlerDeps {
  /** Resolved on each request; the deployed one reads its secrets on first use (a failed read answers 503). */
  flow: () => Promise<AccountDeps>;
  /** The issuer the callback URL is rebuilt on (never the Host header). */
  issuer: string;
  cookies: CookieSettings;
}

/**
 * The deployed dependencies. Settings are read at load, so a misconfigured function fails its
 * first cold start; only the secrets wait for the first request.
 */
export function depsFromEnv(): HandlerDeps {
  const config = serverConfigFromEnv();
  const grantsTable = requireEnv(ENV.grantsTableName);
  const grants = new DynamoDbGrantStore(grantsTable);
  // A person's grants (the by-subject index) and their revocation; this function has no clients table.
  const access = new DynamoDbAccessAdminStore({ clients: '', grants: grantsTable }, sharedDocumentClient());
  const consentWithdrawals = new DynamoDbConsentWithdrawals(grantsTable);
  const upstreamSecret = secretReader(ENV.upstreamClientSecret, ENV.upstreamClientSecretArn);
  const cookieKey = requiredSecretReader(ENV.cookieSecret, ENV.cookieSecretArn);
  const upstream = {
    issuer: requireEnv(ENV.upstreamIssuer),
    clientId: requireEnv(ENV.upstreamClientId),
    redirectUri: `${config.issuer}${ENDPOINTS.callback}`,
    scope: process.env[ENV.upstreamScope] || 'openid',
    allowInsecureHttp: process.env[ENV.upstreamAllowHttp] === 'true',
  };
  const flow = onFirstUse(async (): Promise<AccountDeps> => {
    const [clientSecret, key] = await Promise.all([upstreamSecret(), cookieKey()]);
    return {
      grants,
      access,
      consentWithdrawals,
      upstream: new OpenIdUpstream({ ...upstream, ...(clientSecret ? { clientSecret } : {}) }),
      config,
      cookieKey: key,
      now: () => Math.floor(Date.now() / 1000),
    };
  });
  return { flow, issuer: config.issuer, cookies: { secure: process.env[ENV.cookieSecure] !== 'false' } };
}

type Endpoint = (event: APIGatewayProxyEvent, flow: AccountDeps, deps: HandlerDeps) => Promise<APIGatewayProxyResult>;

function queryOf(event: APIGatewayProxyEvent) {
  return singleValuedQuery(event.multiValueQueryStringParameters, event.queryStringParameters);
}

const authorize: Endpoint = async (event, flow, { cookies }) => {
  const context = event.requestContext.authorizer ?? {};
  const text = (key: string) => (typeof context[key] === 'string' ? (context[key] as string) : '');
  const redirectUri = text(ADMISSION_CONTEXT_KEYS.redirectUri);
  const clientId = text(ADMISSION_CONTEXT_KEYS.clientId);
  if (!redirectUri || !clientId) {
    // Reached without the authorizer: a deployment mistake. Never redirect anywhere unverified.
    throw new Error('GET /authorize invoked without the redirect-URI authorizer context');
  }
  const outcome = await startAuthorization(
    flow,
    {
      clientId,
      clientName: text(ADMISSION_CONTEXT_KEYS.clientName),
      clientUri: text(ADMISSION_CONTEXT_KEYS.clientUri),
      redirectUri,
      clientVersion: text(ADMISSION_CONTEXT_KEYS.clientVersion),
      metadataDocument: text(ADMISSION_CONTEXT_KEYS.metadataDocument) === 'true',
      loopbackOnly: text(ADMISSION_CONTEXT_KEYS.loopbackOnly) === 'true',
    },
    queryOf(event),
    readCookie(event.headers, cookies, FLOW_COOKIES.consent),
  );
  return renderFlowOutcome(outcome, cookies);
};

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

/** Writes the audit event of a consent decision or a code sent (contract/audit-events.ts). */
function audited(event: APIGatewayProxyEvent, outcome: FlowOutcome): FlowOutcome {
  if (outcome.kind === 'redirect' && outcome.audited) {
    const { event: name, clientId, subject, grantId } = outcome.audited;
    audit(event, { event: name, client_id: clientId, subject, grant_id: grantId });
  }
  return outcome;
}

const consent: Endpoint = async (event, flow, { cookies }) => {
  const form = formOf(event);
  if (!form) throw new OAuthError('invalid_request', 'The consent form must be a form-encoded POST.');
  const outcome = await submitConsent(flow, {
    form,
    transactionCookie: readCookie(event.headers, cookies, FLOW_COOKIES.transaction),
    consentCookie: readCookie(event.headers, cookies, FLOW_COOKIES.consent),
    origin: event.headers.origin,
  });
  return renderFlowOutcome(audited(event, outcome), cookies);
};

const callback: Endpoint = async (event, flow, { issuer, cookies }) => {
  const params = singleParams(queryOf(event));
  // The URL the provider redirected to, rebuilt on the configured issuer, never the Host header.
  const callbackUrl = new URL(`${issuer}${ENDPOINTS.callback}`);
  for (const [name, value] of Object.entries(params)) callbackUrl.searchParams.append(name, value);
  const outcome = await completeCallback(
    flow,
    params,
    callbackUrl,
    readCookie(event.headers, cookies, FLOW_COOKIES.transaction),
    readCookie(event.headers, cookies, FLOW_COOKIES.consent),
  );
  return renderFlowOutcome(audited(event, outcome), cookies);
};

const account: Endpoint = async (event, flow, { cookies }) => {
  const session = readCookie(event.headers, cookies, FLOW_COOKIES.account);
  if (event.httpMethod !== 'POST') return renderAccountOutcome(await openAccount(flow, session), cookies);
  const form = formOf(event);
  if (!form) throw new OAuthError('invalid_request', 'The form must be a form-encoded POST.');
  const { outcome, ended } = await endAccess(flow, {
    form,
    sessionCookie: session,
    consentCookie: readCookie(event.headers, cookies, FLOW_COOKIES.consent),
    origin: event.headers.origin,
  });
  for (const grantId of ended?.grantIds ?? []) {
    audit(event, { event: 'access.revoked', client_id: ended?.clientId, subject: ended?.subject, grant_id: grantId });
  }
  return renderAccountOutcome(outcome, cookies);
};

/** Which endpoint a path is. Methods are the route table's (lib/routes.ts); API Gateway enforces them. */
const ENDPOINT_OF_PATH = new Map<string, Endpoint>([
  [ENDPOINTS.authorization, authorize],
  [ENDPOINTS.consent, consent],
  [ENDPOINTS.callback, callback],
  [ENDPOINTS.account, account],
]);

export function createHandler(deps: HandlerDeps) {
  return httpFunction(
    async (event) => {
      const endpoint = ENDPOINT_OF_PATH.get(event.resource);
      if (!endpoint) throw new OAuthError('invalid_request', 'No endpoint answers this path.', 404);
      return endpoint(event, await deps.flow(), deps);
    },
    { refusalMetric: METRICS.authorizationRefused },
  );
}

export const handler = createHandler(depsFromEnv());
