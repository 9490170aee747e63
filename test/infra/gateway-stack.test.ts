/**
 * The CDK app through Template assertions and cdk-nag. Every App carries cdk.json's context
 * (the feature flags), so tests synthesize what `cdk synth` does. Most stacks skip asset
 * bundling (context aws:cdk:bundling-stacks = []) to stay fast; one test bundles for real.
 */
import { readFileSync } from 'node:fs';
import { Duration, FeatureFlags, Lazy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { METRIC_DIMENSIONS, METRICS, TOKEN_CHECK_FAILED } from '../../lambda/contract/metrics.js';
import { appConfig } from '../../lib/app-config.js';
import { cognitoPrefixName } from '../../lib/cognito-sign-in.js';
import { GATEWAY_RESPONSE_HEADERS, GATEWAY_RESPONSES } from '../../lib/gateway-responses.js';
import { GatewayStack, type GatewayStackProps } from '../../lib/gateway-stack.js';
import { McpResourceServer, type McpResourceServerProps } from '../../lib/mcp-resource-server.js';
import { ACKNOWLEDGED_FINDINGS, API_FINDINGS } from '../../lib/nag-suppressions.js';
import { OAuthGateway, type OAuthGatewayProps } from '../../lib/oauth-gateway.js';
import { corsPaths, FUNCTIONS, type FunctionSpec, routesOf } from '../../lib/routes.js';
import * as validate from '../../lib/validation.js';
import { CDK_JSON_CONTEXT, newApp } from './support/app.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;

function synthStack(props: GatewayStackProps = {}, app = newApp()): { stack: GatewayStack; template: Template } {
  const stack = new GatewayStack(app, 'TestGateway', props);
  return { stack, template: Template.fromStack(stack) };
}

/** The logical id of the function whose description matches a route-table entry. */
function functionId(template: Template, name: keyof typeof FUNCTIONS): string {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Description: FUNCTIONS[name].description },
  });
  const ids = Object.keys(functions);
  expect(ids).toHaveLength(1);
  return ids[0];
}

interface GrantedStatement {
  actions: string[];
  /** The statement's resources, serialized: enough to see which logical ids they name. */
  resources: string;
}

/** Every IAM statement granted to the role of a function, across its policies. */
function statementsOf(template: Template, name: keyof typeof FUNCTIONS): GrantedStatement[] {
  const fn = template.findResources('AWS::Lambda::Function')[functionId(template, name)];
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy') as Resources).filter((policy) =>
    (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleId),
  );
  return policies.flatMap((policy) =>
    (
      policy.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }
    ).Statement.map((statement) => ({
      actions: ([] as string[]).concat(statement.Action),
      resources: JSON.stringify(statement.Resource),
    })),
  );
}

function actionsOf(template: Template, name: keyof typeof FUNCTIONS): string[] {
  return statementsOf(template, name).flatMap((statement) => statement.actions);
}

/** Actions a function may take on one resource, named by its logical id. */
function actionsOn(template: Template, name: keyof typeof FUNCTIONS, logicalId: string): string[] {
  return statementsOf(template, name)
    .filter((statement) => statement.resources.includes(`"${logicalId}"`))
    .flatMap((statement) => statement.actions)
    .sort();
}

function logicalIdOf(template: Template, type: string, properties: Record<string, unknown> = {}): string {
  const ids = Object.keys(template.findResources(type, { Properties: properties }));
  expect(ids, type).toHaveLength(1);
  return ids[0];
}

describe('clients table', () => {
  const { template } = synthStack();

  it('is keyed by client_id, on demand, with point-in-time recovery and deletion protection, and retained', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'client_id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      },
    });
  });
});

