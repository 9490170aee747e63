/**
 * The connected apps page as use cases (lambda/domain/account.ts, account-session.ts), against
 * in-memory ports: its session cookie, the list it shows, how ending access touches only the
 * signed-in person's grants of one client, and that an account sign-in never becomes a code.
 * End to end over HTTP: test/e2e/account-page.test.ts; in Chromium: test/browser/account-page.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIFETIMES } from '../../lambda/contract/environment.js';
import type { GrantSummary, Revocation } from '../../lambda/domain/access-admin.js';
import {
  type AccountDeps,
  type AccountOutcome,
  connectedApps,
  endAccess,
  openAccount,
} from '../../lambda/domain/account.js';
import { accountFormBinding, openAccountSession, readAccountSession } from '../../lambda/domain/account-session.js';
import { completeCallback, submitConsent } from '../../lambda/domain/authorization-flow.js';
import { ConsentMemory } from '../../lambda/domain/consent-memory.js';
import type { ServerConfig } from '../../lambda/domain/server-config.js';
import { formToken, signValue, verifySignedValue } from '../../lambda/domain/signed-values.js';
import type { UpstreamIdentityProvider, UpstreamLogin } from '../../lambda/domain/upstream.js';
import { MemoryGrantStore } from '../support/memory-grant-store.js';

const NOW = 1_800_000_000;
const ISSUER = 'https://as.example.com/v1';
const ORIGIN = 'https://as.example.com';
const KEY = 'cookie-key-for-unit-tests-only-0123456789';
const CONFIG: ServerConfig = {
  issuer: ISSUER,
  resources: ['https://mcp.example.com/mcp'],
  scopes: ['mcp:read'],
  accessTokenTtl: 600,
  refreshTokenIdleTtl: 1000,
  refreshTokenAbsoluteTtl: 2500,
};

/** An honest provider: signs in whoever `subject` is, for a login it started. */
class Upstream implements UpstreamIdentityProvider {
  subject = 'alice';
  readonly started: UpstreamLogin[] = [];
  async authorizationUrl(login: UpstreamLogin): Promise<URL> {
    this.started.push(login);
    return new URL(`https://idp.example/authorize?state=${login.state}`);
  }
  async completeLogin(callbackUrl: URL, login: UpstreamLogin) {
    if (callbackUrl.searchParams.get('state') !== login.state) throw new Error('another login');
    return { subject: this.subject };
  }
}

function grant(overrides: Partial<GrantSummary> & Pick<GrantSummary, 'grant_id' | 'client_id'>): GrantSummary {
  return {
    subject: 'alice',
    scope: 'mcp:read offline_access',
    resource: 'https://mcp.example.com/mcp',
    redirect_uri: 'https://notes.example/callback',
    created_at: NOW - 100,
    grant_expires_at: NOW + 1000,
    expires_at: NOW + 500,
    ...overrides,
  };
}

/** The access port over a list, as the admin store: one subject's grants, revocation keeps the first time. */
class Access {
  revocations: string[] = [];
  fail = false;
  constructor(readonly grants: GrantSummary[]) {}
  async grantsOfSubject(subject: string) {
    if (this.fail) throw new Error('table down');
    return this.grants.filter((item) => item.subject === subject);
  }
  async revokeGrant(grantId: string, now: number): Promise<Revocation> {
    const found = this.grants.find((item) => item.grant_id === grantId);
    if (!found) return { outcome: 'missing' };
    if (found.revoked_at !== undefined) return { outcome: 'already-revoked', revokedAt: found.revoked_at };
    found.revoked_at = now;
    this.revocations.push(grantId);
    return { outcome: 'revoked' };
  }
}

let access: Access;
let upstream: Upstream;
let deps: AccountDeps;

beforeEach(() => {
  access = new Access([
    grant({ grant_id: 'g1', client_id: 'notes', client_name: 'Notes', last_used_at: NOW - 10 }),
    grant({ grant_id: 'g2', client_id: 'notes', client_name: 'Notes', scope: 'mcp:write', created_at: NOW - 50 }),
    grant({ grant_id: 'g3', client_id: 'https://cal.example/client.json', client_name: 'Calendar' }),
    grant({ grant_id: 'g4', client_id: 'old', revoked_at: NOW - 5 }),
    grant({ grant_id: 'g5', client_id: 'stale', expires_at: NOW - 1 }),
    grant({ grant_id: 'b1', client_id: 'notes', subject: 'bob' }),
  ]);
  upstream = new Upstream();
  deps = {
    grants: new MemoryGrantStore(),
    upstream,
    consentWithdrawals: { withdrawnAt: async () => undefined },
    config: CONFIG,
    cookieKey: KEY,
    now: () => NOW,
    access,
  };
});

const session = (subject = 'alice') => openAccountSession(KEY, subject, NOW).value;

function asAccount(outcome: AccountOutcome) {
  if (outcome.kind !== 'account') throw new Error(`expected the page, got ${outcome.kind}`);
  return outcome.view;
}

