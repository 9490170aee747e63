/**
 * The browser side of the built-in authorization server, as use cases that return plain
 * outcomes (a redirect, a consent view, an error page) for the HTTP layer to render:
 *
 *   GET /authorize  -> pending request stored, browser bound by cookie -> consent (or remembered)
 *   POST /consent   -> deny: access_denied to the client; allow: remembered, off to the upstream provider
 *   GET /callback   -> upstream login completed -> authorization code to the client, with iss (RFC 9207)
 *
 * Only GET /authorize runs behind the redirect-URI authorizer; the other two trust nothing but
 * what this server stored and signed, and the cookie that binds the flow to one browser.
 */
import { randomBytes } from 'node:crypto';
import { ENDPOINTS } from '../contract/endpoints.js';
import { DEFAULT_LIFETIMES } from '../contract/environment.js';
import { parseAuthorizationRequest, redirectWithParams } from './authorization-request.js';
import { constantTimeEqual } from './constant-time.js';
import { newSecret } from './credentials.js';
import type { GrantStore, PendingAuthorization } from './grants.js';
import { OAuthError } from './oauth-error.js';
import { type QueryResult, repeatedParameterError } from './query.js';
import { grantableScope, resolveResource, type ServerConfig } from './server-config.js';
import { formToken, formTokenMatches, signValue, verifySignedValue } from './signed-values.js';
import { mintAuthorizationCode } from './token-service.js';
import { type UpstreamIdentityProvider, UpstreamLoginError } from './upstream.js';

export interface FlowDeps {
  grants: GrantStore;
  upstream: UpstreamIdentityProvider;
  config: ServerConfig;
  cookieKey: string;
  now: () => number;
}

export interface ConsentView {
  formAction: string;
  requestId: string;
  csrf: string;
  /** Empty when the client registered no name. */
  clientName: string;
  clientId: string;
  /** The server the person is granting access to, as they know it: the issuer's host. */
  serverName: string;
  clientUri?: string;
  /** Where the person will be sent back to, as they should read it. */
  returnTo: string;
  scope: string;
}

/**
 * What the browser must keep or forget, named by role; the HTTP layer (lambda/http/cookies.ts)
 * writes it as cookies. `transaction` binds a pending authorization to the browser that started
 * it (consent CSRF, login CSRF); `consent` lists, signed, the clients this browser approved.
 */
export type BrowserSlot = 'transaction' | 'consent';
export type BrowserState = { set: BrowserSlot; value: string; maxAgeSeconds: number } | { clear: BrowserSlot };

/** The purpose the remembered-consent value is signed for, so no other signed value passes for it. */
const CONSENT_PURPOSE = 'mcpgw_consent';

export type FlowOutcome =
  | {
      kind: 'redirect';
      status: 302 | 303;
      location: string;
      browser: BrowserState[];
      /** What failed on this server's side, for the log only (the client was sent temporarily_unavailable). */
      failure?: unknown;
    }
  | { kind: 'consent'; view: ConsentView; browser: BrowserState[] }
  | { kind: 'error-page'; status: number; title: string; message: string };

type RedirectOutcome = Extract<FlowOutcome, { kind: 'redirect' }>;

/** What the redirect-URI authorizer established about the client and its redirect URI. */
export interface AdmittedClient {
  clientId: string;
  clientName: string;
  clientUri: string;
  redirectUri: string;
}

const MAX_REMEMBERED_CLIENTS = 20;

function sameSecret(a: string | undefined, b: string): boolean {
  return a !== undefined && constantTimeEqual(a, b);
}

function toClient(
  deps: FlowDeps,
  redirectUri: string,
  params: Record<string, string | undefined>,
  status: 302 | 303 = 302,
): RedirectOutcome {
  return {
    kind: 'redirect',
    status,
    location: redirectWithParams(redirectUri, { ...params, iss: deps.config.issuer }),
    browser: [{ clear: 'transaction' }],
  };
}

function errorToClient(
  deps: FlowDeps,
  redirectUri: string,
  error: OAuthError,
  state: string | undefined,
  status: 302 | 303 = 302,
) {
  return toClient(deps, redirectUri, { error: error.code, error_description: error.description, state }, status);
}

function errorPage(status: number, title: string, message: string): FlowOutcome {
  return { kind: 'error-page', status, title, message };
}