describe('functions', () => {
  const { template } = synthStack();

  it('holds only the route table functions: no CDK-provided custom resources', () => {
    template.resourceCountIs('AWS::Lambda::Function', Object.keys(FUNCTIONS).length);
    const types = Object.values(template.toJSON().Resources as Resources).map((resource) => resource.Type);
    expect(
      types.filter((type) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource'),
    ).toEqual([]);
  });

  it.each(Object.keys(FUNCTIONS) as Array<keyof typeof FUNCTIONS>)(
    '%s runs on ARM64 and Node.js 22 or newer with its own log group',
    (name) => {
      const fn = template.findResources('AWS::Lambda::Function')[functionId(template, name)];
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(Number(/^nodejs(\d+)\.x$/.exec(fn.Properties.Runtime as string)?.[1])).toBeGreaterThanOrEqual(22);
      expect(fn.Properties.LoggingConfig).toMatchObject({ LogGroup: { Ref: expect.any(String) } });
      expect(fn.Properties.Environment).toMatchObject({ Variables: { NODE_OPTIONS: '--enable-source-maps' } });
    },
  );

  it('gives each function exactly the table actions the route table lists, on the right table', () => {
    const clientsTable = logicalIdOf(template, 'AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'client_id', KeyType: 'HASH' }],
    });
    const grantsTable = logicalIdOf(template, 'AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    });
    for (const name of Object.keys(FUNCTIONS) as Array<keyof typeof FUNCTIONS>) {
      const spec: FunctionSpec = FUNCTIONS[name];
      expect(actionsOn(template, name, clientsTable), `${name} on clients`).toEqual([...spec.clients].sort());
      // Query of the by-subject index (its ARN is the table's + /index/by-subject: test/infra/grants-index.test.ts).
      const onGrants = [...spec.grants, ...(spec.grantsBySubject ? ['dynamodb:Query'] : [])].sort();
      expect(actionsOn(template, name, grantsTable), `${name} on grants`).toEqual(onGrants);
      const allTableActions = actionsOf(template, name).filter((action) => action.startsWith('dynamodb:'));
      expect(allTableActions.length, name).toBe(spec.clients.length + onGrants.length);
    }
    expect(actionsOn(template, 'register', clientsTable)).toEqual(['dynamodb:PutItem']);
    expect(actionsOn(template, 'redirectUriAuthorizer', clientsTable)).toEqual(['dynamodb:GetItem']);
  });

  it('lets only the token function sign, and only the JWKS and revocation functions read public keys', () => {
    const key = logicalIdOf(template, 'AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    for (const name of Object.keys(FUNCTIONS) as Array<keyof typeof FUNCTIONS>) {
      // The revocation function verifies an access token presented to it (its sid names the grant).
      const expected =
        name === 'token' ? ['kms:Sign'] : name === 'jwks' || name === 'revoke' ? ['kms:GetPublicKey'] : [];
      expect(actionsOn(template, name, key), name).toEqual(expected);
      expect(
        actionsOf(template, name).filter((action) => action.startsWith('kms:')),
        name,
      ).toEqual(expected);
    }
  });

  it('lets only the authorization function read the cookie-signing secret', () => {
    const secret = logicalIdOf(template, 'AWS::SecretsManager::Secret');
    for (const name of Object.keys(FUNCTIONS) as Array<keyof typeof FUNCTIONS>) {
      const reads = actionsOn(template, name, secret);
      if (name === 'authorization') expect(reads).toEqual(['secretsmanager:GetSecretValue']);
      else expect(reads, name).toEqual([]);
    }
  });

  it('lets functions write only to their own log groups, with retention', () => {
    for (const name of Object.keys(FUNCTIONS) as Array<keyof typeof FUNCTIONS>) {
      const logActions = actionsOf(template, name).filter((action) => action.startsWith('logs:'));
      expect(logActions.sort(), name).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    }
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('drops source maps when they are turned off', () => {
    const { template: withoutMaps } = synthStack({ gateway: { sourceMaps: false } });
    const fn = withoutMaps.findResources('AWS::Lambda::Function')[functionId(withoutMaps, 'register')];
    expect(JSON.stringify(fn.Properties.Environment)).not.toContain('enable-source-maps');
  });
});

describe('REST API', () => {
  const { template } = synthStack();

  it('puts a REQUEST authorizer keyed on client_id, with no result caching, on GET /authorize', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.querystring.client_id',
      AuthorizerResultTtlInSeconds: 0,
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: Match.anyValue() },
    });
  });

  it('leaves POST /register open (RFC 7591) but throttled on the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', AuthorizationType: 'NONE' });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          ResourcePath: '/~1register',
          HttpMethod: 'POST',
          ThrottlingRateLimit: 5,
          ThrottlingBurstLimit: 10,
        }),
      ]),
    });
  });

  it.each(GATEWAY_RESPONSES.map((response) => [response.type, response]))(
    'answers %s with an OAuth JSON body',
    (type, response) => {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ...(response.statusCode ? { StatusCode: String(response.statusCode) } : {}),
        ResponseParameters: Object.fromEntries(
          Object.entries(GATEWAY_RESPONSE_HEADERS).map(([name, value]) => [
            `gatewayresponse.header.${name}`,
            `'${value}'`,
          ]),
        ),
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"error":') },
      });
    },
  );

  it('names the OAuth error from the authorizer context on ACCESS_DENIED', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'ACCESS_DENIED',
      StatusCode: '403',
      ResponseTemplates: {
        'application/json': Match.stringLikeRegexp('\\$context\\.authorizer\\.error_description'),
      },
    });
  });

  it('hands GET /authorize to a custom integration when one is given', () => {
    const app = newApp();
    const stack = new Stack(app, 'Custom');
    new OAuthGateway(stack, 'Gateway', {
      authorizeIntegration: new apigw.HttpIntegration('https://auth.example.com/authorize'),
    });
    const custom = Template.fromStack(stack);
    custom.resourceCountIs(
      'AWS::ApiGateway::Method',
      routesOf('authorization').length + corsPaths(routesOf('authorization')).size,
    );
    custom.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'CUSTOM',
      Integration: Match.objectLike({ Type: 'HTTP_PROXY', Uri: 'https://auth.example.com/authorize' }),
    });
  });
});

