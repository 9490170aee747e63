/**
 * The person's connected apps (GET and POST /account): after signing in through the same
 * upstream provider, they see the clients they gave access (name, host, scopes, last use) and
 * can end any of them. Not OAuth: a page for people, server-rendered, no JavaScript.
 *
 *   GET /account   -> no session: off to sign in (the callback opens one) -> the list
 *   POST /account  -> end one client's access: its grants revoked, this browser's approval forgotten
 *
 * A session is a signed cookie (account-session.ts); the form is bound to it by a form token and
 * must come from this server's own page (Origin), as the consent form.
 */
import { randomBytes } from 'node:crypto';
import { ENDPOINTS } from '../contract/endpoints.js';
import { DEFAULT_LIFETIMES } from '../contract/environment.js';
import { type AccessAdminStore, type GrantSummary, grantStatus } from './access-admin.js';
import { type AccountSession, accountFormBinding, readAccountSession } from './account-session.js';
import {
  type BrowserState,
  describeReturn,
  errorPage,
  type FlowDeps,
  type FlowOutcome,
  rememberedConsent,
  rememberInBrowser,
  toUpstream,
  transactionValue,
} from './authorization-flow.js';
import { newSecret } from './credentials.js';
import type { PendingAccountSignIn } from './grants.js';
import { UnavailableError } from './oauth-error.js';
import { formToken, formTokenMatches } from './signed-values.js';

export interface AccountDeps extends FlowDeps {
  /** A person's grants and their revocation: the admin store's reads, limited to one subject. */
  access: Pick<AccessAdminStore, 'grantsOfSubject' | 'revokeGrant'>;
}

/** One client the person gave access, with every live grant of theirs to it taken together. */
export interface ConnectedApp {
  clientId: string;
  /** Empty when the client registered no name. */
  name: string;
  /** Who vouches for it: a metadata document's host, or else where it sends the person back to. */
  host: string;
  scopes: string[];
  /** Seconds since the epoch: the last token it obtained, or its first sign-in. */
  lastUsed: number;
  grants: number;
}

export interface AccountView {
  formAction: string;
  csrf: string;
  apps: ConnectedApp[];
}

export type AccountOutcome = FlowOutcome | { kind: 'account'; view: AccountView; browser: BrowserState[] };

/** A person's live grants, or a 503 if the grants table could not be read. */
async function liveGrants(deps: AccountDeps, subject: string): Promise<GrantSummary[]> {
  let grants: GrantSummary[];
  try {
    grants = await deps.access.grantsOfSubject(subject);
  } catch (error) {
    const unavailable = new UnavailableError('Your connected apps could not be read; try again.');
    unavailable.cause = error;
    throw unavailable;
  }
  const now = deps.now();
  return grants.filter((grant) => grant.subject === subject && grantStatus(grant, now) === 'active');
}

function hostOf(grant: GrantSummary): string {
  // A registered client's id is random text; a metadata document client's is its URL.
  if (URL.canParse(grant.client_id)) return new URL(grant.client_id).host;
  return grant.redirect_uri ? describeReturn(grant.redirect_uri) : '';
}

/** The person's live grants, one entry per client, most recently used first. */
export function connectedApps(grants: readonly GrantSummary[]): ConnectedApp[] {
  const apps = new Map<string, ConnectedApp & { named: number }>();
  for (const grant of grants) {
    const used = grant.last_used_at ?? grant.created_at;
    const app = apps.get(grant.client_id);
    const scopes = grant.scope.split(' ').filter(Boolean);
    if (!app) {
      apps.set(grant.client_id, {
        clientId: grant.client_id,
        name: grant.client_name ?? '',
        named: grant.created_at,
        host: hostOf(grant),
        scopes,
        lastUsed: used,
        grants: 1,
      });
      continue;
    }
    app.grants += 1;
    app.lastUsed = Math.max(app.lastUsed, used);
    for (const scope of scopes) if (!app.scopes.includes(scope)) app.scopes.push(scope);
    // The name the person saw most recently.
    if (grant.created_at > app.named && grant.client_name) {
      app.name = grant.client_name;
      app.named = grant.created_at;
      app.host = hostOf(grant);
    }
  }
  return [...apps.values()]
    .map(({ named: _named, ...app }) => app)
    .sort((a, b) => b.lastUsed - a.lastUsed || (a.clientId < b.clientId ? -1 : 1));
}

