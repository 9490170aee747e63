/**
 * A whole OAuth authorization-code flow against the local gateway, driven the way a person and
 * a client would: oauth4webapi as the client, the consent form and the development login form
 * submitted like a browser (test/support/browser-like.ts), ending with tokens.
 */
import * as oauth from 'oauth4webapi';
import { CookieJar, followRedirects, type Landing, parseForms, submitForm } from './browser-like.js';

export const INSECURE = { [oauth.allowInsecureRequests]: true } as const;

export interface RegisteredTestClient {
  client: oauth.Client;
  auth: oauth.ClientAuth;
  redirectUri: string;
}

export async function discover(issuer: string): Promise<oauth.AuthorizationServer> {
  const url = new URL(issuer);
  const response = await oauth.discoveryRequest(url, { algorithm: 'oauth2', ...INSECURE });
  return oauth.processDiscoveryResponse(url, response);
}

export async function registerTestClient(
  as: oauth.AuthorizationServer,
  method: 'none' | 'client_secret_basic' | 'client_secret_post',
  redirectUri = 'https://client.example/callback',
  extra: Record<string, unknown> = {},
): Promise<RegisteredTestClient> {
  const response = await oauth.dynamicClientRegistrationRequest(
    as,
    {
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: method,
      grant_types: ['authorization_code', 'refresh_token'],
      client_name: 'Flow Test Client',
      ...extra,
    },
    INSECURE,
  );
  const client = (await oauth.processDynamicClientRegistrationResponse(response)) as oauth.Client;
  const secret = client.client_secret as string | undefined;
  const auth =
    method === 'none'
      ? oauth.None()
      : method === 'client_secret_basic'
        ? oauth.ClientSecretBasic(secret as string)
        : oauth.ClientSecretPost(secret as string);
  return { client, auth, redirectUri };
}

export interface AuthorizationAttempt {
  codeVerifier: string;
  state: string;
  url: URL;
}

export async function authorizationUrl(
  as: oauth.AuthorizationServer,
  registered: RegisteredTestClient,
  extra: Record<string, string> = {},
): Promise<AuthorizationAttempt> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint as string);
  url.searchParams.set('client_id', registered.client.client_id);
  url.searchParams.set('redirect_uri', registered.redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value);
  return { codeVerifier, state, url };
}

export interface BrowserChoices {
  decision?: 'allow' | 'deny';
  username?: string;
}

/**
 * Walks from the authorization URL through consent and the development login until the
 * browser is sent to the client's redirect URI (returned, never requested), or stops at a page.
 */
export async function runBrowser(
  start: URL,
  redirectUri: string,
  jar = new CookieJar(),
  choices: BrowserChoices = {},
): Promise<Landing> {
  const stopAt = (url: URL) => url.href.startsWith(redirectUri);
  let landing = await followRedirects(start, jar, { stopAt });
  for (let step = 0; landing.kind === 'page' && step < 6; step++) {
    const form = parseForms(landing.body, landing.url)[0];
    if (!form) return landing;
    const names = form.inputs.map((input) => input.name);
    const overrides: Record<string, string> = {};
    // The gateway's consent form: its choice is a <button name="decision">, which parseForms does not list.
    if (names.includes('csrf')) overrides.decision = choices.decision ?? 'allow';
    if (names.includes('login')) {
      overrides.login = choices.username ?? 'alice';
      overrides.password = 'any-password';
    }
    landing = await submitForm(form, overrides, jar, { stopAt });
  }
  return landing;
}

/** The complete flow: authorize, consent, sign in, exchange the code. */
export async function obtainTokens(
  as: oauth.AuthorizationServer,
  registered: RegisteredTestClient,
  options: { jar?: CookieJar; username?: string; extra?: Record<string, string> } = {},
): Promise<oauth.TokenEndpointResponse> {
  const attempt = await authorizationUrl(as, registered, options.extra);
  const landing = await runBrowser(attempt.url, registered.redirectUri, options.jar, { username: options.username });
  if (landing.kind !== 'stopped')
    throw new Error(`flow ended on a page: ${landing.response.status} ${landing.body.slice(0, 300)}`);
  if (landing.url.searchParams.has('error')) throw new Error(`authorization failed: ${landing.url.search}`);
  const params = oauth.validateAuthResponse(as, registered.client, landing.url, attempt.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    registered.client,
    registered.auth,
    params,
    registered.redirectUri,
    attempt.codeVerifier,
    INSECURE,
  );
  return oauth.processAuthorizationCodeResponse(as, registered.client, response);
}

/**
 * Opens the connected apps page (`<issuer>/account`) in this browser, signing in at the
 * development provider when it asks; resolves the page. A person already signed in there (the
 * jar holds its session) goes straight through.
 */
export async function openAccountPage(
  issuer: string,
  jar: CookieJar,
  username = 'alice',
): Promise<Extract<Landing, { kind: 'page' }>> {
  const page = `${issuer}/account`;
  let landing = await followRedirects(page, jar);
  for (let step = 0; landing.kind === 'page' && !landing.url.href.startsWith(page); step++) {
    if (step > 4) throw new Error(`sign-in did not reach ${page}: ${landing.url}`);
    const form = parseForms(landing.body, landing.url)[0];
    if (!form) throw new Error(`no form at ${landing.url}: ${landing.body.slice(0, 300)}`);
    const names = form.inputs.map((input) => input.name);
    landing = await submitForm(form, names.includes('login') ? { login: username, password: 'any-password' } : {}, jar);
  }
  if (landing.kind !== 'page') throw new Error(`stopped at ${landing.url}`);
  return landing;
}
