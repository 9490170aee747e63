/**
 * The team's own Lambda MCP server behind the gateway: `npx cdk deploy --app 'npx tsx examples/own-lambda/app.ts'`.
 * Tokens are issued for the McpServerUrl output, and only those reach the function.
 */
import { fileURLToPath } from 'node:url';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { McpResourceServer } from '../../lib/mcp-resource-server.js';
import { OAuthGateway } from '../../lib/oauth-gateway.js';

export function ownLambdaApp(app = new App()): Stack {
  const stack = new Stack(app, 'OwnLambdaMcp');
  const gateway = new OAuthGateway(stack, 'Gateway');
  const myServer = new NodejsFunction(stack, 'MyMcpServer', {
    entry: fileURLToPath(new URL('mcp-server.ts', import.meta.url)),
    runtime: lambda.Runtime.NODEJS_24_X,
  });
  const mcp = new McpResourceServer(stack, 'McpServer', { gateway, backend: { function: myServer } });
  new CfnOutput(stack, 'McpServerUrl', { value: mcp.resourceUrl });
  return stack;
}

// Run as the CDK app (cdk --app): the App synthesizes itself when the CLI runs it.
if (process.argv[1] === fileURLToPath(import.meta.url)) ownLambdaApp();
