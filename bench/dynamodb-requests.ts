/**
 * DynamoDB requests per API request, counted: the real local server (`npm start`'s entry, in a
 * child process) runs a whole OAuth flow against dynalite through the counting (fault) proxy of
 * test/support/fault-proxy.ts, and every request to the gateway is attributed the DynamoDB
 * requests made while it was being served (requests are sent one at a time).
 */
import * as oauth from 'oauth4webapi';
import { ENDPOINTS, RESOURCE_ENDPOINTS } from '../lambda/contract/endpoints.js';
import { ENV } from '../lambda/contract/environment.js';
import { startDynalite } from '../lib/local/dynamodb.js';
import { LOCAL_GRANTS_TABLE_NAME, LOCAL_TABLE_NAME } from '../lib/local/server.js';
import { CookieJar } from '../test/support/browser-like.js';
import { type FaultProxy, type OperationCounts, startFaultProxy } from '../test/support/fault-proxy.js';
import { removeDir, startLocalServerProcess } from '../test/support/local-server.js';
import {
  authorizationUrl,
  discover,
  INSECURE,
  obtainTokens,
  registerTestClient,
  runBrowser,
} from '../test/support/oauth-flow.js';
import { table } from './stats.js';

export interface Served {
  step: string;
  request: string;
  status: number;
  /** The proxy's count, by operation. */
  total: number;
  /** The same requests by operation and table, e.g. `PutItem clients`. */
  counts: Record<string, number>;
}

/**
 * Tallies each request by operation and table: a rule whose condition records what it sees and
 * never matches, so nothing is ever faulted.
 */
function tableTap(proxy: FaultProxy, tableNames: Record<string, string>) {
  let counts: Record<string, number> = {};
  proxy.inject({
    operation: '*',
    action: { kind: 'internal-error' },
    when: ({ operation, body }) => {
      const name = (body as { TableName?: string } | undefined)?.TableName ?? '';
      const key = `${operation} ${tableNames[name] ?? name}`.trim();
      counts[key] = (counts[key] ?? 0) + 1;
      return false;
    },
  });
  return {
    take: () => {
      const taken = counts;
      counts = {};
      return taken;
    },
  };
}

const total = (counts: OperationCounts) => Object.values(counts).reduce((sum, n) => sum + n, 0);
const describe = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => `${key} ×${n}`)
    .join(', ') || '—';

/**
 * Wraps fetch so that each request to the gateway is counted alone: the count covers the
 * request until its response has been read in full. Requests elsewhere (the development OpenID
 * provider) pass through uncounted; they touch no table.
 */
function countingFetch(
  origin: string,
  proxy: FaultProxy,
  tap: ReturnType<typeof tableTap>,
  served: Served[],
  step: () => string,
) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== origin) return realFetch(input, init);
    tap.take();
    const measured = await proxy.measure(async () => {
      const response = await realFetch(input, init);
      await response.clone().arrayBuffer();
      return response;
    });
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    served.push({
      step: step(),
      request: `${method} ${url.pathname}`,
      status: measured.result.status,
      total: measured.total,
      counts: tap.take(),
    });
    return measured.result;
  };
  return () => {
    globalThis.fetch = realFetch;
  };
}

/** The busy client's MCP requests, counted together: one access token, one after the other. */
export const BUSY_CLIENT_STEP = 'MCP requests of one busy client (one access token)';

export interface MeasureOptions {
  /** How many MCP requests the busy client makes. Default: 1,000. */
  mcpRequests?: number;
  /** The server's GRANT_STATUS_CACHE_SECONDS; unset: its default (30). */
  grantStatusCacheSeconds?: number;
}

/** One MCP initialize with the token; its answer is read in full. */
async function mcpRequest(fetcher: typeof fetch, url: string, accessToken: string): Promise<number> {
  const response = await fetcher(url, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${accessToken}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
    }),
  });
  await response.arrayBuffer();
  return response.status;
}

/**
 * Runs the flow against a fresh local server and returns what each API request cost. Also the
 * integration test's measurement (test/integration/dynamodb-request-counts.test.ts): a count,
 * not a time, so it is asserted there and printed here.
 */
