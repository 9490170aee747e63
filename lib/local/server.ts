/**
 * `npm start`: the gateway's API on one machine. Storage first, then the functions (which read
 * their configuration at import, as on a cold start), and only then the port opens, so a
 * client that can connect finds everything ready.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { ENV, redirectUriPolicyEnv, redirectUriPolicyFromEnv } from '../../lambda/config.js';
import type { RedirectUriPolicy } from '../../lambda/domain/redirect-uri-policy.js';
import { ensureClientsTable, IN_MEMORY, type LocalDynamo, startDynalite } from './dynamodb.js';
import { LocalGateway, serveNodeRequest } from './gateway.js';

export interface LocalServerOptions {
  port: number;
  /** Directory for dynalite's files, or ':memory:'. Ignored when dynamodbEndpoint is set. */
  dataDir: string;
  dynamodbEndpoint?: string;
  tableName: string;
  redirectUriPolicy: RedirectUriPolicy;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export const LOCAL_TABLE_NAME = 'mcp-oauth-gateway-clients';

/** Reads the local server's configuration; see the README's configuration table. */
export function localOptionsFromEnv(env: NodeJS.ProcessEnv): LocalServerOptions {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, not ${env.PORT}`);
  const dataDir = env.DATA_DIR ?? '.data';
  const hosts = env[ENV.allowedRedirectHosts]
    ?.split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  return {
    port,
    dataDir: dataDir === IN_MEMORY ? IN_MEMORY : resolve(dataDir),
    dynamodbEndpoint: env[ENV.dynamodbEndpoint] || undefined,
    tableName: env[ENV.tableName] || LOCAL_TABLE_NAME,
    redirectUriPolicy: redirectUriPolicyFromEnv(env),
  };
}

export async function startLocalServer(options: LocalServerOptions): Promise<RunningServer> {
  const dynamo: LocalDynamo | undefined = options.dynamodbEndpoint ? undefined : await startDynalite(options.dataDir);
  const endpoint = options.dynamodbEndpoint ?? (dynamo as LocalDynamo).endpoint;
  // Credentials and region only matter to the SDK's signer here; dynalite ignores them.
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  await ensureClientsTable(endpoint, options.tableName);

  Object.assign(process.env, {
    [ENV.tableName]: options.tableName,
    [ENV.dynamodbEndpoint]: endpoint,
    ...redirectUriPolicyEnv(options.redirectUriPolicy),
  });
  const gateway = new LocalGateway();
  await gateway.load((entry) => import(`../../lambda/${entry}`));

  const server: Server = createServer((req, res) => {
    serveNodeRequest(gateway, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end('{"error":"server_error","error_description":"The local gateway failed."}');
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolvePromise());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
      await dynamo?.close();
    },
  };
}
