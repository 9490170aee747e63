/**
 * The browser flow of the built-in authorization server (lambda/domain/authorization-flow.ts):
 * GET /authorize, POST /consent and GET /callback as use cases, against in-memory ports only.
 * The grant store is test/support/memory-grant-store.ts (the DynamoDB adapter's semantics, no
 * table); the upstream OpenID provider is a fake of the UpstreamIdentityProvider port, below.
 * Outcomes are asserted as the values the domain returns (redirects, consent views, error
 * pages, and the `browser` states the HTTP layer turns into cookies), never as HTTP responses.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ENDPOINTS } from '../../lambda/contract/endpoints.js';
import { DEFAULT_LIFETIMES } from '../../lambda/contract/environment.js';
import {
  type AdmittedClient,
  type BrowserState,
  type ConsentSubmission,
  type ConsentView,
  completeCallback,
  describeReturn,
  type FlowDeps,
  type FlowOutcome,
  startAuthorization,
  submitConsent,
} from '../../lambda/domain/authorization-flow.js';
import { type Approval, ConsentMemory } from '../../lambda/domain/consent-memory.js';
import { hashSecret } from '../../lambda/domain/credentials.js';
import type { PendingAuthorization } from '../../lambda/domain/grants.js';
import { OAuthError, UnavailableError } from '../../lambda/domain/oauth-error.js';
import { s256Challenge } from '../../lambda/domain/pkce.js';
import type { QueryResult } from '../../lambda/domain/query.js';
import type { ServerConfig } from '../../lambda/domain/server-config.js';
import { formToken, formTokenMatches, signValue, verifySignedValue } from '../../lambda/domain/signed-values.js';
import {
  type UpstreamIdentity,
  type UpstreamIdentityProvider,
  type UpstreamLogin,
  UpstreamLoginError,
} from '../../lambda/domain/upstream.js';
import { MemoryGrantStore } from '../support/memory-grant-store.js';

// ---------------------------------------------------------------------------------------------
// The world: a server, two clients, a clock, and the ports
// ---------------------------------------------------------------------------------------------

const START = 1_800_000_000;
/** With a path, as on API Gateway's default endpoint: the issuer is not its own origin. */
const ISSUER = 'https://as.example.com/v1';
const ISSUER_ORIGIN = 'https://as.example.com';
const RESOURCE = 'https://mcp.example.com/mcp';
const OTHER_RESOURCE = 'https://mcp.example.com/other';
const COOKIE_KEY = 'cookie-key-for-unit-tests-only-0123456789';
const UPSTREAM_AUTHORIZE = 'https://idp.example/oauth2/authorize';
const PENDING_TTL = DEFAULT_LIFETIMES.pendingAuthorization;
/** The purpose the module signs the consent cookie for (not exported); a test below pins it. */
const CONSENT_PURPOSE = 'mcpgw_consent';
/** The purpose the module signs the transaction cookie for (not exported); a test below pins it. */
const TRANSACTION_PURPOSE = 'mcpgw_tx';
/** The transaction cookie this server sets for a pending request: its id, signed. */
const signedTx = (id: string) => signValue(COOKIE_KEY, TRANSACTION_PURPOSE, id);
/** Tests name the request a browser is bound to; the cookie the browser holds is its signed form. */
const asCookie = (id: string | undefined) => (id ? signedTx(id) : id);

const CONFIG: ServerConfig = {
  issuer: ISSUER,
  resources: [RESOURCE, OTHER_RESOURCE],
  scopes: ['mcp:read', 'mcp:write'],
  accessTokenTtl: 600,
  refreshTokenIdleTtl: 1000,
  refreshTokenAbsoluteTtl: 2500,
};

/** What the redirect-URI authorizer admitted (lambda/domain/authorization-admission.ts). */
const CLIENT_A: AdmittedClient = {
  clientId: 'client-a',
  clientName: 'Client A',
  clientUri: 'https://client-a.example',
  redirectUri: 'https://client-a.example/callback',
  clientVersion: 'version-a-1',
  metadataDocument: false,
  loopbackOnly: false,
};
const CLIENT_B: AdmittedClient = {
  clientId: 'client-b',
  clientName: '',
  clientUri: '',
  redirectUri: 'http://127.0.0.1:43117/cb',
  clientVersion: 'version-b-1',
  metadataDocument: false,
  loopbackOnly: true,
};

const CODE_VERIFIER = 'client-code-verifier-0123456789-abcdefghijklmnop';
const CODE_CHALLENGE = s256Challenge(CODE_VERIFIER);

/**
 * A fake of the UpstreamIdentityProvider port (lambda/domain/upstream.ts): no OpenID provider and
 * no network. It behaves as an honest provider and as the port's contract says the real adapter
 * (lambda/upstream/openid-upstream.ts) does: the login URL carries the state it was given, the
 * code it hands back is bound to that login, and completeLogin throws UpstreamLoginError for an
 * `error` parameter, another state, an unknown code, or a login (nonce, verifier) it never started.
 */
class FakeUpstream implements UpstreamIdentityProvider {
  readonly started: UpstreamLogin[] = [];
  readonly completed: Array<{ callbackUrl: URL; login: UpstreamLogin }> = [];
  subject = 'alice';
  /** Thrown by completeLogin instead of judging the callback: an outage, or a bug in the adapter. */
  fault: Error | undefined;

  async authorizationUrl(login: UpstreamLogin): Promise<URL> {
    this.started.push({ ...login });
    const url = new URL(UPSTREAM_AUTHORIZE);
    url.searchParams.set('state', login.state);
    url.searchParams.set('nonce', login.nonce);
    url.searchParams.set('code_challenge', s256Challenge(login.codeVerifier));
    return url;
  }

  /** The callback query the provider sends once the person has signed in. */
  signedIn(state: string): Record<string, string> {
    return { code: `upstream-code.${state}`, state };
  }

  async completeLogin(callbackUrl: URL, login: UpstreamLogin): Promise<UpstreamIdentity> {
    this.completed.push({ callbackUrl, login: { ...login } });
    if (this.fault) throw this.fault;
    const error = callbackUrl.searchParams.get('error');
    if (error) throw new UpstreamLoginError(`The provider answered ${error}.`, { code: error });
    if (callbackUrl.searchParams.get('state') !== login.state) throw new UpstreamLoginError('state mismatch');
    if (callbackUrl.searchParams.get('code') !== `upstream-code.${login.state}`) {
      throw new UpstreamLoginError('The code exchange failed.');
    }
    const mine = this.started.some(
      (s) => s.state === login.state && s.nonce === login.nonce && s.codeVerifier === login.codeVerifier,
    );
    if (!mine) throw new UpstreamLoginError('The ID token nonce or the PKCE verifier does not match.');
    return { subject: this.subject };
  }
}

let clock: number;
let grants: MemoryGrantStore;
let upstream: FakeUpstream;
let deps: FlowDeps;
/** Withdrawals of consent by `<subject> <client id>`, as the connected apps page records them. */
let withdrawals: Map<string, number>;

beforeEach(() => {
  clock = START;
  grants = new MemoryGrantStore();
  upstream = new FakeUpstream();
  withdrawals = new Map();
  deps = {
    grants,
    upstream,
    consentWithdrawals: { withdrawnAt: async (subject, clientId) => withdrawals.get(`${subject} ${clientId}`) },
    config: CONFIG,
    cookieKey: COOKIE_KEY,
    now: () => clock,
  };
});

