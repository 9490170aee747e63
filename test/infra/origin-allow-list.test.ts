/**
 * A resource's Origin allow-list, deployed: one rule of the gateway's web ACL per resource that
 * has one, matching that API's host only, blocking a present Origin that is none of the listed,
 * with the same 403 body the local gateway answers; several resources share the web ACL.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { appConfig } from '../../lib/app-config.js';
import { GatewayStack } from '../../lib/gateway-stack.js';
import { McpResourceServer } from '../../lib/mcp-resource-server.js';
import { acknowledgeApiFindings, acknowledgeNagFindings } from '../../lib/nag-suppressions.js';
import { OAuthGateway } from '../../lib/oauth-gateway.js';
import { ORIGIN_REFUSAL } from '../../lib/origin-allow-list.js';
import { newApp } from './support/app.js';

const BACKEND = { url: 'https://mcp.internal.example.com/mcp' };

interface Rule {
  Name: string;
  Priority: number;
  Action?: { Block?: { CustomResponse?: Record<string, unknown> } };
  Statement: Record<string, unknown>;
}

function synth(build: (stack: Stack, gateway: OAuthGateway) => void) {
  const stack = new Stack(newApp(), 'Origins');
  const gateway = new OAuthGateway(stack, 'Gateway', { webAcl: {} });
  build(stack, gateway);
  const template = Template.fromStack(stack);
  const acl = Object.values(template.findResources('AWS::WAFv2::WebACL'))[0].Properties as {
    Rules: Rule[];
    CustomResponseBodies?: Record<string, { ContentType: string; Content: string }>;
  };
  return { stack, template, acl };
}

/** The API id a host match names: its Fn::Join's Ref. */
function hostApiRef(rule: Rule): string {
  const statements = (rule.Statement.AndStatement as { Statements: Array<Record<string, any>> }).Statements;
  const join = statements[0].ByteMatchStatement.SearchString['Fn::Join'][1] as unknown[];
  return (join[0] as { Ref: string }).Ref;
}

describe('an Origin allow-list on a deployed resource', () => {
  const { stack, template, acl } = synth((scope, gateway) => {
    new McpResourceServer(scope, 'Files', {
      gateway,
      backend: BACKEND,
      allowedOrigins: ['https://App.Example.com', 'http://localhost:6274'],
    });
    new McpResourceServer(scope, 'Search', {
      gateway,
      backend: BACKEND,
      allowedOrigins: ['https://search.example.com'],
    });
    new McpResourceServer(scope, 'Open', { gateway, backend: BACKEND });
  });
  const originRules = acl.Rules.filter((rule) => rule.Name.startsWith('OriginAllowList'));

  it('adds one rule per resource that has a list, before every other rule, priorities unique', () => {
    expect(originRules.map((rule) => rule.Name)).toEqual(['OriginAllowList1', 'OriginAllowList2']);
    expect(originRules.map((rule) => rule.Priority)).toEqual([0, 1]);
    const priorities = acl.Rules.map((rule) => rule.Priority);
    expect(new Set(priorities).size).toBe(priorities.length);
    expect(Math.min(...acl.Rules.filter((rule) => !rule.Name.startsWith('Origin')).map((r) => r.Priority))).toBe(2);
  });

  it('matches only its own API, by Host', () => {
    const apis = Object.keys(template.findResources('AWS::ApiGateway::RestApi'));
    const files = apis.find((id) => id.startsWith('FilesApi'));
    const search = apis.find((id) => id.startsWith('SearchApi'));
    expect(originRules.map(hostApiRef)).toEqual([files, search]);
    const host = (originRules[0].Statement.AndStatement as { Statements: Array<Record<string, any>> }).Statements[0];
    expect(host.ByteMatchStatement.FieldToMatch).toEqual({ SingleHeader: { Name: 'host' } });
    expect(host.ByteMatchStatement.PositionalConstraint).toBe('EXACTLY');
    expect(stack.resolve(host.ByteMatchStatement.SearchString)['Fn::Join'][1].slice(1)).toEqual([
      '.execute-api.',
      { Ref: 'AWS::Region' },
      '.',
      { Ref: 'AWS::URLSuffix' },
    ]);
  });

  it('blocks a present Origin that equals none of the listed (lowercased), and only then', () => {
    const [present, notListed] = (
      originRules[0].Statement.AndStatement as { Statements: Array<Record<string, any>> }
    ).Statements.slice(1);
    expect(present.SizeConstraintStatement).toMatchObject({
      FieldToMatch: { SingleHeader: { Name: 'origin' } },
      ComparisonOperator: 'GT',
      Size: 0,
    });
    const listed = notListed.NotStatement.Statement.OrStatement.Statements.map(
      (statement: Record<string, any>) => statement.ByteMatchStatement,
    );
    expect(listed.map((match: Record<string, any>) => match.SearchString)).toEqual([
      'https://app.example.com',
      'http://localhost:6274',
    ]);
    for (const match of listed) {
      expect(match.PositionalConstraint).toBe('EXACTLY');
      expect(match.FieldToMatch).toEqual({ SingleHeader: { Name: 'origin' } });
      expect(match.TextTransformations).toEqual([{ Priority: 0, Type: 'LOWERCASE' }]);
    }
    // One origin: a NOT of the match itself (WAF's OR needs two statements).
    const single = (originRules[1].Statement.AndStatement as { Statements: Array<Record<string, any>> }).Statements[2];
    expect(single.NotStatement.Statement.ByteMatchStatement.SearchString).toBe('https://search.example.com');
  });

  it('answers 403 with the body the local gateway answers, not cached', () => {
    for (const rule of originRules) {
      expect(rule.Action?.Block?.CustomResponse).toMatchObject({
        ResponseCode: ORIGIN_REFUSAL.statusCode,
        CustomResponseBodyKey: 'OriginRefused',
      });
      expect(rule.Action?.Block?.CustomResponse?.ResponseHeaders).toEqual(
        expect.arrayContaining([{ Name: 'Cache-Control', Value: 'no-store' }]),
      );
    }
    expect(acl.CustomResponseBodies?.OriginRefused).toEqual({
      ContentType: 'APPLICATION_JSON',
      Content: ORIGIN_REFUSAL.body,
    });
  });

  it('associates the web ACL with every resource API, each its own association', () => {
    const associations = Object.values(template.findResources('AWS::WAFv2::WebACLAssociation'));
    // The authorization API and three resources.
    expect(associations).toHaveLength(4);
  });
});

