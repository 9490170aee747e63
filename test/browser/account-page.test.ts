/**
 * The connected apps page in a real browser (Debian's Chromium, driven by playwright-core): a
 * person approves a client on the consent page and signs in, opens /account, sees the client and
 * presses Remove access; the page then lists nothing, the client's refresh token is refused, and
 * the next connection of that client in this browser shows the consent page again. No
 * JavaScript on the page: the browser's own form submission and cookies do everything.
 *
 * Without Chromium (`apt-get install chromium`, or CHROMIUM_PATH) the suite is skipped.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oauth from 'oauth4webapi';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, launchChromium, warnIfNoChromium } from '../support/chromium.js';
import { useLocalServer } from '../support/local-server-fixture.js';
import { authorizationUrl, discover, INSECURE, registerTestClient } from '../support/oauth-flow.js';

const CLIENT_NAME = 'Browser Notes';

warnIfNoChromium('test/browser/account-page');

describe.skipIf(!HAVE_CHROMIUM)('connected apps page in Chromium', () => {
  let callback: Server;
  let callbackOrigin: string;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    callback = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('done'));
    await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
    callbackOrigin = `http://127.0.0.1:${(callback.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    callback?.closeAllConnections();
    await new Promise((resolve) => (callback ? callback.close(resolve) : resolve(undefined)));
  });

  const gateway = useLocalServer();

  beforeAll(async () => {
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    context.setDefaultTimeout(15_000);
    // Nothing but 127.0.0.1 (the development provider's pages import a web font).
    await context.route('**/*', (route) =>
      new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort('blockedbyclient'),
    );
  });
  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close();
  });

  /** The development provider's login (and its one-time consent for the gateway), if it asks. */
  async function signInIfAsked(page: Page, until: (url: URL) => boolean) {
    if (until(new URL(page.url()))) return;
    await page.locator('input[name="login"]').waitFor();
    await page.locator('input[name="login"]').fill('alice');
    await page.locator('input[name="password"]').fill('any-password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    const consent = page.getByRole('button', { name: 'Continue' });
    await Promise.race([consent.click().catch(() => {}), page.waitForURL(until)]);
    await page.waitForURL(until);
  }

  it('lists the approved app, removes it with one press, and the next connection asks again', async () => {
    const as = await discover(gateway.url);
    const registered = await registerTestClient(as, 'none', `${callbackOrigin}/cb`, { client_name: CLIENT_NAME });
    const returned = (url: URL) => url.href.startsWith(registered.redirectUri);

    // Approve and sign in, as a person connecting the app.
    const page = await context.newPage();
    const attempt = await authorizationUrl(as, registered, { scope: 'offline_access' });
    await page.goto(attempt.url.href);
    await page.getByRole('button', { name: 'Allow and sign in' }).click();
    await signInIfAsked(page, returned);
    const params = oauth.validateAuthResponse(as, registered.client, new URL(page.url()), attempt.state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      registered.client,
      await oauth.authorizationCodeGrantRequest(
        as,
        registered.client,
        registered.auth,
        params,
        registered.redirectUri,
        attempt.codeVerifier,
        INSECURE,
      ),
    );

    // The connected apps page: signed in through the provider (its session lets it through).
    const onAccount = (url: URL) => url.href === `${gateway.url}/account`;
    await page.goto(`${gateway.url}/account`);
    await signInIfAsked(page, onAccount);
    await expect(page.getByRole('heading', { level: 1 }).innerText()).resolves.toBe('Connected apps');
    const item = page.getByRole('listitem').filter({ hasText: CLIENT_NAME });
    await expect(item.innerText()).resolves.toContain(new URL(callbackOrigin).host);
    await expect(item.innerText()).resolves.toContain('offline_access');

    await item.getByRole('button', { name: 'Remove access' }).click();
    await page.waitForURL(onAccount);
    await expect(page.locator('body').innerText()).resolves.toContain('No app has access to your account.');

    const refused = await oauth.refreshTokenGrantRequest(
      as,
      registered.client,
      registered.auth,
      tokens.refresh_token as string,
      INSECURE,
    );
    expect(refused.status).toBe(400);

    // This browser forgot approving it: the consent page again, not a silent code.
    const again = await authorizationUrl(as, registered, { scope: 'offline_access' });
    await page.goto(again.url.href);
    await expect(page.title()).resolves.toBe(`Allow ${CLIENT_NAME} to connect?`);
  });
});
