/**
 * An MCP server the team already runs over HTTPS (ECS, App Runner, a VM) behind the gateway:
 * `npx cdk deploy --app 'npx tsx examples/https-backend/app.ts'`. The backend receives the
 * verified caller as x-mcp-gateway-sub, -client-id and -scope headers; it may trust them only
 * if it accepts requests from the gateway alone (a public origin can be called directly), so the
 * gateway presents a client certificate the backend verifies (mutual TLS).
 */
import { fileURLToPath } from 'node:url';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import { McpResourceServer } from '../../lib/mcp-resource-server.js';
import { OAuthGateway } from '../../lib/oauth-gateway.js';

export function httpsBackendApp(app = new App(), url = 'https://mcp.internal.example.com/mcp'): Stack {
  const stack = new Stack(app, 'HttpsBackendMcp');
  const gateway = new OAuthGateway(stack, 'Gateway', { scopes: ['mcp:tools'] });
  const mcp = new McpResourceServer(stack, 'McpServer', {
    gateway,
    backend: { url },
    clientCertificate: true,
    requiredScopes: ['mcp:tools'],
  });
  new CfnOutput(stack, 'McpServerUrl', { value: mcp.resourceUrl });
  return stack;
}

// Run as the CDK app (cdk --app): the App synthesizes itself when the CLI runs it.
if (process.argv[1] === fileURLToPath(import.meta.url)) httpsBackendApp();
