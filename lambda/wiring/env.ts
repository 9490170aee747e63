/**
 * Readers of the function environment (names in contract/environment.ts), used by the wiring
 * at module load so a misconfigured function fails at its first cold start, not on some later
 * request.
 */

import { type EnvSource, readList, readRedirectUriPolicy, readSeconds } from '../contract/environment.js';
import type { RedirectUriPolicy } from '../contract/settings.js';

export function listEnv(name: string, env: EnvSource = process.env): string[] {
  return readList(env, name);
}

export function secondsEnv(name: string, fallback: number, env: EnvSource = process.env): number {
  return readSeconds(env, name, fallback);
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Missing required environment variable ${name}`);
  return value;
}

export function redirectUriPolicyFromEnv(env: EnvSource = process.env): RedirectUriPolicy {
  return readRedirectUriPolicy(env);
}
