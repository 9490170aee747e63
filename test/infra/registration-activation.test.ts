/**
 * Registration activation in the template: the clients table deletes a never-activated
 * registration by TTL on the attribute the functions write, the registration function (and only
 * it: the readers check the deadline stored with each client) is told the hours, and a setting
 * that makes no sense is refused at synth. The context key and GATEWAY_ variable reach the
 * construct through lib/app-config.ts.
 */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CLIENTS_TABLE_KEY, CLIENTS_TABLE_TTL_ATTRIBUTE } from '../../lambda/contract/tables.js';
import { appConfig } from '../../lib/app-config.js';
import { GatewayStack } from '../../lib/gateway-stack.js';
import { OAuthGateway, type OAuthGatewayProps } from '../../lib/oauth-gateway.js';
import { FUNCTIONS } from '../../lib/routes.js';
import { newApp } from './support/app.js';

function gatewayTemplate(props: OAuthGatewayProps = {}): Template {
  const stack = new Stack(newApp(), 'Activation');
  new OAuthGateway(stack, 'Gateway', props);
  return Template.fromStack(stack);
}

/** The variable each gateway function is given, by route-table name (undefined: not given). */
function hoursByFunction(template: Template): Record<string, string | undefined> {
  const functions = template.findResources('AWS::Lambda::Function');
  const byName: Record<string, string | undefined> = {};
  for (const [name, spec] of Object.entries(FUNCTIONS)) {
    const fn = Object.values(functions).find((resource) => resource.Properties.Description === spec.description);
    if (!fn) continue;
    byName[name] = fn.Properties.Environment?.Variables?.REGISTRATION_ACTIVATION_HOURS;
  }
  return byName;
}

describe('the clients table', () => {
  it('has TTL on the attribute a registration is stored with', () => {
    gatewayTemplate().hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: CLIENTS_TABLE_KEY, KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: CLIENTS_TABLE_TTL_ATTRIBUTE, Enabled: true },
    });
  });

  it('keeps TTL on, whatever the hours (a deadline stored earlier still expires)', () => {
    gatewayTemplate({ registrationActivationHours: 0 }).hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: CLIENTS_TABLE_KEY, KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: CLIENTS_TABLE_TTL_ATTRIBUTE, Enabled: true },
    });
  });
});

describe('REGISTRATION_ACTIVATION_HOURS', () => {
  it.each<[string, OAuthGatewayProps, string]>([
    ['the default, 24', {}, '24'],
    ['a value', { registrationActivationHours: 72 }, '72'],
    ['0 (off)', { registrationActivationHours: 0 }, '0'],
  ])('is given to the registration function alone: %s', (_name, props, expected) => {
    const hours = hoursByFunction(gatewayTemplate(props));
    expect(hours.register).toBe(expected);
    for (const [name, value] of Object.entries(hours)) if (name !== 'register') expect(value, name).toBeUndefined();
  });

  it.each<[string, Record<string, string>, NodeJS.ProcessEnv, string]>([
    ['the context key', { registrationActivationHours: '6' }, {}, '6'],
    ['GATEWAY_REGISTRATION_ACTIVATION_HOURS', {}, { GATEWAY_REGISTRATION_ACTIVATION_HOURS: '0' }, '0'],
  ])('reaches the sample stack from %s', (_name, context, env, expected) => {
    const app = newApp(false, context);
    const stack = new GatewayStack(app, 'Configured', {
      gateway: appConfig(app.node, env).gateway,
      sampleMcpServer: false,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.register.description,
      Environment: { Variables: Match.objectLike({ REGISTRATION_ACTIVATION_HOURS: expected }) },
    });
  });
});

describe('registrationActivationHours refused at synth, naming the setting', () => {
  it.each<[string, number]>([
    ['negative', -1],
    ['fractional', 1.5],
    ['not a number', Number.NaN],
  ])('%s', (_name, value) => {
    expect(() => gatewayTemplate({ registrationActivationHours: value })).toThrow(
      /registrationActivationHours must be a whole number from 0/,
    );
  });

  it('refuses a context value that is not a number', () => {
    const app = newApp(false, { registrationActivationHours: 'a day' });
    expect(() => appConfig(app.node, {})).toThrow(/registrationActivationHours must be a number/);
  });
});
