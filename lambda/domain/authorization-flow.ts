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
import type { AuditEventName } from '../contract/audit-events.js';
import { ENDPOINTS } from '../contract/endpoints.js';
import { DEFAULT_LIFETIMES } from '../contract/environment.js';
import { openAccountSession } from './account-session.js';
import { parseAuthorizationRequest, redirectWithParams } from './authorization-request.js';
import { type Approval, ConsentMemory, type ConsentWithdrawals } from './consent-memory.js';
import { constantTimeEqual } from './constant-time.js';
import { newSecret } from './credentials.js';
import type { GrantStore, PendingAuthorization, PendingSignIn } from './grants.js';
import { OAuthError, type OAuthErrorCode } from './oauth-error.js';
import { type QueryResult, repeatedParameterError } from './query.js';
import { grantableScope, resolveResource, type ServerConfig } from './server-config.js';
import { formToken, formTokenMatches, signValue, verifySignedValue } from './signed-values.js';
import { mintAuthorizationCode, parseGrantToken } from './token-service.js';
import { type UpstreamIdentityProvider, UpstreamLoginError } from './upstream.js';

export interface FlowDeps {
  grants: GrantStore;
  /** Withdrawals of consent on the server, which outrank approvals a browser remembers from before. */
  consentWithdrawals: ConsentWithdrawals;
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
  /** For a Client ID Metadata Document client: the host its client_id URL names (who vouches for it). */
  clientIdHost?: string;
  /** Where the person will be sent back to, as they should read it. */
  returnTo: string;
  /** The scopes that will be granted, one per entry. */
  scopes: string[];
  /** A metadata document that lists only loopback redirect URIs: any program on the machine could receive the code. */
  loopbackOnly: boolean;
}

/**
 * What the browser must keep or forget, named by role; the HTTP layer (lambda/http/cookies.ts)
 * writes it as cookies. `transaction` binds a pending authorization to the browser that started
 * it (consent CSRF, login CSRF); `consent` lists, signed, the clients this browser approved;
 * `account` is a signed-in visit to the connected apps page (account-session.ts).
 */
export type BrowserSlot = 'transaction' | 'consent' | 'account';
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
      /** What the person decided, or the grant their sign-in created, for the audit log only. */
      audited?: FlowAudit;
    }
  | { kind: 'consent'; view: ConsentView; browser: BrowserState[] }
  | {
      kind: 'error-page';
      status: number;
      title: string;
      message: string;
      /** A link the person may follow back to the client, with the error for it (never followed for them). */
      link?: { href: string; label: string };
      /** What failed on this server's side, for the log only. */
      failure?: unknown;
    };

type RedirectOutcome = Extract<FlowOutcome, { kind: 'redirect' }>;

/** A consent decision (before sign-in: no subject yet), or the code a sign-in was sent with. */
export interface FlowAudit {
  event: Extract<AuditEventName, 'consent.allowed' | 'consent.denied' | 'code.issued'>;
  clientId: string;
  subject?: string;
  grantId?: string;
}

/** What the redirect-URI authorizer established about the client and its redirect URI. */
export interface AdmittedClient {
  clientId: string;
  clientName: string;
  clientUri: string;
  redirectUri: string;
  /** Digest of the client's registered metadata or metadata document (consent-memory.ts clientVersion). */
  clientVersion: string;
  /** A Client ID Metadata Document client (its client_id is a URL). */
  metadataDocument: boolean;
  /** Every redirect URI it lists is a loopback one. */
  loopbackOnly: boolean;
}

/** The purpose the transaction cookie is signed for: only a value this server set binds a request. */
const TRANSACTION_PURPOSE = 'mcpgw_tx';

/** The transaction cookie's value for a pending request: its id, signed. */
export function transactionValue(deps: FlowDeps, requestId: string): string {
  return signValue(deps.cookieKey, TRANSACTION_PURPOSE, requestId);
}