// ---------------------------------------------------------------------------------------------
// Requests and outcomes
// ---------------------------------------------------------------------------------------------

type Params = Record<string, string | undefined>;

function defined(params: Params): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined)) as Record<
    string,
    string
  >;
}

/** A valid request of an MCP client (RFC 6749 4.1.1 with PKCE and RFC 8707), with overrides. */
function query(overrides: Params = {}, client = CLIENT_A): QueryResult {
  return {
    ok: true,
    params: defined({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      code_challenge: CODE_CHALLENGE,
      code_challenge_method: 'S256',
      state: 'client-state-1',
      scope: 'mcp:read',
      resource: RESOURCE,
      ...overrides,
    }),
  };
}

function start(overrides: Params = {}, client = CLIENT_A, consentCookie?: string): Promise<FlowOutcome> {
  return startAuthorization(deps, client, query(overrides, client), consentCookie);
}

function asConsent(outcome: FlowOutcome): Extract<FlowOutcome, { kind: 'consent' }> {
  expect(outcome.kind, JSON.stringify(outcome)).toBe('consent');
  return outcome as Extract<FlowOutcome, { kind: 'consent' }>;
}

interface Redirected {
  status: number;
  url: URL;
  /** The query of the Location, as one value per name. */
  params: Record<string, string>;
  browser: BrowserState[];
}

function asRedirect(outcome: FlowOutcome): Redirected {
  expect(outcome.kind, JSON.stringify(outcome)).toBe('redirect');
  const { status, location, browser } = outcome as Extract<FlowOutcome, { kind: 'redirect' }>;
  const url = new URL(location);
  return { status, url, params: Object.fromEntries(url.searchParams), browser };
}

/** Where a redirect sends the browser, without its query. */
function target(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function expectErrorPage(outcome: FlowOutcome, status: number, title: string): void {
  expect(outcome).toStrictEqual({ kind: 'error-page', status, title, message: expect.any(String) });
}

const UNTRUSTED = 'This connection cannot be completed';

/** The page an error of a client this browser never approved gets: the error, and a link back it may follow. */
function asUntrustedError(outcome: FlowOutcome): { message: string; link: URL; params: Record<string, string> } {
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ kind: 'error-page', status: 400, title: UNTRUSTED });
  const page = outcome as Extract<FlowOutcome, { kind: 'error-page' }>;
  expect(page.link).toBeDefined();
  const link = new URL(page.link?.href as string);
  return { message: page.message, link, params: Object.fromEntries(link.searchParams) };
}

const EXPIRED = 'This request has expired';
const NOT_HERE = 'Sign-in cannot be completed here';

/** A consent view for a fresh request. */
async function consentView(overrides: Params = {}, client = CLIENT_A): Promise<ConsentView> {
  return asConsent(await start(overrides, client)).view;
}

/** The submission of the consent form that `view` rendered, from the browser that started it. */
function submission(view: ConsentView, form: Params = {}, rest: Partial<ConsentSubmission> = {}): ConsentSubmission {
  const merged: ConsentSubmission = {
    form: defined({ request: view.requestId, csrf: view.csrf, decision: 'allow', ...form }),
    transactionCookie: view.requestId,
    consentCookie: undefined,
    origin: ISSUER_ORIGIN,
    ...rest,
  };
  return { ...merged, transactionCookie: asCookie(merged.transactionCookie) };
}

function consent(view: ConsentView, form: Params = {}, rest: Partial<ConsentSubmission> = {}): Promise<FlowOutcome> {
  return submitConsent(deps, submission(view, form, rest));
}

/** The consent cookie value an outcome sets, if any. */
function consentCookieOf(outcome: FlowOutcome): string | undefined {
  if (outcome.kind === 'error-page') return undefined;
  const set = outcome.browser.find((state) => 'set' in state && state.set === 'consent');
  return set && 'value' in set ? set.value : undefined;
}

function callback(params: Params, transactionCookie: string | undefined): Promise<FlowOutcome> {
  const single = defined(params);
  const url = new URL(`${ISSUER}${ENDPOINTS.callback}`);
  for (const [name, value] of Object.entries(single)) url.searchParams.append(name, value);
  return completeCallback(deps, single, url, asCookie(transactionCookie));
}

/** A request that went through consent and is off to the upstream provider: its pending id. */
async function atUpstream(overrides: Params = {}, client = CLIENT_A): Promise<string> {
  const view = await consentView(overrides, client);
  asRedirect(await consent(view));
  return view.requestId;
}

const bindTransaction = (id: string): BrowserState => ({
  set: 'transaction',
  value: signedTx(id),
  maxAgeSeconds: PENDING_TTL,
});

/** The consent cookie of a browser that approved `client` for `approved` (default: the request `query` makes). */
function approvedCookie(client: AdmittedClient, approved: Partial<Approval> = {}): string {
  const memory = ConsentMemory.empty().remember(
    {
      clientId: client.clientId,
      clientVersion: client.clientVersion,
      redirectUri: client.redirectUri,
      resource: RESOURCE,
      scope: 'mcp:read',
      ...approved,
    },
    clock - 60,
  );
  return signValue(COOKIE_KEY, CONSENT_PURPOSE, memory.serialize());
}

// ---------------------------------------------------------------------------------------------
// GET /authorize
// ---------------------------------------------------------------------------------------------

