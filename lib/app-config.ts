/**
 * Deployment configuration from CDK context (`-c key=value` or cdk.json) or the environment
 * (GATEWAY_* variables, which win), so `cdk synth` needs no AWS credentials.
 */
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { redirectUriPolicyFrom } from '../lambda/config.js';
import type { OAuthGatewayProps } from './oauth-gateway.js';

export interface AppConfig {
  stackName: string;
  gateway: OAuthGatewayProps;
}

function setting(node: Node, env: NodeJS.ProcessEnv, contextKey: string, envKey: string): string | undefined {
  const fromEnv = env[envKey];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const fromContext = node.tryGetContext(contextKey);
  return fromContext === undefined || fromContext === null ? undefined : String(fromContext);
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} must be a positive number, not ${value}`);
  return parsed;
}

export function appConfig(node: Node, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const get = (contextKey: string, envKey: string) => setting(node, env, contextKey, envKey);
  const retentionDays = positiveNumber('logRetentionDays', get('logRetentionDays', 'GATEWAY_LOG_RETENTION_DAYS'), 30);
  if (!Object.values(logs.RetentionDays).includes(retentionDays as logs.RetentionDays)) {
    throw new Error(
      `logRetentionDays must be a CloudWatch Logs retention period (1, 3, 5, 7, 14, 30, ...), not ${retentionDays}`,
    );
  }
  return {
    stackName: get('stackName', 'GATEWAY_STACK_NAME') ?? 'McpOAuthGateway',
    gateway: {
      redirectUriPolicy: redirectUriPolicyFrom(
        get('allowPrivateUseSchemes', 'GATEWAY_ALLOW_PRIVATE_USE_SCHEMES'),
        get('allowedRedirectHosts', 'GATEWAY_ALLOWED_REDIRECT_HOSTS'),
      ),
      registerThrottle: {
        rateLimit: positiveNumber('registerRateLimit', get('registerRateLimit', 'GATEWAY_REGISTER_RATE_LIMIT'), 5),
        burstLimit: positiveNumber('registerBurstLimit', get('registerBurstLimit', 'GATEWAY_REGISTER_BURST_LIMIT'), 10),
      },
      logRetention: retentionDays as logs.RetentionDays,
      apiGatewayCloudWatchRole: get('apiGatewayCloudWatchRole', 'GATEWAY_API_GATEWAY_CLOUDWATCH_ROLE') !== 'false',
      sourceMaps: get('sourceMaps', 'GATEWAY_SOURCE_MAPS') !== 'false',
    },
  };
}
