/**
 * A signed-in visit to the person's connected apps page (/account): who signed in, a random id
 * the page's forms are bound to (CSRF), and when it ends. It lives in a cookie signed for this
 * purpose only, so no other signed value (a transaction, remembered consent) passes for it.
 */
import { DEFAULT_LIFETIMES } from '../contract/environment.js';
import { newSecret } from './credentials.js';
import { signValue, verifySignedValue } from './signed-values.js';

const ACCOUNT_PURPOSE = 'mcpgw_account';

export interface AccountSession {
  /** The upstream provider's `sub`: whose grants the page lists and may end. */
  subject: string;
  /** 256 random bits: what the page's form tokens are made from. */
  id: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/** A new session for this person, as the signed cookie value and its lifetime. */
export function openAccountSession(
  cookieKey: string,
  subject: string,
  now: number,
): { value: string; maxAgeSeconds: number } {
  const lifetime = DEFAULT_LIFETIMES.accountSession;
  const session: AccountSession = { subject, id: newSecret(), expiresAt: now + lifetime };
  return { value: signValue(cookieKey, ACCOUNT_PURPOSE, JSON.stringify(session)), maxAgeSeconds: lifetime };
}

/** The session this cookie holds, if this server signed it and it has not ended. */
export function readAccountSession(
  cookieKey: string,
  cookie: string | undefined,
  now: number,
): AccountSession | undefined {
  const value = verifySignedValue(cookieKey, ACCOUNT_PURPOSE, cookie);
  if (value === undefined) return undefined;
  try {
    const session = JSON.parse(value) as Partial<AccountSession>;
    if (
      typeof session.subject !== 'string' ||
      session.subject === '' ||
      typeof session.id !== 'string' ||
      typeof session.expiresAt !== 'number' ||
      session.expiresAt <= now
    ) {
      return undefined;
    }
    return { subject: session.subject, id: session.id, expiresAt: session.expiresAt };
  } catch {
    return undefined;
  }
}

/** What the page's forms are bound to: this session, and nothing a consent form is bound to. */
export const accountFormBinding = (session: AccountSession) => `account\n${session.id}`;
