/**
 * A protected resource's Origin allow-list (MCP transports: a server MUST validate `Origin`, and
 * answer `403` when it is present and not acceptable). Off by default, and why: the credential
 * is a bearer token in the Authorization header, never a cookie, so a page of another origin
 * has nothing ambient to use; DNS rebinding cannot reach a deployed API (API Gateway answers only
 * its own host names, over TLS) and local mode checks `Host` instead (local/host-check.ts).
 * Browser clients such as the MCP Inspector (its own origin, a port on localhost) therefore work
 * with no setting. A team whose MCP server is called from known web apps only lists them.
 *
 * A request without `Origin` (every non-browser client: SDKs, CLIs, agents) is never refused; a
 * request with one passes only if it equals a listed origin (case-insensitive, as browsers
 * serialize it: scheme, host, port if not the default). Deployed, a rule of the gateway's web
 * ACL enforces it (web-acl.ts) before the authorizer, for preflights too; locally the local
 * gateway does (local/gateway.ts). Both answer with ORIGIN_REFUSAL.
 */
/** The most origins one resource lists: each is one string match in the web ACL's rule. */
export const MAX_ALLOWED_ORIGINS = 10;

/** The answer to a refused Origin, deployed and local alike. */
export const ORIGIN_REFUSAL = {
  statusCode: 403,
  body: JSON.stringify({
    error: 'access_denied',
    error_description: 'This MCP server does not accept requests from the Origin this request came from.',
  }),
} as const;

/** RFC 6454 serialized origin: scheme "://" host [":" port], nothing after it. */
const SERIALIZED_ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/;

/**
 * The allow-list as the checks compare it (lowercased), or an error naming the setting and the
 * value that is not an origin. `*` and `null` are refused: one means no list, the other is what
 * sandboxed and privacy-sensitive contexts send and names no one. A CDK token is refused too:
 * the web ACL's rule is built from the values at synth.
 */
export function allowedOrigins(name: string, values: readonly string[]): string[] {
  if (values.length === 0 || values.length > MAX_ALLOWED_ORIGINS) {
    throw new Error(`${name} must list 1 to ${MAX_ALLOWED_ORIGINS} origins, not ${values.length}`);
  }
  return values.map((value) => {
    const origin = value.toLowerCase();
    // An http(s) origin is what the URL parser serializes (no default port, a port up to 65535).
    const web = /^https?:/.test(origin) && URL.canParse(origin) ? new URL(origin).origin : undefined;
    if (
      !SERIALIZED_ORIGIN.test(origin) ||
      (web !== undefined && web !== origin) ||
      Number(/:(\d+)$/.exec(origin)?.[1] ?? 0) > 65535
    ) {
      throw new Error(
        `${name}: "${value}" is not an origin (scheme://host[:port], no path or trailing slash, e.g. https://app.example.com)`,
      );
    }
    return origin;
  });
}

/** Whether a request with these Origin header values may pass: none, or exactly one listed. */
export function originAccepted(allowed: readonly string[], origin: readonly string[] | undefined): boolean {
  if (origin === undefined || origin.length === 0) return true;
  return origin.length === 1 && allowed.includes(origin[0].toLowerCase());
}
