/**
 * A fault-injecting HTTP proxy for DynamoDB's JSON protocol, to put in front of dynalite (or any
 * DynamoDB-compatible endpoint): every request is counted by operation (the `X-Amz-Target`
 * header, e.g. `DynamoDB_20120810.PutItem` counts as `PutItem`), and programmable rules answer
 * some of them with a fault instead of forwarding them:
 *
 * - `throttle`: HTTP 400 with a ProvisionedThroughputExceededException (or ThrottlingException),
 * - `internal-error`: HTTP 500 InternalServerError,
 * - `delay`: wait, then forward (a request the client gave up on still reaches the table),
 * - `drop-after-forward`: forward, wait for the table's answer, then cut the connection: the
 *   write happened but the client never hears of it,
 * - `drop`: cut the connection without forwarding anything.
 *
 * The request counter is also what a benchmark needs to report DynamoDB requests per API request
 * (`measure`).
 */
import { Agent, createServer, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a rule does to a request it matches. */
export type FaultAction =
  | { kind: 'throttle'; error?: 'ProvisionedThroughputExceededException' | 'ThrottlingException' }
  | { kind: 'internal-error' }
  | { kind: 'delay'; ms: number }
  | { kind: 'drop-after-forward' }
  | { kind: 'drop' };

/** A DynamoDB request as a rule sees it. */
export interface ProxiedRequest {
  /** The operation, e.g. `PutItem`; `unknown` when the request names none. */
  operation: string;
  /** The parsed JSON body (undefined when it is not JSON). */
  body: unknown;
}

export interface FaultRule {
  /** Operations the rule applies to, e.g. `'PutItem'` or `['GetItem', 'PutItem']`; `'*'` for all. */
  operation: string | readonly string[];
  action: FaultAction;
  /** Further narrows the matching requests, e.g. to one table. */
  when?: (request: ProxiedRequest) => boolean;
  /** Let this many matching requests through untouched before the rule starts to apply (default 0). */
  skip?: number;
  /** Apply to this many matching requests, then stop (default: every one). */
  times?: number;
}

export interface FaultHandle {
  /** How many requests the rule has faulted so far. */
  readonly hits: number;
  /** Stops the rule (requests it already holds, e.g. delayed ones, carry on). */
  remove(): void;
}

/** Requests received per operation, faulted or not: each SDK attempt is one request. */
export type OperationCounts = Readonly<Record<string, number>>;

export function totalRequests(counts: OperationCounts): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

export interface Measured<T> {
  result: T;
  /** DynamoDB requests made while `work` ran, by operation. */
  counts: OperationCounts;
  total: number;
}

export interface FaultProxy {
  /** The endpoint to give the SDK, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Adds a rule; the first active rule that matches a request decides its fate. */
  inject(rule: FaultRule): FaultHandle;
  /** Removes every rule. */
  clearFaults(): void;
  /** A snapshot of the requests received since the start or the last reset. */
  counts(): OperationCounts;
  resetCounts(): void;
  /** Runs `work` and reports the DynamoDB requests it caused (nothing else may use the proxy meanwhile). */
  measure<T>(work: () => Promise<T>): Promise<Measured<T>>;
  close(): Promise<void>;
}

const ERROR_TYPES = {
  ProvisionedThroughputExceededException: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  ThrottlingException: 'com.amazon.coral.availability#ThrottlingException',
  InternalServerError: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
} as const;

const ERROR_MESSAGES: Record<keyof typeof ERROR_TYPES, string> = {
  ProvisionedThroughputExceededException:
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  ThrottlingException: 'Rate of requests exceeds the allowed throughput.',
  InternalServerError: 'Internal server error',
};

/** `DynamoDB_20120810.PutItem` → `PutItem`. */
export function operationOf(headers: IncomingHttpHeaders): string {
  const target = headers['x-amz-target'];
  const value = Array.isArray(target) ? target[0] : target;
  if (!value) return 'unknown';
  const dot = value.lastIndexOf('.');
  return dot === -1 ? value : value.slice(dot + 1);
}

interface ActiveRule {
  rule: FaultRule;
  seen: number;
  hits: number;
  removed: boolean;
}

function applies(active: ActiveRule, proxied: ProxiedRequest): boolean {
  const { rule } = active;
  const operations = typeof rule.operation === 'string' ? [rule.operation] : rule.operation;
  if (!operations.includes('*') && !operations.includes(proxied.operation)) return false;
  if (rule.when && !rule.when(proxied)) return false;
  // This request is the rule's next match: it is faulted only inside the skip/times window.
  active.seen += 1;
  const skip = rule.skip ?? 0;
  if (active.seen <= skip) return false;
  return active.seen - skip <= (rule.times ?? Number.POSITIVE_INFINITY);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function forward(target: URL, agent: Agent, req: IncomingMessage, body: Buffer): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const upstream = request(
      {
        agent,
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'content-length': String(body.length) },
      },
      (res) => {
        readBody(res).then(
          (responseBody) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: responseBody }),
          reject,
        );
      },
    );
    upstream.once('error', reject);
    upstream.end(body);
  });
}