describe('configuration', () => {
  it('reads redirect policy, throttling and retention from context', () => {
    const app = newApp(false, {
      allowPrivateUseSchemes: 'false',
      allowedRedirectHosts: 'claude.ai, claude.com,127.0.0.1',
      throttleRateLimit: '2',
      throttleBurstLimit: '4',
      logRetentionDays: '7',
    });
    const config = appConfig(app.node, {});
    const { template } = synthStack({ gateway: config.gateway }, app);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.register.description,
      Environment: {
        Variables: Match.objectLike({
          ALLOW_PRIVATE_USE_SCHEMES: 'false',
          ALLOWED_REDIRECT_HOSTS: 'claude.ai,claude.com,127.0.0.1',
        }),
      },
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 2, ThrottlingBurstLimit: 4 })]),
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('lets environment variables override context, and refuses nonsense', () => {
    const app = newApp(false, { throttleRateLimit: '2' });
    expect(appConfig(app.node, { GATEWAY_THROTTLE_RATE_LIMIT: '9' }).gateway.publicEndpointThrottle?.rateLimit).toBe(9);
    expect(() => appConfig(app.node, { GATEWAY_THROTTLE_RATE_LIMIT: 'fast' })).toThrow(
      /throttleRateLimit must be a number/,
    );
    expect(() => appConfig(app.node, { GATEWAY_LOG_RETENTION_DAYS: '8' })).toThrow(
      /logRetentionDays .*retention period/,
    );
    expect(() => appConfig(app.node, { GATEWAY_ACCESS_TOKEN_SECONDS: '-1' })).toThrow(/accessTokenSeconds/);
    const negative = appConfig(newApp().node, { GATEWAY_THROTTLE_RATE_LIMIT: '-1' }).gateway;
    expect(() => synthStack({ gateway: negative })).toThrow(/publicEndpointThrottle\.rateLimit .*>= 0, not -1/);
  });

  it('refuses a Cognito domain prefix or custom domain name from context that AWS would refuse', () => {
    const config = (context: Record<string, unknown>) => () => appConfig(newApp(false, context).node, {});
    expect(config({ cognitoDomainPrefix: 'My_Gateway' })).toThrow(/cognitoDomainPrefix must be 1-63 lowercase/);
    expect(config({ cognitoDomainPrefix: 'my-cognito' })).toThrow(/cognitoDomainPrefix must not contain "cognito"/);
    expect(config({ cognitoDomainPrefix: 'sign-in' })).not.toThrow();
    expect(config({ customDomainName: 'Auth.Example.com', certificateArn: 'arn' })).toThrow(/customDomainName/);
  });

  it('leaves the account-level API Gateway logging role off unless context turns it on', () => {
    expect(appConfig(newApp().node, {}).gateway.apiGatewayCloudWatchRole).toBe(false);
    expect(
      appConfig(newApp(false, { apiGatewayCloudWatchRole: 'true' }).node, {}).gateway.apiGatewayCloudWatchRole,
    ).toBe(true);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('passes with bundled assets and every acknowledgement carrying a reason', () => {
    const app = newApp(true);
    new GatewayStack(app, 'NagGateway');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('fails without the acknowledgements, reporting exactly the acknowledged findings', () => {
    const app = newApp();
    const stack = new Stack(app, 'Unacknowledged');
    // Every option that brings a finding of its own is on, so every acknowledgement is exercised.
    const gateway = new OAuthGateway(stack, 'Gateway', {
      tracing: true,
      requireInitialAccessToken: true,
      apiGatewayCloudWatchRole: true,
    });
    const mcp = new McpResourceServer(stack, 'McpServer', { gateway, backend: { sample: true } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let message = '';
    try {
      app.synth();
    } catch (error) {
      message = (error as Error).message;
    }
    const reportPath = /found in: (\S+)/.exec(message)?.[1];
    expect(reportPath, message).toBeDefined();
    const report = JSON.parse(readFileSync(reportPath as string, 'utf8')) as {
      pluginReports: Array<{
        violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }>;
      }>;
    };
    const violations = report.pluginReports.flatMap((plugin) => plugin.violations);
    const found = new Set(violations.map((v) => v.ruleName));
    // Every acknowledgement is needed, and nothing else is reported.
    expect([...found].sort()).toEqual([...new Set(ACKNOWLEDGED_FINDINGS.map((finding) => finding.id))].sort());
    // The MCP server's API is checked too, and what it reports is what the API acknowledgements cover there.
    const onMcp = new Set(
      violations
        .filter((v) =>
          v.violatingConstructs.some((construct) => construct.constructPath.startsWith('Unacknowledged/McpServer/')),
        )
        .map((v) => v.ruleName),
    );
    const acknowledgedOnMcp = new Set(
      API_FINDINGS.filter((finding) => finding.on(mcp.routes).length > 0).map((finding) => finding.id),
    );
    expect([...onMcp].sort()).toEqual([...acknowledgedOnMcp].sort());
    expect(onMcp).toContain('AwsSolutions-APIG3');
  });
});

describe('authorization server resources', () => {
  const { template } = synthStack();

  it('keeps grants in their own table with a TTL attribute for clean-up', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('signs with an asymmetric P-256 KMS key', () => {
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  });

  it('creates a Cognito user pool nobody can sign up to, with a public PKCE client calling back to the issuer', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: Match.arrayWith(['openid']),
      CallbackURLs: [
        {
          'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/v1/callback$')])],
        },
      ],
    });
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
  });

  it('throttles /token like /register', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ ResourcePath: '/~1token', HttpMethod: 'POST' })]),
    });
  });

  it('uses any OpenID provider by configuration, reading its client secret from Secrets Manager', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:upstream-AbCdEf';
    const { template: custom } = synthStack({
      upstream: { issuer: 'https://login.example.com', clientId: 'gateway', clientSecretArn: arn },
    });
    custom.resourceCountIs('AWS::Cognito::UserPool', 0);
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.authorization.description,
      Environment: {
        Variables: Match.objectLike({
          UPSTREAM_ISSUER: 'https://login.example.com',
          UPSTREAM_CLIENT_ID: 'gateway',
          UPSTREAM_CLIENT_SECRET_ARN: arn,
        }),
      },
    });
    expect(actionsOf(custom, 'authorization')).toContain('secretsmanager:GetSecretValue');
    expect(JSON.stringify(statementsOf(custom, 'authorization'))).toContain('upstream-AbCdEf');
    expect(JSON.stringify(statementsOf(custom, 'token'))).not.toContain('upstream-AbCdEf');
  });
});

