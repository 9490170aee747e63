/**
 * The consent page against another page in the same browser, decided by a real browser
 * (headless Chromium picks the Origin and the cookies it sends): a page on another port of
 * 127.0.0.1 plants the attacker's own transaction cookie (cookies ignore ports) and submits the
 * attacker's consent form, once as itself and once with `Origin: null` (a no-referrer page, as
 * the consent page itself used to be). Both are refused before the person is sent to sign in.
 * Then what the page shows of a Client ID Metadata Document client: the host of its client_id,
 * the loopback warning, its text isolated in <bdi>, and the scopes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseForms } from '../support/browser-like.js';
import { HAVE_CHROMIUM, launchChromium, warnIfNoChromium } from '../support/chromium.js';
import { useLocalServer } from '../support/local-server-fixture.js';
import { authorizationUrl, discover, registerTestClient } from '../support/oauth-flow.js';

warnIfNoChromium('test/browser/consent-forgery');

/** The other site on this host: serves whatever page the test puts at a path. */
const pages = new Map<string, { type: string; body: string }>();
let other: { server: Server; origin: string };

async function startOther(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const page = pages.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!page) return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': page.type }).end(page.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

describe.skipIf(!HAVE_CHROMIUM)('the consent page in Chromium, against another page of the same host', () => {
  let browser: Browser;

  beforeAll(async () => {
    other = await startOther();
  });
  afterAll(async () => {
    other?.server.closeAllConnections();
    await new Promise((resolve) => other?.server.close(resolve));
  });

  const gateway = useLocalServer(
    { CIMD_ALLOW_LOOPBACK_HTTP: 'true', SCOPES: 'mcp:read,mcp:write' },
    { when: () => HAVE_CHROMIUM },
  );

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    return context.newPage();
  }

  /** The attacker's own authorization: the consent form's fields and the transaction cookie it was given. */
  async function attackersConsent() {
    const as = await discover(gateway.url);
    const registered = await registerTestClient(as, 'none', 'https://attacker.example/cb');
    const attempt = await authorizationUrl(as, registered);
    const response = await fetch(attempt.url, { redirect: 'manual' });
    const html = await response.text();
    const cookie = response.headers.getSetCookie().find((value) => value.startsWith('mcpgw_tx='));
    expect(cookie).toBeDefined();
    const form = parseForms(html, attempt.url)[0];
    return { form, cookie: (cookie as string).split(';')[0] };
  }

  it.each([
    ['as itself (Origin: the other port)', ''],
    ['from a no-referrer page (Origin: null)', '<meta name="referrer" content="no-referrer">'],
  ])('a planted cookie and the attacker’s form, submitted %s, are refused before sign-in', async (_case, head) => {
    const { form, cookie } = await attackersConsent();
    const inputs = Object.entries({ ...form.fields, decision: 'allow' })
      .map(([name, value]) => `<input type="hidden" name="${escapeAttribute(name)}" value="${escapeAttribute(value)}">`)
      .join('');
    const path = `/forge-${head ? 'null' : 'origin'}`;
    pages.set(path, {
      type: 'text/html',
      body: `<!doctype html><html><head>${head}</head><body>
<form id="f" method="post" action="${escapeAttribute(form.action)}">${inputs}</form>
<script>document.cookie = ${JSON.stringify(`${cookie}; path=/`)}; document.getElementById('f').submit();</script>
</body></html>`,
    });
    const page = await newPage();
    const posted = page.waitForRequest((request) => request.url() === form.action && request.method() === 'POST');
    const answered = page.waitForResponse((response) => response.url() === form.action);
    await page.goto(`${other.origin}${path}`);
    const request = await posted;
    const headers = await request.allHeaders();
    // The browser did send the planted cookie: only the Origin check stands in the way.
    expect(headers.cookie ?? '').toContain(cookie);
    expect(headers.origin).toBe(head ? 'null' : other.origin);
    const response = await answered;
    expect(response.status()).toBe(403);
    expect(await page.locator('h1').innerText()).toBe('Request refused');
  });

  it('shows the host of a metadata document client_id, warns of loopback-only redirect URIs, isolates its text, lists scopes', async () => {
    const clientId = `${other.origin}/client.json`;
    const redirectUri = 'http://127.0.0.1:53682/callback';
    const name = 'שלום Tools';
    pages.set('/client.json', {
      type: 'application/json',
      body: JSON.stringify({ client_id: clientId, client_name: name, redirect_uris: [redirectUri] }),
    });
    const as = await discover(gateway.url);
    const url = new URL(as.authorization_endpoint as string);
    for (const [key, value] of Object.entries({
      client_id: clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      scope: 'mcp:read mcp:write',
    })) {
      url.searchParams.set(key, value);
    }
    const page = await newPage();
    const response = await page.goto(url.href);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['referrer-policy']).toBe('same-origin');
    await expect(page.locator('strong > bdi').first().innerText()).resolves.toBe(name);
    const text = await page.locator('body').innerText();
    expect(text).toContain(`${new URL(other.origin).host} publishes its description`);
    expect(text).toContain('any program running on it could receive the result');
    await expect(page.locator('li').allInnerTexts()).resolves.toEqual(['mcp:read', 'mcp:write']);
  });
});
