/**
 * The redirect-URI policy, in one place: which URIs a client may register, and whether a
 * requested redirect_uri matches one it registered. Registration and the /authorize
 * authorizer both call this module, so what is accepted and what is matched cannot drift.
 *
 * URIs are examined as raw text split by one RFC 3986 grammar (uri.ts), never normalized.
 *
 * A client's `application_type` (OpenID Connect Dynamic Client Registration 1.0 section 2, which
 * MCP SEP-837 asks clients to send) narrows what it may register:
 * - `web`: a client run on a server, so its redirect URIs are https on a host other than the
 *   person's own machine. A loopback URI (any scheme) would send its codes to whatever listens
 *   locally, and a private-use scheme to whichever app claimed the scheme: both refused.
 * - `native`: an app on the person's device: loopback and private-use URIs (RFC 8252 sections 7.1,
 *   7.3) and also claimed https URIs (RFC 8252 section 7.2; OpenID Connect allows native clients
 *   only the first two, but VS Code and others register https beside loopback). The deployment's
 *   private-use-scheme switch still applies.
 * - omitted: OpenID Connect would default to `web`; here it keeps the rules that held before
 *   clients sent the field (every rule above but the `web` one), so older clients, which register
 *   loopback and private-use URIs without it, still register.
 */
import { DEFAULT_REDIRECT_URI_POLICY, type RedirectUriPolicy } from '../contract/settings.js';
import { type Authority, hasOnlyUriCharacters, splitAuthority, splitUri, type UriParts } from './uri.js';

/** OpenID Connect Dynamic Client Registration 1.0 section 2 `application_type` values. */
export const APPLICATION_TYPES = ['web', 'native'] as const;
export type ApplicationType = (typeof APPLICATION_TYPES)[number];

export const REDIRECT_URI_LIMITS = { maxCount: 20, maxLength: 2000 } as const;

/** Hosts for which plain http is allowed and any port matches (RFC 8252 sections 7.3, 8.3). */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '[::1]', 'localhost'];

/** Schemes that can run code or read local data in a browser; never a redirect target. */
export const DANGEROUS_SCHEMES: readonly string[] = [
  'javascript',
  'data',
  'vbscript',
  'file',
  'blob',
  'about',
  'filesystem',
];

/**
 * Whether an http(s) URI's host is the person's own machine, as a resolver or browser would take it
 * (so read from the WHATWG-parsed host, which turns 127.1 and 2130706433 into 127.0.0.1):
 * localhost and its subdomains (RFC 6761 section 6.3), 127.0.0.0/8, [::1] and 0.0.0.0.
 */
function isLoopbackHost(uri: string): boolean {
  const host = new URL(uri).hostname.replace(/\.$/, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    /^127\.\d+\.\d+\.\d+$/.test(host) ||
    host === '[::1]' ||
    host === '0.0.0.0'
  );
}

/** Why a client of this application_type may not register a URI the rest of the policy allows. */
function applicationTypeProblem(uri: string, scheme: string, applicationType: ApplicationType): string | undefined {
  if (applicationType !== 'web') return undefined;
  if (scheme !== 'https' && scheme !== 'http') {
    return `uses the private-use scheme ${scheme}:, which a web client (application_type web) may not register; a native client may`;
  }
  if (isLoopbackHost(uri)) {
    return "is a loopback URI, which a web client (application_type web) may not register: its codes would reach whatever listens on the user's own machine; a native client may";
  }
  return undefined;
}

/**
 * Why a URI may not be registered, or undefined when it may. Messages name the rule broken.
 * `applicationType` is the client's `application_type`; omitted, no rule of it applies.
 */