/** Whether the browser's transaction cookie is the one this server set for this request. */
function boundTo(deps: FlowDeps, cookie: string | undefined, requestId: string): boolean {
  const value = verifySignedValue(deps.cookieKey, TRANSACTION_PURPOSE, cookie);
  return value !== undefined && requestId !== '' && constantTimeEqual(value, requestId);
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

export function errorPage(status: number, title: string, message: string): FlowOutcome {
  return { kind: 'error-page', status, title, message };
}

export function rememberedConsent(deps: FlowDeps, cookie: string | undefined): ConsentMemory {
  return ConsentMemory.parse(verifySignedValue(deps.cookieKey, CONSENT_PURPOSE, cookie));
}

/** The browser state that makes this browser remember `memory`. */
export function rememberInBrowser(deps: FlowDeps, memory: ConsentMemory): BrowserState {
  return {
    set: 'consent',
    value: signValue(deps.cookieKey, CONSENT_PURPOSE, memory.serialize()),
    maxAgeSeconds: DEFAULT_LIFETIMES.consentMemory,
  };
}

/**
 * An error in the request of a client this browser never approved (for this redirect URI, as
 * it is registered now): shown on a page with a link back, never an automatic redirect, so that
 * open registration cannot turn /authorize into an open redirector (RFC 9700 section 4.11.2).
 */
function untrustedError(deps: FlowDeps, client: AdmittedClient, error: OAuthError, state: string | undefined) {
  const name = client.clientName || 'The application';
  return {
    kind: 'error-page' as const,
    status: 400,
    title: 'This connection cannot be completed',
    message: `${name} sent a request this server cannot accept: ${error.description} (${error.code})`,
    link: {
      href: redirectWithParams(client.redirectUri, {
        error: error.code,
        error_description: error.description,
        state,
        iss: deps.config.issuer,
      }),
      label: `Return to ${describeReturn(client.redirectUri)}`,
    },
  };
}

/** How the consent page names the place a person is sent back to. */
export function describeReturn(redirectUri: string): string {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(redirectUri)?.[1].toLowerCase();
  if (scheme === 'https' || scheme === 'http') return new URL(redirectUri).host;
  return `the app that handles ${scheme}: links`;
}

function upstreamLogin(pending: PendingSignIn) {
  const login = { state: pending.id, nonce: pending.upstream_nonce, codeVerifier: pending.upstream_code_verifier };
  if (pending.purpose === 'account') return login;
  return {
    ...login,
    ...(pending.upstream_prompt ? { prompt: pending.upstream_prompt } : {}),
    ...(pending.max_age !== undefined ? { maxAge: pending.max_age } : {}),
  };
}

export async function toUpstream(
  deps: FlowDeps,
  pending: PendingSignIn,
  browser: BrowserState[],
  status: 302 | 303,
): Promise<RedirectOutcome> {
  const url = await deps.upstream.authorizationUrl(upstreamLogin(pending));
  return { kind: 'redirect', status, location: url.toString(), browser };
}

export async function startAuthorization(
  deps: FlowDeps,
  client: AdmittedClient,
  query: QueryResult,
  consentCookie: string | undefined,
): Promise<FlowOutcome> {
  const memory = rememberedConsent(deps, consentCookie);
  // Errors go back by redirect (RFC 6749 4.1.2.1) only to a client this browser approved.
  const trusted = memory.trusts(client.clientId, client.clientVersion, client.redirectUri);
  const refuse = (error: OAuthError, state: string | undefined): FlowOutcome =>
    trusted ? errorToClient(deps, client.redirectUri, error, state) : untrustedError(deps, client, error, state);
  if (!query.ok) {
    // The authorizer already refuses repeated parameters; this is defence in depth.
    return refuse(repeatedParameterError(query.repeated), undefined);
  }
  const { params } = query;
  const state = params.state;
  let request: ReturnType<typeof parseAuthorizationRequest>;
  try {
    request = parseAuthorizationRequest(params);
  } catch (error) {
    if (error instanceof OAuthError) return refuse(error, state);
    throw error;
  }
  const resource = resolveResource(deps.config, request.resource);
  if (!resource) {
    return refuse(new OAuthError('invalid_target', 'resource is not a protected resource of this server.'), state);
  }
  const scope = grantableScope(deps.config, request.scope);
  const approval: Approval = {
    clientId: client.clientId,
    clientVersion: client.clientVersion,
    redirectUri: client.redirectUri,
    resource,
    scope,
  };
  const approvedAt = memory.approvedAt(approval);
  const covered = approvedAt !== undefined;
  // prompt=consent: the page, even for what was approved before.
  const skipConsent = covered && !request.prompt.has('consent');
  // OpenID Connect prompt=none: no page at all; without an approval covering it, consent_required.
  if (request.prompt.has('none') && !covered) {
    return refuse(
      new OAuthError('consent_required', 'The person has not approved this request in this browser.'),
      state,
    );
  }
  const pending: PendingAuthorization = {
    id: newSecret(),
    client_id: client.clientId,
    ...(client.clientName ? { client_name: client.clientName } : {}),
    client_version: client.clientVersion,
    redirect_uri: client.redirectUri,
    redirect_uri_in_request: params.redirect_uri !== undefined,
    code_challenge: request.codeChallenge,
    ...(state !== undefined ? { state } : {}),
    scope,
    resource,
    upstream_nonce: randomBytes(32).toString('base64url'),
    upstream_code_verifier: randomBytes(48).toString('base64url'),
    ...(request.prompt.has('none') ? { upstream_prompt: 'none' as const } : {}),
    ...(request.prompt.has('login') ? { upstream_prompt: 'login' as const } : {}),
    ...(request.maxAge !== undefined ? { max_age: request.maxAge } : {}),
    ...(skipConsent ? { remembered_approval_at: approvedAt } : {}),
    expires_at: deps.now() + DEFAULT_LIFETIMES.pendingAuthorization,
  };
  await deps.grants.putPending(pending);
  const bind: BrowserState = {
    set: 'transaction',
    value: transactionValue(deps, pending.id),
    maxAgeSeconds: DEFAULT_LIFETIMES.pendingAuthorization,
  };

  if (skipConsent) {
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
      ...(client.metadataDocument && URL.canParse(client.clientId)
        ? { clientIdHost: new URL(client.clientId).host }
        : {}),
      returnTo: describeReturn(client.redirectUri),
      scopes: pending.scope.split(' ').filter(Boolean),
      loopbackOnly: client.metadataDocument && client.loopbackOnly,
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
  // The consent page's Referrer-Policy (same-origin) makes browsers send its origin with the form:
  // anything else, `null` (a sandboxed or opaque page) or no Origin at all, is not our form.
  if (submission.origin !== new URL(deps.config.issuer).origin) {
    return errorPage(403, 'Request refused', 'The form was not sent from this server.');
  }
  // The form token proves this server rendered the form; the cookie proves this browser started the flow.
  if (
    !formTokenMatches(deps.cookieKey, requestId, form.csrf) ||
    !boundTo(deps, submission.transactionCookie, requestId)
  ) {
    return expired();
  }
  const pending = await deps.grants.getPending(requestId);
  // An account sign-in has no client to consent to.
  if (!pending || pending.purpose === 'account' || pending.expires_at <= deps.now()) return expired();

  if (form.decision !== 'allow') {
    await deps.grants.takePending(requestId);
    const error = new OAuthError('access_denied', 'The person declined to authorize the client.');
    const audited: FlowAudit = { event: 'consent.denied', clientId: pending.client_id };
    return { ...errorToClient(deps, pending.redirect_uri, error, pending.state, 303), audited };
  }
  const remembered = rememberedConsent(deps, submission.consentCookie).remember(
    {
      clientId: pending.client_id,
      clientVersion: pending.client_version ?? '',
      redirectUri: pending.redirect_uri,
      resource: pending.resource,
      scope: pending.scope,
    },
    deps.now(),
  );
  const consent = rememberInBrowser(deps, remembered);
  const audited: FlowAudit = { event: 'consent.allowed', clientId: pending.client_id };
  return { ...(await toUpstream(deps, pending, [consent], 303)), audited };
}

export async function completeCallback(
  deps: FlowDeps,
  params: Readonly<Record<string, string>>,
  callbackUrl: URL,
  transactionCookie: string | undefined,
  consentCookie?: string,
): Promise<FlowOutcome> {
  const state = params.state ?? '';
  if (!state || !boundTo(deps, transactionCookie, state)) {
    return errorPage(400, 'Sign-in cannot be completed here', 'Start again from the application, in this browser.');
  }
  const pending = await deps.grants.takePending(state);
  if (!pending || pending.expires_at <= deps.now()) {
    return errorPage(400, 'This request has expired', 'Go back to the application and connect again.');
  }
  if (pending.purpose === 'account') return completeAccountSignIn(deps, pending, callbackUrl);
  let subject: string;
  try {
    ({ subject } = await deps.upstream.completeLogin(callbackUrl, upstreamLogin(pending)));
  } catch (error) {
    if (!(error instanceof UpstreamLoginError)) return unavailableToClient(deps, pending, error);
    return errorToClient(deps, pending.redirect_uri, upstreamRefusal(error), pending.state);
  }
  if (pending.remembered_approval_at !== undefined) {
    // The consent page was skipped for a remembered approval: unless the person withdrew it since.
    let withdrawnAt: number | undefined;
    try {
      withdrawnAt = await deps.consentWithdrawals.withdrawnAt(subject, pending.client_id);
    } catch (error) {
      return unavailableToClient(deps, pending, error);
    }
    if (withdrawnAt !== undefined && withdrawnAt >= pending.remembered_approval_at) {
      const error = new OAuthError(
        'access_denied',
        "The person removed this application's access; connect again to approve it.",
      );
      const refused = errorToClient(deps, pending.redirect_uri, error, pending.state);
      const forgotten = rememberedConsent(deps, consentCookie).forget(pending.client_id);
      return { ...refused, browser: [...refused.browser, rememberInBrowser(deps, forgotten)] };
    }
  }
  let code: string;
  try {
    code = await mintAuthorizationCode(deps, pending, subject);
  } catch (error) {
    return unavailableToClient(deps, pending, error);
  }
  const audited: FlowAudit = {
    event: 'code.issued',
    clientId: pending.client_id,
    subject,
    grantId: parseGrantToken(code)?.grantId,
  };
  return { ...toClient(deps, pending.redirect_uri, { code, state: pending.state }), audited };
}

/** The person signed in to see their connected apps: open the page's session, or say why not. */
async function completeAccountSignIn(deps: FlowDeps, pending: PendingSignIn, callbackUrl: URL): Promise<FlowOutcome> {
  let subject: string;
  try {
    ({ subject } = await deps.upstream.completeLogin(callbackUrl, upstreamLogin(pending)));
  } catch (error) {
    if (error instanceof UpstreamLoginError) {
      return errorPage(400, 'Sign-in did not complete', 'Open your connected apps page again to sign in.');
    }
    return {
      kind: 'error-page',
      status: 503,
      title: 'Sign-in could not be completed',
      message: 'Try again in a moment.',
      failure: error,
    };
  }
  const session = openAccountSession(deps.cookieKey, subject, deps.now());
  return {
    kind: 'redirect',
    status: 303,
    location: `${deps.config.issuer}${ENDPOINTS.account}`,
    browser: [{ clear: 'transaction' }, { set: 'account', ...session }],
  };
}

/**
 * The provider's answer as the client should hear it: what the person or the provider decided
 * (a declined sign-in, and for prompt=none the OpenID Connect login_required and its kin) is
 * passed on; a sign-in that could not be verified (a failed code exchange, an ID token that did
 * not validate, a provider error about this server's own request) is server_error.
 */
const PASSED_ON: ReadonlySet<string> = new Set<OAuthErrorCode>([
  'access_denied',
  'login_required',
  'consent_required',
  'interaction_required',
  'account_selection_required',
  'temporarily_unavailable',
]);

function upstreamRefusal(error: UpstreamLoginError): OAuthError {
  if (error.code !== undefined && PASSED_ON.has(error.code)) {
    const description =
      error.code === 'access_denied'
        ? 'Sign-in at the identity provider did not complete.'
        : `The identity provider answered ${error.code}.`;
    return new OAuthError(error.code as OAuthErrorCode, description);
  }
  if (error.code === 'server_error') {
    return new OAuthError(
      'temporarily_unavailable',
      'The identity provider could not complete the sign-in. Try again.',
    );
  }
  return new OAuthError('server_error', 'The sign-in at the identity provider could not be verified.');
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
