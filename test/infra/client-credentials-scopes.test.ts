/**
 * The scopes machine clients may get (client_credentials) as a deployment setting: the construct
 * property reaches the token function as CLIENT_CREDENTIALS_SCOPES, each must be one of the
 * deployment's scopes (refused at synth), and the sample stack reads it from context or the
 * environment. Unset, the function gives machine clients the deployment's scopes.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambda/contract/environment.js';
import { appConfig } from '../../lib/app-config.js';
import { OAuthGateway, type OAuthGatewayProps } from '../../lib/oauth-gateway.js';
import { newApp } from './support/app.js';

function functionEnv(props: OAuthGatewayProps, name: 'token' | 'register') {
  const stack = new Stack(newApp(), 'Machines');
  const gateway = new OAuthGateway(stack, 'Gateway', props);
  const fn = gateway.routes.functions[name] as lambda.Function;
  const template = Template.fromStack(stack).toJSON();
  return template.Resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)].Properties.Environment
    .Variables as Record<string, unknown>;
}

describe('clientCredentialsScopes', () => {
  it('reaches the token function, an empty list included', () => {
    const scopes = ['mcp:tools', 'mcp:admin'];
    expect(functionEnv({ scopes, clientCredentialsScopes: ['mcp:tools'] }, 'token')[ENV.clientCredentialsScopes]).toBe(
      'mcp:tools',
    );
    expect(functionEnv({ scopes, clientCredentialsScopes: [] }, 'token')[ENV.clientCredentialsScopes]).toBe('');
  });

  it('is left to the function (the deployment scopes) when unset', () => {
    expect(functionEnv({ scopes: ['mcp:tools'] }, 'token')[ENV.clientCredentialsScopes]).toBeUndefined();
  });

  it('is refused at synth when it names a scope the deployment does not define', () => {
    expect(() => functionEnv({ scopes: ['mcp:tools'], clientCredentialsScopes: ['mcp:admin'] }, 'token')).toThrow(
      /clientCredentialsScopes: mcp:admin is not one of scopes/,
    );
  });

  it('comes from clientCredentialsScopes or GATEWAY_CLIENT_CREDENTIALS_SCOPES in the sample stack', () => {
    const fromContext = appConfig(newApp(false, { clientCredentialsScopes: 'a,b' }).node, {});
    expect(fromContext.gateway.clientCredentialsScopes).toEqual(['a', 'b']);
    const fromEnv = appConfig(newApp().node, { GATEWAY_CLIENT_CREDENTIALS_SCOPES: 'c' });
    expect(fromEnv.gateway.clientCredentialsScopes).toEqual(['c']);
    expect(appConfig(newApp().node, {}).gateway.clientCredentialsScopes).toBeUndefined();
  });
});