async function signIn(deps: AccountDeps): Promise<AccountOutcome> {
  const pending: PendingAccountSignIn = {
    id: newSecret(),
    purpose: 'account',
    upstream_nonce: randomBytes(32).toString('base64url'),
    upstream_code_verifier: randomBytes(48).toString('base64url'),
    expires_at: deps.now() + DEFAULT_LIFETIMES.pendingAuthorization,
  };
  await deps.grants.putPending(pending);
  const bind: BrowserState = {
    set: 'transaction',
    value: transactionValue(deps, pending.id),
    maxAgeSeconds: DEFAULT_LIFETIMES.pendingAuthorization,
  };
  return toUpstream(deps, pending, [bind], 302);
}

function accountView(deps: AccountDeps, session: AccountSession, grants: readonly GrantSummary[]): AccountView {
  return {
    formAction: `${deps.config.issuer}${ENDPOINTS.account}`,
    csrf: formToken(deps.cookieKey, accountFormBinding(session)),
    apps: connectedApps(grants),
  };
}

/** GET /account: the list, for a signed-in person; otherwise off to sign in. */
export async function openAccount(deps: AccountDeps, sessionCookie: string | undefined): Promise<AccountOutcome> {
  const session = readAccountSession(deps.cookieKey, sessionCookie, deps.now());
  if (!session) return signIn(deps);
  const grants = await liveGrants(deps, session.subject);
  return { kind: 'account', view: accountView(deps, session, grants), browser: [] };
}

export interface AccountSubmission {
  form: Readonly<Record<string, string>>;
  sessionCookie: string | undefined;
  consentCookie: string | undefined;
  origin: string | undefined;
}

/** What ending a client's access did, for the audit log. */
export interface EndedAccess {
  subject: string;
  clientId: string;
  grantIds: string[];
}

/**
 * POST /account: ends one client's access for the signed-in person. Every live grant of theirs
 * to it is revoked (its refresh tokens stop at once), and this browser forgets having approved
 * it, so the next connection asks again.
 */
export async function endAccess(
  deps: AccountDeps,
  submission: AccountSubmission,
): Promise<{ outcome: AccountOutcome; ended?: EndedAccess }> {
  // As the consent form: only this server's own page sends its origin (Referrer-Policy same-origin).
  if (submission.origin !== new URL(deps.config.issuer).origin) {
    return { outcome: errorPage(403, 'Request refused', 'The form was not sent from this server.') };
  }
  const session = readAccountSession(deps.cookieKey, submission.sessionCookie, deps.now());
  if (!session) {
    return {
      outcome: errorPage(400, 'Your session has ended', 'Open your connected apps page again and sign in.'),
    };
  }
  if (!formTokenMatches(deps.cookieKey, accountFormBinding(session), submission.form.csrf)) {
    return { outcome: errorPage(403, 'Request refused', 'The form was not sent from this page.') };
  }
  const clientId = submission.form.client ?? '';
  if (!clientId) return { outcome: errorPage(400, 'Nothing to remove', 'Choose an app on your connected apps page.') };
  const grants = (await liveGrants(deps, session.subject)).filter((grant) => grant.client_id === clientId);
  const revoked: string[] = [];
  try {
    for (const grant of grants) {
      const result = await deps.access.revokeGrant(grant.grant_id, deps.now());
      if (result.outcome === 'revoked') revoked.push(grant.grant_id);
    }
  } catch (error) {
    const unavailable = new UnavailableError("The app's access could not be ended; try again.");
    unavailable.cause = error;
    throw unavailable;
  }
  const memory = rememberedConsent(deps, submission.consentCookie);
  const forgotten = memory.forget(clientId);
  const browser = forgotten.size === memory.size ? [] : [rememberInBrowser(deps, forgotten)];
  return {
    outcome: { kind: 'redirect', status: 303, location: `${deps.config.issuer}${ENDPOINTS.account}`, browser },
    ended: { subject: session.subject, clientId, grantIds: revoked },
  };
}
