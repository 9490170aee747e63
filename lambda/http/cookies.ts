/**
 * The browser state of an authorization: host-only cookies, HttpOnly, SameSite=Lax, and Secure
 * everywhere but local mode over plain http (where the `__Host-` prefix cannot be used).
 */
import { parse, serialize } from 'cookie';
import type { BrowserSlot, BrowserState } from '../domain/authorization-flow.js';

export interface CookieSettings {
  secure: boolean;
}

/** The cookie of each browser slot of the authorization flow. */
export const FLOW_COOKIES: Readonly<Record<BrowserSlot, string>> = {
  transaction: 'mcpgw_tx',
  consent: 'mcpgw_consent',
  account: 'mcpgw_account',
};

export function cookieName(settings: CookieSettings, name: string): string {
  // __Host-: Secure, Path=/, no Domain; a sibling subdomain cannot set or shadow it.
  return settings.secure ? `__Host-${name}` : name;
}

export function readCookie(
  headers: Record<string, string | undefined>,
  settings: CookieSettings,
  name: string,
): string | undefined {
  const header = headers.cookie;
  return header ? parse(header)[cookieName(settings, name)] : undefined;
}

export function setCookie(settings: CookieSettings, name: string, value: string, maxAgeSeconds: number): string {
  return serialize(cookieName(settings, name), value, {
    httpOnly: true,
    secure: settings.secure,
    sameSite: 'lax',
    path: '/',
    maxAge: maxAgeSeconds,
  });
}

export function clearCookie(settings: CookieSettings, name: string): string {
  return setCookie(settings, name, '', 0);
}

/** The Set-Cookie headers for what the flow says the browser must keep or forget. */
export function browserCookies(settings: CookieSettings, states: readonly BrowserState[]): string[] {
  return states.map((state) =>
    'clear' in state
      ? clearCookie(settings, FLOW_COOKIES[state.clear])
      : setCookie(settings, FLOW_COOKIES[state.set], state.value, state.maxAgeSeconds),
  );
}
