/**
 * Scopes at the protected resource (MCP authorization, scope challenge handling; RFC 6750
 * section 3.1): which required scopes a token lacks, and the `403 insufficient_scope` challenge
 * that names all of them, so a client can step up in one authorization request. Pure: the token
 * authorizer, the gateway responses (through a test that pins them equal) and `requireScopes`
 * for a Node MCP backend all answer with this one shape.
 */
import { bearerChallenge } from './bearer.js';

/** OIDC's refresh-token request; an authorization-server matter, never a resource's scope. */
export const OFFLINE_ACCESS = 'offline_access';

/** The one sentence every insufficient_scope refusal carries (printable, no quotes). */
export const INSUFFICIENT_SCOPE_DESCRIPTION = 'The access token lacks a scope this resource needs.';

/** Scopes as a space-separated string (as in a token), a list, or the SDK's `AuthInfo`. */
export type GrantedScopes = string | readonly string[] | { readonly scopes: readonly string[] } | undefined;

/** The granted scopes as a list, whatever shape they came in. */
export function grantedScopes(granted: GrantedScopes): string[] {
  if (granted === undefined) return [];
  if (typeof granted === 'string') return granted.split(' ').filter((scope) => scope !== '');
  if ('scopes' in granted) return [...granted.scopes];
  return [...(granted as readonly string[])];
}

/** The required scopes the token does not carry, in the order required; empty when admitted. */
export function missingScopes(granted: GrantedScopes, required: readonly string[]): string[] {
  const held = new Set(grantedScopes(granted));
  return required.filter((scope) => !held.has(scope));
}

/** A resource's required scopes, deduplicated, blank entries and offline_access dropped. */
export function normalizeRequiredScopes(required: readonly string[]): string[] {
  return [...new Set(required.map((scope) => scope.trim()))].filter(
    (scope) => scope !== '' && scope !== OFFLINE_ACCESS,
  );
}

/**
 * RFC 6750 section 3.1 `insufficient_scope`: `scope` names every scope the resource requires
 * (not only the missing ones), so the client's next authorization request asks for all of them
 * and the token it gets passes.
 */
export function insufficientScopeChallenge(input: { resourceMetadata: string; required: readonly string[] }): string {
  return bearerChallenge({
    resourceMetadata: input.resourceMetadata,
    error: 'insufficient_scope',
    errorDescription: INSUFFICIENT_SCOPE_DESCRIPTION,
    ...(input.required.length > 0 ? { scope: input.required.join(' ') } : {}),
  });
}

/**
 * The 401 challenge of a request without a usable token: where the metadata is, and (MCP scope
 * selection) the scopes to ask for. No `error`: it is one static header per API, also sent to
 * requests that carried no token at all (RFC 6750 section 3.1: SHOULD NOT name an error then).
 */
export function tokenRequiredChallenge(input: { resourceMetadata: string; required: readonly string[] }): string {
  return bearerChallenge({
    resourceMetadata: input.resourceMetadata,
    ...(input.required.length > 0 ? { scope: input.required.join(' ') } : {}),
  });
}