describe('CORS', () => {
  const { template } = synthStack();

  it.each([...corsPaths(routesOf('authorization'))].map(([path, methods]) => [path, methods]))(
    'answers preflights on %s with the shared CORS settings',
    (path, methods) => {
      const resources = template.findResources('AWS::ApiGateway::Resource', {
        Properties: { PathPart: path.split('/').pop() },
      });
      const ids = Object.keys(resources);
      expect(ids.length).toBeGreaterThan(0);
      const preflights = template.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: 'OPTIONS' } });
      const match = Object.values(preflights as Resources).find((method) =>
        ids.includes((method.Properties.ResourceId as { Ref: string }).Ref),
      );
      expect(match, path).toBeDefined();
      const parameters = (match?.Properties.Integration as { IntegrationResponses: Array<Record<string, unknown>> })
        .IntegrationResponses[0].ResponseParameters as Record<string, string>;
      expect(parameters['method.response.header.Access-Control-Allow-Origin']).toBe("'*'");
      expect(parameters['method.response.header.Access-Control-Allow-Methods']).toBe(`'${methods.join(',')}'`);
      expect(parameters['method.response.header.Access-Control-Allow-Headers']).toContain('MCP-Protocol-Version');
    },
  );

  it('has no preflight on the browser-navigation endpoints', () => {
    expect([...corsPaths(routesOf('authorization')).keys()]).not.toEqual(expect.arrayContaining(['/authorize']));
    expect([...corsPaths(routesOf('authorization')).keys()]).not.toContain('/consent');
    expect([...corsPaths(routesOf('authorization')).keys()]).not.toContain('/callback');
  });

  it('puts CORS headers on gateway errors except the /authorize refusals', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'DEFAULT_4XX',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Access-Control-Allow-Origin': "'*'" }),
    });
    const denied = template.findResources('AWS::ApiGateway::GatewayResponse', {
      Properties: {
        ResponseType: 'ACCESS_DENIED',
        RestApiId: { Ref: Match.stringLikeRegexp('^GatewayAuthorization') },
      },
    });
    expect(Object.keys(denied)).toHaveLength(1);
    expect(JSON.stringify(denied)).not.toContain('Access-Control-Allow-Origin');
  });
});

describe('issuer', () => {
  it('carries the stage path on the default endpoint', () => {
    const { stack } = synthStack();
    const issuer = stack.resolve(stack.gateway.issuer) as { 'Fn::Join': [string, unknown[]] };
    expect(JSON.stringify(issuer)).toMatch(/\/v1"\]\]/);
  });

  it('is the bare custom domain, mapped at the root, with the default endpoint off', () => {
    const app = newApp(false, {
      customDomainName: 'auth.example.com',
      certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
    });
    const config = appConfig(app.node, {});
    const { stack, template } = synthStack({ gateway: config.gateway, customDomain: config.customDomain }, app);
    expect(stack.gateway.issuer).toBe('https://auth.example.com');
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true });
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'auth.example.com',
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    const mappings = template.findResources('AWS::ApiGateway::BasePathMapping');
    expect(Object.values(mappings as Resources).map((mapping) => mapping.Properties.BasePath)).toEqual([undefined]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.metadata.description,
      Environment: { Variables: Match.objectLike({ ISSUER_URL: 'https://auth.example.com' }) },
    });
    expect(() => appConfig(newApp(false, { customDomainName: 'auth.example.com' }).node, {})).toThrow(/certificateArn/);
  });
});

describe('the MCP server (resource side)', () => {
  const { stack, template } = synthStack();
  const resourceApi = () => ({ Ref: Match.stringLikeRegexp('^McpServer') });

  it('is a REST API of its own, behind a REQUEST authorizer keyed on the Authorization header', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 2);
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 0,
      RestApiId: resourceApi(),
    });
    for (const method of ['GET', 'POST', 'DELETE']) {
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: method,
        AuthorizationType: 'CUSTOM',
        RestApiId: resourceApi(),
      });
    }
  });

  // No usable token: 401; a valid token without a required scope (the authorizer's Deny): 403.
  it.each([
    ['UNAUTHORIZED', '401'],
    ['ACCESS_DENIED', '403'],
  ])('answers %s with %s and a Bearer challenge naming the metadata', (type, statusCode) => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: type,
      StatusCode: statusCode,
      RestApiId: resourceApi(),
      ResponseParameters: Match.objectLike({
        'gatewayresponse.header.WWW-Authenticate': {
          'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('oauth-protected-resource/mcp')])],
        },
        'gatewayresponse.header.Access-Control-Allow-Origin': "'*'",
      }),
    });
  });

  it('is a protected resource of the gateway, so tokens can name it as their audience', () => {
    const fn = template.findResources('AWS::Lambda::Function')[functionId(template, 'token')];
    const resources = JSON.stringify(stack.resolve((fn.Properties.Environment as { Variables: unknown }).Variables));
    expect(resources).toContain('PROTECTED_RESOURCES');
    expect(resources).toMatch(/McpServerApi[A-Z0-9]+/);
    expect(stack.mcpServer?.resourceUrl).toMatch(/\/mcp$/);
  });

  it('gives its functions no table, key or secret, but the token authorizer a read of grant records', () => {
    for (const name of ['mcpServer', 'protectedResourceMetadata'] as const) {
      const granted = actionsOf(template, name).filter((action) => !action.startsWith('logs:'));
      expect(granted, name).toEqual([]);
    }
    const granted = actionsOf(template, 'tokenAuthorizer').filter((action) => !action.startsWith('logs:'));
    expect(granted).toEqual(['dynamodb:GetItem']);
  });

  it('can be left out', () => {
    const { template: bare } = synthStack({ sampleMcpServer: false });
    bare.resourceCountIs('AWS::ApiGateway::RestApi', 1);
  });
});

