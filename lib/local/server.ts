/**
 * `npm start`: the gateway on one machine. Storage, keys and the upstream provider first, then
 * the functions (which read their configuration at import, as on a cold start), and only then
 * the port opens, so a client that can connect finds everything ready.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENDPOINTS, RESOURCE_ENDPOINTS } from '../../lambda/contract/endpoints.js';
import {
  DEFAULT_LIFETIMES,
  ENV,
  readIssuer,
  readList,
  readRedirectUriPolicy,
  readRegistrationActivationHours,
  readSeconds,
} from '../../lambda/contract/environment.js';
import type { RedirectUriPolicy, TrustedIdentityProvider } from '../../lambda/contract/settings.js';
import { functionEnvironment, type GatewaySettings } from '../function-environment.js';
import { allowedOrigins } from '../origin-allow-list.js';
import { FUNCTIONS } from '../routes.js';
import { parseBackendUrl } from './backend-proxy.js';
import { startDevOidcProvider } from './dev-oidc-provider.js';
import { ensureClientsTable, ensureGrantsTable, IN_MEMORY, type LocalDynamo, startDynalite } from './dynamodb.js';
import { LocalGateway } from './gateway.js';
import { ownHosts } from './host-check.js';
import { serveNodeRequest } from './node-adapter.js';

export interface LocalServerOptions {
  port: number;
  /** Directory for dynalite's files, the signing key and the cookie key, or ':memory:'. */
  dataDir: string;
  dynamodbEndpoint?: string;
  tableName: string;
  grantsTableName: string;
  redirectUriPolicy: RedirectUriPolicy;
  /** Serve everything under this path prefix (no trailing slash), e.g. `/gateway`. */
  basePath: string;
  /** Overrides `http://127.0.0.1:$PORT$BASE_PATH`. */
  issuerUrl?: string;
  scopes: string[];
  /** Scopes machine clients may get (CLIENT_CREDENTIALS_SCOPES); unset: all of `scopes`. */
  clientCredentialsScopes?: string[];
  /** Trusted enterprise identity providers for ID-JAG (ID_JAG_TRUSTED_ISSUERS, JSON), passed as is. */
  idJagTrustedIssuers?: TrustedIdentityProvider[];
  /** Scopes the local protected resource (/mcp) requires (RESOURCE_SCOPES); unset: `scopes`. */
  resourceScopes?: string[];
  /** The user's MCP server, put behind /mcp instead of the sample function (MCP_BACKEND_URL). */
  backendUrl?: URL;
  /** Origins /mcp accepts browser requests from (MCP_ALLOWED_ORIGINS, comma-separated); unset: any. */
  allowedOrigins?: string[];
  lifetimes: GatewaySettings['lifetimes'];
  /** Tests and local development: client metadata documents may be served over http from loopback. */
  cimdAllowLoopbackHttp: boolean;
  initialAccessToken?: string;
  clientIdleExpiryDays: number;
  /** Seconds the token authorizer caches a grant's status (GRANT_STATUS_CACHE_SECONDS); 0: every request; unset: 30. */
  grantStatusCacheSeconds?: number;
  /** Hours a new registration has to obtain its first token (REGISTRATION_ACTIVATION_HOURS); 0: off; unset: 24. */
  registrationActivationHours?: number;
  /** A real OpenID provider instead of the built-in development one. */
  upstream?: { issuer: string; clientId: string; clientSecret?: string; scope?: string };
}

export interface RunningServer {
  /** Base URL the server listens on (`http://127.0.0.1:<port>`). */
  url: string;
  issuer: string;
  /** What /mcp fronts: the backend's URL, or undefined for the sample server. */
  backend?: string;
  close(): Promise<void>;
}

export const LOCAL_TABLE_NAME = 'mcp-oauth-gateway-clients';
export const LOCAL_GRANTS_TABLE_NAME = 'mcp-oauth-gateway-grants';
export const DEV_UPSTREAM_CLIENT_ID = 'mcp-oauth-gateway-local';

/** ID_JAG_TRUSTED_ISSUERS as JSON; its entries are checked by the token function, as deployed. */
function trustedIssuersJson(raw: string): TrustedIdentityProvider[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`${ENV.idJagTrustedIssuers} must be a JSON array`);
  }
  if (!Array.isArray(value)) throw new Error(`${ENV.idJagTrustedIssuers} must be a JSON array`);
  return value as TrustedIdentityProvider[];
}

