/** CDK entry: configuration -> stack, with cdk-nag's AwsSolutions checks on every synth. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { appConfig } from '../lib/app-config.js';
import { GatewayStack } from '../lib/gateway-stack.js';

const app = new App();
const config = appConfig(app.node);
new GatewayStack(app, config.stackName, {
  description: 'mcp-oauth-gateway: OAuth client registration and redirect-URI enforcement for MCP servers',
  gateway: config.gateway,
  ...(config.upstream ? { upstream: config.upstream } : {}),
  ...(config.customDomain ? { customDomain: config.customDomain } : {}),
  // Without a backend URL the stack's MCP server is the bundled sample.
  ...(config.mcpBackendUrl ? { mcpBackend: { url: config.mcpBackendUrl } } : {}),
  ...(config.mcpAllowedOrigins ? { mcpAllowedOrigins: config.mcpAllowedOrigins } : {}),
  // No env: the stack is environment-agnostic, so synth needs no credentials or account lookups.
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
