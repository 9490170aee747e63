/**
 * The consent flow in a real browser: Debian's Chromium, driven by playwright-core, from the
 * authorization URL through the gateway's consent page and the development provider's login
 * and consent to the client's redirect URI, then the code exchanged with oauth4webapi.
 *
 * Chromium is not downloaded by this project: install it with `apt-get install chromium`
 * (or point CHROMIUM_PATH at a Chromium binary). Without it the suite is skipped.
 *
 * The consent page's screenshot is written to test/.tmp/consent-page.png on every run; with
 * UPDATE_SCREENSHOTS=1 it goes to docs/consent-page.png (the README's image) instead.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import * as oauth from 'oauth4webapi';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, launchChromium, warnIfNoChromium } from '../support/chromium.js';
import { useLocalServer } from '../support/local-server-fixture.js';
import {
  type AuthorizationAttempt,
  authorizationUrl,
  discover,
  INSECURE,
  type RegisteredTestClient,
  registerTestClient,
} from '../support/oauth-flow.js';

const SCREENSHOT_PATH = process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/consent-page.png' : 'test/.tmp/consent-page.png';
const CLIENT_NAME = 'Example MCP Client';

warnIfNoChromium('test/browser/consent-flow');

/** Answers every request with 200 "done", so the browser has somewhere to land. */
async function startCallbackServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('done');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

describe.skipIf(!HAVE_CHROMIUM)('consent flow in Chromium', () => {
  let as: oauth.AuthorizationServer;
  let callback: { server: Server; origin: string };
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  // One at a time, each with its own afterAll, so that whatever did start is stopped if a later step fails.
  beforeAll(async () => {
    callback = await startCallbackServer();
  });
  afterAll(async () => {
    if (callback) await closeServer(callback.server);
  });

  const gateway = useLocalServer();

  beforeAll(async () => {
    browser = await launchChromium();
    as = await discover(gateway.url);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
  });

  /**
   * A fresh browser profile (no cookies) whose requests stay on 127.0.0.1: anything else is
   * refused at once (the development provider's pages import a Google web font).
   */
  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    contexts.push(context);
    context.setDefaultTimeout(15_000);
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      return route.abort('blockedbyclient');
    });
    return context.newPage();
  }

  async function start(): Promise<{ registered: RegisteredTestClient; attempt: AuthorizationAttempt; page: Page }> {
    const registered = await registerTestClient(as, 'none', `${callback.origin}/callback`, {
      client_name: CLIENT_NAME,
    });
    const attempt = await authorizationUrl(as, registered);
    const page = await newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const response = await page.goto(attempt.url.href);
    expect(response?.status()).toBe(200);
    // The consent page is self-contained: every request it caused went to the gateway.
    expect(requested.filter((url) => !url.startsWith(`${gateway.url}/`))).toEqual([]);
    await expect(page.title()).resolves.toBe(`Allow ${CLIENT_NAME} to connect?`);
    return { registered, attempt, page };
  }

  /** From the development provider's login page to the client's redirect URI. */
  async function signInUpstream(page: Page, registered: RegisteredTestClient): Promise<URL> {
    await page.locator('input[name="login"]').waitFor();
    await page.locator('input[name="login"]').fill('alice');
    await page.locator('input[name="password"]').fill('any-password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    // The provider's own consent page for the gateway, asked once per browser session.
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.href.startsWith(registered.redirectUri));
    expect(await page.locator('body').innerText()).toBe('done');
    return new URL(page.url());
  }

  /** The callback carries a code, our state and the issuer; the code buys an access token. */
  async function expectTokens(landed: URL, registered: RegisteredTestClient, attempt: AuthorizationAttempt) {
    expect(landed.origin + landed.pathname).toBe(registered.redirectUri);
    expect(landed.searchParams.get('error')).toBeNull();
    expect(landed.searchParams.get('code')).toEqual(expect.any(String));
    expect(landed.searchParams.get('state')).toBe(attempt.state);
    expect(landed.searchParams.get('iss')).toBe(gateway.url);

    const params = oauth.validateAuthResponse(as, registered.client, landed, attempt.state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      registered.client,
      registered.auth,
      params,
      registered.redirectUri,
      attempt.codeVerifier,
      INSECURE,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(as, registered.client, response);
    expect(tokens.access_token).toEqual(expect.any(String));
    expect(tokens.token_type).toBe('bearer');
  }

  it('shows the client and where it returns, then signs in and returns a code', async () => {
    const { registered, attempt, page } = await start();

    await expect(page.getByRole('heading', { level: 1 }).innerText()).resolves.toBe(`Allow ${CLIENT_NAME} to connect?`);
    const text = await page.locator('body').innerText();
    expect(text).toContain(`${CLIENT_NAME} wants to use ${new URL(gateway.url).host} on your behalf.`);
    expect(text).toContain(`you will be sent back to ${new URL(registered.redirectUri).host}.`);

    mkdirSync(dirname(SCREENSHOT_PATH), { recursive: true });
    await page.screenshot({ path: SCREENSHOT_PATH });

    await page.getByRole('button', { name: 'Allow and sign in' }).click();
    await expectTokens(await signInUpstream(page, registered), registered, attempt);
  });

  it("goes forward on Enter: Tab lands on Allow, the form's first and default button", async () => {
    const { registered, attempt, page } = await start();

    // The form's default button (the one implicit submission uses) is its first submit button.
    const form = page.locator('form');
    await expect(form.locator('button[type="submit"]').first().innerText()).resolves.toBe('Allow and sign in');

    // A keyboard user: Tab reaches the form, landing on its first button; Enter presses it.
    await page.keyboard.press('Tab');
    await expect(page.locator(':focus').innerText()).resolves.toBe('Allow and sign in');
    await page.keyboard.press('Enter');

    await expectTokens(await signInUpstream(page, registered), registered, attempt);
  });
});
