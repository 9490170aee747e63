/**
 * What a protected resource's /mcp is wired to: the team's own Lambda function, an HTTPS origin,
 * or a private load balancer through a VPC link; what an HTTP backend is told (the identity as
 * headers, the Authorization header or not, streamed responses); and several resources on one
 * gateway, each with its own audience, metadata and authorizer, all of them in the token
 * function's list of resources.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { IDENTITY_HEADERS } from '../../lambda/contract/backend-headers.js';
import { TOKEN_CONTEXT_KEYS } from '../../lambda/contract/context-keys.js';
import { ENV } from '../../lambda/contract/environment.js';
import { appConfig } from '../../lib/app-config.js';
import { GatewayStack } from '../../lib/gateway-stack.js';
import { type McpBackend, McpResourceServer, type McpResourceServerProps } from '../../lib/mcp-resource-server.js';
import { acknowledgeApiFindings, acknowledgeNagFindings } from '../../lib/nag-suppressions.js';
import { OAuthGateway } from '../../lib/oauth-gateway.js';
import { FUNCTIONS, type FunctionName } from '../../lib/routes.js';
import { newApp } from './support/app.js';

const OWN_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:own-mcp-server';
const BACKEND_URL = 'https://mcp.internal.example.com/mcp';
const MCP_METHODS = ['POST', 'GET', 'DELETE'] as const;

type Backend = McpBackend | ((scope: Construct) => McpBackend);

function ownFunction(scope: Construct): lambda.IFunction {
  return lambda.Function.fromFunctionAttributes(scope, 'OwnMcpServer', {
    functionArn: OWN_FUNCTION_ARN,
    sameEnvironment: true,
  });
}

const ownBackend = (scope: Construct): McpBackend => ({ function: ownFunction(scope) });

function synthResource(backend: Backend, props: Partial<McpResourceServerProps> = {}) {
  const stack = new Stack(newApp(), 'Resource');
  const gateway = new OAuthGateway(stack, 'Gateway');
  const server = new McpResourceServer(stack, 'McpServer', {
    gateway,
    backend: typeof backend === 'function' ? backend(stack) : backend,
    ...props,
  });
  return { stack, server, template: Template.fromStack(stack) };
}

/** The /mcp method of the resource's API, by HTTP method. */
function mcpMethod(template: Template, httpMethod: string) {
  const methods = Object.values(
    template.findResources('AWS::ApiGateway::Method', {
      Properties: { HttpMethod: httpMethod, RestApiId: { Ref: Match.stringLikeRegexp('^McpServerApi') } },
    }),
  ).filter((method) => method.Properties.AuthorizationType === 'CUSTOM');
  expect(methods).toHaveLength(1);
  return methods[0].Properties as { Integration: Record<string, unknown> };
}

function hasFunction(template: Template, name: FunctionName): boolean {
  return (
    Object.keys(
      template.findResources('AWS::Lambda::Function', { Properties: { Description: FUNCTIONS[name].description } }),
    ).length > 0
  );
}

const identityMappings = {
  [`integration.request.header.${IDENTITY_HEADERS.subject}`]: `context.authorizer.${TOKEN_CONTEXT_KEYS.subject}`,
  [`integration.request.header.${IDENTITY_HEADERS.clientId}`]: `context.authorizer.${TOKEN_CONTEXT_KEYS.clientId}`,
  [`integration.request.header.${IDENTITY_HEADERS.scope}`]: `context.authorizer.${TOKEN_CONTEXT_KEYS.scope}`,
};

