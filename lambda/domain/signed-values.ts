/**
 * HMAC-signed values for cookies and form tokens: tamper-evident, not secret. The key is a
 * deployment secret (Secrets Manager deployed, a file in the data directory locally).
 */
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from './constant-time.js';

function mac(key: string, purpose: string, value: string): string {
  // The purpose is part of the MAC so a value signed for one use never verifies for another.
  return createHmac('sha256', key).update(`${purpose}\n${value}`).digest('base64url');
}

export function signValue(key: string, purpose: string, value: string): string {
  return `${Buffer.from(value).toString('base64url')}.${mac(key, purpose, value)}`;
}

/** The value, when the signature is good; undefined otherwise. */
export function verifySignedValue(key: string, purpose: string, signed: string | undefined): string | undefined {
  if (!signed) return undefined;
  const dot = signed.indexOf('.');
  if (dot < 0) return undefined;
  const value = Buffer.from(signed.slice(0, dot), 'base64url').toString();
  return constantTimeEqual(signed.slice(dot + 1), mac(key, purpose, value)) ? value : undefined;
}

/** A token that proves a form was rendered by this server for this value (CSRF defence). */
export function formToken(key: string, value: string): string {
  return mac(key, 'form', value);
}

export function formTokenMatches(key: string, value: string, token: string | undefined): boolean {
  if (!token) return false;
  return constantTimeEqual(token, formToken(key, value));
}