describe('hardening options', () => {
  const app = newApp(false, {
    webAcl: 'true',
    registrationRateLimit: '60',
    monitoring: 'true',
    tracing: 'true',
    requireInitialAccessToken: 'true',
    clientIdleExpiryDays: '90',
  });
  const config = appConfig(app.node, {});
  const { template } = synthStack({ gateway: config.gateway }, app);

  it('associates a web ACL with a rate-based rule scoped to /register and AWS managed rule groups', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'RegistrationRateLimit',
          Action: { Block: {} },
          Statement: {
            RateBasedStatement: Match.objectLike({
              Limit: 60,
              AggregateKeyType: 'IP',
              ScopeDownStatement: {
                ByteMatchStatement: Match.objectLike({ SearchString: '/register', PositionalConstraint: 'ENDS_WITH' }),
              },
            }),
          },
        }),
        Match.objectLike({
          Statement: {
            ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' },
          },
        }),
      ]),
    });
    // One web ACL, associated with both stages: the gateway's and the MCP server's.
    template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 2);
    for (const api of ['^GatewayAuthorizationApi', '^McpServerApi']) {
      template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
        ResourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: Match.stringLikeRegexp(api) }])] },
      });
    }
  });

  it('raises alarms on 5xx rate, authorizer errors, throttles and DynamoDB throttling, with a dashboard', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources);
    const descriptions = alarms.map((alarm) => String(alarm.Properties.AlarmDescription));
    expect(descriptions.some((text) => text.startsWith('5xx share'))).toBe(true);
    expect(descriptions).toContain('A Lambda authorizer failed (requests fail closed)');
    expect(descriptions).toContain('A gateway function was throttled');
    expect(descriptions.filter((text) => text.startsWith('DynamoDB throttled'))).toHaveLength(2);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('traces the stage and the functions with X-Ray', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      RestApiId: { Ref: Match.stringLikeRegexp('^GatewayAuthorization') },
    });
    template.allResourcesProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
  });

  it('keeps the initial access token in Secrets Manager, readable by the registration function only', () => {
    const secret = logicalIdOf(template, 'AWS::SecretsManager::Secret', {
      Description: 'RFC 7591 initial access token required to register a client at this gateway',
    });
    for (const name of Object.keys(FUNCTIONS) as Array<keyof typeof FUNCTIONS>) {
      const reads = actionsOn(template, name, secret);
      if (name === 'register') expect(reads).toEqual(['secretsmanager:GetSecretValue']);
      else expect(reads, name).toEqual([]);
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.register.description,
      Environment: { Variables: Match.objectLike({ INITIAL_ACCESS_TOKEN_ARN: { Ref: secret } }) },
    });
  });

  it('tells the client-reading functions the idle expiry', () => {
    for (const name of ['redirectUriAuthorizer', 'token'] as const) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: FUNCTIONS[name].description,
        Environment: { Variables: Match.objectLike({ CLIENT_IDLE_EXPIRY_DAYS: '90' }) },
      });
    }
  });

  it('passes cdk-nag with every option on', () => {
    const nagApp = newApp(false, {
      webAcl: 'true',
      monitoring: 'true',
      tracing: 'true',
      requireInitialAccessToken: 'true',
    });
    new GatewayStack(nagApp, 'HardenedGateway', { gateway: appConfig(nagApp.node, {}).gateway });
    Validations.of(nagApp).addPlugins(new AwsSolutionsChecks(nagApp));
    expect(() => nagApp.synth()).not.toThrow();
  });
});

