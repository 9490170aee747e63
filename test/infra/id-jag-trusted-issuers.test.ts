/**
 * Trusted enterprise identity providers (ID-JAG) as a deployment setting: the construct property
 * reaches the token function as ID_JAG_TRUSTED_ISSUERS (the JSON INTERFACES.md pins), the token
 * function may write spent ID-JAG ids under their own prefix (idjag#, LeadingKeys), and the sample
 * stack reads the setting from context or the environment.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambda/contract/environment.js';
import { appConfig } from '../../lib/app-config.js';
import { OAuthGateway, type OAuthGatewayProps } from '../../lib/oauth-gateway.js';
import { newApp } from './support/app.js';

const IDP = [{ issuer: 'https://idp.example.com', jwks_uri: 'https://idp.example.com/jwks' }];

function synth(props: OAuthGatewayProps) {
  const stack = new Stack(newApp(), 'Enterprise');
  const gateway = new OAuthGateway(stack, 'Gateway', props);
  const fn = gateway.routes.functions.token as lambda.Function;
  const template = Template.fromStack(stack);
  const env = template.toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)].Properties
    .Environment.Variables as Record<string, unknown>;
  return { env, json: JSON.stringify(template.toJSON()) };
}

describe('idJagTrustedIssuers', () => {
  it('reaches the token function as the pinned JSON', () => {
    expect(JSON.parse(synth({ idJagTrustedIssuers: IDP }).env[ENV.idJagTrustedIssuers] as string)).toEqual(IDP);
  });

  it('is absent when unset (no issuer trusted)', () => {
    expect(synth({}).env[ENV.idJagTrustedIssuers]).toBeUndefined();
  });

  it('lets the token function write spent ID-JAG ids only under their own prefix', () => {
    expect(synth({}).json).toContain('idjag#*');
  });

  it('comes from idJagTrustedIssuers or GATEWAY_ID_JAG_TRUSTED_ISSUERS in the sample stack', () => {
    const fromContext = appConfig(newApp(false, { idJagTrustedIssuers: JSON.stringify(IDP) }).node, {});
    expect(fromContext.gateway.idJagTrustedIssuers).toEqual(IDP);
    const fromEnv = appConfig(newApp().node, { GATEWAY_ID_JAG_TRUSTED_ISSUERS: JSON.stringify(IDP) });
    expect(fromEnv.gateway.idJagTrustedIssuers).toEqual(IDP);
    expect(appConfig(newApp().node, {}).gateway.idJagTrustedIssuers).toBeUndefined();
    expect(() => appConfig(newApp().node, { GATEWAY_ID_JAG_TRUSTED_ISSUERS: '{' })).toThrow(/JSON array/);
  });
});
