/**
 * Stands in for the team's own MCP server on Lambda: stateless Streamable HTTP (JSON answers) with
 * the official SDK, behind a Lambda proxy integration. The gateway's token authorizer has checked
 * the token before this runs; who the caller is arrives in `requestContext.authorizer` (a proxy
 * event cannot carry headers the gateway adds).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  // Keys: sub, clientId, scope (space-separated), as the gateway's token authorizer sets them.
  const caller = (event.requestContext.authorizer ?? {}) as { sub?: string; clientId?: string; scope?: string };
  const server = new McpServer({ name: 'my-mcp-server', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Who the gateway says is calling' }, () => ({
    content: [
      { type: 'text', text: `${caller.sub} through client ${caller.clientId} (${caller.scope || 'no scope'})` },
    ],
  }));
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers.set(name, value);
  const body = event.body && event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  const request = new Request(`https://${headers.get('host') ?? 'localhost'}${event.path}`, {
    method: event.httpMethod,
    headers,
    ...(body && !['GET', 'HEAD'].includes(event.httpMethod) ? { body } : {}),
  });
  try {
    const response = await transport.handleRequest(request);
    return { statusCode: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
  } finally {
    await server.close();
  }
}
