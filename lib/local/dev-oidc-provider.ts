/**
 * Local mode's upstream: a real OpenID provider (panva's oidc-provider) on an OS-assigned
 * loopback port, so the gateway's upstream sign-in runs the same protocol it runs against
 * Cognito. DEVELOPMENT ONLY: anyone can sign in as anyone (any username, any password), keys
 * and all state live in memory and vanish on close.
 */
import { generateKeyPair, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';

export interface DevOidcClient {
  client_id: string;
  redirect_uris: string[];
}

export interface DevOidcProvider {
  /** `http://127.0.0.1:<port>` (or https); discovery is at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  close(): Promise<void>;
}

interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type ProviderConstructor = new (issuer: string, configuration: object) => Provider;

export async function startDevOidcProvider(options: {
  clients: DevOidcClient[];
  /** Serve https with this key and certificate (the deployed-artifact tests); default: plain http. */
  tls?: { key: string; cert: string };
}): Promise<DevOidcProvider> {
  // The issuer must contain the port, which is only known once listening: listen first with a
  // placeholder, then hand requests to the provider.
  let handler: RequestListener = (_req, res) => {
    res.writeHead(503).end();
  };
  const listener: RequestListener = (req, res) => handler(req, res);
  const server = options.tls ? createTlsServer(options.tls, listener) : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  try {
    // Imported here, not at the top, so importing this file neither loads oidc-provider nor
    // triggers its import-time "Unsupported runtime" notice unless a provider is started.
    // @ts-expect-error oidc-provider ships no types and @types/oidc-provider is not installed;
    // the part used here is typed by ProviderConstructor.
    const { default: OidcProvider } = await import('oidc-provider');
    const provider = new (OidcProvider as ProviderConstructor)(issuer, await configuration(options.clients));
    // Koa's `proxy` stays false: requests arrive directly over http, so oidc-provider sees an
    // insecure request and leaves cookies without the Secure flag, which is what lets a browser
    // (or the tests' cookie jar) send them back over plain http.
    handler = provider.callback();
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  return { issuer, close: () => closeServer(server) };
}

async function configuration(clients: DevOidcClient[]): Promise<object> {
  // Supplying keys, an adapter, TTLs, CORS and an account model is what stops oidc-provider's
  // "you MUST/SHOULD change this" notices; the devInteractions notice and, on Node 20, the
  // "Unsupported runtime" one have no option and remain.
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return {
    clients: clients.map((client) => ({
      ...client,
      // Public client: the gateway proves itself with PKCE only. 'web' (the default) is right
      // for a server-side client, and oidc-provider accepts http redirect URIs for web clients
      // using the code flow (only implicit-flow web clients must use https). Unlike 'native',
      // 'web' matches the redirect URI exactly, port included.
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' }] },
    // Signed cookies, as any real deployment would have; a fresh key per start.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    adapter: memoryAdapter(),
    // PKCE on every request, whatever the client (v9 supports S256 only).
    pkce: { required: () => true },
    scopes: ['openid'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    features: {
      // DEVELOPMENT ONLY: the built-in login page (any username and password) and consent page.
      devInteractions: { enabled: true },
    },
    // The account is whatever username was typed at the dev login; the other claims are made up.
    findAccount: (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: () => ({ sub, name: sub, preferred_username: sub, email: `${sub}@example.test`, email_verified: false }),
    }),
    // Only browsers send CORS requests, and nothing here calls the provider from a browser page.
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 24 * 3600,
      Grant: 24 * 3600,
    },
  };
}

/**
 * oidc-provider's storage contract, in a Map. Its built-in memory adapter does the same but
 * prints a warning on every start; this one is equally development-only.
 */
function memoryAdapter() {
  const store = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>();
  const live = (key: string) => {
    const entry = store.get(key);
    if (!entry || entry.expiresAt > Date.now()) return entry?.payload;
    store.delete(key);
    return undefined;
  };
  const findWhere = (model: string, field: string, value: unknown) => {
    for (const key of store.keys()) if (key.startsWith(`${model}:`) && live(key)?.[field] === value) return live(key);
    return undefined;
  };
  return (model: string) => ({
    upsert: async (id: string, payload: Record<string, unknown>, expiresIn?: number) => {
      store.set(`${model}:${id}`, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    },
    find: async (id: string) => live(`${model}:${id}`),
    findByUid: async (uid: string) => findWhere(model, 'uid', uid),
    findByUserCode: async (userCode: string) => findWhere(model, 'userCode', userCode),
    consume: async (id: string) => {
      const payload = live(`${model}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    },
    destroy: async (id: string) => {
      store.delete(`${model}:${id}`);
    },
    revokeByGrantId: async (grantId: string) => {
      for (const [key, entry] of store)
        if (key.startsWith(`${model}:`) && entry.payload.grantId === grantId) store.delete(key);
    },
  });
}

function closeServer(server: ReturnType<typeof createServer>): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