describe('a Lambda function backend (the team’s own MCP server)', () => {
  const { template } = synthResource(ownBackend);

  it.each(MCP_METHODS)('serves %s /mcp by Lambda proxy, buffered', (httpMethod) => {
    const { Integration } = mcpMethod(template, httpMethod);
    expect(Integration.Type).toBe('AWS_PROXY');
    expect(JSON.stringify(Integration.Uri)).toContain(`${OWN_FUNCTION_ARN}/invocations`);
    // A buffered handler cannot answer a streaming invocation: streaming is the function's opt-in.
    expect(Integration.ResponseTransferMode ?? 'BUFFERED').toBe('BUFFERED');
    // A proxy event cannot carry added headers; the identity is in requestContext.authorizer.
    expect(Integration.RequestParameters).toBeUndefined();
  });

  it('lets the API invoke the function, and builds no sample server', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: OWN_FUNCTION_ARN,
      Principal: 'apigateway.amazonaws.com',
    });
    expect(hasFunction(template, 'mcpServer')).toBe(false);
    expect(hasFunction(template, 'tokenAuthorizer')).toBe(true);
    expect(hasFunction(template, 'protectedResourceMetadata')).toBe(true);
  });

  it('streams from a function written for response streaming, through its streaming invoke path', () => {
    const { template: streamed } = synthResource((scope) => ({
      function: ownFunction(scope),
      responseStreaming: true,
    }));
    for (const httpMethod of MCP_METHODS) {
      const { Integration } = mcpMethod(streamed, httpMethod);
      expect(Integration.ResponseTransferMode).toBe('STREAM');
      expect(JSON.stringify(Integration.Uri)).toContain(`${OWN_FUNCTION_ARN}/response-streaming-invocations`);
      expect(Integration.TimeoutInMillis).toBe(900_000);
    }
  });

  it('refuses forwardAuthorization: false, which a proxy event cannot honour', () => {
    expect(() => synthResource(ownBackend, { forwardAuthorization: false })).toThrow(
      /forwardAuthorization: false needs an HTTP backend/,
    );
  });
});

describe('an HTTPS backend', () => {
  const { template } = synthResource({ url: BACKEND_URL });

  it.each(MCP_METHODS)('proxies %s /mcp to the URL with the same method, streamed, over the internet', (httpMethod) => {
    const { Integration } = mcpMethod(template, httpMethod);
    expect(Integration).toMatchObject({
      Type: 'HTTP_PROXY',
      Uri: BACKEND_URL,
      IntegrationHttpMethod: httpMethod,
      ResponseTransferMode: 'STREAM',
      TimeoutInMillis: 900_000,
    });
    expect(Integration.ConnectionType ?? 'INTERNET').toBe('INTERNET');
  });

  it.each(MCP_METHODS)(
    'sets the verified identity on %s as headers from the authorizer context, and forwards Authorization',
    (httpMethod) => {
      const { Integration } = mcpMethod(template, httpMethod);
      // Exactly these, from the authorizer context: never a method request header the caller controls.
      expect(Integration.RequestParameters).toEqual(identityMappings);
    },
  );

  it('replaces Authorization with an empty value when it must not be forwarded (REST cannot remove a header)', () => {
    const { template: stripped } = synthResource({ url: BACKEND_URL }, { forwardAuthorization: false });
    for (const httpMethod of MCP_METHODS) {
      expect(mcpMethod(stripped, httpMethod).Integration.RequestParameters).toEqual({
        ...identityMappings,
        'integration.request.header.Authorization': "''",
      });
    }
  });

  it('takes a shorter timeout, and refuses one longer than a stream may last', () => {
    const { template: short } = synthResource({ url: BACKEND_URL }, { timeout: Duration.seconds(60) });
    expect(mcpMethod(short, 'GET').Integration.TimeoutInMillis).toBe(60_000);
    expect(() => synthResource({ url: BACKEND_URL }, { timeout: Duration.minutes(16) })).toThrow(
      /timeout must be at most 15 minutes/,
    );
  });

  it.each(['http://mcp.example.com/mcp', 'mcp.example.com/mcp', 'ftp://mcp.example.com/mcp'])(
    'refuses %s on the internet',
    (url) => {
      expect(() => synthResource({ url })).toThrow(/backend\.url must be an absolute https URL/);
    },
  );

  it('presents a client certificate on request, so the backend can accept the gateway alone', () => {
    const { stack, server, template: signed } = synthResource({ url: BACKEND_URL }, { clientCertificate: true });
    signed.resourceCountIs('AWS::ApiGateway::ClientCertificate', 1);
    const certificateId = stack.getLogicalId(server.clientCertificate as apigw.CfnClientCertificate);
    signed.hasResourceProperties('AWS::ApiGateway::Stage', {
      RestApiId: { Ref: Match.stringLikeRegexp('^McpServerApi') },
      ClientCertificateId: { 'Fn::GetAtt': [certificateId, 'ClientCertificateId'] },
    });
    // None by default, and none on the gateway's own API.
    template.resourceCountIs('AWS::ApiGateway::ClientCertificate', 0);
    signed.resourcePropertiesCountIs('AWS::ApiGateway::Stage', { ClientCertificateId: Match.anyValue() }, 1);
  });

  it.each<[string, Backend]>([
    ['a function backend', ownBackend],
    ['a VPC link', (scope) => ({ url: BACKEND_URL, vpcLink: apigw.VpcLink.fromVpcLinkId(scope, 'Link', 'vpclink1') })],
    ['the sample', { sample: true }],
  ])('refuses a client certificate for %s', (_name, backend) => {
    expect(() => synthResource(backend, { clientCertificate: true })).toThrow(
      /clientCertificate needs a \{ url \} backend/,
    );
  });

  it('builds no sample server', () => {
    expect(hasFunction(template, 'mcpServer')).toBe(false);
  });
});

