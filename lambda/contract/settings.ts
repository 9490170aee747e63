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

export const DEFAULT_REDIRECT_URI_POLICY: RedirectUriPolicy = { allowPrivateUseSchemes: true };
