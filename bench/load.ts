/**
 * Local API throughput and latency: `npm start`'s entry in a child process (its own dynalite,
 * data on disk as `npm start` keeps it), driven by autocannon from this process over loopback.
 * Bounded: a fixed duration and number of connections per route, 127.0.0.1 only.
 */
import autocannon, { type Options } from 'autocannon';
import { ENDPOINTS } from '../lambda/contract/endpoints.js';
import { removeDir, startLocalServerProcess } from '../test/support/local-server.js';
import { table } from './stats.js';

const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
/** Unrecorded load first, so the server's code is compiled and its table warm when measuring starts. */
const WARMUP_SECONDS = 2;
const CONNECTIONS = 10;
const REDIRECT_URI = 'https://claude.ai/api/mcp/auth_callback';
const REGISTRATION = JSON.stringify({
  client_name: 'Claude',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  redirect_uris: [REDIRECT_URI],
});

export async function loadTable(): Promise<string[]> {
  const server = await startLocalServerProcess();
  if (new URL(server.url).hostname !== '127.0.0.1') throw new Error(`refusing to load ${server.url}`);
  try {
    const registered = await fetch(`${server.url}${ENDPOINTS.registration}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: REGISTRATION,
    });
    const { client_id } = (await registered.json()) as { client_id: string };
    const authorize = new URL(`${server.url}${ENDPOINTS.authorization}`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id,
      redirect_uri: REDIRECT_URI,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 'af0ifjsldkj',
    }).toString();

    const routes: Array<[string, Options]> = [
      [
        `POST ${ENDPOINTS.registration}`,
        {
          url: `${server.url}${ENDPOINTS.registration}`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: REGISTRATION,
        },
      ],
      [`GET ${ENDPOINTS.authorization} (registered client)`, { url: authorize.href }],
    ];
    const rows = [];
    for (const [name, options] of routes) {
      await autocannon({ ...options, connections: CONNECTIONS, duration: WARMUP_SECONDS, timeout: 10 });
      const result = await autocannon({ ...options, connections: CONNECTIONS, duration: SECONDS, timeout: 10 });
      const statuses = Object.entries(result.statusCodeStats)
        .map(([status, { count }]) => `${status} ×${count}`)
        .join(', ');
      rows.push([
        name,
        `${result.duration.toFixed(1)} s × ${CONNECTIONS}`,
        result.requests.total,
        result.requests.average.toFixed(0),
        result.latency.p50,
        result.latency.p99,
        result.latency.max,
        statuses,
        result.errors + result.timeouts,
      ]);
    }
    return [
      `autocannon ${CONNECTIONS} connections, ${SECONDS} s per route after a ${WARMUP_SECONDS} s warm-up, against 127.0.0.1 (server: one Node.js process with dynalite, logs silent); latency in ms as autocannon records it (whole ms)`,
      '',
      ...table(
        ['route', 'duration × connections', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'statuses', 'errors'],
        rows,
      ),
    ];
  } finally {
    await server.stop();
    removeDir(server.dataDir);
  }
}