describe('the account session', () => {
  it('holds the subject until it ends, 15 minutes on', () => {
    const { value, maxAgeSeconds } = openAccountSession(KEY, 'alice', NOW);
    expect(maxAgeSeconds).toBe(DEFAULT_LIFETIMES.accountSession);
    expect(readAccountSession(KEY, value, NOW)).toMatchObject({ subject: 'alice', expiresAt: NOW + 900 });
    expect(readAccountSession(KEY, value, NOW + 899)?.subject).toBe('alice');
    expect(readAccountSession(KEY, value, NOW + 900)).toBeUndefined();
  });

  it('is refused when tampered with, signed with another key, or signed for another purpose', () => {
    const { value } = openAccountSession(KEY, 'alice', NOW);
    const payload = JSON.parse(verifySignedValue(KEY, 'mcpgw_account', value) as string);
    const forged = `${Buffer.from(JSON.stringify({ ...payload, subject: 'bob' })).toString('base64url')}.${value.split('.')[1]}`;
    expect(readAccountSession(KEY, forged, NOW)).toBeUndefined();
    expect(readAccountSession('another-key-0123456789-0123456789', value, NOW)).toBeUndefined();
    // The same JSON signed as remembered consent or a transaction does not open a session.
    const json = JSON.stringify(payload);
    expect(readAccountSession(KEY, signValue(KEY, 'mcpgw_consent', json), NOW)).toBeUndefined();
    expect(readAccountSession(KEY, signValue(KEY, 'mcpgw_tx', json), NOW)).toBeUndefined();
    expect(
      readAccountSession(KEY, signValue(KEY, 'mcpgw_account', JSON.stringify({ ...payload, subject: '' })), NOW),
    ).toBeUndefined();
    expect(readAccountSession(KEY, undefined, NOW)).toBeUndefined();
  });

  it("binds forms to the session, not to anything a consent form's token is made from", () => {
    const read = readAccountSession(KEY, session(), NOW);
    if (!read) throw new Error('no session');
    expect(accountFormBinding(read)).not.toBe(read.id);
    expect(formToken(KEY, accountFormBinding(read))).not.toBe(formToken(KEY, read.id));
  });
});

describe('GET /account', () => {
  it('without a session: a pending account sign-in, bound to the browser, off to the provider', async () => {
    const outcome = await openAccount(deps, undefined);
    expect(outcome).toMatchObject({ kind: 'redirect', status: 302 });
    if (outcome.kind !== 'redirect') return;
    const state = new URL(outcome.location).searchParams.get('state') as string;
    expect(await deps.grants.getPending(state)).toMatchObject({ purpose: 'account', expires_at: NOW + 600 });
    expect(outcome.browser).toEqual([
      { set: 'transaction', value: signValue(KEY, 'mcpgw_tx', state), maxAgeSeconds: 600 },
    ]);
  });

  it("with a session: the person's live grants, one entry per client, most recently used first", async () => {
    const view = asAccount(await openAccount(deps, session()));
    expect(view.formAction).toBe(`${ISSUER}/account`);
    expect(view.apps).toEqual([
      {
        clientId: 'notes',
        name: 'Notes',
        host: 'notes.example',
        scopes: ['mcp:read', 'offline_access', 'mcp:write'],
        lastUsed: NOW - 10,
        grants: 2,
      },
      {
        clientId: 'https://cal.example/client.json',
        name: 'Calendar',
        host: 'cal.example',
        scopes: ['mcp:read', 'offline_access'],
        lastUsed: NOW - 100,
        grants: 1,
      },
    ]);
  });

  it('a grants table that cannot be read is a 503, not an empty list', async () => {
    access.fail = true;
    await expect(openAccount(deps, session())).rejects.toMatchObject({ code: 'temporarily_unavailable' });
  });

  it('names a client by the name the person saw most recently', () => {
    const apps = connectedApps([
      grant({ grant_id: 'a', client_id: 'c', client_name: 'Old name', created_at: NOW - 500 }),
      grant({ grant_id: 'b', client_id: 'c', client_name: 'New name', created_at: NOW - 5 }),
      grant({ grant_id: 'c', client_id: 'c', created_at: NOW - 1 }),
    ]);
    expect(apps.map((app) => [app.name, app.grants])).toEqual([['New name', 3]]);
  });
});