describe('settings refused at synth, naming the setting', () => {
  const gatewayWith = (gateway: OAuthGatewayProps) => () => synthStack({ gateway, sampleMcpServer: false });
  const mcpWith = (props: Partial<Omit<McpResourceServerProps, 'gateway'>>) => () => {
    const stack = new Stack(newApp(), 'Resource');
    new McpResourceServer(stack, 'McpServer', {
      gateway: new OAuthGateway(stack, 'Gateway'),
      backend: { sample: true },
      ...props,
    });
  };
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'an uppercase Cognito prefix',
      gatewayWith({ cognitoDomainPrefix: 'My-Gateway' }),
      /cognitoDomainPrefix must be 1-63 lowercase/,
    ],
    [
      'a Cognito prefix starting with a hyphen',
      gatewayWith({ cognitoDomainPrefix: '-gateway' }),
      /cognitoDomainPrefix/,
    ],
    ['a Cognito prefix ending with a hyphen', gatewayWith({ cognitoDomainPrefix: 'gateway-' }), /cognitoDomainPrefix/],
    ['a 64-character Cognito prefix', gatewayWith({ cognitoDomainPrefix: 'a'.repeat(64) }), /cognitoDomainPrefix/],
    ['an empty Cognito prefix', gatewayWith({ cognitoDomainPrefix: '' }), /cognitoDomainPrefix/],
    ['a Cognito prefix with "aws"', gatewayWith({ cognitoDomainPrefix: 'my-aws-login' }), /must not contain "aws"/],
    ['a Cognito prefix with "amazon"', gatewayWith({ cognitoDomainPrefix: 'amazonian' }), /must not contain "amazon"/],
    ['a Cognito prefix with "cognito"', gatewayWith({ cognitoDomainPrefix: 'cognito1' }), /must not contain "cognito"/],
    ['a stage name with a space', gatewayWith({ stageName: 'v 1' }), /stageName must be 1-128 letters/],
    ['a 129-character stage name', gatewayWith({ stageName: 'v'.repeat(129) }), /stageName/],
    [
      'a negative throttle rate',
      gatewayWith({ publicEndpointThrottle: { rateLimit: -1, burstLimit: 10 } }),
      /publicEndpointThrottle\.rateLimit .*>= 0/,
    ],
    [
      'a fractional burst',
      gatewayWith({ publicEndpointThrottle: { rateLimit: 5, burstLimit: 1.5 } }),
      /publicEndpointThrottle\.burstLimit must be a whole number/,
    ],
    [
      'a log retention CloudWatch lacks',
      gatewayWith({ logRetention: 8 as logs.RetentionDays }),
      /logRetention must be/,
    ],
    ['no idle days', gatewayWith({ clientIdleExpiryDays: 0 }), /clientIdleExpiryDays must be a whole number from 1/],
    ['fractional idle days', gatewayWith({ clientIdleExpiryDays: 1.5 }), /clientIdleExpiryDays/],
    [
      'a zero access-token lifetime',
      gatewayWith({ accessTokenLifetime: Duration.seconds(0) }),
      /accessTokenLifetime must be a positive/,
    ],
    [
      'a fractional lifetime',
      gatewayWith({ accessTokenLifetime: Duration.millis(1500) }),
      /accessTokenLifetime must be a positive whole number of seconds/,
    ],
    [
      'an access token outliving the refresh idle window',
      gatewayWith({ accessTokenLifetime: Duration.days(31) }),
      /accessTokenLifetime .* must not exceed refreshTokenIdleLifetime/,
    ],
    [
      'an idle window longer than the absolute lifetime',
      gatewayWith({ refreshTokenIdleLifetime: Duration.days(91) }),
      /refreshTokenIdleLifetime .* must not exceed refreshTokenAbsoluteLifetime/,
    ],
    [
      'a WAF rate limit under 10',
      gatewayWith({ webAcl: { registrationRateLimit: 9 } }),
      /webAcl\.registrationRateLimit must be a whole number from 10 to 2000000000/,
    ],
    [
      'a fractional WAF rate limit',
      gatewayWith({ webAcl: { registrationRateLimit: 10.5 } }),
      /webAcl\.registrationRateLimit/,
    ],
    [
      'a WAF rate limit over 2e9',
      gatewayWith({ webAcl: { registrationRateLimit: 2_000_000_001 } }),
      /webAcl\.registrationRateLimit/,
    ],
    [
      'a zero alarm rate',
      gatewayWith({ monitoring: { serverErrorRate: 0 } }),
      /monitoring\.serverErrorRate must be more than 0/,
    ],
    ['an alarm rate over 1', gatewayWith({ monitoring: { serverErrorRate: 1.5 } }), /monitoring\.serverErrorRate/],
    ['a negative MCP throttle', mcpWith({ throttle: { rateLimit: -1, burstLimit: 1 } }), /throttle\.rateLimit/],
    ['an MCP stage name with a slash', mcpWith({ stageName: 'v1/mcp' }), /stageName must be/],
    [
      'an MCP log retention CloudWatch lacks',
      mcpWith({ logRetention: 2 as logs.RetentionDays }),
      /logRetention must be/,
    ],
  ];
  it.each(cases)('refuses %s', (_name, build, message) => {
    expect(build).toThrow(message);
  });

  it.each([
    ['Auth.Example.com', /customDomain\.domainName must be a lowercase DNS name/],
    ['localhost', /customDomain\.domainName/],
    ['auth..example.com', /customDomain\.domainName/],
    ['-auth.example.com', /customDomain\.domainName/],
    ['https://auth.example.com', /customDomain\.domainName/],
  ])('refuses the custom domain name %s', (domainName, message) => {
    expect(() =>
      synthStack({
        customDomain: { domainName, certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' },
      }),
    ).toThrow(message);
  });

  it('accepts the limits themselves, and tokens it cannot see yet', () => {
    expect(gatewayWith({ cognitoDomainPrefix: 'a'.repeat(63), webAcl: { registrationRateLimit: 10 } })).not.toThrow();
    expect(gatewayWith({ publicEndpointThrottle: { rateLimit: 0, burstLimit: 0 }, stageName: 'A_b-9' })).not.toThrow();
    expect(
      gatewayWith({ webAcl: { registrationRateLimit: 2_000_000_000 }, monitoring: { serverErrorRate: 1 } }),
    ).not.toThrow();
    expect(
      gatewayWith({
        accessTokenLifetime: Duration.days(1),
        refreshTokenIdleLifetime: Duration.days(1),
        refreshTokenAbsoluteLifetime: Duration.days(1),
      }),
    ).not.toThrow();
    expect(gatewayWith({ cognitoDomainPrefix: Lazy.string({ produce: () => 'Not-Checked' }) })).not.toThrow();
  });
});

