/**
 * Settings that synthesize but would fail at deploy time (or deploy something that makes no
 * sense) are refused here, at synth. One function per rule; each names the setting and the
 * allowed range. Values that are CDK tokens are resolved only at deploy time and are skipped.
 */
import { type Duration, Token } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';

/** Words Cognito refuses anywhere in a domain prefix. */
export const COGNITO_RESERVED_WORDS = ['aws', 'amazon', 'cognito'] as const;

/** AWS WAF rate-based rules: the limit per evaluation window. */
export const WAF_RATE_LIMIT = { min: 10, max: 2_000_000_000 } as const;

function concrete(value: unknown): boolean {
  return !Token.isUnresolved(value);
}

/** Cognito domain prefix: lowercase letters, digits and hyphens, 1-63, no edge hyphen, no reserved word. */
export function cognitoDomainPrefix(name: string, value: string): void {
  if (!concrete(value)) return;
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(value)) {
    throw new Error(
      `${name} must be 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen, not "${value}"`,
    );
  }
  const reserved = COGNITO_RESERVED_WORDS.find((word) => value.includes(word));
  if (reserved) throw new Error(`${name} must not contain "${reserved}" (reserved by Cognito), not "${value}"`);
}

/** API Gateway stage name: letters, digits, hyphens and underscores, 1-128. */
export function stageName(name: string, value: string): void {
  if (!concrete(value)) return;
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(value)) {
    throw new Error(`${name} must be 1-128 letters, digits, hyphens or underscores, not "${value}"`);
  }
}

/** API Gateway method throttling: a non-negative rate (requests/s) and a non-negative whole burst. */
export function throttle(name: string, value: { rateLimit: number; burstLimit: number }): void {
  if (concrete(value.rateLimit) && !(Number.isFinite(value.rateLimit) && value.rateLimit >= 0)) {
    throw new Error(`${name}.rateLimit must be a number of requests per second >= 0, not ${value.rateLimit}`);
  }
  if (concrete(value.burstLimit) && !(Number.isInteger(value.burstLimit) && value.burstLimit >= 0)) {
    throw new Error(`${name}.burstLimit must be a whole number of requests >= 0, not ${value.burstLimit}`);
  }
}

/** A whole number within [min, max]. */
export function integerBetween(name: string, value: number, min: number, max: number): void {
  if (!concrete(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  }
}

/** A whole number, 0 or more (0 typically turning the setting off). */
export function nonNegativeInteger(name: string, value: number): void {
  integerBetween(name, value, 0, Number.MAX_SAFE_INTEGER);
}

/** A whole number of days or items, at least 1. */
export function positiveInteger(name: string, value: number): void {
  integerBetween(name, value, 1, Number.MAX_SAFE_INTEGER);
}

/** A share, such as an error rate: more than 0, at most 1. */
export function fraction(name: string, value: number): void {
  if (!concrete(value)) return;
  if (!(Number.isFinite(value) && value > 0 && value <= 1)) {
    throw new Error(`${name} must be more than 0 and at most 1 (a share, 0.01 = 1%), not ${value}`);
  }
}

/** A CloudWatch Logs retention period (1, 3, 5, 7, 14, 30, ... days, or infinite). */
export function logRetention(name: string, value: number): void {
  if (!concrete(value)) return;
  if (!Object.values(logs.RetentionDays).includes(value as logs.RetentionDays)) {
    throw new Error(
      `${name} must be a CloudWatch Logs retention period (1, 3, 5, 7, 14, 30, 60, 90, ...), not ${value}`,
    );
  }
}

/** A lowercase DNS name of at least two labels, each 1-63 letters, digits or inner hyphens; 253 at most. */
export function domainName(name: string, value: string): void {
  if (!concrete(value)) return;
  const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
  if (value.length > 253 || !new RegExp(`^${label}(?:\\.${label})+$`).test(value)) {
    throw new Error(
      `${name} must be a lowercase DNS name such as auth.example.com (labels of 1-63 letters, digits and ` +
        `inner hyphens, 253 characters at most), not "${value}"`,
    );
  }
}

/**
 * Token lifetimes, in whole seconds: each positive, and access token <= refresh idle <=
 * refresh absolute (an idle window longer than the chain's whole life, or an access token
 * outliving its refresh token, is a mistake rather than a policy).
 */
export function lifetimes(
  settings: { accessToken?: Duration; refreshTokenIdle?: Duration; refreshTokenAbsolute?: Duration },
  defaults: { accessToken: number; refreshTokenIdle: number; refreshTokenAbsolute: number },
): void {
  const names = {
    accessToken: 'accessTokenLifetime',
    refreshTokenIdle: 'refreshTokenIdleLifetime',
    refreshTokenAbsolute: 'refreshTokenAbsoluteLifetime',
  } as const;
  const seconds: Partial<Record<keyof typeof names, number>> = {};
  for (const key of Object.keys(names) as Array<keyof typeof names>) {
    const duration = settings[key];
    if (duration === undefined) {
      seconds[key] = defaults[key];
      continue;
    }
    if (duration.isUnresolved()) continue;
    const value = duration.toSeconds({ integral: false });
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`${names[key]} must be a positive whole number of seconds, not ${value}`);
    }
    seconds[key] = value;
  }
  const order = ['accessToken', 'refreshTokenIdle', 'refreshTokenAbsolute'] as const;
  for (let index = 1; index < order.length; index++) {
    const shorter = order[index - 1];
    const longer = order[index];
    const [a, b] = [seconds[shorter], seconds[longer]];
    if (a !== undefined && b !== undefined && a > b) {
      throw new Error(`${names[shorter]} (${a} s) must not exceed ${names[longer]} (${b} s)`);
    }
  }
}
