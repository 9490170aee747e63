/**
 * The token authorizer's grant check as infrastructure: its one grant (dynamodb:GetItem on the
 * grants table, confined by dynamodb:LeadingKeys to `grant#*`, nothing on the index or another
 * table), the cache period as a construct property reaching it as GRANT_STATUS_CACHE_SECONDS
 * (and only it), validated at synth, and read by the sample stack from context or the
 * environment. Unset, the function uses its default (30 s). cdk-nag finds nothing new.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambda/contract/environment.js';
import { GRANT_KEY_PREFIXES } from '../../lambda/contract/tables.js';
import { appConfig } from '../../lib/app-config.js';
import { McpResourceServer } from '../../lib/mcp-resource-server.js';
import { acknowledgeApiFindings, acknowledgeNagFindings } from '../../lib/nag-suppressions.js';
import { OAuthGateway, type OAuthGatewayProps } from '../../lib/oauth-gateway.js';
import { newApp } from './support/app.js';

function synth(props: OAuthGatewayProps = {}) {
  const stack = new Stack(newApp(), 'GrantStatus');
  const gateway = new OAuthGateway(stack, 'Gateway', props);
  const server = new McpResourceServer(stack, 'McpServer', { gateway, backend: { sample: true } });
  const template = Template.fromStack(stack);
  const envOf = (fn: lambda.IFunction | undefined) =>
    template.toJSON().Resources[stack.getLogicalId((fn as lambda.Function).node.defaultChild as lambda.CfnFunction)]
      .Properties.Environment.Variables as Record<string, unknown>;
  return { stack, gateway, server, template, envOf };
}

interface PolicyStatement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every non-log statement of a function's role policies. */
function statementsOf(template: Template, stack: Stack, fn: lambda.IFunction | undefined): PolicyStatement[] {
  const roleId = stack.getLogicalId((fn as lambda.Function).role?.node.defaultChild as never);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as PolicyStatement[])
    .filter((statement) => !([] as string[]).concat(statement.Action).every((action) => action.startsWith('logs:')));
}

describe('the token authorizer reads grant records, and nothing else', () => {
  it('GetItem on the grants table alone, under dynamodb:LeadingKeys grant#* and deleted#*', () => {
    const { stack, server, template } = synth();
    const statements = statementsOf(template, stack, server.routes.functions.tokenAuthorizer);
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement.Action).toBe('dynamodb:GetItem');
    expect(JSON.stringify(statement.Resource)).toMatch(/GatewayGrantsTable[A-Z0-9]+/);
    expect(JSON.stringify(statement.Resource)).not.toContain('index');
    expect(statement.Condition).toEqual({
      'ForAllValues:StringLike': {
        'dynamodb:LeadingKeys': [`${GRANT_KEY_PREFIXES.grant}*`, `${GRANT_KEY_PREFIXES.deletedClient}*`],
      },
    });
  });

  it('is told the grants table, and the MCP server and metadata functions are not', () => {
    const { server, envOf } = synth();
    expect(envOf(server.routes.functions.tokenAuthorizer)[ENV.grantsTableName]).toEqual(expect.anything());
    for (const fn of [server.routes.functions.mcpServer, server.routes.functions.protectedResourceMetadata]) {
      expect(envOf(fn)[ENV.grantsTableName]).toBeUndefined();
      expect(envOf(fn)[ENV.grantStatusCacheSeconds]).toBeUndefined();
    }
  });

  it('passes cdk-nag with the suppressions the stack already carries', () => {
    const app = newApp();
    const stack = new Stack(app, 'NagGrantStatus');
    const gateway = new OAuthGateway(stack, 'Gateway', { grantStatusCache: Duration.seconds(10) });
    const server = new McpResourceServer(stack, 'McpServer', { gateway, backend: { sample: true } });
    acknowledgeApiFindings(server.routes);
    acknowledgeNagFindings(gateway);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('grantStatusCache', () => {
  it('reaches the token authorizer in whole seconds, 0 (every request) included', () => {
    for (const seconds of [0, 5, 300]) {
      const { server, envOf } = synth({ grantStatusCache: Duration.seconds(seconds) });
      expect(envOf(server.routes.functions.tokenAuthorizer)[ENV.grantStatusCacheSeconds]).toBe(String(seconds));
    }
  });

  it('is left to the function’s default (30 s) when unset, and reaches no authorization-server function', () => {
    const { gateway, server, envOf } = synth({ grantStatusCache: Duration.seconds(5) });
    const unset = synth();
    expect(unset.envOf(unset.server.routes.functions.tokenAuthorizer)[ENV.grantStatusCacheSeconds]).toBeUndefined();
    expect(envOf(server.routes.functions.tokenAuthorizer)[ENV.grantStatusCacheSeconds]).toBe('5');
    for (const fn of Object.values(gateway.functions)) expect(envOf(fn)[ENV.grantStatusCacheSeconds]).toBeUndefined();
  });

  it('is refused at synth beyond an hour', () => {
    expect(() => synth({ grantStatusCache: Duration.hours(2) })).toThrow(
      /grantStatusCache \(seconds\) must be a whole number from 0 to 3600/,
    );
  });

  it('comes from grantStatusCacheSeconds or GATEWAY_GRANT_STATUS_CACHE_SECONDS in the sample stack', () => {
    const fromContext = appConfig(newApp(false, { grantStatusCacheSeconds: '0' }).node, {});
    expect(fromContext.gateway.grantStatusCache?.toSeconds()).toBe(0);
    const fromEnv = appConfig(newApp().node, { GATEWAY_GRANT_STATUS_CACHE_SECONDS: '10' });
    expect(fromEnv.gateway.grantStatusCache?.toSeconds()).toBe(10);
    expect(appConfig(newApp().node, {}).gateway.grantStatusCache).toBeUndefined();
  });
});
