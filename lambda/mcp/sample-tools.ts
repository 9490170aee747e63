/**
 * The tools of the sample MCP server: `whoami` shows what the token authorizer vouched for,
 * `echo` returns its input. Replace this module with your own server's tools.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';

export const SERVER_INFO = { name: 'mcp-oauth-gateway-sample', version: '0.1.0' } as const;

/** The tools of this sample. Built per request: stateless mode shares nothing between requests. */
export function createMcpServer(onError: (error: Error) => void = () => undefined): McpServer {
  const server = new McpServer(SERVER_INFO, { capabilities: { tools: {} } });
  server.registerTool(
    'whoami',
    {
      title: 'Who am I',
      description: 'Returns the subject, client and scope of the access token this request was made with.',
      outputSchema: { subject: z.string(), clientId: z.string(), scope: z.array(z.string()) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (extra) => {
      const auth = extra.authInfo;
      const identity = {
        subject: typeof auth?.extra?.subject === 'string' ? auth.extra.subject : '',
        clientId: auth?.clientId ?? '',
        scope: auth?.scopes ?? [],
      };
      return { content: [{ type: 'text', text: JSON.stringify(identity) }], structuredContent: identity };
    },
  );
  server.registerTool(
    'echo',
    {
      title: 'Echo',
      description: 'Returns the text it is given.',
      inputSchema: { text: z.string().max(10_000) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.server.onerror = onError;
  return server;
}
