/**
 * RFC 3986 as this server reads URIs: as raw text, split by the regular expression of
 * Appendix B (scheme made mandatory: only absolute URIs are dealt in), never normalized. Both
 * the redirect-URI policy and the Client ID Metadata Document rules use this one grammar, so a
 * URI is taken apart the same way wherever it is judged. The WHATWG URL parser normalizes
 * (`http://127.1` becomes `http://127.0.0.1/`), and a normalizing comparison is exactly the
 * leniency RFC 9700 forbids; callers use it only as a second opinion on well-formedness.
 */

export interface UriParts {
  scheme: string;
  /** undefined when the URI has no `//authority` part. */
  authority: string | undefined;
  path: string;
  query: string | undefined;
  fragment: string | undefined;
}

export interface Authority {
  /** undefined when the authority has no `@`. */
  userinfo: string | undefined;
  /** A reg-name or IPv4 address, or an IP-literal with its brackets; possibly empty. */
  host: string;
  /** Digits only, possibly empty (`host:`); undefined when there is no `:`. */
  port: string | undefined;
}

const URI_PARTS = /^([^:/?#]+):(\/\/([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?$/s;
/** RFC 3986 section 3.1. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
/** Characters RFC 3986 allows anywhere in a URI; `%` must start a two-hex-digit escape. */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
/** An IP-literal in brackets, or a host without `:`, `[` or `]`; then an optional port of digits. */
const HOST_PORT = /^(\[[^\]]*\]|[^:[\]]*)(?::([0-9]*))?$/;

/** True when every character is one RFC 3986 allows and every `%` is a complete escape. */
export function hasOnlyUriCharacters(uri: string): boolean {
  return URI_CHARACTERS.test(uri) && !BAD_PERCENT.test(uri);
}

/** The five components of an absolute URI, or undefined when it has no valid scheme. */
export function splitUri(uri: string): UriParts | undefined {
  const m = URI_PARTS.exec(uri);
  if (!m || !SCHEME.test(m[1])) return undefined;
  return { scheme: m[1], authority: m[3], path: m[4], query: m[6], fragment: m[8] };
}

/** userinfo, host and port of an authority, or undefined when host or port is malformed. */
export function splitAuthority(authority: string): Authority | undefined {
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const m = HOST_PORT.exec(at >= 0 ? authority.slice(at + 1) : authority);
  if (!m) return undefined;
  return { userinfo, host: m[1], port: m[2] };
}