export async function measureDynamoDbRequests(options: MeasureOptions = {}): Promise<Served[]> {
  const dynamo = await startDynalite(':memory:');
  const proxy = await startFaultProxy(dynamo.endpoint);
  const tap = tableTap(proxy, { [LOCAL_TABLE_NAME]: 'clients', [LOCAL_GRANTS_TABLE_NAME]: 'grants' });
  const server = await startLocalServerProcess({
    [ENV.dynamodbEndpoint]: proxy.url,
    ...(options.grantStatusCacheSeconds !== undefined
      ? { [ENV.grantStatusCacheSeconds]: String(options.grantStatusCacheSeconds) }
      : {}),
  });
  const realFetch = globalThis.fetch;
  const served: Served[] = [];
  let step = '';
  const restore = countingFetch(server.url, proxy, tap, served, () => step);
  try {
    step = 'discovery';
    const as = await discover(server.url);

    step = 'registration';
    const registered = await registerTestClient(as, 'none');

    step = 'authorize, refused by the authorizer (redirect_uri not registered)';
    const refused = await authorizationUrl(as, { ...registered, redirectUri: 'https://client.example/other' });
    await fetch(refused.url, { redirect: 'manual' });

    step = 'authorization code flow, first use of the client today';
    const jar = new CookieJar();
    const attempt = await authorizationUrl(as, registered);
    const landing = await runBrowser(attempt.url, registered.redirectUri, jar);
    if (landing.kind !== 'stopped') throw new Error(`flow ended on a page: ${landing.response.status}`);
    const params = oauth.validateAuthResponse(as, registered.client, landing.url, attempt.state);
    const codeResponse = await oauth.authorizationCodeGrantRequest(
      as,
      registered.client,
      registered.auth,
      params,
      registered.redirectUri,
      attempt.codeVerifier,
      INSECURE,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(as, registered.client, codeResponse);

    step = 'refresh';
    const refreshResponse = await oauth.refreshTokenGrantRequest(
      as,
      registered.client,
      registered.auth,
      tokens.refresh_token as string,
      INSECURE,
    );
    await oauth.processRefreshTokenResponse(as, registered.client, refreshResponse);

    step = 'authorization code flow again (use already recorded today; consent remembered)';
    const again = await obtainTokens(as, registered, { jar });

    // Counted as one entry: the token authorizer's grant reads over all of them.
    const requests = options.mcpRequests ?? 1000;
    tap.take();
    const started = performance.now();
    const busy = await proxy.measure(async () => {
      const statuses: Record<number, number> = {};
      for (let i = 0; i < requests; i++) {
        const status = await mcpRequest(realFetch, `${server.url}/mcp`, again.access_token);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
      return statuses;
    });
    const seconds = (performance.now() - started) / 1000;
    served.push({
      step: `${BUSY_CLIENT_STEP}, ${requests} in ${seconds.toFixed(1)} s`,
      request: `POST ${RESOURCE_ENDPOINTS.mcp} ×${requests}`,
      status: Number(Object.keys(busy.result).length === 1 ? Object.keys(busy.result)[0] : 0),
      total: busy.total,
      counts: tap.take(),
    });

    step = 'revocation';
    await oauth.revocationRequest(as, registered.client, registered.auth, again.refresh_token as string, INSECURE);
  } finally {
    restore();
    await server.stop();
    removeDir(server.dataDir);
    await proxy.close();
    await dynamo.close();
  }
  return served;
}

export async function dynamodbRequestsTable(): Promise<string[]> {
  const served = await measureDynamoDbRequests();
  const rows = served.map((entry) => [entry.step, entry.request, entry.status, entry.total, describe(entry.counts)]);
  const first = (request: string, stepPrefix: string) =>
    served.find((entry) => entry.request === request && entry.step.startsWith(stepPrefix));
  const summary = (label: string, entry: Served | undefined, filter: (key: string) => boolean = () => true) => {
    if (!entry) return `- ${label}: not observed`;
    const counts = Object.fromEntries(Object.entries(entry.counts).filter(([key]) => filter(key)));
    return `- ${label}: ${total(counts)} (${describe(counts)})`;
  };
  return [
    ...table(['step', 'API request', 'status', 'DynamoDB requests', 'by operation and table'], rows),
    '',
    'Per API request:',
    summary('POST /register', first(`POST ${ENDPOINTS.registration}`, 'registration')),
    summary(
      'GET /authorize, authorizer alone (refused)',
      first(`GET ${ENDPOINTS.authorization}`, 'authorize, refused'),
    ),
    summary(
      'GET /authorize, authorizer part (clients table)',
      first(`GET ${ENDPOINTS.authorization}`, 'authorization code flow, first'),
      (key) => key.endsWith(' clients'),
    ),
    summary(
      'POST /token authorization_code (first use today: records it)',
      first(`POST ${ENDPOINTS.token}`, 'authorization code flow, first'),
    ),
    summary(
      'POST /token authorization_code (use already recorded)',
      first(`POST ${ENDPOINTS.token}`, 'authorization code flow again'),
    ),
    summary('POST /token refresh_token', first(`POST ${ENDPOINTS.token}`, 'refresh')),
    summary('POST /revoke (a refresh token)', first(`POST ${ENDPOINTS.revocation}`, 'revocation')),
    summary(
      'POST /mcp ×1,000, one busy client (GRANT_STATUS_CACHE_SECONDS=30: one GetItem of its grant per 30 s per instance; 0: one per request)',
      first(`POST ${RESOURCE_ENDPOINTS.mcp} ×1000`, BUSY_CLIENT_STEP),
    ),
  ];
}
