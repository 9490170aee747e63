/**
 * The example apps under examples/ synthesize as a user's would: offline, no AWS account, the
 * constructs imported from this repository, each protecting its MCP server with a few lines.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { httpsBackendApp } from '../../examples/https-backend/app.js';
import { ownLambdaApp } from '../../examples/own-lambda/app.js';
import { ENV } from '../../lambda/contract/environment.js';
import { FUNCTIONS } from '../../lib/routes.js';
import { newApp } from './support/app.js';

const mcpMethods = (template: Template) =>
  Object.values(template.findResources('AWS::ApiGateway::Method', { Properties: { AuthorizationType: 'CUSTOM' } })).map(
    (method) => method.Properties as { HttpMethod: string; Integration: Record<string, unknown> },
  );

describe('examples/own-lambda: the team’s own Lambda MCP server', () => {
  const stack = ownLambdaApp(newApp());
  const template = Template.fromStack(stack);

  it('sends every MCP method to the team’s function, not to the sample server', () => {
    const [ownId] = Object.keys(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Handler: 'index.handler', Description: Match.absent() },
      }),
    );
    expect(ownId).toMatch(/^MyMcpServer/);
    const methods = mcpMethods(template).filter((method) => JSON.stringify(method.Integration.Uri).includes(ownId));
    expect(methods.map((method) => method.HttpMethod).sort()).toEqual(['DELETE', 'GET', 'POST']);
    expect(methods.every((method) => method.Integration.Type === 'AWS_PROXY')).toBe(true);
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Description: FUNCTIONS.mcpServer.description }, 0);
  });

  it('has the stack output an MCP client is given', () => {
    template.hasOutput('McpServerUrl', {});
  });
});

describe('examples/https-backend: an MCP server already running over HTTPS', () => {
  const template = Template.fromStack(httpsBackendApp(newApp()));

  it('proxies every MCP method to the URL, streamed, with the verified identity as headers', () => {
    const methods = mcpMethods(template).filter((method) => method.Integration.Type === 'HTTP_PROXY');
    expect(methods.map((method) => method.HttpMethod).sort()).toEqual(['DELETE', 'GET', 'POST']);
    for (const { Integration } of methods) {
      expect(Integration).toMatchObject({
        Uri: 'https://mcp.internal.example.com/mcp',
        ResponseTransferMode: 'STREAM',
      });
      expect(Object.keys(Integration.RequestParameters as object)).toContain(
        'integration.request.header.x-mcp-gateway-sub',
      );
    }
  });

  it('presents a client certificate to the backend', () => {
    template.resourceCountIs('AWS::ApiGateway::ClientCertificate', 1);
  });

  it('requires its scope at the token authorizer', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.tokenAuthorizer.description,
      Environment: { Variables: Match.objectLike({ [ENV.requiredScopes]: 'mcp:tools' }) },
    });
  });
});