describe('without an allow-list', () => {
  it('adds no Origin rule and no custom response body', () => {
    const { acl } = synth((scope, gateway) => {
      new McpResourceServer(scope, 'Open', { gateway, backend: BACKEND });
    });
    expect(acl.Rules.some((rule) => rule.Name.startsWith('Origin'))).toBe(false);
    expect(acl.CustomResponseBodies).toBeUndefined();
  });
});

describe('refused at synth', () => {
  it('needs the gateway’s web ACL', () => {
    const stack = new Stack(newApp(), 'NoAcl');
    const gateway = new OAuthGateway(stack, 'Gateway');
    expect(
      () => new McpResourceServer(stack, 'Files', { gateway, backend: BACKEND, allowedOrigins: ['https://a.example'] }),
    ).toThrow(/allowedOrigins is enforced by a rule of the gateway’s web ACL/);
  });

  it('names a value that is not an origin', () => {
    const stack = new Stack(newApp(), 'Bad');
    const gateway = new OAuthGateway(stack, 'Gateway', { webAcl: {} });
    expect(
      () =>
        new McpResourceServer(stack, 'Files', { gateway, backend: BACKEND, allowedOrigins: ['https://a.example/'] }),
    ).toThrow(/allowedOrigins: "https:\/\/a.example\/" is not an origin/);
  });
});

describe('the sample stack', () => {
  it('reads mcpAllowedOrigins (context or GATEWAY_MCP_ALLOWED_ORIGINS, comma-separated)', () => {
    expect(appConfig(newApp(false, { mcpAllowedOrigins: 'https://a.example' }).node, {}).mcpAllowedOrigins).toEqual([
      'https://a.example',
    ]);
    expect(
      appConfig(newApp().node, { GATEWAY_MCP_ALLOWED_ORIGINS: 'https://a.example, https://b.example' })
        .mcpAllowedOrigins,
    ).toEqual(['https://a.example', 'https://b.example']);
    expect(appConfig(newApp().node, {}).mcpAllowedOrigins).toBeUndefined();
  });

  it('passes cdk-nag with the allow-list on its MCP server', () => {
    const app = newApp();
    const stack = new GatewayStack(app, 'Sample', {
      gateway: { webAcl: {} },
      mcpAllowedOrigins: ['https://app.example.com'],
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
    const acl = Object.values(Template.fromStack(stack).findResources('AWS::WAFv2::WebACL'))[0];
    expect((acl.Properties.Rules as Rule[])[0].Name).toBe('OriginAllowList1');
  });

  it('passes cdk-nag with two resources of their own lists on one web ACL', () => {
    const app = newApp();
    const stack = new Stack(app, 'NagOrigins');
    const gateway = new OAuthGateway(stack, 'Gateway', { webAcl: {} });
    for (const id of ['First', 'Second']) {
      const server = new McpResourceServer(stack, id, {
        gateway,
        backend: BACKEND,
        allowedOrigins: [`https://${id.toLowerCase()}.example.com`],
      });
      acknowledgeApiFindings(server.routes);
    }
    acknowledgeNagFindings(gateway);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