describe('startAuthorization: a fresh authorization asks for consent', () => {
  it('shows the consent view, binds the browser by the transaction, and stores the pending request', async () => {
    const outcome = asConsent(await start());
    const { view } = outcome;
    expect(view).toStrictEqual({
      formAction: `${ISSUER}${ENDPOINTS.consent}`,
      requestId: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      csrf: expect.any(String),
      clientName: 'Client A',
      clientId: 'client-a',
      serverName: 'as.example.com',
      clientUri: 'https://client-a.example',
      returnTo: 'client-a.example',
      scopes: ['mcp:read'],
      loopbackOnly: false,
    });
    expect(formTokenMatches(COOKIE_KEY, view.requestId, view.csrf), 'the form token is for this request').toBe(true);
    expect(outcome.browser).toStrictEqual([bindTransaction(view.requestId)]);
    expect(await grants.getPending(view.requestId)).toStrictEqual({
      id: view.requestId,
      client_id: 'client-a',
      client_name: 'Client A',
      client_version: 'version-a-1',
      redirect_uri: CLIENT_A.redirectUri,
      redirect_uri_in_request: true,
      code_challenge: CODE_CHALLENGE,
      state: 'client-state-1',
      scope: 'mcp:read',
      resource: RESOURCE,
      upstream_nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      upstream_code_verifier: expect.stringMatching(/^[A-Za-z0-9_-]{64}$/),
      expires_at: START + PENDING_TTL,
    });
    expect(upstream.started, 'nobody is sent upstream before consent').toEqual([]);
  });

  it('gives every request its own pending id, form token and upstream secrets', async () => {
    const first = await consentView();
    const second = await consentView();
    expect(second.requestId).not.toBe(first.requestId);
    expect(second.csrf).not.toBe(first.csrf);
    const [a, b] = await Promise.all([grants.getPending(first.requestId), grants.getPending(second.requestId)]);
    expect(b?.upstream_nonce).not.toBe(a?.upstream_nonce);
    expect(b?.upstream_code_verifier).not.toBe(a?.upstream_code_verifier);
  });

  it.each([
    // [case and reason, request overrides, stored fields]
    [
      'undefined scopes dropped, never refused; order kept, no duplicates',
      { scope: 'mcp:write admin mcp:write mcp:read' },
      { scope: 'mcp:write mcp:read' },
    ],
    ['no scope asked, none granted', { scope: undefined }, { scope: '' }],
    ['only undefined scopes: an empty grant, not invalid_scope', { scope: 'admin' }, { scope: '' }],
    ['RFC 8707: another configured resource, named', { resource: OTHER_RESOURCE }, { resource: OTHER_RESOURCE }],
    ['no state sent, none stored', { state: undefined }, { state: undefined }],
    [
      'redirect_uri omitted: RFC 6749 4.1.3 will not require it at /token',
      { redirect_uri: undefined },
      { redirect_uri_in_request: false },
    ],
  ] as Array<[string, Params, Record<string, unknown>]>)('%s', async (_case, overrides, stored) => {
    const view = await consentView(overrides);
    const pending = (await grants.getPending(view.requestId)) as PendingAuthorization | undefined;
    for (const [name, value] of Object.entries(stored)) {
      expect(pending?.[name as keyof PendingAuthorization], name).toBe(value);
    }
  });

  it('RFC 8707: an omitted resource means the only configured one', async () => {
    deps = { ...deps, config: { ...CONFIG, resources: [OTHER_RESOURCE] } };
    const view = await consentView({ resource: undefined });
    expect(((await grants.getPending(view.requestId)) as PendingAuthorization | undefined)?.resource).toBe(
      OTHER_RESOURCE,
    );
  });

  it.each([
    // [admitted client, what the view says, reason]
    [CLIENT_B, { clientName: '', returnTo: '127.0.0.1:43117' }, 'no name registered; loopback host and port'],
    [
      { ...CLIENT_A, redirectUri: 'com.example.app:/oauth/cb' },
      { returnTo: 'the app that handles com.example.app: links' },
      'a private-use scheme names the app, not a host',
    ],
  ] as Array<[AdmittedClient, Partial<ConsentView>, string]>)('the view for %j says %j (%s)', async (client, shown) => {
    const { view } = asConsent(await start({}, client));
    expect(view).toMatchObject(shown);
    if (!client.clientUri) expect(view).not.toHaveProperty('clientUri');
  });

  it.each([
    ['https://Client.Example:8443/cb?x=1', 'client.example:8443'],
    ['HTTP://127.0.0.1/cb', '127.0.0.1'],
    ['cursor://anysphere.cursor-retrieval/oauth/callback', 'the app that handles cursor: links'],
  ])('describeReturn(%s) is %s', (redirectUri, shown) => {
    expect(describeReturn(redirectUri)).toBe(shown);
  });
});

