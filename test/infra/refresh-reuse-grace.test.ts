/**
 * The refresh-token reuse grace window as a deployment setting: the construct property reaches
 * the token function (and only the functions with the server's settings) as
 * REFRESH_TOKEN_REUSE_GRACE_SECONDS, is validated at synth, and the sample stack reads it from
 * context or the environment. Unset, the function uses its default (60 s).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambda/contract/environment.js';
import { appConfig } from '../../lib/app-config.js';
import { OAuthGateway, type OAuthGatewayProps } from '../../lib/oauth-gateway.js';
import { newApp } from './support/app.js';

function tokenEnv(props: OAuthGatewayProps = {}) {
  const stack = new Stack(newApp(), 'Grace');
  const gateway = new OAuthGateway(stack, 'Gateway', props);
  const fn = gateway.routes.functions.token as lambda.Function;
  const template = Template.fromStack(stack).toJSON();
  return template.Resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)].Properties.Environment
    .Variables as Record<string, unknown>;
}

describe('refreshTokenReuseGrace', () => {
  it('reaches the token function in whole seconds, 0 (strict) included', () => {
    expect(tokenEnv({ refreshTokenReuseGrace: Duration.seconds(30) })[ENV.refreshTokenReuseGraceSeconds]).toBe('30');
    expect(tokenEnv({ refreshTokenReuseGrace: Duration.seconds(0) })[ENV.refreshTokenReuseGraceSeconds]).toBe('0');
  });

  it('is left to the function’s default when unset', () => {
    expect(tokenEnv()[ENV.refreshTokenReuseGraceSeconds]).toBeUndefined();
  });

  it('is refused at synth beyond an hour', () => {
    expect(() => tokenEnv({ refreshTokenReuseGrace: Duration.hours(2) })).toThrow(
      /refreshTokenReuseGrace \(seconds\) must be a whole number from 0 to 3600/,
    );
  });

  it('comes from refreshTokenReuseGraceSeconds or GATEWAY_REFRESH_TOKEN_REUSE_GRACE_SECONDS in the sample stack', () => {
    const fromContext = appConfig(newApp(false, { refreshTokenReuseGraceSeconds: '0' }).node, {});
    expect(fromContext.gateway.refreshTokenReuseGrace?.toSeconds()).toBe(0);
    const fromEnv = appConfig(newApp().node, { GATEWAY_REFRESH_TOKEN_REUSE_GRACE_SECONDS: '15' });
    expect(fromEnv.gateway.refreshTokenReuseGrace?.toSeconds()).toBe(15);
    expect(appConfig(newApp().node, {}).gateway.refreshTokenReuseGrace).toBeUndefined();
  });
});
