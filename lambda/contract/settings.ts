/**
 * Shapes of deployment settings that lib/ passes to the functions and the domain decides with.
 * A leaf module: it imports nothing.
 */

export interface RedirectUriPolicy {
  /** Native apps' private-use schemes (`cursor://`, `com.example.app:/cb`), RFC 8252 7.1. */
  readonly allowPrivateUseSchemes: boolean;
  /** When set, every redirect URI's host must be one of these (lower case, `[::1]` bracketed). */
  readonly allowedHosts?: readonly string[];
}

/**
 * A trusted enterprise identity provider for ID-JAG (ID_JAG_TRUSTED_ISSUERS, one array entry):
 * its exact issuer and its keys, fetched from `jwks_uri` or given inline (public keys only).
 */
export type TrustedIdentityProvider =
  | { readonly issuer: string; readonly jwks_uri: string }
  | { readonly issuer: string; readonly jwks: { readonly keys: readonly Record<string, unknown>[] } };

export const DEFAULT_REDIRECT_URI_POLICY: RedirectUriPolicy = { allowPrivateUseSchemes: true };
