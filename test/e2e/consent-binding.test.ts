/**
 * Consent that means what the person saw (issue 12), end to end in local mode over real HTTP
 * with a browser-like cookie jar: a remembered approval covers one client as it is registered,
 * one redirect URI, one resource and the scopes shown; anything more shows the page again. The
 * attack of the issue first: whoever holds a client's registration access token adds a redirect
 * URI with RFC 7592 PUT, and the person's next visit sends the code there without a page.
 * Then prompt (OpenID Connect), and the consent form's Origin.
 */
import { describe, expect, it } from 'vitest';
import { CookieJar, followRedirects, parseForms } from '../support/browser-like.js';
import { useLocalServer } from '../support/local-server-fixture.js';
import {
  authorizationUrl,
  discover,
  obtainTokens,
  type RegisteredTestClient,
  registerTestClient,
} from '../support/oauth-flow.js';

const gateway = useLocalServer({ SCOPES: 'mcp:read,mcp:write' });
const ATTACKER_URI = 'https://attacker.example/collect';

/** Where a fresh GET /authorize lands in this browser: the consent page, or a redirect on to the provider. */
async function firstStep(registered: RegisteredTestClient, jar: CookieJar, extra: Record<string, string> = {}) {
  const attempt = await authorizationUrl(await discover(gateway.url), registered, extra);
  const cookie = jar.header(attempt.url);
  const response = await fetch(attempt.url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  jar.store(attempt.url, response);
  const body = await response.text();
  const location = response.headers.get('location') ?? undefined;
  return {
    status: response.status,
    location,
    consentShown: response.status === 200 && body.includes('name="csrf"'),
    body,
  };
}

/** A client the person approved once in this browser. */
async function approvedClient(extra: Record<string, unknown> = {}) {
  const as = await discover(gateway.url);
  const registered = await registerTestClient(as, 'none', 'https://client.example/callback', extra);
  const jar = new CookieJar();
  await obtainTokens(as, registered, { jar, extra: { scope: 'mcp:read' } });
  return { as, registered, jar };
}

describe('a remembered approval', () => {
  it('skips the page for the same client, redirect URI, resource and scope (or less)', async () => {
    const { registered, jar } = await approvedClient();
    const variants: Array<Record<string, string>> = [{ scope: 'mcp:read' }, {}];
    for (const extra of variants) {
      const step = await firstStep(registered, jar, extra);
      expect(step.consentShown, JSON.stringify(extra)).toBe(false);
      expect(step.status).toBe(302);
      expect(step.location).toMatch(/\/dev-oidc\/|\/auth/);
    }
  });

  it('does not survive an RFC 7592 update that adds a redirect URI: the page is shown again, for either URI', async () => {
    const { registered, jar } = await approvedClient({
      redirect_uris: ['https://client.example/callback'],
    });
    const { registration_client_uri: uri, registration_access_token: token } = registered.client as Record<
      string,
      string
    >;
    const current = await (await fetch(uri, { headers: { authorization: `Bearer ${token}` } })).json();
    const {
      client_id_issued_at: _issued,
      registration_client_uri: _uri,
      registration_access_token: _token,
      ...metadata
    } = current as Record<string, unknown>;
    const updated = await fetch(uri, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...metadata, redirect_uris: ['https://client.example/callback', ATTACKER_URI] }),
    });
    expect(updated.status, await updated.clone().text()).toBe(200);

    const toAttacker = await firstStep({ ...registered, redirectUri: ATTACKER_URI }, jar);
    expect(toAttacker.consentShown, 'no code to the new URI without a page').toBe(true);
    expect(toAttacker.body).toContain('attacker.example');
    expect((await firstStep(registered, jar)).consentShown, 'the client changed: asked again').toBe(true);
  });

  it('for one redirect URI does not approve another the client registered', async () => {
    const { registered, jar } = await approvedClient({
      redirect_uris: ['https://client.example/callback', 'https://client.example/other'],
    });
    const other = await firstStep({ ...registered, redirectUri: 'https://client.example/other' }, jar);
    expect(other.consentShown).toBe(true);
  });

  it('does not cover a wider scope, and prompt=consent always shows the page', async () => {
    const { registered, jar } = await approvedClient();
    expect((await firstStep(registered, jar, { scope: 'mcp:read mcp:write' })).consentShown).toBe(true);
    expect((await firstStep(registered, jar, { prompt: 'consent' })).consentShown).toBe(true);
  });

  it('lets request errors go back by redirect, with iss; another browser sees them on a page', async () => {
    const { registered, jar } = await approvedClient();
    const approved = await firstStep(registered, jar, { response_type: 'token' });
    expect(approved.status).toBe(302);
    const url = new URL(approved.location as string);
    expect(`${url.origin}${url.pathname}`).toBe(registered.redirectUri);
    expect(url.searchParams.get('error')).toBe('unsupported_response_type');
    expect(url.searchParams.get('iss')).toBe(gateway.url);

    const stranger = await firstStep(registered, new CookieJar(), { response_type: 'token' });
    expect(stranger.status).toBe(400);
    expect(stranger.location).toBeUndefined();
    expect(stranger.body).toContain('unsupported_response_type');
    expect(stranger.body).toMatch(/<a href="https:\/\/client\.example\/callback\?error=unsupported_response_type/);
  });
});