function errorBody(type: keyof typeof ERROR_TYPES): string {
  return JSON.stringify({ __type: ERROR_TYPES[type], message: ERROR_MESSAGES[type] });
}

/** Starts the proxy on an OS-assigned loopback port, forwarding to `targetEndpoint`. */
export async function startFaultProxy(targetEndpoint: string): Promise<FaultProxy> {
  const target = new URL(targetEndpoint);
  const agent = new Agent({ keepAlive: true });
  const rules: ActiveRule[] = [];
  /** Pending delays: closing the proxy ends each one at once, without forwarding. */
  const delays = new Map<NodeJS.Timeout, (forward: boolean) => void>();
  const sockets = new Set<Socket>();
  let counts: Record<string, number> = {};
  let closed = false;

  const sleep = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        delays.delete(timer);
        resolve(!closed);
      }, ms);
      delays.set(timer, resolve);
    });

  const server = createServer((req, res) => {
    const handle = async () => {
      const body = await readBody(req);
      const proxied: ProxiedRequest = { operation: operationOf(req.headers), body: parseJson(body) };
      counts[proxied.operation] = (counts[proxied.operation] ?? 0) + 1;
      const active = rules.find((candidate) => !candidate.removed && applies(candidate, proxied));
      const action = active?.rule.action;
      if (active) active.hits += 1;

      const reply = (status: number, type: keyof typeof ERROR_TYPES) => {
        const payload = errorBody(type);
        res.writeHead(status, {
          'Content-Type': 'application/x-amz-json-1.0',
          'Content-Length': Buffer.byteLength(payload),
          'x-amzn-RequestId': `fault-proxy-${Date.now()}`,
        });
        res.end(payload);
      };
      const drop = () => {
        req.socket.destroy();
      };
      const relay = async () => {
        const upstream = await forward(target, agent, req, body);
        if (action?.kind === 'drop-after-forward') return drop();
        const headers = { ...upstream.headers };
        delete headers['transfer-encoding'];
        headers['content-length'] = String(upstream.body.length);
        res.writeHead(upstream.status, headers);
        res.end(upstream.body);
      };

      switch (action?.kind) {
        case undefined:
        case 'drop-after-forward':
          return relay();
        case 'throttle':
          return reply(400, action.error ?? 'ProvisionedThroughputExceededException');
        case 'internal-error':
          return reply(500, 'InternalServerError');
        case 'drop':
          return drop();
        case 'delay':
          // The request goes on to the table even if the client has given up meanwhile.
          if (await sleep(action.ms)) return relay();
          return drop();
      }
    };
    handle().catch(() => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end('fault proxy: the upstream failed');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    inject(rule) {
      const active: ActiveRule = { rule, seen: 0, hits: 0, removed: false };
      rules.push(active);
      return {
        get hits() {
          return active.hits;
        },
        remove() {
          active.removed = true;
        },
      };
    },
    clearFaults() {
      for (const active of rules) active.removed = true;
      rules.length = 0;
    },
    counts: () => ({ ...counts }),
    resetCounts() {
      counts = {};
    },
    async measure(work) {
      const before = { ...counts };
      const result = await work();
      const during: Record<string, number> = {};
      for (const [operation, count] of Object.entries(counts)) {
        const delta = count - (before[operation] ?? 0);
        if (delta > 0) during[operation] = delta;
      }
      return { result, counts: during, total: totalRequests(during) };
    },
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        for (const [timer, resolveDelay] of delays) {
          clearTimeout(timer);
          resolveDelay(false);
        }
        delays.clear();
        for (const socket of sockets) socket.destroy();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