/** Reads the local server's configuration; see the README's configuration table. */
export function localOptionsFromEnv(env: NodeJS.ProcessEnv): LocalServerOptions {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, not ${env.PORT}`);
  const dataDir = env.DATA_DIR ?? '.data';
  const basePath = (env.BASE_PATH ?? '').replace(/\/+$/, '');
  if (basePath && !/^\/[A-Za-z0-9\-._~/]*$/.test(basePath))
    throw new Error('BASE_PATH must be a path such as /gateway');
  const upstreamIssuer = env[ENV.upstreamIssuer];
  return {
    port,
    dataDir: dataDir === IN_MEMORY ? IN_MEMORY : resolve(dataDir),
    dynamodbEndpoint: env[ENV.dynamodbEndpoint] || undefined,
    tableName: env[ENV.tableName] || LOCAL_TABLE_NAME,
    grantsTableName: env[ENV.grantsTableName] || LOCAL_GRANTS_TABLE_NAME,
    redirectUriPolicy: readRedirectUriPolicy(env),
    basePath,
    issuerUrl: env[ENV.issuerUrl] ? readIssuer(env) : undefined,
    scopes: readList(env, ENV.scopes),
    // Checked by the token function when it reads it, as deployed.
    ...(env[ENV.idJagTrustedIssuers]
      ? { idJagTrustedIssuers: trustedIssuersJson(env[ENV.idJagTrustedIssuers] as string) }
      : {}),
    ...(env[ENV.clientCredentialsScopes] !== undefined
      ? { clientCredentialsScopes: readList(env, ENV.clientCredentialsScopes) }
      : {}),
    ...(env[ENV.scopesSupported] !== undefined ? { resourceScopes: readList(env, ENV.scopesSupported) } : {}),
    ...(env.MCP_BACKEND_URL ? { backendUrl: parseBackendUrl(env.MCP_BACKEND_URL) } : {}),
    ...(env.MCP_ALLOWED_ORIGINS
      ? { allowedOrigins: allowedOrigins('MCP_ALLOWED_ORIGINS', readList(env, 'MCP_ALLOWED_ORIGINS')) }
      : {}),
    cimdAllowLoopbackHttp: env[ENV.cimdAllowLoopbackHttp] === 'true',
    ...(env[ENV.initialAccessToken] ? { initialAccessToken: env[ENV.initialAccessToken] } : {}),
    clientIdleExpiryDays: Number(env[ENV.clientIdleExpiryDays] ?? 0),
    registrationActivationHours: readRegistrationActivationHours(env),
    // Checked by the token authorizer when it reads it, as deployed.
    ...(env[ENV.grantStatusCacheSeconds] ? { grantStatusCacheSeconds: Number(env[ENV.grantStatusCacheSeconds]) } : {}),
    lifetimes: {
      accessToken: readSeconds(env, ENV.accessTokenTtlSeconds, DEFAULT_LIFETIMES.accessToken),
      refreshTokenIdle: readSeconds(env, ENV.refreshTokenIdleTtlSeconds, DEFAULT_LIFETIMES.refreshTokenIdle),
      refreshTokenAbsolute: readSeconds(
        env,
        ENV.refreshTokenAbsoluteTtlSeconds,
        DEFAULT_LIFETIMES.refreshTokenAbsolute,
      ),
      // Checked by the token function when it reads it, as deployed.
      ...(env[ENV.refreshTokenReuseGraceSeconds]
        ? { refreshTokenReuseGrace: Number(env[ENV.refreshTokenReuseGraceSeconds]) }
        : {}),
    },
    ...(upstreamIssuer
      ? {
          upstream: {
            issuer: upstreamIssuer,
            clientId: env[ENV.upstreamClientId] ?? '',
            ...(env[ENV.upstreamClientSecret] ? { clientSecret: env[ENV.upstreamClientSecret] } : {}),
            ...(env[ENV.upstreamScope] ? { scope: env[ENV.upstreamScope] } : {}),
          },
        }
      : {}),
  };
}

/** The issuer contains the port, so an OS-assigned port is chosen before anything else starts. */
async function choosePort(port: number): Promise<number> {
  if (port !== 0) return port;
  const probe = createServer();
  await new Promise<void>((done, fail) => {
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => done());
  });
  const chosen = (probe.address() as AddressInfo).port;
  await new Promise<void>((done) => probe.close(() => done()));
  return chosen;
}

/** A random key kept in the data directory so cookies survive a restart; in memory, a fresh one. */
function cookieKey(dataDir: string): string {
  if (dataDir === IN_MEMORY) return randomBytes(32).toString('base64url');
  const file = join(dataDir, 'cookie-key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  return readFileSync(file, 'utf8').trim();
}

export async function startLocalServer(options: LocalServerOptions): Promise<RunningServer> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const port = await choosePort(options.port);
    const issuer = options.issuerUrl ?? `http://127.0.0.1:${port}${options.basePath}`;

    // Credentials and region only matter to the SDK's signer here; dynalite ignores them.
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

    if (options.dataDir !== IN_MEMORY) mkdirSync(options.dataDir, { recursive: true });
    let endpoint = options.dynamodbEndpoint;
    if (!endpoint) {
      const dynamo: LocalDynamo = await startDynalite(options.dataDir);
      cleanups.push(() => dynamo.close());
      endpoint = dynamo.endpoint;
    }
    await ensureClientsTable(endpoint, options.tableName);
    await ensureGrantsTable(endpoint, options.grantsTableName);

    let keyDir = options.dataDir;
    if (keyDir === IN_MEMORY) {
      const temporary = mkdtempSync(join(tmpdir(), 'mcp-gw-key-'));
      cleanups.push(() => rmSync(temporary, { recursive: true, force: true }));
      keyDir = temporary;
    }

    let upstream = options.upstream;
    if (!upstream) {
      const dev = await startDevOidcProvider({
        clients: [{ client_id: DEV_UPSTREAM_CLIENT_ID, redirect_uris: [`${issuer}${ENDPOINTS.callback}`] }],
      });
      cleanups.push(() => dev.close());
      upstream = { issuer: dev.issuer, clientId: DEV_UPSTREAM_CLIENT_ID };
    }

    // Both APIs share this origin locally: the MCP server's resource is <issuer>/mcp.
    const resourceServer = {
      resourceUrl: `${issuer}${RESOURCE_ENDPOINTS.mcp}`,
      metadataUrl: `${issuer}${RESOURCE_ENDPOINTS.protectedResourceMetadata}`,
      jwksUrl: `${issuer}${ENDPOINTS.jwks}`,
      scopes: options.resourceScopes ?? options.scopes,
      requiredScopes: options.resourceScopes ?? [],
    };
    const settings: GatewaySettings = {
      clientsTable: options.tableName,
      grantsTable: options.grantsTableName,
      issuer,
      resources: [resourceServer.resourceUrl],
      resourceServer,
      // A scope the resource requires must be one the authorization server grants.
      scopes: [...new Set([...options.scopes, ...(options.resourceScopes ?? [])])],
      ...(options.clientCredentialsScopes ? { clientCredentialsScopes: options.clientCredentialsScopes } : {}),
      ...(options.idJagTrustedIssuers ? { idJagTrustedIssuers: options.idJagTrustedIssuers } : {}),
      lifetimes: options.lifetimes,
      cimdAllowLoopbackHttp: options.cimdAllowLoopbackHttp,
      ...(options.initialAccessToken ? { initialAccessToken: { value: options.initialAccessToken } } : {}),
      clientIdleExpiryDays: options.clientIdleExpiryDays,
      ...(options.registrationActivationHours !== undefined
        ? { registrationActivationHours: options.registrationActivationHours }
        : {}),
      ...(options.grantStatusCacheSeconds !== undefined
        ? { grantStatusCacheSeconds: options.grantStatusCacheSeconds }
        : {}),
      redirectUriPolicy: options.redirectUriPolicy,
      cookieSecret: { value: cookieKey(options.dataDir) },
      // Plain http on loopback: a Secure cookie would never be sent back.
      cookieSecure: issuer.startsWith('https:'),
      upstream: {
        issuer: upstream.issuer,
        clientId: upstream.clientId,
        ...(upstream.clientSecret ? { clientSecret: { value: upstream.clientSecret } } : {}),
        ...(upstream.scope ? { scope: upstream.scope } : {}),
        allowHttp: upstream.issuer.startsWith('http:'),
      },
      signing: { file: join(keyDir, 'signing-key.json') },
    };
    // One process runs every function: it gets the union of their environments.
    for (const spec of Object.values(FUNCTIONS)) Object.assign(process.env, functionEnvironment(spec, settings));
    process.env[ENV.dynamodbEndpoint] = endpoint;

    const gateway = new LocalGateway(options.basePath, resourceServer.metadataUrl, {
      ...(options.backendUrl ? { backend: options.backendUrl } : {}),
      allowedHosts: ownHosts(port, issuer),
      requiredScopes: resourceServer.requiredScopes,
      ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
    });
    await gateway.load((entry) => import(`../../lambda/${entry}`));

    const server: Server = createServer((req, res) => {
      serveNodeRequest(gateway, req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end('{"error":"server_error","error_description":"The local gateway failed."}');
      });
    });
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(port, '127.0.0.1', () => done());
    });
    cleanups.push(
      () =>
        new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
    );
    return {
      url: `http://127.0.0.1:${port}`,
      issuer,
      ...(options.backendUrl ? { backend: options.backendUrl.href } : {}),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