describe('startAuthorization: for a client this browser approved, errors go to the verified redirect URI (RFC 6749 4.1.2.1) with state and iss (RFC 9207)', () => {
  const trusted = (client: AdmittedClient = CLIENT_A) => approvedCookie(client);

  it.each([
    // [case and reason, error, request overrides]
    ['no response_type (RFC 6749 4.1.1: required)', 'invalid_request', { response_type: undefined }],
    ['response_type=token: only the code flow', 'unsupported_response_type', { response_type: 'token' }],
    ['no code_challenge (RFC 7636 4.4.1: PKCE is required)', 'invalid_request', { code_challenge: undefined }],
    ['code_challenge_method=plain (RFC 9700 2.1.1: S256 only)', 'invalid_request', { code_challenge_method: 'plain' }],
    [
      'no code_challenge_method (RFC 7636 4.3: the default, plain, is refused too)',
      'invalid_request',
      { code_challenge_method: undefined },
    ],
    ['a 42-character code_challenge (RFC 7636 4.2: 43 to 128)', 'invalid_request', { code_challenge: 'x'.repeat(42) }],
    ['a resource of no one here (RFC 8707 2)', 'invalid_target', { resource: 'https://evil.example/mcp' }],
    ['a resource with a trailing slash (RFC 8707: byte for byte)', 'invalid_target', { resource: `${RESOURCE}/` }],
    ['no resource, with two configured (RFC 8707: no default then)', 'invalid_target', { resource: undefined }],
  ] as Array<[string, string, Params]>)('%s -> %s', async (_case, error, overrides) => {
    const redirect = asRedirect(await start(overrides, CLIENT_A, trusted()));
    expect(redirect.status).toBe(302);
    expect(target(redirect.url)).toBe(CLIENT_A.redirectUri);
    expect(redirect.params).toStrictEqual({
      error,
      error_description: expect.any(String),
      state: 'client-state-1',
      iss: ISSUER,
    });
    expect(redirect.browser).toStrictEqual([{ clear: 'transaction' }]);
    expect(grants.size, 'a refused request stores nothing').toBe(0);
    expect(upstream.started).toEqual([]);
  });

  it('RFC 6749 4.1.2.1: state is only echoed when the client sent one', async () => {
    const redirect = asRedirect(await start({ response_type: 'token', state: undefined }, CLIENT_A, trusted()));
    expect(redirect.params).not.toHaveProperty('state');
    expect(redirect.params).toMatchObject({ error: 'unsupported_response_type', iss: ISSUER });
  });

  it('RFC 6749 3.1: a repeated parameter is invalid_request, without a state it cannot choose', async () => {
    const outcome = await startAuthorization(deps, CLIENT_A, { ok: false, repeated: 'state' }, trusted());
    const redirect = asRedirect(outcome);
    expect(target(redirect.url)).toBe(CLIENT_A.redirectUri);
    expect(redirect.params).toStrictEqual({
      error: 'invalid_request',
      error_description: 'state appears more than once.',
      iss: ISSUER,
    });
    expect(grants.size).toBe(0);
  });

  it("RFC 6749 4.1.2: the redirect URI's own query is kept, the response appended", async () => {
    const client = { ...CLIENT_A, redirectUri: 'https://client-a.example/callback?tenant=7' };
    const redirect = asRedirect(await start({ response_type: 'token' }, client, trusted(client)));
    expect(redirect.url.search.startsWith('?tenant=7&error=unsupported_response_type&')).toBe(true);
    expect(redirect.params).toMatchObject({ tenant: '7', state: 'client-state-1', iss: ISSUER });
  });

  it('a grant store outage is thrown (503 by the HTTP layer), never answered as a redirect', async () => {
    class OutageAtPut extends MemoryGrantStore {
      override async putPending(): Promise<void> {
        throw new UnavailableError();
      }
    }
    deps = { ...deps, grants: new OutageAtPut() };
    await expect(start()).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe('startAuthorization: for a client this browser never approved, errors are shown, never redirected (RFC 9700 4.11.2)', () => {
  it.each([
    ['no cookie: a client registered seconds ago by anyone', () => undefined],
    ['another client approved', () => approvedCookie(CLIENT_B)],
    [
      'this client approved for another redirect URI',
      () => approvedCookie({ ...CLIENT_A, redirectUri: 'https://client-a.example/other' }),
    ],
    [
      'this client approved before its registration changed',
      () => approvedCookie({ ...CLIENT_A, clientVersion: 'version-a-0' }),
    ],
  ] as Array<[string, () => string | undefined]>)(
    'an error page with a link back, nothing stored: %s',
    async (_case, cookie) => {
      const outcome = await start({ response_type: 'token' }, CLIENT_A, cookie());
      const { message, link, params } = asUntrustedError(outcome);
      expect(message).toContain('unsupported_response_type');
      expect(target(link)).toBe(CLIENT_A.redirectUri);
      expect(params).toStrictEqual({
        error: 'unsupported_response_type',
        error_description: expect.any(String),
        state: 'client-state-1',
        iss: ISSUER,
      });
      expect((outcome as Extract<FlowOutcome, { kind: 'error-page' }>).link?.label).toBe('Return to client-a.example');
      expect(grants.size).toBe(0);
      expect(upstream.started).toEqual([]);
    },
  );

  it('a repeated parameter and an unknown resource are shown too', async () => {
    asUntrustedError(await startAuthorization(deps, CLIENT_A, { ok: false, repeated: 'state' }, undefined));
    asUntrustedError(await start({ resource: 'https://evil.example/mcp' }));
  });

  it('the message names the client as registered, and an unnamed one generically', async () => {
    expect(asUntrustedError(await start({ response_type: 'token' })).message).toMatch(/^Client A sent a request/);
    expect(asUntrustedError(await start({ response_type: 'token' }, CLIENT_B)).message).toMatch(
      /^The application sent/,
    );
  });
});

describe('startAuthorization: remembered consent skips the consent page for the same client', () => {
  /** The consent cookie a browser holds once it allowed `client`, starting from `cookie`. */
  async function allowed(client: AdmittedClient, cookie?: string): Promise<string> {
    const view = await consentView({}, client);
    const cookieValue = consentCookieOf(await consent(view, {}, { consentCookie: cookie }));
    expect(cookieValue, 'allow sets the consent cookie').toEqual(expect.any(String));
    return cookieValue as string;
  }

  it('goes straight upstream (302), still binding this browser to the new pending request', async () => {
    const cookie = await allowed(CLIENT_A);
    const redirect = asRedirect(await start({ state: 'second-visit' }, CLIENT_A, cookie));
    expect(redirect.status).toBe(302);
    expect(target(redirect.url)).toBe(UPSTREAM_AUTHORIZE);
    const pendingId = redirect.params.state;
    const pending = await grants.getPending(pendingId);
    expect(pending).toMatchObject({ client_id: 'client-a', state: 'second-visit' });
    expect(redirect.browser).toStrictEqual([bindTransaction(pendingId)]);
    expect(upstream.started.at(-1)).toStrictEqual({
      state: pendingId,
      nonce: pending?.upstream_nonce,
      codeVerifier: pending?.upstream_code_verifier,
    });
  });

  it.each([
    // [reason, consent cookie]
    ['no cookie: this browser never consented', async () => undefined],
    ['the cookie remembers another client only', async () => allowed(CLIENT_B)],
    ['signed with another key', async () => signValue('another-key', CONSENT_PURPOSE, JSON.stringify(['client-a']))],
    ['a value signed for another purpose', async () => signValue(COOKIE_KEY, 'form', JSON.stringify(['client-a']))],
    ['a form token is not a consent cookie', async () => formToken(COOKIE_KEY, 'client-a')],
    [
      "another client's cookie with its list rewritten",
      async () => {
        const [, mac] = (await allowed(CLIENT_B)).split('.');
        return `${Buffer.from(JSON.stringify(['client-a'])).toString('base64url')}.${mac}`;
      },
    ],
    ['a signed value that is not a list', async () => signValue(COOKIE_KEY, CONSENT_PURPOSE, '"client-a"')],
    ['a signed list of no strings', async () => signValue(COOKIE_KEY, CONSENT_PURPOSE, '[{"id":"client-a"}]')],
    ['a signed value that is not JSON', async () => signValue(COOKIE_KEY, CONSENT_PURPOSE, '[client-a')],
    ['not a signed value at all', async () => 'garbage'],
  ] as Array<[string, () => Promise<string | undefined>]>)('shows consent again: %s', async (_reason, cookie) => {
    asConsent(await start({}, CLIENT_A, await cookie()));
  });

  it('a memory signed with the key for the consent purpose is remembered (anchors CONSENT_PURPOSE above)', async () => {
    asRedirect(await start({}, CLIENT_A, approvedCookie(CLIENT_A)));
  });

  it('a list of client ids (what the cookie held before approvals were bound) approves nothing', async () => {
    asConsent(await start({}, CLIENT_A, signValue(COOKIE_KEY, CONSENT_PURPOSE, JSON.stringify(['client-a']))));
  });

  it('a narrower scope than was approved is covered', async () => {
    const cookie = approvedCookie(CLIENT_A, { scope: 'mcp:read mcp:write' });
    asRedirect(await start({ scope: 'mcp:write' }, CLIENT_A, cookie));
    asRedirect(await start({ scope: undefined }, CLIENT_A, cookie));
  });

  it('prompt=consent shows the page even for what was approved', async () => {
    asConsent(await start({ prompt: 'consent' }, CLIENT_A, await allowed(CLIENT_A)));
  });

  it('remembers at most the 20 most recently allowed clients, newest first', async () => {
    let cookie: string | undefined;
    const clients = Array.from({ length: 21 }, (_, i) => ({ ...CLIENT_A, clientId: `client-${i}` }));
    for (const client of clients) cookie = await allowed(client, cookie);
    asConsent(await start({}, clients[0], cookie));
    for (const client of clients.slice(1)) asRedirect(await start({}, client, cookie));
  });

  it('allowing a remembered client again keeps the others', async () => {
    let cookie = await allowed(CLIENT_B);
    cookie = await allowed(CLIENT_A, cookie);
    cookie = await allowed(CLIENT_B, cookie);
    asRedirect(await start({}, CLIENT_A, cookie));
    asRedirect(await start({}, CLIENT_B, cookie));
  });

  // RFC 6749 10.2: no automatic approval of repeated requests beyond what the person saw.
  it.each([
    // [second request, its overrides, the client as admitted then]
    [
      'another redirect URI of the same client',
      { redirect_uri: 'http://127.0.0.1:9999/cb' },
      { redirectUri: 'http://127.0.0.1:9999/cb' },
    ],
    ['a wider scope than was consented to', { scope: 'mcp:read mcp:write' }, {}],
    ['another resource than was consented to', { resource: OTHER_RESOURCE }, {}],
    [
      'the same client after its registration changed (RFC 7592 PUT, a new metadata document)',
      {},
      { clientVersion: 'version-a-2' },
    ],
  ] as Array<[string, Params, Partial<AdmittedClient>]>)(
    'consent is asked again for %s',
    async (_case, second, changed) => {
      const cookie = await allowed(CLIENT_A);
      asConsent(await start(second, { ...CLIENT_A, ...changed }, cookie));
    },
  );
});

// ---------------------------------------------------------------------------------------------
// POST /consent
// ---------------------------------------------------------------------------------------------

describe('completeCallback: a withdrawal on the server outranks an approval a browser remembers from before it', () => {
  /** A remembered approval from 60 s ago, and the flow it lets straight upstream: its pending id. */
  async function rememberedFlow(): Promise<{ pendingId: string; cookie: string }> {
    const cookie = approvedCookie(CLIENT_A);
    const redirect = asRedirect(await start({ state: 'again' }, CLIENT_A, cookie));
    expect(target(redirect.url)).toBe(UPSTREAM_AUTHORIZE);
    return { pendingId: redirect.params.state, cookie };
  }

  function remembered(pendingId: string, cookie: string) {
    const url = new URL(`${ISSUER}${ENDPOINTS.callback}`);
    const params = upstream.signedIn(pendingId);
    for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value);
    return completeCallback(deps, params, url, signedTx(pendingId), cookie);
  }

  it('the pending request keeps when the remembered approval was given; one shown the page keeps nothing', async () => {
    const { pendingId } = await rememberedFlow();
    expect(await grants.getPending(pendingId)).toMatchObject({ remembered_approval_at: clock - 60 });
    const shown = await consentView();
    expect(await grants.getPending(shown.requestId)).not.toHaveProperty('remembered_approval_at');
  });

  it('withdrawn after the approval: access_denied to the client, no code, and this browser forgets the client', async () => {
    const { pendingId, cookie } = await rememberedFlow();
    withdrawals.set(`alice ${CLIENT_A.clientId}`, clock - 10);
    const outcome = await remembered(pendingId, cookie);
    const refused = asRedirect(outcome);
    expect(target(refused.url)).toBe(CLIENT_A.redirectUri);
    expect(refused.params).toMatchObject({ error: 'access_denied', state: 'again', iss: ISSUER });
    expect(refused.params.code).toBeUndefined();
    expect(grants.size, 'no grant stored').toBe(0);
    const kept = ConsentMemory.parse(verifySignedValue(COOKIE_KEY, CONSENT_PURPOSE, consentCookieOf(outcome)));
    expect(kept.size).toBe(0);
    // The next connection in this browser shows the consent page.
    asConsent(await start({}, CLIENT_A, consentCookieOf(outcome)));
  });

  it("withdrawn before the approval, or another person's or client's withdrawal: the code as usual", async () => {
    withdrawals.set(`alice ${CLIENT_A.clientId}`, clock - 61);
    withdrawals.set(`bob ${CLIENT_A.clientId}`, clock);
    withdrawals.set(`alice ${CLIENT_B.clientId}`, clock);
    const { pendingId, cookie } = await rememberedFlow();
    const redirect = asRedirect(await remembered(pendingId, cookie));
    expect(redirect.params.code).toEqual(expect.any(String));
  });

  it('a withdrawal in the same second as the approval wins (fail closed)', async () => {
    withdrawals.set(`alice ${CLIENT_A.clientId}`, clock - 60);
    const { pendingId, cookie } = await rememberedFlow();
    expect(asRedirect(await remembered(pendingId, cookie)).params.error).toBe('access_denied');
  });

  it('withdrawals that cannot be read: temporarily_unavailable to the client, no code', async () => {
    deps = { ...deps, consentWithdrawals: { withdrawnAt: () => Promise.reject(new UnavailableError('down')) } };
    const { pendingId, cookie } = await rememberedFlow();
    const redirect = asRedirect(await remembered(pendingId, cookie));
    expect(redirect.params.error).toBe('temporarily_unavailable');
    expect(grants.size, 'no grant stored').toBe(0);
  });

  it('an approval given on the page now is not checked against withdrawals before it', async () => {
    withdrawals.set(`alice ${CLIENT_A.clientId}`, clock);
    deps = { ...deps, consentWithdrawals: { withdrawnAt: () => Promise.reject(new Error('not to be read')) } };
    const pendingId = await atUpstream();
    const redirect = asRedirect(await callback(upstream.signedIn(pendingId), pendingId));
    expect(redirect.params.code).toEqual(expect.any(String));
  });
});

describe('submitConsent: the form token and the transaction cookie (CSRF, RFC 6749 10.12, RFC 9700 4.7)', () => {
  it.each([
    // [case and reason, form overrides, submission overrides]
    ['no form token: not a form this server rendered', { csrf: undefined }, {}],
    ['a made-up form token', { csrf: 'forged' }, {}],
    ['an empty form token', { csrf: '' }, {}],
    ['no request id', { request: undefined }, {}],
    ['no transaction cookie: another browser submits this form', {}, { transactionCookie: undefined }],
    ['the cookie binds this browser to another request', {}, { transactionCookie: 'another-pending-id' }],
    ['an empty cookie', {}, { transactionCookie: '' }],
  ] as Array<[string, Params, Partial<ConsentSubmission>]>)(
    '%s: expired page, never a redirect, nothing spent',
    async (_case, form, rest) => {
      const view = await consentView();
      expectErrorPage(await consent(view, form, rest), 400, EXPIRED);
      expect(await grants.getPending(view.requestId), 'the real browser can still decide').toBeDefined();
      expect(upstream.started).toEqual([]);
    },
  );

  it("a form token is bound to its request: a token of the attacker's own request does not pass for the victim's", async () => {
    const victim = await consentView();
    const attacker = await consentView();
    expectErrorPage(await consent(victim, { csrf: attacker.csrf }), 400, EXPIRED);
    expectErrorPage(await consent(victim, { csrf: formToken('another-key', victim.requestId) }), 400, EXPIRED);
  });

  it("the victim's cookie does not carry the attacker's request (consent CSRF)", async () => {
    const attacker = await consentView();
    const victim = await consentView();
    expectErrorPage(await consent(attacker, {}, { transactionCookie: victim.requestId }), 400, EXPIRED);
  });

  it('a token and cookie that match but name no stored request: expired page, never a redirect', async () => {
    const ghost = 'a-pending-id-nobody-stored';
    const outcome = await submitConsent(deps, {
      form: { request: ghost, csrf: formToken(COOKIE_KEY, ghost), decision: 'allow' },
      transactionCookie: ghost,
      consentCookie: undefined,
      origin: ISSUER_ORIGIN,
    });
    expectErrorPage(outcome, 400, EXPIRED);
  });
});

describe('submitConsent: the Origin of the POST', () => {
  it.each([
    // [origin, reason]
    ['https://evil.example', 'another site'],
    ['http://as.example.com', 'the same host over http is another origin'],
    ['https://as.example.com:8443', 'another port is another origin'],
    ['https://sub.as.example.com', 'a subdomain is another origin'],
    [ISSUER, 'the issuer with its path is not an origin'],
    ['null', 'an opaque origin: a sandboxed page, or a page that sends no referrer'],
    [undefined, 'no Origin: every browser sends one with a form POST'],
  ] as Array<[string | undefined, string]>)('%s is refused with 403 and nothing spent (%s)', async (origin) => {
    const view = await consentView();
    expectErrorPage(await consent(view, {}, { origin }), 403, 'Request refused');
    expect(await grants.getPending(view.requestId)).toBeDefined();
    expect(upstream.started).toEqual([]);
  });

  it("the issuer's origin is accepted", async () => {
    const view = await consentView();
    const outcome = await consent(view, {}, { origin: ISSUER_ORIGIN });
    expect(asRedirect(outcome).url.origin).toBe(new URL(UPSTREAM_AUTHORIZE).origin);
  });
});

describe('submitConsent: deny sends access_denied to the client (RFC 6749 4.1.2.1) with state and iss (RFC 9207)', () => {
  it.each([
    // [decision, reason]
    ['deny', 'the Deny button'],
    [undefined, 'no decision: only an explicit allow allows'],
    ['', 'an empty decision'],
    ['Allow', 'decisions are exact'],
    ['yes', 'anything else'],
  ] as Array<[string | undefined, string]>)('decision %j denies (%s)', async (decision) => {
    const view = await consentView();
    const outcome = await consent(view, { decision });
    const redirect = asRedirect(outcome);
    expect(redirect.status, 'RFC 9700 4.12: 303 after a POST, never 307').toBe(303);
    expect(target(redirect.url)).toBe(CLIENT_A.redirectUri);
    expect(redirect.params).toStrictEqual({
      error: 'access_denied',
      error_description: expect.any(String),
      state: 'client-state-1',
      iss: ISSUER,
    });
    expect(redirect.browser, 'forgets the transaction, remembers no consent').toStrictEqual([{ clear: 'transaction' }]);
    expect(await grants.getPending(view.requestId), 'a denied request is spent').toBeUndefined();
    expect(upstream.started).toEqual([]);
  });

  it('without a state in the request, the denial carries none', async () => {
    const view = await consentView({ state: undefined });
    expect(asRedirect(await consent(view, { decision: 'deny' })).params).toStrictEqual({
      error: 'access_denied',
      error_description: expect.any(String),
      iss: ISSUER,
    });
  });

  it('a denied request cannot be allowed afterwards', async () => {
    const view = await consentView();
    asRedirect(await consent(view, { decision: 'deny' }));
    expectErrorPage(await consent(view), 400, EXPIRED);
  });
});

describe('submitConsent: allow remembers the client and sends the person upstream', () => {
  it("303 to the upstream provider with the pending request's state, nonce and verifier", async () => {
    const view = await consentView();
    const redirect = asRedirect(await consent(view));
    expect(redirect.status, 'RFC 9700 4.12: 303 after a POST, never 307').toBe(303);
    expect(target(redirect.url)).toBe(UPSTREAM_AUTHORIZE);
    const pending = await grants.getPending(view.requestId);
    expect(upstream.started).toStrictEqual([
      { state: view.requestId, nonce: pending?.upstream_nonce, codeVerifier: pending?.upstream_code_verifier },
    ]);
    expect(redirect.params.state).toBe(view.requestId);
  });

  it('sets the consent cookie and keeps the transaction cookie, which the callback needs', async () => {
    const view = await consentView();
    const { browser } = asRedirect(await consent(view));
    expect(browser).toStrictEqual([
      { set: 'consent', value: expect.any(String), maxAgeSeconds: DEFAULT_LIFETIMES.consentMemory },
    ]);
    expect(browser.some((state) => 'clear' in state)).toBe(false);
  });

  it('does not spend the pending request: the callback does', async () => {
    const view = await consentView();
    await consent(view);
    expect(await grants.getPending(view.requestId)).toBeDefined();
  });

  it.each([
    // [seconds after the request, outcome, reason]
    [PENDING_TTL - 1, 'redirect', 'one second before the pending request expires'],
    [PENDING_TTL, 'error-page', 'at its expiry: expires_at is the first instant it is refused'],
    [PENDING_TTL + 3600, 'error-page', 'long after, though the store still holds it (TTL deletes late)'],
  ] as Array<[number, FlowOutcome['kind'], string]>)('+%is -> %s (%s)', async (elapsed, kind) => {
    const view = await consentView();
    clock += elapsed;
    const outcome = await consent(view);
    expect(outcome.kind).toBe(kind);
    if (kind === 'error-page') {
      expectErrorPage(outcome, 400, EXPIRED);
      expect(upstream.started).toEqual([]);
    }
  });

  it('an expired request cannot be denied either: no redirect to the client', async () => {
    const view = await consentView();
    clock += PENDING_TTL;
    expectErrorPage(await consent(view, { decision: 'deny' }), 400, EXPIRED);
  });
});

// ---------------------------------------------------------------------------------------------
// GET /callback
// ---------------------------------------------------------------------------------------------

describe('completeCallback: the code goes to the client with state and iss (RFC 6749 4.1.2, RFC 9207)', () => {
  it('302 to the redirect URI with a code whose hash alone is stored, for the pending grant', async () => {
    const state = await atUpstream({ scope: 'mcp:read mcp:write' });
    const redirect = asRedirect(await callback(upstream.signedIn(state), state));
    expect(redirect.status).toBe(302);
    expect(target(redirect.url)).toBe(CLIENT_A.redirectUri);
    expect(redirect.params).toStrictEqual({
      code: expect.stringMatching(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/),
      state: 'client-state-1',
      iss: ISSUER,
    });
    expect(redirect.browser).toStrictEqual([{ clear: 'transaction' }]);
    // The code is `<grant id>.<secret>`: the grant holds the secret's hash alone.
    const [grantId, secret] = redirect.params.code.split('.');
    const grant = await grants.getGrant(grantId);
    expect(JSON.stringify(grant), 'never stored in clear').not.toContain(secret);
    expect(grant).toStrictEqual({
      grant_id: grantId,
      client_id: 'client-a',
      client_name: 'Client A',
      subject: 'alice',
      scope: 'mcp:read mcp:write',
      resource: RESOURCE,
      created_at: START,
      grant_expires_at: START + CONFIG.refreshTokenAbsoluteTtl,
      expires_at: START + DEFAULT_LIFETIMES.authorizationCode,
      code_hash: hashSecret(secret),
      code_challenge: CODE_CHALLENGE,
      redirect_uri: CLIENT_A.redirectUri,
      redirect_uri_in_request: true,
      code_expires_at: START + DEFAULT_LIFETIMES.authorizationCode,
    });
  });

  it('completes the upstream login with the full callback URL and the secrets of that pending request', async () => {
    const state = await atUpstream();
    const pending = await grants.getPending(state);
    await callback(upstream.signedIn(state), state);
    expect(upstream.completed).toHaveLength(1);
    const [{ callbackUrl, login }] = upstream.completed;
    expect(callbackUrl.href).toBe(`${ISSUER}${ENDPOINTS.callback}?code=upstream-code.${state}&state=${state}`);
    expect(login).toStrictEqual({
      state,
      nonce: pending?.upstream_nonce,
      codeVerifier: pending?.upstream_code_verifier,
    });
  });

  it('without a state in the request, the code comes back without one', async () => {
    const state = await atUpstream({ state: undefined });
    const redirect = asRedirect(await callback(upstream.signedIn(state), state));
    expect(Object.keys(redirect.params).sort()).toEqual(['code', 'iss']);
  });

  it('a remembered client completes without a consent step', async () => {
    const view = await consentView();
    const cookie = consentCookieOf(await consent(view));
    const skipped = asRedirect(await start({ state: 'again' }, CLIENT_A, cookie));
    const state = skipped.params.state;
    const redirect = asRedirect(await callback(upstream.signedIn(state), state));
    expect(redirect.params).toMatchObject({ code: expect.any(String), state: 'again', iss: ISSUER });
  });
});

describe('completeCallback: the transaction cookie binds the callback to the browser that started it (login CSRF, RFC 9700 4.7)', () => {
  it.each([
    // [reason, callback query, transaction cookie]
    ['no state', (s: string) => ({ code: `upstream-code.${s}` }), (s: string) => s],
    ['an empty state', (s: string) => ({ code: `upstream-code.${s}`, state: '' }), (s: string) => s],
    ['no cookie: another browser', (s: string) => upstream.signedIn(s), () => undefined],
    ['the cookie of another request', (s: string) => upstream.signedIn(s), () => 'another-pending-id'],
    ['an empty cookie', (s: string) => upstream.signedIn(s), () => ''],
  ] as Array<[string, (state: string) => Params, (state: string) => string | undefined]>)(
    'refused with an error page, never a redirect, nothing spent: %s',
    async (_reason, params, cookie) => {
      const state = await atUpstream();
      expectErrorPage(await callback(params(state), cookie(state)), 400, NOT_HERE);
      expect(await grants.getPending(state), 'the right browser can still complete').toBeDefined();
      expect(upstream.completed).toEqual([]);
    },
  );

  it("an attacker's callback (its own state and code) in the victim's browser is refused", async () => {
    const attacker = await atUpstream();
    const victim = await atUpstream();
    expectErrorPage(await callback(upstream.signedIn(attacker), victim), 400, NOT_HERE);
    expect(await grants.getPending(attacker)).toBeDefined();
  });
});

describe('completeCallback: a pending request is single-use and expires', () => {
  it('a second callback for the same request meets an expired page, not a second code', async () => {
    const state = await atUpstream();
    asRedirect(await callback(upstream.signedIn(state), state));
    expectErrorPage(await callback(upstream.signedIn(state), state), 400, EXPIRED);
    expect(upstream.completed).toHaveLength(1);
  });

  it('of two concurrent callbacks for one request, exactly one gets a code', async () => {
    const state = await atUpstream();
    const outcomes = await Promise.all([
      callback(upstream.signedIn(state), state),
      callback(upstream.signedIn(state), state),
    ]);
    expect(outcomes.map((outcome) => outcome.kind).sort()).toEqual(['error-page', 'redirect']);
  });

  it.each([
    // [seconds after the request, outcome, reason]
    [PENDING_TTL - 1, 'redirect', 'one second before expiry'],
    [PENDING_TTL, 'error-page', 'at expiry'],
    [PENDING_TTL + 86_400, 'error-page', 'a day later, though the store never deleted it'],
  ] as Array<[number, FlowOutcome['kind'], string]>)('+%is -> %s (%s)', async (elapsed, kind) => {
    const state = await atUpstream();
    clock += elapsed;
    const outcome = await callback(upstream.signedIn(state), state);
    expect(outcome.kind).toBe(kind);
    if (kind === 'error-page') {
      expectErrorPage(outcome, 400, EXPIRED);
      expect(upstream.completed, 'an expired request is not completed upstream').toEqual([]);
    }
  });

  it('a state and cookie that match but name no stored request: expired page, never a redirect', async () => {
    expectErrorPage(await callback({ code: 'x', state: 'never-stored' }, 'never-stored'), 400, EXPIRED);
  });

  it('a denied request has no callback', async () => {
    const view = await consentView();
    await consent(view, { decision: 'deny' });
    expectErrorPage(await callback(upstream.signedIn(view.requestId), view.requestId), 400, EXPIRED);
  });
});

describe('completeCallback: a failed upstream sign-in goes to the client with what the provider decided (RFC 6749 4.1.2.1, OIDC 3.1.2.6)', () => {
  it.each([
    // [reason, callback query, error the client gets]
    ['the person declined at the provider', (s: string) => ({ error: 'access_denied', state: s }), 'access_denied'],
    ['prompt=none and nobody signed in', (s: string) => ({ error: 'login_required', state: s }), 'login_required'],
    [
      'prompt=none and a page needed',
      (s: string) => ({ error: 'interaction_required', state: s }),
      'interaction_required',
    ],
    [
      'prompt=none and consent needed upstream',
      (s: string) => ({ error: 'consent_required', state: s }),
      'consent_required',
    ],
    [
      'the provider failed',
      (s: string) => ({ error: 'server_error', error_description: 'down', state: s }),
      'temporarily_unavailable',
    ],
    ['the provider refused our own request', (s: string) => ({ error: 'invalid_request', state: s }), 'server_error'],
    ['the code exchange failed', (s: string) => ({ code: 'stolen-or-stale', state: s }), 'server_error'],
  ] as Array<[string, (state: string) => Params, string]>)(
    'redirects with its error, state and iss, and no code: %s',
    async (_reason, params, error) => {
      const state = await atUpstream();
      const redirect = asRedirect(await callback(params(state), state));
      expect(redirect.status).toBe(302);
      expect(target(redirect.url)).toBe(CLIENT_A.redirectUri);
      expect(redirect.params).toStrictEqual({
        error,
        error_description: expect.any(String),
        state: 'client-state-1',
        iss: ISSUER,
      });
      expect(redirect.params.error_description, 'no provider-chosen text').not.toContain('down');
      expect(redirect.browser).toStrictEqual([{ clear: 'transaction' }]);
      expect(await grants.getPending(state), 'the failed request is spent').toBeUndefined();
      expect(grants.size, 'no code was stored').toBe(0);
    },
  );

  it.each([
    ['the provider cannot be reached', () => new TypeError('fetch failed')],
    ['the provider answers 503', () => new OAuthError('temporarily_unavailable', 'The provider is unreachable.')],
  ] as Array<[string, () => Error]>)(
    'redirects temporarily_unavailable with state and iss, carrying the failure for the log: %s',
    async (_reason, fault) => {
      const state = await atUpstream();
      const failure = fault();
      upstream.fault = failure;
      const outcome = await callback(upstream.signedIn(state), state);
      const redirect = asRedirect(outcome);
      expect(redirect.status).toBe(302);
      expect(target(redirect.url)).toBe(CLIENT_A.redirectUri);
      expect(redirect.params).toStrictEqual({
        error: 'temporarily_unavailable',
        error_description: expect.any(String),
        state: 'client-state-1',
        iss: ISSUER,
      });
      expect(outcome.kind === 'redirect' && outcome.failure).toBe(failure);
      expect(await grants.getPending(state), 'the request is spent: the client starts again').toBeUndefined();
      expect(grants.size, 'no code was stored').toBe(0);
    },
  );

  it('a code that cannot be stored is temporarily_unavailable to the client, not a 5xx page', async () => {
    const state = await atUpstream();
    const failure = new UnavailableError('Authorization state could not be written; try again.');
    grants.createGrant = () => Promise.reject(failure);
    const outcome = await callback(upstream.signedIn(state), state);
    expect(asRedirect(outcome).params.error).toBe('temporarily_unavailable');
    expect(outcome.kind === 'redirect' && outcome.failure).toBe(failure);
  });
});

// ---------------------------------------------------------------------------------------------
// Across the flow
// ---------------------------------------------------------------------------------------------

describe('what the browser must keep or forget, per outcome (the HTTP layer writes the cookies)', () => {
  const tx = (value: string) => bindTransaction(value);
  const consentSet: BrowserState = {
    set: 'consent',
    value: expect.any(String),
    maxAgeSeconds: DEFAULT_LIFETIMES.consentMemory,
  };
  const clearTx: BrowserState = { clear: 'transaction' };

  it.each([
    // [step, reason, run, expected browser states (given the pending id the outcome binds)]
    ['a fresh /authorize', 'bind this browser', async () => asConsent(await start()), (id: string) => [tx(id)]],
    [
      'a remembered /authorize',
      'bind this browser for the callback',
      async () => asRedirect(await start({}, CLIENT_A, consentCookieOf(await consent(await consentView())))),
      (id: string) => [tx(id)],
    ],
    [
      'a refused /authorize',
      'nothing is pending',
      async () => asRedirect(await start({ response_type: 'token' }, CLIENT_A, approvedCookie(CLIENT_A))),
      () => [clearTx],
    ],
    [
      'consent allowed',
      'remember; keep the transaction for the callback',
      async () => asRedirect(await consent(await consentView())),
      () => [consentSet],
    ],
    [
      'consent denied',
      'the flow is over',
      async () => asRedirect(await consent(await consentView(), { decision: 'deny' })),
      () => [clearTx],
    ],
    [
      'a callback with a code',
      'the flow is over',
      async () => {
        const state = await atUpstream();
        return asRedirect(await callback(upstream.signedIn(state), state));
      },
      () => [clearTx],
    ],
    [
      'a callback after a failed sign-in',
      'the flow is over',
      async () => {
        const state = await atUpstream();
        return asRedirect(await callback({ error: 'access_denied', state }, state));
      },
      () => [clearTx],
    ],
  ] as Array<[string, string, () => Promise<{ browser: BrowserState[] }>, (id: string) => BrowserState[]]>)(
    '%s (%s)',
    async (_step, _reason, run, expected) => {
      const outcome = await run();
      const bound = outcome.browser.find((state) => 'set' in state && state.set === 'transaction');
      const id = bound && 'value' in bound ? verifySignedValue(COOKIE_KEY, TRANSACTION_PURPOSE, bound.value) : '';
      expect(outcome.browser).toStrictEqual(expected(id ?? ''));
    },
  );

  it.each([
    ['consent from another origin', async () => consent(await consentView(), {}, { origin: 'https://evil.example' })],
    ['consent without the cookie', async () => consent(await consentView(), {}, { transactionCookie: undefined })],
    ['callback without the cookie', async () => callback(upstream.signedIn(await atUpstream()), undefined)],
    ['an error of a client never approved', async () => start({ response_type: 'token' })],
  ] as Array<[string, () => Promise<FlowOutcome>]>)(
    'an error page (%s) changes no browser state',
    async (_step, run) => {
      const outcome = await run();
      expect(outcome.kind).toBe('error-page');
      expect(outcome).not.toHaveProperty('browser');
    },
  );
});

// ---------------------------------------------------------------------------------------------
// prompt and max_age (OpenID Connect Core 3.1.2.1), and what the consent page is told
// ---------------------------------------------------------------------------------------------

describe('startAuthorization: prompt and max_age', () => {
  it('prompt=none with a covering approval goes upstream with prompt=none: no page anywhere', async () => {
    const redirect = asRedirect(await start({ prompt: 'none' }, CLIENT_A, approvedCookie(CLIENT_A)));
    expect(target(redirect.url)).toBe(UPSTREAM_AUTHORIZE);
    expect(upstream.started.at(-1)?.prompt).toBe('none');
  });

  it('prompt=none without one answers consent_required by redirect to a client this browser approved', async () => {
    const cookie = approvedCookie(CLIENT_A, { scope: '' });
    const redirect = asRedirect(await start({ prompt: 'none', scope: 'mcp:read' }, CLIENT_A, cookie));
    expect(target(redirect.url)).toBe(CLIENT_A.redirectUri);
    expect(redirect.params).toMatchObject({ error: 'consent_required', state: 'client-state-1', iss: ISSUER });
    expect(grants.size, 'nothing is pending').toBe(0);
  });

  it('prompt=none for a client never approved shows the error on a page (item 2)', async () => {
    expect(asUntrustedError(await start({ prompt: 'none' })).params.error).toBe('consent_required');
    expect(upstream.started).toEqual([]);
  });

  it.each([
    ['none login', 'none with another value'],
    ['consent none', 'in any order'],
  ])('prompt=%s is invalid_request (%s)', async (prompt) => {
    const redirect = asRedirect(await start({ prompt }, CLIENT_A, approvedCookie(CLIENT_A)));
    expect(redirect.params.error).toBe('invalid_request');
  });

  it('prompt=login forces a fresh sign-in upstream, also for what was approved; select_account and unknown values are ignored', async () => {
    asRedirect(await start({ prompt: 'login select_account frobnicate' }, CLIENT_A, approvedCookie(CLIENT_A)));
    expect(upstream.started.at(-1)?.prompt).toBe('login');
    const view = await consentView({ prompt: 'login' });
    asRedirect(await consent(view));
    expect(upstream.started.at(-1)).toMatchObject({ state: view.requestId, prompt: 'login' });
  });

  it('max_age is kept with the request and passed upstream, for the ID token auth_time check', async () => {
    const view = await consentView({ max_age: '300' });
    expect(((await grants.getPending(view.requestId)) as PendingAuthorization | undefined)?.max_age).toBe(300);
    asRedirect(await consent(view));
    expect(upstream.started.at(-1)?.maxAge).toBe(300);
    await callback(upstream.signedIn(view.requestId), view.requestId);
    expect(upstream.completed.at(-1)?.login.maxAge).toBe(300);
  });

  it.each(['-1', '1.5', 'soon', ''])('max_age=%j is invalid_request', async (maxAge) => {
    const redirect = asRedirect(await start({ max_age: maxAge }, CLIENT_A, approvedCookie(CLIENT_A)));
    expect(redirect.params.error).toBe('invalid_request');
  });
});

describe('the transaction cookie is signed: only a value this server set binds a request', () => {
  it('the bare request id (a value anyone could set, e.g. from another port of the host) does not bind', async () => {
    const view = await consentView();
    const outcome = await submitConsent(deps, { ...submission(view), transactionCookie: view.requestId });
    expectErrorPage(outcome, 400, EXPIRED);
    const state = await atUpstream();
    const url = new URL(`${ISSUER}${ENDPOINTS.callback}?code=upstream-code.${state}&state=${state}`);
    expectErrorPage(await completeCallback(deps, upstream.signedIn(state), url, state), 400, NOT_HERE);
  });

  it('a value signed for another purpose or with another key does not bind (anchors TRANSACTION_PURPOSE)', async () => {
    const state = await atUpstream();
    const url = new URL(`${ISSUER}${ENDPOINTS.callback}`);
    for (const cookie of [
      signValue(COOKIE_KEY, CONSENT_PURPOSE, state),
      signValue('another-key', TRANSACTION_PURPOSE, state),
    ]) {
      expectErrorPage(await completeCallback(deps, upstream.signedIn(state), url, cookie), 400, NOT_HERE);
    }
    asRedirect(await completeCallback(deps, upstream.signedIn(state), url, signedTx(state)));
  });
});

describe('what the consent page is told', () => {
  const DOCUMENT_CLIENT: AdmittedClient = {
    clientId: 'https://app.example.net/oauth/client.json',
    clientName: 'Example App',
    clientUri: '',
    redirectUri: 'http://127.0.0.1:8976/callback',
    clientVersion: 'doc-1',
    metadataDocument: true,
    loopbackOnly: true,
  };

  it('names the host of a metadata document client_id, and warns when it returns only to loopback', async () => {
    const { view } = asConsent(await start({}, DOCUMENT_CLIENT));
    expect(view).toMatchObject({ clientIdHost: 'app.example.net', loopbackOnly: true, returnTo: '127.0.0.1:8976' });
  });

  it('does neither for a registered client, loopback or not (its client_id is no URL)', async () => {
    expect(asConsent(await start({}, CLIENT_B)).view).toMatchObject({ loopbackOnly: false });
    expect(asConsent(await start({}, CLIENT_B)).view).not.toHaveProperty('clientIdHost');
  });

  it('lists each scope to be granted', async () => {
    expect((await consentView({ scope: 'mcp:write mcp:read admin' })).scopes).toEqual(['mcp:write', 'mcp:read']);
    expect((await consentView({ scope: undefined })).scopes).toEqual([]);
  });
});
