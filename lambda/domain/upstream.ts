/**
 * Port for the upstream OpenID provider people sign in with (Cognito by default, any OpenID
 * provider by configuration, a development provider locally).
 */

/** Per-login secrets this server keeps with the pending request between redirect and callback. */
export interface UpstreamLogin {
  /** OAuth state sent upstream; unguessable, single use. */
  state: string;
  /** OpenID nonce bound into the ID token. */
  nonce: string;
  /** This server's own PKCE verifier for the upstream code exchange. */
  codeVerifier: string;
  /** Passed on from the client's request: `login` forces a fresh sign-in, `none` forbids any page. */
  prompt?: 'none' | 'login';
  /** Passed on from the client's request, and checked against the ID token's auth_time. */
  maxAge?: number;
}

export interface UpstreamIdentity {
  /** The `sub` claim of the validated ID token, qualified by nothing: one upstream per deployment. */
  subject: string;
}

export class UpstreamLoginError extends Error {
  /** The provider's own OAuth error code, when it answered the authorization request with one. */
  readonly code?: string;

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.name = 'UpstreamLoginError';
    if (options?.code !== undefined) this.code = options.code;
  }
}

export interface UpstreamIdentityProvider {
  /** Where to send the person to sign in. */
  authorizationUrl(login: UpstreamLogin): Promise<URL>;
  /**
   * Completes a sign-in from the full callback URL this server received: exchanges the code
   * (with PKCE), validates the ID token (signature, issuer, audience, expiry, nonce), and
   * returns the subject. Throws UpstreamLoginError for anything the person or provider got
   * wrong (an `error` parameter, a bad state, a failed exchange or validation).
   */
  completeLogin(callbackUrl: URL, login: UpstreamLogin): Promise<UpstreamIdentity>;
}
