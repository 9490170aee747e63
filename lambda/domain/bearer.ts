/**
 * RFC 6750 Bearer tokens in the Authorization header, both ways: the one parser of
 * `Authorization: Bearer <token>` (the token authorizer, client management, the initial access
 * token and the MCP server all read it here), and the `WWW-Authenticate: Bearer` challenge
 * (section 3), which the protected resource points at its RFC 9728 metadata as the MCP
 * authorization specification requires.
 */

/** RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** The auth-scheme, any case (RFC 9110 section 11.1), as a whole word. */
const BEARER_SCHEME = /^bearer(?=\s|$)/i;
/** After the scheme: one or more spaces (1*SP), then the token. */
const CREDENTIALS = /^ +(.*)$/s;

/** What an Authorization header says about a Bearer token. */
export type BearerCredentials =
  /** No header, or another scheme (Basic, say): RFC 6750 3.1 answers with a bare challenge. */
  | { kind: 'absent' }
  /** `Bearer` with nothing, or with something that is not a b64token. */
  | { kind: 'malformed' }
  | { kind: 'token'; token: string };

/** Reads `Bearer <b64token>` from an Authorization header value (surrounding whitespace ignored). */
export function bearerCredentials(header: string | undefined): BearerCredentials {
  const value = header?.trim() ?? '';
  if (!BEARER_SCHEME.test(value)) return { kind: 'absent' };
  const token = CREDENTIALS.exec(value.slice('bearer'.length))?.[1];
  return token !== undefined && B64TOKEN.test(token) ? { kind: 'token', token } : { kind: 'malformed' };
}

/** The token of a well-formed Bearer header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const credentials = bearerCredentials(header);
  return credentials.kind === 'token' ? credentials.token : undefined;
}

/** True when `value` could travel as a Bearer token at all. */
export function isB64Token(value: string): boolean {
  return B64TOKEN.test(value);
}

/** RFC 6750 section 3.1 error codes. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export interface BearerChallenge {
  /** RFC 9728 section 5.1: URL of the protected resource metadata (the MCP endpoint's challenges). */
  resourceMetadata?: string;
  /** Omitted when the request carried no token (RFC 6750 section 3.1: SHOULD NOT include one then). */
  error?: BearerErrorCode;
  errorDescription?: string;
  /** Space-separated scopes the resource needs; used with insufficient_scope (RFC 6750 section 3). */
  scope?: string;
}

/**
 * RFC 9110 section 5.6.4 quoted-string: backslash-escapes `"` and `\`. Control characters have
 * no representation at all (CR or LF would split the header), so a value holding one is refused.
 */
export function quotedString(value: string): string {
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    throw new Error('A quoted-string cannot hold control characters');
  }
  return `"${value.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}

/**
 * RFC 6750 section 3: error_description and scope values are limited to printable ASCII
 * without `"` and `\` (%x20-21 / %x23-5B / %x5D-7E). Descriptions are ours, but a value out of
 * range is replaced rather than refused: a challenge must always be producible.
 */
function restrictedToken(value: string): string {
  return value.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

/** The value of a `WWW-Authenticate` header: `Bearer [resource_metadata="…", ][error="…", …]`. */
export function bearerChallenge(challenge: BearerChallenge = {}): string {
  const params: string[] = [];
  if (challenge.resourceMetadata !== undefined) {
    params.push(`resource_metadata=${quotedString(challenge.resourceMetadata)}`);
  }
  if (challenge.error) {
    params.push(`error=${quotedString(challenge.error)}`);
    if (challenge.errorDescription) {
      params.push(`error_description=${quotedString(restrictedToken(challenge.errorDescription))}`);
    }
  }
  if (challenge.scope) params.push(`scope=${quotedString(restrictedToken(challenge.scope))}`);
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}