describe('a private load balancer through a VPC link', () => {
  const privateUrl = 'http://internal-mcp-1234.elb.us-east-1.amazonaws.com/mcp';
  const { template } = synthResource((scope) => ({
    url: privateUrl,
    vpcLink: apigw.VpcLink.fromVpcLinkId(scope, 'Link', 'vpclink1'),
  }));

  it.each(MCP_METHODS)('proxies %s /mcp over the VPC link, streamed, with the identity headers', (httpMethod) => {
    const { Integration } = mcpMethod(template, httpMethod);
    expect(Integration).toMatchObject({
      Type: 'HTTP_PROXY',
      Uri: privateUrl,
      IntegrationHttpMethod: httpMethod,
      ConnectionType: 'VPC_LINK',
      ConnectionId: 'vpclink1',
      ResponseTransferMode: 'STREAM',
    });
    expect(Integration.RequestParameters).toEqual(identityMappings);
  });
});

describe('the sample stack', () => {
  it('serves the bundled sample server when no backend is given, and the given one otherwise', () => {
    const sample = Template.fromStack(new GatewayStack(newApp(), 'Sample'));
    expect(hasFunction(sample, 'mcpServer')).toBe(true);
    const own = Template.fromStack(new GatewayStack(newApp(), 'Own', { mcpBackend: { url: BACKEND_URL } }));
    expect(hasFunction(own, 'mcpServer')).toBe(false);
    own.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      Integration: Match.objectLike({ Type: 'HTTP_PROXY', Uri: BACKEND_URL }),
    });
  });
});

describe('two resources on one gateway', () => {
  const stack = new Stack(newApp(), 'Two');
  const gateway = new OAuthGateway(stack, 'Gateway');
  const files = new McpResourceServer(stack, 'Files', { gateway, backend: { url: BACKEND_URL } });
  const search = new McpResourceServer(stack, 'Search', { gateway, backend: { function: ownFunction(stack) } });
  const template = Template.fromStack(stack);
  const apiId = (server: McpResourceServer) =>
    stack.getLogicalId(server.routes.restApi.node.defaultChild as apigw.CfnRestApi);
  const envOf = (fn: lambda.IFunction | undefined) => {
    expect(fn).toBeDefined();
    const id = stack.getLogicalId(fn?.node.defaultChild as lambda.CfnFunction);
    return template.toJSON().Resources[id].Properties.Environment.Variables as Record<string, unknown>;
  };

  it('issues tokens for both: the token function lists every resource', () => {
    const resources = JSON.stringify(envOf(gateway.functions.token)[ENV.protectedResources]);
    expect(resources).toContain(apiId(files));
    expect(resources).toContain(apiId(search));
    // Each API's own /mcp, and nothing of the gateway's default `<issuer>/mcp`.
    expect(resources.match(/\/mcp/g)).toHaveLength(2);
  });

  it.each([
    ['Files', files, search],
    ['Search', search, files],
  ] as const)(
    'gives %s its own audience in its token authorizer, so the other’s tokens are refused',
    (_name, own, other) => {
      const env = envOf(own.routes.functions.tokenAuthorizer);
      const resourceUrl = JSON.stringify(env[ENV.resourceUrl]);
      expect(resourceUrl).toContain(apiId(own));
      expect(resourceUrl).not.toContain(apiId(other));
      expect(resourceUrl).toMatch(/\/mcp"/);
    },
  );

  it.each([
    ['Files', files, search],
    ['Search', search, files],
  ] as const)('gives %s its own metadata document and challenge', (_name, own, other) => {
    const env = envOf(own.routes.functions.protectedResourceMetadata);
    expect(JSON.stringify(env[ENV.resourceUrl])).toContain(apiId(own));
    expect(JSON.stringify(env[ENV.resourceMetadataUrl])).toContain(apiId(own));
    expect(JSON.stringify(env[ENV.resourceMetadataUrl])).not.toContain(apiId(other));
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      RestApiId: { Ref: apiId(own) },
      ResponseParameters: Match.objectLike({
        'gatewayresponse.header.WWW-Authenticate': {
          'Fn::Join': ['', Match.arrayWith([{ Ref: apiId(own) }])],
        },
      }),
    });
  });
});

