/**
 * The connected apps page (GET and POST /account) over real HTTP against the local server: a
 * person signs in through the development provider, sees the apps they approved, and removes
 * one; its refresh tokens are then refused at /token, this browser asks again before the next
 * connection, and nobody else's access changes. Forged and replayed forms change nothing.
 */
import type * as oauth from 'oauth4webapi';
import { beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, parseForms } from '../support/browser-like.js';
import { useLocalServer } from '../support/local-server-fixture.js';
import {
  authorizationUrl,
  discover,
  obtainTokens,
  openAccountPage,
  type RegisteredTestClient,
  registerTestClient,
  runBrowser,
} from '../support/oauth-flow.js';

// INFO: the audit lines are written at INFO.
const gateway = useLocalServer({ POWERTOOLS_LOG_LEVEL: 'INFO' });

async function refresh(registered: RegisteredTestClient, refreshToken: string) {
  const response = await fetch(`${gateway.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: registered.client.client_id,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const openAccount = (jar: CookieJar, username: string) => openAccountPage(gateway.url, jar, username);

/** The apps the page lists: one form per app, named by its hidden client field. */
function listedClients(body: string): string[] {
  return parseForms(body)
    .map((form) => form.fields.client)
    .filter(Boolean);
}

/** Keeps what a response set, as the browser would. */
function jar(cookies: CookieJar, response: Response) {
  cookies.store(new URL(`${gateway.url}/account`), response);
}

let as: oauth.AuthorizationServer;
let notes: RegisteredTestClient;
let calendar: RegisteredTestClient;
const alice = new CookieJar();
const bob = new CookieJar();
/** alice's other browser, where she approved Notes too. */
const aliceLaptop = new CookieJar();
const tokens = { aliceNotes: '', aliceCalendar: '', bobNotes: '' };

beforeAll(async () => {
  as = await discover(gateway.url);
  notes = await registerTestClient(as, 'none', 'https://notes.example/callback', { client_name: 'Notes <b>App</b>' });
  calendar = await registerTestClient(as, 'none', 'https://calendar.example/callback', {
    client_name: 'Calendar',
  });
  const signIn = async (registered: RegisteredTestClient, jar: CookieJar, username: string) =>
    (await obtainTokens(as, registered, { jar, username, extra: { scope: 'offline_access' } })).refresh_token as string;
  tokens.aliceNotes = await signIn(notes, alice, 'alice');
  tokens.aliceCalendar = await signIn(calendar, alice, 'alice');
  tokens.bobNotes = await signIn(notes, bob, 'bob');
  await signIn(notes, aliceLaptop, 'alice');
}, 60_000);

describe('GET /account', () => {
  it('without a session, sends the person to sign in, bound to this browser', async () => {
    const response = await fetch(`${gateway.url}/account`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('cache-control')).toContain('no-store');
    expect(response.headers.get('set-cookie')).toMatch(/mcpgw_tx=/);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.searchParams.get('state')).toMatch(/^[\w-]{43}$/);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
  });

  it("lists the person's own apps with name, host, scopes and last use, escaped, and no one else's", async () => {
    const page = await openAccount(alice, 'alice');
    expect(page.response.status).toBe(200);
    expect(page.response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.response.headers.get('referrer-policy')).toBe('same-origin');
    expect(listedClients(page.body).sort()).toEqual([notes.client.client_id, calendar.client.client_id].sort());
    expect(page.body).toContain('Notes &lt;b&gt;App&lt;/b&gt;');
    expect(page.body).not.toContain('<b>App</b>');
    expect(page.body).toContain('notes.example');
    expect(page.body).toContain('<code>offline_access</code>');
    expect(page.body).toMatch(/Last used \d{4}-\d\d-\d\d \d\d:\d\d UTC/);

    const bobs = await openAccount(bob, 'bob');
    expect(listedClients(bobs.body)).toEqual([notes.client.client_id]);
  });
});

describe('POST /account', () => {
  async function aliceForm(clientId: string) {
    const page = await openAccount(alice, 'alice');
    const form = parseForms(page.body, page.url).find((candidate) => candidate.fields.client === clientId);
    if (!form) throw new Error(`${clientId} is not listed`);
    return form;
  }

  async function post(fields: Record<string, string>, headers: Record<string, string>, jar = alice) {
    const cookie = jar.header(new URL(`${gateway.url}/account`));
    return fetch(`${gateway.url}/account`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(cookie ? { cookie } : {}),
        ...headers,
      },
      body: new URLSearchParams(fields),
    });
  }

  it.each([
    ['no Origin', {}, 403],
    ['another origin', { origin: 'https://evil.example' }, 403],
    ['an opaque origin', { origin: 'null' }, 403],
  ])('refuses a form with %s, and ends nothing', async (_case, headers, status) => {
    const form = await aliceForm(notes.client.client_id);
    const response = await post(form.fields, headers);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('text/html');
    const still = await refresh(notes, tokens.aliceNotes);
    expect(still.status).toBe(200);
    tokens.aliceNotes = still.body.refresh_token as string;
  });

  it("refuses a form token of another session (bob's form with alice's cookie), and one without a session", async () => {
    const bobsPage = await openAccount(bob, 'bob');
    const bobsForm = parseForms(bobsPage.body, bobsPage.url)[0];
    const crossed = await post(bobsForm.fields, { origin: gateway.url }, alice);
    expect(crossed.status).toBe(403);
    const form = await aliceForm(notes.client.client_id);
    const sessionless = await post(form.fields, { origin: gateway.url }, new CookieJar());
    expect(sessionless.status).toBe(400);
    const still = await refresh(notes, tokens.aliceNotes);
    expect(still.status).toBe(200);
    tokens.aliceNotes = still.body.refresh_token as string;
  });

  it("removes one app: its refresh tokens refused, this browser asks again, others' access kept", async () => {
    // Before: this browser remembers approving Notes, so a new connection skips the consent page
    // (a Deny would have been pressed on it): the client gets a code, a second grant of alice's.
    const before = await authorizationUrl(as, notes);
    const skipped = await runBrowser(before.url, notes.redirectUri, alice, { decision: 'deny', username: 'alice' });
    expect(skipped.kind).toBe('stopped');
    expect((skipped as { url: URL }).url.searchParams.get('code')).toBeTruthy();

    const form = await aliceForm(notes.client.client_id);
    const logged = gateway.process.output().length;
    const removed = await post(form.fields, { origin: gateway.url });
    expect(removed.status).toBe(303);
    // One access.revoked audit line per grant ended, naming person and client, never a secret.
    const audits = gateway.process
      .output()
      .slice(logged)
      .split('\n')
      .filter((line) => line.includes('"access.revoked"'))
      .map((line) => (JSON.parse(line) as { audit: Record<string, string> }).audit);
    // Every grant alice gave Notes: the sign-ins above and the remembered-consent one, at least 2.
    expect(audits.length).toBeGreaterThanOrEqual(2);
    expect(new Set(audits.map((audit) => audit.grant_id)).size).toBe(audits.length);
    for (const audit of audits) {
      expect(audit).toMatchObject({ event: 'access.revoked', client_id: notes.client.client_id, subject: 'alice' });
      expect(audit.grant_id).toEqual(expect.any(String));
    }
    expect(removed.headers.get('location')).toBe(`${gateway.url}/account`);
    jar(alice, removed);
    const page = await openAccount(alice, 'alice');
    expect(listedClients(page.body)).toEqual([calendar.client.client_id]);

    // Every grant alice gave Notes is over (the remembered-consent sign-in above made a second one).
    const refused = await refresh(notes, tokens.aliceNotes);
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // Calendar and bob's Notes are untouched.
    const kept = await refresh(calendar, tokens.aliceCalendar);
    expect(kept.status).toBe(200);
    const bobs = await refresh(notes, tokens.bobNotes);
    expect(bobs.status).toBe(200);

    // This browser forgot approving Notes: the next connection shows the consent page again.
    const after = await authorizationUrl(as, notes);
    const asked = await runBrowser(after.url, notes.redirectUri, alice, { decision: 'deny', username: 'alice' });
    expect(asked.kind).toBe('stopped');
    expect((asked as { url: URL }).url.searchParams.get('error')).toBe('access_denied');
  });

  it("reaches alice's other browser: its remembered approval no longer skips the consent page", async () => {
    // That browser still remembers approving Notes: it skips the page, and after sign-in the
    // gateway sees the withdrawal and sends the client access_denied instead of a code.
    const first = await authorizationUrl(as, notes);
    const refused = await runBrowser(first.url, notes.redirectUri, aliceLaptop, {
      decision: 'allow',
      username: 'alice',
    });
    const refusedAt = (refused as { url: URL }).url;
    expect(refusedAt.searchParams.get('error')).toBe('access_denied');
    expect(refusedAt.searchParams.get('error_description')).toMatch(/removed/);
    expect(refusedAt.searchParams.get('code')).toBeNull();
    // Then it has forgotten the approval: the consent page is shown (and Deny is pressed).
    const second = await authorizationUrl(as, notes);
    const asked = await runBrowser(second.url, notes.redirectUri, aliceLaptop, { decision: 'deny', username: 'alice' });
    expect((asked as { url: URL }).url.searchParams.get('error_description')).toMatch(/declined/);
    // Approving again on the page works: a new approval outranks the old withdrawal.
    const third = await authorizationUrl(as, notes);
    const approved = await runBrowser(third.url, notes.redirectUri, aliceLaptop, {
      decision: 'allow',
      username: 'alice',
    });
    expect((approved as { url: URL }).url.searchParams.get('code')).toEqual(expect.any(String));
  });

  it('removing an app that has no live grant changes nothing and returns to the list', async () => {
    const page = await openAccount(alice, 'alice');
    const [form] = parseForms(page.body, page.url);
    const response = await post({ ...form.fields, client: 'no-such-client' }, { origin: gateway.url });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`${gateway.url}/account`);
    expect(listedClients((await openAccount(alice, 'alice')).body)).toEqual(listedClients(page.body));
  });
});
