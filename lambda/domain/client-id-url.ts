/**
 * Which client_id values are Client Identifier URLs (draft-ietf-oauth-client-id-metadata-document,
 * section "Client Identifier URL"; MCP 2025-11-25 authorization). The draft's rules, and where this
 * module is stricter than the draft:
 *
 * - MUST use the `https` scheme. Here: written exactly `https` (lower case), since client IDs are
 *   compared as strings and a server has no reason to accept `HTTPS://` spellings.
 * - MUST NOT contain a userinfo component: no `@` in the authority.
 * - MAY contain a port: digits only, 1 to 65535 (an empty port, `host:/`, is refused).
 * - MUST contain a path component. Here also: not the bare `/`, which the draft only calls
 *   NOT RECOMMENDED (the document would sit at the root of the site).
 * - MUST NOT contain single-dot or double-dot path segments: `.`, `..` and their percent-encoded
 *   forms (`%2e`, `.%2E`, ...), which URL parsers also treat as dot segments.
 * - SHOULD NOT contain a query component. Here: refused (no `?` at all, not even an empty query).
 *   This is the one rule where the draft is softer; the server is free to be stricter.
 * - MUST NOT contain a fragment component: no `#`.
 *
 * In addition: only characters RFC 3986 allows (so no spaces, backslashes, controls or raw
 * non-ASCII; percent-encode them), every `%` followed by two hex digits, a non-empty host, the
 * WHATWG URL parser must accept the string, and at most CLIENT_ID_URL_MAX_LENGTH characters.
 * The URL is examined as raw text, never normalized: the draft requires simple string comparison.
 *
 * With `allowLoopbackHttp` (local development only) `http://127.0.0.1[:port]/path` and
 * `http://localhost[:port]/path` also count, under the same rules otherwise.
 */

import { hasOnlyUriCharacters, splitAuthority, splitUri } from './uri.js';

/** Longer than any redirect URI we accept, but well under common request-line limits (8 KiB). */
export const CLIENT_ID_URL_MAX_LENGTH = 4096;

/** Hosts for which `http` is allowed when the loopback switch is on. */
export const LOOPBACK_HTTP_HOSTS: readonly string[] = ['127.0.0.1', 'localhost'];

export interface ClientIdUrlOptions {
  /** Development switch: also accept http on 127.0.0.1 and localhost. Never on in production. */
  allowLoopbackHttp?: boolean;
}

const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/** Why `clientId` is not a Client Identifier URL, or undefined when it is one. */
export function clientIdUrlProblem(clientId: string, options: ClientIdUrlOptions = {}): string | undefined {
  if (clientId.length > CLIENT_ID_URL_MAX_LENGTH) {
    return `must be at most ${CLIENT_ID_URL_MAX_LENGTH} characters`;
  }
  if (!hasOnlyUriCharacters(clientId)) return 'contains characters not allowed in a URL (RFC 3986)';
  const parts = splitUri(clientId);
  if (!parts) return 'is not an absolute URL';
  const { scheme, path } = parts;
  if (parts.fragment !== undefined) return 'must not contain a fragment';
  if (parts.query !== undefined) return 'must not contain a query';
  if (parts.authority === undefined) return 'must have a host';
  if (parts.authority.includes('@')) return 'must not contain user information (user@host)';
  const authority = splitAuthority(parts.authority);
  if (!authority) return 'has a malformed host or port';
  const { host, port } = authority;
  if (host === '') return 'must have a host';
  if (port !== undefined && (port === '' || port.length > 5 || Number(port) < 1 || Number(port) > 65535)) {
    return 'has an invalid port';
  }
  if (scheme !== 'https') {
    const loopback = options.allowLoopbackHttp === true && scheme === 'http' && LOOPBACK_HTTP_HOSTS.includes(host);
    if (!loopback) return 'must use the https scheme';
  }
  if (path === '' || path === '/') return 'must have a path other than /';
  if (path.split('/').some((segment) => DOT_SEGMENT.test(segment))) {
    return 'must not contain . or .. path segments';
  }
  if (!URL.canParse(clientId)) return 'is not a valid URL';
  return undefined;
}

/** True when `clientId` names a Client ID Metadata Document the server should fetch. */
export function isClientIdMetadataUrl(clientId: string, options: ClientIdUrlOptions = {}): boolean {
  return clientIdUrlProblem(clientId, options) === undefined;
}
