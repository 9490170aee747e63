/**
 * A real MCP server this project did not write, to put behind the local gateway: the official
 * SDK's McpServer on StreamableHTTPServerTransport over node:http, stateful (one transport per
 * Mcp-Session-Id), recording every request it receives so a test can see what the gateway sent.
 *
 * Tools: `echo-identity` returns the x-mcp-gateway-* headers its request carried; `progress`
 * sends a progress notification, waits `PROGRESS_PAUSE_MS`, then returns, so its SSE answer
 * has two events with a pause between them.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

export const PROGRESS_PAUSE_MS = 400;

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface SdkMcpBackend {
  /** Its MCP endpoint, e.g. http://127.0.0.1:41234/mcp. */
  url: string;
  received: ReceivedRequest[];
  /** Session ids with a live transport. */
  sessions(): string[];
  close(): Promise<void>;
}

function mcpServer(): McpServer {
  const server = new McpServer({ name: 'sdk-backend', version: '1.0.0' });
  server.registerTool('echo-identity', { description: 'The gateway identity headers this call carried' }, (extra) => {
    const headers = extra.requestInfo?.headers ?? {};
    const identity = Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('x-mcp-gateway-')));
    return { content: [{ type: 'text', text: JSON.stringify(identity) }] };
  });
  server.registerTool(
    'progress',
    { description: 'A progress notification, a pause, then the result' },
    async (extra) => {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: extra._meta?.progressToken ?? 'progress', progress: 1, total: 2 },
      });
      await new Promise((resolve) => setTimeout(resolve, PROGRESS_PAUSE_MS));
      return { content: [{ type: 'text', text: 'done' }] };
    },
  );
  return server;
}

export async function startSdkMcpBackend(): Promise<SdkMcpBackend> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const received: ReceivedRequest[] = [];
  const http: Server = createServer((req, res) => {
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (!req.url?.startsWith('/mcp')) return void res.writeHead(404).end();
    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (existing) return void existing.handleRequest(req, res);
    if (sessionId !== undefined || req.method !== 'POST') {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      return void res.end(
        JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }),
      );
    }
    // A new session: the transport answers `initialize` and names it.
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        transports.set(id, transport);
      },
      onsessionclosed: (id) => {
        transports.delete(id);
      },
    });
    void mcpServer()
      .connect(transport)
      .then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    received,
    sessions: () => [...transports.keys()],
    close: async () => {
      for (const transport of transports.values()) await transport.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