describe('Cognito domain prefix by default', () => {
  it('is the stack name and the stack UUID from CloudFormation, never the account id', () => {
    const { template } = synthStack({}, newApp());
    const domains = Object.values(template.findResources('AWS::Cognito::UserPoolDomain') as Resources);
    expect(domains).toHaveLength(1);
    const domain = JSON.stringify(domains[0].Properties.Domain);
    expect(domain).not.toContain('AWS::AccountId');
    expect(domains[0].Properties.Domain).toEqual({
      'Fn::Join': [
        '',
        [
          'testgateway-',
          {
            'Fn::Select': [
              0,
              { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] },
            ],
          },
        ],
      ],
    });
  });

  it.each([
    ['McpOAuthGateway', 'mcpoauthgateway'],
    ['AwsMcpGateway', 'mcpgateway'],
    ['Amazon-Cognito-Stack', 'stack'],
    ['my_stack.v2', 'my-stack-v2'],
    ['aawsws', 'mcp-gateway'],
    ['--Gateway--', 'gateway'],
    ['x'.repeat(100), 'x'.repeat(54)],
  ])('turns the stack name %s into %s', (stackName, expected) => {
    expect(cognitoPrefixName(stackName)).toBe(expected);
  });

  it('always yields a prefix Cognito accepts, whatever the stack name', () => {
    fc.assert(
      fc.property(
        // Fragments that form reserved words, and characters Cognito refuses, in any order and length.
        fc
          .array(
            fc.constantFrom(
              'aws',
              'AWS',
              'Amazon',
              'cognito',
              'a',
              'ws',
              'amaz',
              'on',
              '-',
              '_',
              '.',
              ' ',
              'long-name',
            ),
            {
              maxLength: 40,
            },
          )
          .map((parts) => parts.join('')),
        (stackName) => {
          // The UUID part is 8 hex digits; any stands in for it.
          expect(() =>
            validate.cognitoDomainPrefix('prefix', `${cognitoPrefixName(stackName)}-0a1b2c3d`),
          ).not.toThrow();
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('outputs', () => {
  const outputs = (template: Template) => template.toJSON().Outputs as Record<string, { Value: unknown }>;

  it('are built from the issuer on the default endpoint', () => {
    const { stack, template } = synthStack();
    const issuer = JSON.stringify(stack.resolve(stack.gateway.issuer));
    expect(JSON.stringify(outputs(template).ApiUrl.Value)).toBe(issuer.replace(/\/v1"\]\]\}$/, '/v1/"]]}'));
    expect(JSON.stringify(outputs(template).RegistrationEndpoint.Value)).toBe(
      issuer.replace(/\/v1"\]\]\}$/, '/v1/register"]]}'),
    );
  });

  it('name the custom domain, not the disabled execute-api endpoint, and keep the MCP server on its own', () => {
    const { template } = synthStack({
      customDomain: {
        domainName: 'auth.example.com',
        certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      },
    });
    const values = outputs(template);
    expect(values.ApiUrl.Value).toBe('https://auth.example.com/');
    expect(values.RegistrationEndpoint.Value).toBe('https://auth.example.com/register');
    expect(values.Issuer.Value).toBe('https://auth.example.com');
    // No output names the gateway's execute-api URL (RestApi's own Endpoint output included).
    for (const [name, output] of Object.entries(values)) {
      expect(JSON.stringify(output.Value), name).not.toMatch(/GatewayAuthorizationApi[0-9A-F]+"\},"\.execute-api/);
    }
    // The MCP server's API keeps its default endpoint, which is its resource URL.
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: 'TestGateway-resource',
      DisableExecuteApiEndpoint: false,
    });
    expect(JSON.stringify(values.McpServerUrl.Value)).toMatch(/McpServerApi[0-9A-F]+"\},"\.execute-api\..*\/v1\/mcp/);
  });
});

describe('account-level API Gateway logging role', () => {
  it('is owned by no stack by default, so two stacks in one region do not fight over it', () => {
    const app = newApp();
    const stacks = ['First', 'Second'].map((name) => new GatewayStack(app, name));
    for (const stack of stacks) {
      const name = stack.stackName;
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::ApiGateway::Account', 0);
      expect(JSON.stringify(template.toJSON())).not.toContain('AmazonAPIGatewayPushToCloudWatchLogs');
      template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: `${name}-authorization` });
    }
  });

  it('is created once, by the gateway, when asked for, and the MCP stage waits for it', () => {
    const { template } = synthStack({ gateway: { apiGatewayCloudWatchRole: true } });
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    const accountId = logicalIdOf(template, 'AWS::ApiGateway::Account');
    const stages = template.findResources('AWS::ApiGateway::Stage', {
      Properties: { RestApiId: { Ref: Match.stringLikeRegexp('^McpServerApi') } },
    }) as Record<string, { DependsOn?: string[] }>;
    expect(Object.values(stages)[0].DependsOn).toContain(accountId);
  });
});

describe('the MCP server API protection', () => {
  it('throttles every method of its stage', () => {
    const { template } = synthStack();
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      RestApiId: { Ref: Match.stringLikeRegexp('^McpServerApi') },
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
      ]),
    });
  });

  it('throttles with the throttle it is given', () => {
    const stack = new Stack(newApp(), 'Resource');
    new McpResourceServer(stack, 'McpServer', {
      gateway: new OAuthGateway(stack, 'Gateway'),
      backend: { sample: true },
      throttle: { rateLimit: 7, burstLimit: 3 },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::Stage', {
      RestApiId: { Ref: Match.stringLikeRegexp('^McpServerApi') },
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 7, ThrottlingBurstLimit: 3 }),
      ]),
    });
  });

  it('is monitored with the gateway: its 5xx share and the tokens its authorizer could not check', () => {
    const { template } = synthStack({ gateway: { monitoring: {} } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: '5xx share of TestGateway-resource requests',
    });
    // Its Errors metric counts every thrown Unauthorized (each 401): an alarm on it would fire on
    // any expired token. The alarm watches the decisions that mean "not checked" instead.
    const tokenAuthorizer = functionId(template, 'tokenAuthorizer');
    const onErrors = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources).filter(
      (alarm) =>
        alarm.Properties.MetricName === 'Errors' &&
        JSON.stringify(alarm.Properties.Dimensions ?? []).includes(tokenAuthorizer),
    );
    expect(onErrors).toEqual([]);
    const watched = (decision: string) =>
      Match.objectLike({
        MetricStat: Match.objectLike({
          Metric: Match.objectLike({
            MetricName: METRICS.tokenDecisions,
            Dimensions: Match.arrayWith([{ Name: METRIC_DIMENSIONS.decision, Value: decision }]),
          }),
        }),
      });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^A token authorizer could not check access tokens'),
      Threshold: 1,
      Metrics: Match.arrayWith([
        watched(TOKEN_CHECK_FAILED.jwksUnavailable),
        watched(TOKEN_CHECK_FAILED.grantStatusUnavailable),
        watched(TOKEN_CHECK_FAILED.error),
      ]),
    });
  });
});

