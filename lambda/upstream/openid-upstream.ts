/**
 * The upstream port over any OpenID provider, by discovery: Cognito in a deployment, the dev
 * provider locally. openid-client does the protocol work (PKCE, state, nonce, ID token
 * validation, RFC 9207 `iss`); this class only decides configuration and turns failures into
 * UpstreamLoginError with messages safe to log and show.
 */
import {
  AuthorizationResponseError,
  allowInsecureRequests,
  authorizationCodeGrant,
  buildAuthorizationUrl,
  type ClientAuth,
  ClientError,
  ClientSecretBasic,
  ClientSecretPost,
  type Configuration,
  calculatePKCECodeChallenge,
  discovery,
  None,
  ResponseBodyError,
  WWWAuthenticateChallengeError,
} from 'openid-client';
import {
  type UpstreamIdentity,
  type UpstreamIdentityProvider,
  type UpstreamLogin,
  UpstreamLoginError,
} from '../domain/upstream.js';

export interface OpenIdUpstreamOptions {
  /** Issuer identifier; its `/.well-known/openid-configuration` is read on first use. */
  issuer: string;
  clientId: string;
  /** Absent for a public client, which then relies on PKCE alone. */
  clientSecret?: string;
  redirectUri: string;
  /** Space-separated; default 'openid'. */
  scope?: string;
  /** Local mode only: permits an http issuer (the dev provider on loopback). */
  allowInsecureHttp?: boolean;
}

/**
 * Seconds per request to the provider (discovery, JWKS, token). openid-client's default of 30
 * outlasts API Gateway's 29-second integration timeout, so a hung provider would surface as a
 * gateway timeout instead of our error.
 */
const PROVIDER_TIMEOUT_SECONDS = 10;

const UNREACHABLE = 'The sign-in provider is unreachable.';

export class OpenIdUpstream implements UpstreamIdentityProvider {
  readonly #options: OpenIdUpstreamOptions;
  readonly #issuer: URL;
  #configuration: Promise<Configuration> | undefined;

  constructor(options: OpenIdUpstreamOptions) {
    this.#options = options;
    // A malformed or plain-http issuer is a deployment mistake, so it fails here, not per login.
    this.#issuer = new URL(options.issuer);
    if (this.#issuer.protocol !== 'https:' && !options.allowInsecureHttp)
      throw new Error(`The upstream issuer must use https: ${this.#issuer.origin}`);
  }

  async authorizationUrl(login: UpstreamLogin): Promise<URL> {
    const config = await this.#config();
    return buildAuthorizationUrl(config, {
      redirect_uri: this.#options.redirectUri,
      scope: this.#options.scope ?? 'openid',
      state: login.state,
      nonce: login.nonce,
      code_challenge: await calculatePKCECodeChallenge(login.codeVerifier),
      code_challenge_method: 'S256',
      ...(login.prompt ? { prompt: login.prompt } : {}),
      ...(login.maxAge !== undefined ? { max_age: String(login.maxAge) } : {}),
    });
  }

  async completeLogin(callbackUrl: URL, login: UpstreamLogin): Promise<UpstreamIdentity> {
    const config = await this.#config();
    // openid-client sends the callback's URL, minus its query, as redirect_uri. The configured
    // one is what the provider saw in the authorization request, whatever host or path this
    // request reached us under (API Gateway stage, custom domain), so only the query is kept.
    const response = new URL(this.#options.redirectUri);
    response.search = callbackUrl.search;
    let subject: string | undefined;
    try {
      const tokens = await authorizationCodeGrant(config, response, {
        pkceCodeVerifier: login.codeVerifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
        ...(login.maxAge !== undefined ? { maxAge: login.maxAge } : {}),
      });
      subject = tokens.claims()?.sub;
    } catch (error) {
      throw loginError(error);
    }
    // openid-client has already required an ID token with a sub; this only satisfies the type.
    if (!subject) throw new UpstreamLoginError('The sign-in provider returned no subject.');
    return { subject };
  }

  /**
   * Discovery once per instance (a Lambda container), on first use rather than at import so a
   * provider outage fails logins, not cold starts. A failure is not cached: the next login retries.
   */
  #config(): Promise<Configuration> {
    this.#configuration ??= this.#discover().catch((error: unknown) => {
      this.#configuration = undefined;
      throw new UpstreamLoginError(UNREACHABLE, { cause: error });
    });
    return this.#configuration;
  }

  #discover(): Promise<Configuration> {
    const { clientId, clientSecret, allowInsecureHttp } = this.#options;
    return discovery(
      this.#issuer,
      clientId,
      clientSecret,
      clientSecret === undefined ? None() : secretAuthentication(clientSecret),
      {
        timeout: PROVIDER_TIMEOUT_SECONDS,
        // allowInsecureRequests here also covers the discovery request itself.
        ...(allowInsecureHttp ? { execute: [allowInsecureRequests] } : {}),
      },
    );
  }
}

/**
 * client_secret_basic unless the provider lists only client_secret_post. Decided per request
 * from the discovered metadata, which is only known after discovery. A missing list means basic
 * (RFC 8414 §2), which is also what Cognito supports.
 */
function secretAuthentication(clientSecret: string): ClientAuth {
  const basic = ClientSecretBasic(clientSecret);
  const post = ClientSecretPost(clientSecret);
  return (as, client, body, headers) => {
    const supported = as.token_endpoint_auth_methods_supported;
    const useBasic =
      !supported || supported.includes('client_secret_basic') || !supported.includes('client_secret_post');
    return (useBasic ? basic : post)(as, client, body, headers);
  };
}

/**
 * Messages name what went wrong, never a value: no code, token, secret or provider-supplied
 * description (which is free text). OAuth error codes and openid-client's codes are fixed
 * vocabularies, so they are kept when they look like one; the original error stays as `cause`.
 */
function loginError(error: unknown): Error {
  const code = (value: unknown) => (typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value : '?');
  if (error instanceof AuthorizationResponseError)
    return new UpstreamLoginError(`The sign-in provider returned an error (${code(error.error)}).`, {
      cause: error,
      ...(code(error.error) !== '?' ? { code: error.error } : {}),
    });
  if (error instanceof ResponseBodyError)
    return new UpstreamLoginError(`The sign-in provider refused the code exchange (${code(error.error)}).`, {
      cause: error,
    });
  if (error instanceof WWWAuthenticateChallengeError)
    return new UpstreamLoginError(`The sign-in provider refused the code exchange (HTTP ${error.status}).`, {
      cause: error,
    });
  if (error instanceof ClientError) {
    if (error.code === 'OAUTH_TIMEOUT') return new UpstreamLoginError(UNREACHABLE, { cause: error });
    // State, issuer, nonce, signature, audience and expiry checks all land here.
    return new UpstreamLoginError(`The sign-in response failed validation (${code(error.code)}).`, { cause: error });
  }
  // openid-client's argument errors are TypeErrors with a code: a bug here, not a failed login.
  if (error instanceof TypeError && 'code' in error) return error;
  // fetch rejects with a plain TypeError when it cannot connect.
  if (error instanceof TypeError) return new UpstreamLoginError(UNREACHABLE, { cause: error });
  return new UpstreamLoginError('The sign-in could not be completed.', { cause: error });
}
