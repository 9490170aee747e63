/**
 * The rest of an authorization request (RFC 6749 4.1.1, RFC 7636), judged once the
 * authorizer has verified client and redirect URI. Errors here are safe to report by
 * redirect, so each is an OAuthError that the backend sends to the verified redirect URI.
 */
import { PROMPT_VALUES, type PromptValue } from '../contract/capabilities.js';
import { OAuthError } from './oauth-error.js';

/** OpenID Connect Core 3.1.2.1 `prompt` values this server acts on. */
export type Prompt = PromptValue;

export interface AuthorizationRequest {
  responseType: 'code';
  codeChallenge: string;
  codeChallengeMethod: 'S256';
  state?: string;
  scope?: string;
  resource?: string;
  /** The prompt values asked for; `select_account` and unknown values are ignored. */
  prompt: ReadonlySet<Prompt>;
  /** OpenID Connect `max_age`: seconds since the person last signed in at the provider. */
  maxAge?: number;
}

const PROMPTS: readonly string[] = PROMPT_VALUES;

function parsePrompt(value: string | undefined): Set<Prompt> {
  const values = (value ?? '').split(' ').filter(Boolean);
  const prompts = new Set(values.filter((item): item is Prompt => PROMPTS.includes(item)));
  // OIDC Core 3.1.2.1: none with any other value is an error.
  if (values.includes('none') && values.length > 1) {
    throw new OAuthError('invalid_request', 'prompt=none cannot be combined with other prompt values.');
  }
  return prompts;
}

function parseMaxAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new OAuthError('invalid_request', 'max_age must be a whole number of seconds.');
  return Number(value);
}

// RFC 7636 4.2: a code challenge is 43 to 128 unreserved characters (S256 yields exactly 43).
const CODE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;

export function parseAuthorizationRequest(params: Readonly<Record<string, string>>): AuthorizationRequest {
  const responseType = params.response_type;
  if (!responseType) throw new OAuthError('invalid_request', 'response_type is required.');
  if (responseType !== 'code') {
    throw new OAuthError('unsupported_response_type', 'Only response_type=code is supported.');
  }
  const codeChallenge = params.code_challenge;
  if (!codeChallenge) throw new OAuthError('invalid_request', 'code_challenge is required (PKCE, RFC 7636).');
  if (params.code_challenge_method !== 'S256') {
    throw new OAuthError('invalid_request', 'code_challenge_method must be S256.');
  }
  if (!CODE_CHALLENGE.test(codeChallenge)) {
    throw new OAuthError('invalid_request', 'code_challenge must be 43 to 128 unreserved characters.');
  }
  const prompt = parsePrompt(params.prompt);
  const maxAge = parseMaxAge(params.max_age);
  return {
    responseType: 'code',
    codeChallenge,
    codeChallengeMethod: 'S256',
    prompt,
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(params.state !== undefined ? { state: params.state } : {}),
    ...(params.scope !== undefined ? { scope: params.scope } : {}),
    ...(params.resource !== undefined ? { resource: params.resource } : {}),
  };
}

/**
 * The redirect carrying an authorization response (RFC 6749 4.1.2): parameters are appended to
 * the redirect URI's own query, never replacing it, and a fragment is impossible (refused at
 * registration).
 */
export function redirectWithParams(redirectUri: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.append(name, value);
  const separator = redirectUri.includes('?') ? '&' : '?';
  return `${redirectUri}${separator}${query.toString()}`;
}