describe('WAF managed rules and OAuth traffic', () => {
  const { template } = synthStack({ gateway: { webAcl: {} } });
  const rules = () =>
    Object.values(template.findResources('AWS::WAFv2::WebACL') as Resources)[0].Properties.Rules as Array<{
      Name: string;
      Action?: Record<string, unknown>;
      OverrideAction?: Record<string, unknown>;
      Statement: Record<string, any>;
    }>;
  const group = (name: string) => {
    const rule = rules().find((candidate) => candidate.Statement.ManagedRuleGroupStatement?.Name === name);
    expect(rule, name).toBeDefined();
    return rule as NonNullable<typeof rule>;
  };
  const counted = (name: string) =>
    (
      (group(name).Statement.ManagedRuleGroupStatement.RuleActionOverrides ?? []) as Array<{
        Name: string;
        ActionToUse: Record<string, unknown>;
      }>
    )
      .filter((override) => 'Count' in override.ActionToUse)
      .map((override) => override.Name);

  // The rules that block loopback redirect URIs, /authorize query strings and MCP messages.
  it.each([
    'SizeRestrictions_BODY',
    'SizeRestrictions_QUERYSTRING',
    'EC2MetaDataSSRF_BODY',
    'EC2MetaDataSSRF_QUERYARGUMENTS',
    'GenericLFI_BODY',
    'GenericLFI_QUERYARGUMENTS',
    'GenericRFI_BODY',
    'GenericRFI_QUERYARGUMENTS',
  ])('only counts %s of the common rule set', (rule) => {
    expect(counted('AWSManagedRulesCommonRuleSet')).toContain(rule);
    expect(group('AWSManagedRulesCommonRuleSet').OverrideAction).toEqual({ None: {} });
  });

  it.each(['AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesAmazonIpReputationList'])(
    'keeps %s blocking in full: none of its rules inspects redirect URIs',
    (name) => {
      expect(group(name).OverrideAction).toEqual({ None: {} });
      expect(group(name).Statement.ManagedRuleGroupStatement.RuleActionOverrides).toBeUndefined();
    },
  );

  it('puts its own limits in place of the counted ones', () => {
    const byName = Object.fromEntries(rules().map((rule) => [rule.Name, rule]));
    expect(byName.BodySizeLimit.Action).toEqual({ Block: {} });
    const [size, notMcp] = byName.BodySizeLimit.Statement.AndStatement.Statements;
    expect(size).toEqual({
      SizeConstraintStatement: {
        FieldToMatch: { Body: { OversizeHandling: 'MATCH' } },
        ComparisonOperator: 'GT',
        Size: 16 * 1024,
        TextTransformations: [{ Priority: 0, Type: 'NONE' }],
      },
    });
    expect(notMcp.NotStatement.Statement.ByteMatchStatement).toMatchObject({
      FieldToMatch: { UriPath: {} },
      SearchString: '/mcp',
      PositionalConstraint: 'ENDS_WITH',
    });
    expect(byName.QueryStringSizeLimit).toMatchObject({
      Action: { Block: {} },
      Statement: {
        SizeConstraintStatement: { FieldToMatch: { QueryString: {} }, ComparisonOperator: 'GT', Size: 8 * 1024 },
      },
    });
    expect(byName.InstanceMetadataAddress.Action).toEqual({ Block: {} });
    const searched = (
      byName.InstanceMetadataAddress.Statement.OrStatement.Statements as Array<{
        ByteMatchStatement: { FieldToMatch: Record<string, unknown>; SearchString: string };
      }>
    ).map(({ ByteMatchStatement: match }) => `${Object.keys(match.FieldToMatch)[0]} ${match.SearchString}`);
    expect(searched.sort()).toEqual([
      'Body 169.254.169.254',
      'Body fd00:ec2::254',
      'QueryString 169.254.169.254',
      'QueryString fd00:ec2::254',
    ]);
    // Own rules run before the managed groups, with distinct priorities.
    const priorities = rules().map((rule) => (rule as unknown as { Priority: number }).Priority);
    expect(new Set(priorities).size).toBe(priorities.length);
  });
});

describe('feature flags', () => {
  it('are those of cdk.json, so tests synthesize what cdk synth does', () => {
    const { stack } = synthStack();
    expect(FeatureFlags.of(stack).isEnabled('@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId')).toBe(true);
    expect(CDK_JSON_CONTEXT['@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId']).toBe(true);
  });

  it('render access log destinations as API Gateway stores them (no trailing :*)', () => {
    const { template } = synthStack();
    const stages = Object.values(template.findResources('AWS::ApiGateway::Stage') as Resources);
    expect(stages).toHaveLength(2);
    for (const stage of stages) {
      const destination = JSON.stringify(
        (stage.Properties.AccessLogSetting as { DestinationArn: unknown }).DestinationArn,
      );
      expect(destination).not.toContain('Fn::GetAtt');
      expect(destination).toContain(':log-group:');
    }
  });

  it('put the authorizers into the deployment logical id, so an authorizer change redeploys', () => {
    const flag = '@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId';
    const deploymentIds = (context: Record<string, unknown>) => {
      const stack = new Stack(newApp(false, context), 'Flags');
      new OAuthGateway(stack, 'Gateway');
      return Object.keys(Template.fromStack(stack).findResources('AWS::ApiGateway::Deployment'));
    };
    expect(deploymentIds({})).not.toEqual(deploymentIds({ [flag]: false }));
  });
});
