/**
 * The resource's Origin allow-list as a real browser meets it: Chromium decides what Origin a
 * page's fetch carries. A page of a listed origin reads the MCP server's answers; a page of
 * another origin gets nothing (the refusal has no CORS headers, so fetch rejects); without the
 * setting both read them, which is what keeps browser clients such as the Inspector working.
 * Both pages are on 127.0.0.1, on two ports: two origins that differ by port alone.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, launchChromium, warnIfNoChromium } from '../support/chromium.js';
import { useLocalServers } from '../support/local-server-fixture.js';

warnIfNoChromium('test/browser/origin-allow-list');

async function startPageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>client</title>');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe.skipIf(!HAVE_CHROMIUM)('Origin allow-list in Chromium', () => {
  const pages: Array<{ server: Server; origin: string }> = [];
  let browser: Browser;

  beforeAll(async () => {
    pages.push(await startPageServer(), await startPageServer());
  });
  afterAll(async () => {
    for (const { server } of pages) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const [restricted, open] = useLocalServers([() => ({ MCP_ALLOWED_ORIGINS: pages[0].origin }), {}], {
    when: () => HAVE_CHROMIUM,
  });

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function pageAt(origin: string): Promise<Page> {
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    return page;
  }

  /** What a script of the page gets from a POST /mcp (a 401: no token) and the resource metadata. */
  function readFrom(page: Page, gateway: string) {
    return page.evaluate(async (base) => {
      const attempt = async (input: string, init?: RequestInit) => {
        try {
          const response = await fetch(input, init);
          return { status: response.status, challenge: response.headers.get('www-authenticate') };
        } catch (error) {
          return { failed: String(error) };
        }
      };
      return {
        mcp: await attempt(`${base}/mcp`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
        }),
        metadata: await attempt(`${base}/.well-known/oauth-protected-resource/mcp`),
      };
    }, gateway);
  }

  it('a listed origin reads the 401 challenge and the metadata', async () => {
    const result = await readFrom(await pageAt(pages[0].origin), restricted.url);
    expect(result.mcp).toMatchObject({ status: 401, challenge: expect.stringMatching(/^Bearer resource_metadata=/) });
    expect(result.metadata).toEqual({ status: 200, challenge: null });
  });

  it('another origin (another port) gets nothing it can read', async () => {
    const result = await readFrom(await pageAt(pages[1].origin), restricted.url);
    expect(result.mcp).toEqual({ failed: expect.stringContaining('Failed to fetch') });
    expect(result.metadata).toEqual({ failed: expect.stringContaining('Failed to fetch') });
  });

  it('without the setting, any origin reads them', async () => {
    for (const { origin } of pages) {
      const result = await readFrom(await pageAt(origin), open.url);
      expect(result.mcp).toMatchObject({ status: 401 });
      expect(result.metadata).toMatchObject({ status: 200 });
    }
  });
});