describe('prompt (OpenID Connect Core 3.1.2.1)', () => {
  it('prompt=none in a browser that never approved the client: consent_required, shown on a page', async () => {
    const as = await discover(gateway.url);
    const registered = await registerTestClient(as, 'none');
    const step = await firstStep(registered, new CookieJar(), { prompt: 'none' });
    expect(step.status).toBe(400);
    expect(step.body).toContain('consent_required');
  });

  it('prompt=none once approved goes to the provider with prompt=none, no page on the way', async () => {
    const { registered, jar } = await approvedClient();
    const step = await firstStep(registered, jar, { prompt: 'none', scope: 'mcp:read' });
    expect(step.status).toBe(302);
    expect(new URL(step.location as string).searchParams.get('prompt')).toBe('none');
    // The provider answers at once: a code, since the person is signed in there from the first visit.
    const landing = await followRedirects(new URL(step.location as string), jar, {
      stopAt: (url) => url.href.startsWith(registered.redirectUri),
    });
    expect(landing.kind, landing.kind === 'page' ? `${landing.url} ${landing.body.slice(0, 400)}` : '').toBe('stopped');
    const back = (landing as { url: URL }).url;
    expect(back.searchParams.has('code'), back.href).toBe(true);
    expect(back.searchParams.get('iss')).toBe(gateway.url);
  });

  it('prompt=login asks the provider for a fresh sign-in', async () => {
    const { registered, jar } = await approvedClient();
    const step = await firstStep(registered, jar, { prompt: 'login' });
    expect(new URL(step.location as string).searchParams.get('prompt')).toBe('login');
  });
});

describe('the consent form is refused unless it comes from this origin', () => {
  it.each([
    ['Origin: null (a sandboxed or no-referrer page)', 'null'],
    ['another port of this host', 'http://127.0.0.1:1'],
    ['no Origin at all', undefined],
  ])('%s', async (_case, origin) => {
    const as = await discover(gateway.url);
    const registered = await registerTestClient(as, 'none');
    const jar = new CookieJar();
    const attempt = await authorizationUrl(as, registered);
    const page = await followRedirects(attempt.url, jar);
    expect(page.kind).toBe('page');
    const form = parseForms((page as { body: string }).body, page.url)[0];
    const action = new URL(form.action);
    const response = await fetch(action, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: jar.header(action) ?? '',
        ...(origin ? { origin } : {}),
      },
      body: new URLSearchParams({ ...form.fields, decision: 'allow' }).toString(),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('Request refused');
  });
});