export function redirectUriProblem(
  uri: unknown,
  policy: RedirectUriPolicy = DEFAULT_REDIRECT_URI_POLICY,
  applicationType?: ApplicationType,
): string | undefined {
  if (typeof uri !== 'string') return 'must be a string';
  if (uri.length === 0) return 'must not be empty';
  if (uri.length > REDIRECT_URI_LIMITS.maxLength) {
    return `must be at most ${REDIRECT_URI_LIMITS.maxLength} characters`;
  }
  if (!hasOnlyUriCharacters(uri)) {
    return 'contains characters not allowed in a URI (RFC 3986); percent-encode them';
  }
  if (uri.includes('*')) return 'must not contain a wildcard';
  const parts = splitUri(uri);
  if (!parts) return 'must be an absolute URI with a scheme';
  if (parts.fragment !== undefined) return 'must not contain a fragment (RFC 6749 section 3.1.2)';

  const scheme = parts.scheme.toLowerCase();
  if (DANGEROUS_SCHEMES.includes(scheme)) return `must not use the ${scheme}: scheme`;

  const authority = parts.authority === undefined ? undefined : splitAuthority(parts.authority);
  if (parts.authority !== undefined && !authority) return 'has a malformed host or port';
  if (authority?.userinfo !== undefined) return 'must not contain user information (user@host)';

  if (scheme === 'https' || scheme === 'http') {
    if (!authority || authority.host === '') return `must name a host after ${scheme}://`;
    if (!URL.canParse(uri)) return 'is not a valid URL';
    if (scheme === 'http' && !LOOPBACK_HOSTS.includes(authority.host)) {
      return 'may use http only for a loopback host (127.0.0.1, [::1] or localhost); use https';
    }
  } else {
    if (!policy.allowPrivateUseSchemes) {
      return 'must use https (or http on a loopback host); private-use schemes are disabled';
    }
    if (authority === undefined && parts.path === '') return 'must have a path';
  }

  if (policy.allowedHosts) {
    const host = authority?.host.toLowerCase();
    if (!host || !policy.allowedHosts.includes(host)) {
      return `must use one of the allowed hosts: ${policy.allowedHosts.join(', ')}`;
    }
  }
  return applicationType === undefined ? undefined : applicationTypeProblem(uri, scheme, applicationType);
}

function isLoopbackHttp(parts: UriParts, authority: Authority): boolean {
  return parts.scheme === 'http' && LOOPBACK_HOSTS.includes(authority.host);
}

/**
 * RFC 8252 section 7.3: a registered loopback redirect URI matches the same URI on any port.
 * Everything else (scheme, host, path, query) must be identical as text.
 */
function matchesLoopbackOnAnyPort(registered: string, requested: string): boolean {
  const r = splitUri(registered);
  const q = splitUri(requested);
  if (!r || !q || r.authority === undefined || q.authority === undefined) return false;
  const ra = splitAuthority(r.authority);
  const qa = splitAuthority(q.authority);
  if (!ra || !qa || ra.userinfo !== undefined || qa.userinfo !== undefined) return false;
  if (!isLoopbackHttp(r, ra)) return false;
  const portIsValid = qa.port === undefined || (qa.port !== '' && Number(qa.port) <= 65535);
  return (
    portIsValid &&
    q.scheme === r.scheme &&
    qa.host === ra.host &&
    q.path === r.path &&
    q.query === r.query &&
    q.fragment === undefined
  );
}

/**
 * The registered redirect URI that a request's redirect_uri selects, or undefined when none does.
 * An omitted redirect_uri selects the client's only registered URI, and nothing when it has several.
 */
export function matchRedirectUri(registered: readonly string[], requested: string | undefined): string | undefined {
  if (requested === undefined) return registered.length === 1 ? registered[0] : undefined;
  if (registered.includes(requested)) return requested;
  return registered.some((uri) => matchesLoopbackOnAnyPort(uri, requested)) ? requested : undefined;
}

/** Whether a registered redirect URI is a loopback one (RFC 8252 7.3): any program on the machine may listen there. */
export function isLoopbackRedirectUri(uri: string): boolean {
  const parts = splitUri(uri);
  const authority = parts?.authority === undefined ? undefined : splitAuthority(parts.authority);
  return parts !== undefined && authority !== undefined && isLoopbackHttp(parts, authority);
}
