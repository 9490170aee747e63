/**
 * Per-tool scope checks for a Node MCP server behind the gateway: the same `403` challenge the
 * gateway's token authorizer answers, for scopes only some tools need.
 *
 *   import { InsufficientScopeError, requireScopes } from 'mcp-oauth-gateway/require-scopes';
 *   try {
 *     requireScopes(req.auth ?? req.headers['x-mcp-gateway-scope'], ['files:write'], { resourceMetadata });
 *   } catch (error) {
 *     if (error instanceof InsufficientScopeError) return res.status(403).set(error.headers).json(error.body);
 *     throw error;
 *   }
 *
 * The first argument is the SDK's `AuthInfo` (its `scopes`), a list, or the space-separated
 * `x-mcp-gateway-scope` header. A server on the web Fetch API answers `error.toResponse()`.
 */
import {
  type GrantedScopes,
  INSUFFICIENT_SCOPE_DESCRIPTION,
  insufficientScopeChallenge,
  missingScopes,
} from './domain/resource-scopes.js';

export interface RequireScopesOptions {
  /** The resource's RFC 9728 metadata URL, named in the challenge. */
  resourceMetadata: string;
}

/** A valid token without a scope the call needs: answer it with `statusCode`, `headers` and `body`. */
export class InsufficientScopeError extends Error {
  readonly statusCode = 403;
  readonly error = 'insufficient_scope';
  /** The value of the `WWW-Authenticate` header. */
  readonly wwwAuthenticate: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { error: 'insufficient_scope'; error_description: string; scope: string };

  constructor(
    /** The scopes the challenge names: all that the call requires. */
    readonly required: readonly string[],
    /** The ones the token lacks. */
    readonly missing: readonly string[],
    options: RequireScopesOptions,
  ) {
    super(INSUFFICIENT_SCOPE_DESCRIPTION);
    this.name = 'InsufficientScopeError';
    this.wwwAuthenticate = insufficientScopeChallenge({ resourceMetadata: options.resourceMetadata, required });
    this.headers = { 'WWW-Authenticate': this.wwwAuthenticate, 'Cache-Control': 'no-store' };
    this.body = {
      error: 'insufficient_scope',
      error_description: INSUFFICIENT_SCOPE_DESCRIPTION,
      scope: required.join(' '),
    };
  }

  /** The 403 as a web Response. */
  toResponse(): Response {
    return new Response(JSON.stringify(this.body), {
      status: this.statusCode,
      headers: { ...this.headers, 'Content-Type': 'application/json' },
    });
  }
}

/** The refusal for a token lacking a required scope, or undefined when it carries them all. */
export function checkScopes(
  granted: GrantedScopes,
  required: readonly string[],
  options: RequireScopesOptions,
): InsufficientScopeError | undefined {
  const missing = missingScopes(granted, required);
  return missing.length === 0 ? undefined : new InsufficientScopeError(required, missing, options);
}

/** Throws InsufficientScopeError unless `granted` holds every scope in `required`. */
export function requireScopes(
  granted: GrantedScopes,
  required: readonly string[],
  options: RequireScopesOptions,
): void {
  const refusal = checkScopes(granted, required, options);
  if (refusal) throw refusal;
}

export type { GrantedScopes } from './domain/resource-scopes.js';
