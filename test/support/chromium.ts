/**
 * Headless Chromium for the browser suites: Debian's Chromium (`apt-get install chromium`) or
 * CHROMIUM_PATH, driven by playwright-core. This project downloads no browser; without one the
 * browser suites skip themselves and say why.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM_PATH);

/** Warns once per suite file that it is skipped, and how to run it. */
export function warnIfNoChromium(suite: string): void {
  if (HAVE_CHROMIUM) return;
  console.warn(
    `[${suite}] Skipping the browser tests: no Chromium at ${CHROMIUM_PATH}. ` +
      'Install it with `apt-get install chromium` (Debian/Ubuntu, as root), ' +
      'or set CHROMIUM_PATH to a Chromium binary.',
  );
}

/** A headless browser with nothing in the background that could reach the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