describe('the callback of an account sign-in', () => {
  it('opens a session and goes back to /account: no code, no client', async () => {
    const started = await openAccount(deps, undefined);
    if (started.kind !== 'redirect') throw new Error('not a redirect');
    const state = new URL(started.location).searchParams.get('state') as string;
    upstream.subject = 'carol';
    const callbackUrl = new URL(`${ISSUER}/callback?code=x&state=${state}`);
    const outcome = await completeCallback(deps, { code: 'x', state }, callbackUrl, signValue(KEY, 'mcpgw_tx', state));
    expect(outcome).toMatchObject({ kind: 'redirect', status: 303, location: `${ISSUER}/account` });
    if (outcome.kind !== 'redirect') return;
    expect(outcome.browser[0]).toEqual({ clear: 'transaction' });
    const set = outcome.browser[1] as { set: string; value: string };
    expect(set.set).toBe('account');
    expect(readAccountSession(KEY, set.value, NOW)?.subject).toBe('carol');
    expect(await deps.grants.getPending(state)).toBeUndefined();
  });

  it('an account sign-in cannot be consented to as an authorization', async () => {
    const started = await openAccount(deps, undefined);
    if (started.kind !== 'redirect') throw new Error('not a redirect');
    const state = new URL(started.location).searchParams.get('state') as string;
    const outcome = await submitConsent(deps, {
      form: { request: state, csrf: formToken(KEY, state), decision: 'allow' },
      transactionCookie: signValue(KEY, 'mcpgw_tx', state),
      consentCookie: undefined,
      origin: ORIGIN,
    });
    expect(outcome).toMatchObject({ kind: 'error-page', status: 400 });
  });
});

describe('POST /account', () => {
  const form = (client: string, subject = 'alice') => {
    const value = session(subject);
    const read = readAccountSession(KEY, value, NOW);
    if (!read) throw new Error('no session');
    return { value, fields: { client, csrf: formToken(KEY, accountFormBinding(read)) } };
  };

  it("ends every live grant of the person's to that client, and only those", async () => {
    const { value, fields } = form('notes');
    const { outcome, ended } = await endAccess(deps, {
      form: fields,
      sessionCookie: value,
      consentCookie: undefined,
      origin: ORIGIN,
    });
    expect(outcome).toMatchObject({ kind: 'redirect', status: 303, location: `${ISSUER}/account`, browser: [] });
    expect(ended).toEqual({ subject: 'alice', clientId: 'notes', grantIds: ['g1', 'g2'] });
    expect(access.revocations).toEqual(['g1', 'g2']);
  });

  it('forgets every approval of that client this browser remembers, and keeps the others', async () => {
    const approval = (clientId: string, clientVersion: string) => ({
      clientId,
      clientVersion,
      redirectUri: 'https://x.example/cb',
      resource: 'https://mcp.example.com/mcp',
      scope: 'mcp:read',
    });
    const memory = ConsentMemory.empty()
      .remember(approval('notes', 'v1'), NOW - 30)
      .remember(approval('notes', 'v2'), NOW - 20)
      .remember(approval('calendar', 'v1'), NOW - 10);
    const { value, fields } = form('notes');
    const { outcome } = await endAccess(deps, {
      form: fields,
      sessionCookie: value,
      consentCookie: signValue(KEY, 'mcpgw_consent', memory.serialize()),
      origin: ORIGIN,
    });
    if (outcome.kind !== 'redirect') throw new Error('not a redirect');
    const kept = ConsentMemory.parse(
      verifySignedValue(KEY, 'mcpgw_consent', (outcome.browser[0] as { value: string }).value),
    );
    expect(kept.size).toBe(1);
    expect(kept.covers(approval('calendar', 'v1'))).toBe(true);
    expect(kept.covers(approval('notes', 'v2'))).toBe(false);
  });

  it.each([
    ['no Origin', undefined, 403],
    ['another origin', 'https://evil.example', 403],
    ['the issuer with its path', ISSUER, 403],
  ])('refuses a form with %s and ends nothing', async (_case, origin, status) => {
    const { value, fields } = form('notes');
    const { outcome, ended } = await endAccess(deps, {
      form: fields,
      sessionCookie: value,
      consentCookie: undefined,
      origin,
    });
    expect(outcome).toMatchObject({ kind: 'error-page', status });
    expect(ended).toBeUndefined();
    expect(access.revocations).toEqual([]);
  });

  it("refuses another session's form token, no session, an ended session, and no client", async () => {
    const bobs = form('notes', 'bob');
    const alices = form('notes');
    const attempts = [
      { form: bobs.fields, sessionCookie: alices.value },
      { form: alices.fields, sessionCookie: undefined },
      { form: { ...alices.fields, csrf: '' }, sessionCookie: alices.value },
      { form: { csrf: alices.fields.csrf }, sessionCookie: alices.value },
    ];
    for (const attempt of attempts) {
      const { outcome } = await endAccess(deps, { ...attempt, consentCookie: undefined, origin: ORIGIN });
      expect(outcome.kind).toBe('error-page');
    }
    const later = { ...deps, now: () => NOW + DEFAULT_LIFETIMES.accountSession };
    const { outcome } = await endAccess(later, {
      form: alices.fields,
      sessionCookie: alices.value,
      consentCookie: undefined,
      origin: ORIGIN,
    });
    expect(outcome).toMatchObject({ kind: 'error-page', status: 400 });
    expect(access.revocations).toEqual([]);
  });
});
