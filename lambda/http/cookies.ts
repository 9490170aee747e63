/**
 * The browser state of an authorization: host-only cookies, HttpOnly, SameSite=Lax, and Secure
 * everywhere but local mode over plain http (where the `__Host-` prefix cannot be used).
 */
import { parse, serialize } from 'cookie';

export interface CookieSettings {
  secure: boolean;
}

/** Binds a pending authorization to the browser that started it (consent CSRF, login CSRF). */
export const TRANSACTION_COOKIE = 'mcpgw_tx';
/** Clients this browser has approved, signed. */
export const CONSENT_COOKIE = 'mcpgw_consent';

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