function rememberedClients(deps: FlowDeps, cookie: string | undefined): string[] {
  const value = verifySignedValue(deps.cookieKey, CONSENT_PURPOSE, cookie);
  if (!value) return [];
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/** How the consent page names the place a person is sent back to. */
export function describeReturn(redirectUri: string): string {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(redirectUri)?.[1].toLowerCase();
  if (scheme === 'https' || scheme === 'http') return new URL(redirectUri).host;
  return `the app that handles ${scheme}: links`;
}

async function toUpstream(
  deps: FlowDeps,
  pending: PendingAuthorization,
  browser: BrowserState[],
  status: 302 | 303,
): Promise<FlowOutcome> {
  const url = await deps.upstream.authorizationUrl({
    state: pending.id,
    nonce: pending.upstream_nonce,
    codeVerifier: pending.upstream_code_verifier,
  });
  return { kind: 'redirect', status, location: url.toString(), browser };
}

export async function startAuthorization(
  deps: FlowDeps,
  client: AdmittedClient,
  query: QueryResult,
  consentCookie: string | undefined,
): Promise<FlowOutcome> {
  if (!query.ok) {
    // The authorizer already refuses repeated parameters; this is defence in depth.
    const error = repeatedParameterError(query.repeated);
    return errorToClient(deps, client.redirectUri, error, undefined);
  }
  const { params } = query;
  const state = params.state;
  let request: ReturnType<typeof parseAuthorizationRequest>;
  try {
    request = parseAuthorizationRequest(params);
  } catch (error) {
    if (error instanceof OAuthError) return errorToClient(deps, client.redirectUri, error, state);
    throw error;
  }
  const resource = resolveResource(deps.config, request.resource);
  if (!resource) {
    const error = new OAuthError('invalid_target', 'resource is not a protected resource of this server.');
    return errorToClient(deps, client.redirectUri, error, state);
  }
  const pending: PendingAuthorization = {
    id: newSecret(),
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    redirect_uri_in_request: params.redirect_uri !== undefined,
    code_challenge: request.codeChallenge,
    ...(state !== undefined ? { state } : {}),
    scope: grantableScope(deps.config, request.scope),
    resource,
    upstream_nonce: randomBytes(32).toString('base64url'),
    upstream_code_verifier: randomBytes(48).toString('base64url'),
    expires_at: deps.now() + DEFAULT_LIFETIMES.pendingAuthorization,
  };
  await deps.grants.putPending(pending);
  const bind: BrowserState = {
    set: 'transaction',
    value: pending.id,
    maxAgeSeconds: DEFAULT_LIFETIMES.pendingAuthorization,
  };

  if (rememberedClients(deps, consentCookie).includes(client.clientId)) {
    return toUpstream(deps, pending, [bind], 302);
  }
  return {
    kind: 'consent',
    browser: [bind],
    view: {
      formAction: `${deps.config.issuer}${ENDPOINTS.consent}`,
      requestId: pending.id,
      csrf: formToken(deps.cookieKey, pending.id),
      clientName: client.clientName,
      clientId: client.clientId,
      serverName: new URL(deps.config.issuer).host,
      ...(client.clientUri ? { clientUri: client.clientUri } : {}),
      returnTo: describeReturn(client.redirectUri),
      scope: pending.scope,
    },
  };
}

export interface ConsentSubmission {
  form: Readonly<Record<string, string>>;
  transactionCookie: string | undefined;
  consentCookie: string | undefined;
  origin: string | undefined;
}

export async function submitConsent(deps: FlowDeps, submission: ConsentSubmission): Promise<FlowOutcome> {
  const { form } = submission;
  const requestId = form.request ?? '';
  const expired = () => errorPage(400, 'This request has expired', 'Go back to the application and connect again.');
  if (submission.origin && submission.origin !== 'null' && submission.origin !== new URL(deps.config.issuer).origin) {
    return errorPage(403, 'Request refused', 'The form was not sent from this server.');
  }
  // The form token proves this server rendered the form; the cookie proves this browser started the flow.
  if (!formTokenMatches(deps.cookieKey, requestId, form.csrf) || !sameSecret(submission.transactionCookie, requestId)) {
    return expired();
  }
  const pending = await deps.grants.getPending(requestId);
  if (!pending || pending.expires_at <= deps.now()) return expired();

  if (form.decision !== 'allow') {
    await deps.grants.takePending(requestId);
    const error = new OAuthError('access_denied', 'The person declined to authorize the client.');
    return errorToClient(deps, pending.redirect_uri, error, pending.state, 303);
  }
  const remembered = [
    pending.client_id,
    ...rememberedClients(deps, submission.consentCookie).filter((id) => id !== pending.client_id),
  ];
  const consent: BrowserState = {
    set: 'consent',
    value: signValue(deps.cookieKey, CONSENT_PURPOSE, JSON.stringify(remembered.slice(0, MAX_REMEMBERED_CLIENTS))),
    maxAgeSeconds: DEFAULT_LIFETIMES.consentMemory,
  };
  return toUpstream(deps, pending, [consent], 303);
}

export async function completeCallback(
  deps: FlowDeps,
  params: Readonly<Record<string, string>>,
  callbackUrl: URL,
  transactionCookie: string | undefined,
): Promise<FlowOutcome> {
  const state = params.state ?? '';
  if (!state || !sameSecret(transactionCookie, state)) {
    return errorPage(400, 'Sign-in cannot be completed here', 'Start again from the application, in this browser.');
  }
  const pending = await deps.grants.takePending(state);
  if (!pending || pending.expires_at <= deps.now()) {
    return errorPage(400, 'This request has expired', 'Go back to the application and connect again.');
  }
  let subject: string;
  try {
    ({ subject } = await deps.upstream.completeLogin(callbackUrl, {
      state: pending.id,
      nonce: pending.upstream_nonce,
      codeVerifier: pending.upstream_code_verifier,
    }));
  } catch (error) {
    if (!(error instanceof UpstreamLoginError)) return unavailableToClient(deps, pending, error);
    const denied = new OAuthError('access_denied', 'Sign-in at the identity provider did not complete.');
    return errorToClient(deps, pending.redirect_uri, denied, pending.state);
  }
  let code: string;
  try {
    code = await mintAuthorizationCode(deps, pending, subject);
  } catch (error) {
    return unavailableToClient(deps, pending, error);
  }
  return toClient(deps, pending.redirect_uri, { code, state: pending.state });
}

/**
 * The pending request is spent and its redirect URI trusted, but the provider could not be
 * reached or the code not stored: tell the client (RFC 6749 4.1.2.1 temporarily_unavailable,
 * with its state and iss) so it can start again, instead of leaving the person on an error page
 * and the client waiting.
 */
function unavailableToClient(deps: FlowDeps, pending: PendingAuthorization, failure: unknown): FlowOutcome {
  const error = new OAuthError('temporarily_unavailable', 'Sign-in could not be completed. Try again.');
  return { ...errorToClient(deps, pending.redirect_uri, error, pending.state), failure };
}