describe('cdk-nag AwsSolutions', () => {
  const backends: Array<[string, Backend]> = [
    ['a Lambda function', ownBackend],
    ['a streaming Lambda function', (scope) => ({ function: ownFunction(scope), responseStreaming: true })],
    ['an HTTPS origin', { url: BACKEND_URL }],
    ['a VPC link', (scope) => ({ url: BACKEND_URL, vpcLink: apigw.VpcLink.fromVpcLinkId(scope, 'Link', 'vpclink1') })],
  ];

  it.each(backends)('passes with %s as the backend, and two resources on the gateway', (_name, backend) => {
    const app = newApp();
    const stack = new Stack(app, 'Nag');
    const gateway = new OAuthGateway(stack, 'Gateway');
    for (const id of ['First', 'Second']) {
      const server = new McpResourceServer(stack, id, {
        gateway,
        backend: typeof backend === 'function' ? backend(new Construct(stack, `${id}Backend`)) : backend,
      });
      acknowledgeApiFindings(server.routes);
    }
    acknowledgeNagFindings(gateway);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('passes with an HTTPS origin that gets the client certificate and no Authorization header', () => {
    const app = newApp();
    const stack = new Stack(app, 'NagCertificate');
    const gateway = new OAuthGateway(stack, 'Gateway');
    const server = new McpResourceServer(stack, 'McpServer', {
      gateway,
      backend: { url: BACKEND_URL },
      clientCertificate: true,
      forwardAuthorization: false,
    });
    acknowledgeApiFindings(server.routes);
    acknowledgeNagFindings(gateway);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('scopes per resource', () => {
  const stack = new Stack(newApp(), 'Scoped');
  const gateway = new OAuthGateway(stack, 'Gateway', { scopes: ['files:read', 'files:write', 'search'] });
  const files = new McpResourceServer(stack, 'Files', {
    gateway,
    backend: { url: BACKEND_URL },
    scopes: ['files:read', 'files:write'],
    requiredScopes: ['files:read'],
  });
  const search = new McpResourceServer(stack, 'Search', { gateway, backend: { url: BACKEND_URL } });
  const template = Template.fromStack(stack);
  const envOf = (fn: lambda.IFunction | undefined) =>
    template.toJSON().Resources[stack.getLogicalId(fn?.node.defaultChild as lambda.CfnFunction)].Properties.Environment
      .Variables as Record<string, unknown>;

  it('publishes each resource its own scopes_supported, the gateway’s by default', () => {
    expect(envOf(files.routes.functions.protectedResourceMetadata)[ENV.scopesSupported]).toBe('files:read,files:write');
    expect(envOf(search.routes.functions.protectedResourceMetadata)[ENV.scopesSupported]).toBe(
      'files:read,files:write,search',
    );
  });

  it('makes only the resource that requires a scope ask its token authorizer for it', () => {
    expect(envOf(files.routes.functions.tokenAuthorizer)[ENV.requiredScopes]).toBe('files:read');
    expect(envOf(search.routes.functions.tokenAuthorizer)[ENV.requiredScopes]).toBeUndefined();
  });

  it('refuses a required scope the gateway does not define', () => {
    const other = new Stack(newApp(), 'Unknown');
    const otherGateway = new OAuthGateway(other, 'Gateway', { scopes: ['files:read'] });
    expect(
      () =>
        new McpResourceServer(other, 'Files', {
          gateway: otherGateway,
          backend: { url: BACKEND_URL },
          requiredScopes: ['files:admin'],
        }),
    ).toThrow(/requiredScopes: "files:admin" is not one of the gateway's scopes/);
  });
});

describe('the deployed app’s configuration', () => {
  it('proxies the stack’s MCP server to mcpBackendUrl (context or GATEWAY_MCP_BACKEND_URL), the sample without it', () => {
    expect(appConfig(newApp(false, { mcpBackendUrl: BACKEND_URL }).node, {}).mcpBackendUrl).toBe(BACKEND_URL);
    expect(appConfig(newApp().node, { GATEWAY_MCP_BACKEND_URL: BACKEND_URL }).mcpBackendUrl).toBe(BACKEND_URL);
    expect(appConfig(newApp().node, {}).mcpBackendUrl).toBeUndefined();
  });
});
