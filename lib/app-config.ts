/**
 * Deployment configuration from CDK context (`-c key=value` or cdk.json) or the environment
 * (GATEWAY_* variables, which win), so `cdk synth` needs no AWS credentials.
 */
import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { redirectUriPolicyFrom } from '../lambda/contract/environment.js';
import type { TrustedIdentityProvider } from '../lambda/contract/settings.js';
import type { OAuthGatewayProps } from './oauth-gateway.js';
import * as validate from './validation.js';

export interface AppConfig {
  stackName: string;
  /** Everything but the upstream provider, which needs a construct scope to import its secret. */
  gateway: Omit<OAuthGatewayProps, 'upstream'>;
  /** A custom domain (root mapping, default endpoint off). */
  customDomain?: { domainName: string; certificateArn: string };
  /** Any OpenID provider instead of the Cognito user pool the stack would create. */
  upstream?: { issuer: string; clientId: string; clientSecretArn?: string; scope?: string };
  /** An HTTPS MCP server the stack's resource proxies to, instead of the bundled sample. */
  mcpBackendUrl?: string;
  /** Origins the stack's MCP server accepts browser requests from; unset: any. */
  mcpAllowedOrigins?: string[];
}

function requiredWith(name: string, other: string, value: string | undefined): string {
  if (!value) throw new Error(`${name} is required when ${other} is set`);
  return value;
}

function setting(node: Node, env: NodeJS.ProcessEnv, contextKey: string, envKey: string): string | undefined {
  const fromEnv = env[envKey];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const fromContext = node.tryGetContext(contextKey);
  return fromContext === undefined || fromContext === null ? undefined : String(fromContext);
}

/** A number as written; its range is checked by the construct that uses it (validation.ts). */
function numberSetting(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new Error(`${name} must be a number, not ${value}`);
  return parsed;
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  const parsed = numberSetting(name, value, fallback);
  if (parsed <= 0) throw new Error(`${name} must be a positive number, not ${value}`);
  return parsed;
}

export function appConfig(node: Node, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const get = (contextKey: string, envKey: string) => setting(node, env, contextKey, envKey);
  const retentionDays = numberSetting('logRetentionDays', get('logRetentionDays', 'GATEWAY_LOG_RETENTION_DAYS'), 30);
  validate.logRetention('logRetentionDays', retentionDays);
  const list = (contextKey: string, envKey: string) =>
    (get(contextKey, envKey) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const resources = list('protectedResources', 'GATEWAY_PROTECTED_RESOURCES');
  const scopes = list('scopes', 'GATEWAY_SCOPES');
  const clientCredentialsScopes = get('clientCredentialsScopes', 'GATEWAY_CLIENT_CREDENTIALS_SCOPES');
  const idJag = node.tryGetContext('idJagTrustedIssuers');
  const idJagRaw = env.GATEWAY_ID_JAG_TRUSTED_ISSUERS || (typeof idJag === 'string' ? idJag : undefined);
  let idJagTrustedIssuers: unknown = Array.isArray(idJag) && !env.GATEWAY_ID_JAG_TRUSTED_ISSUERS ? idJag : undefined;
  if (idJagRaw !== undefined) {
    try {
      idJagTrustedIssuers = JSON.parse(idJagRaw);
    } catch {
      throw new Error('idJagTrustedIssuers must be a JSON array of {"issuer","jwks_uri"} or {"issuer","jwks"}');
    }
  }
  if (idJagTrustedIssuers !== undefined && !Array.isArray(idJagTrustedIssuers)) {
    throw new Error('idJagTrustedIssuers must be a JSON array of {"issuer","jwks_uri"} or {"issuer","jwks"}');
  }
  const lifetime = (prop: string, contextKey: string, envKey: string) => {
    const value = get(contextKey, envKey);
    return value === undefined ? {} : { [prop]: Duration.seconds(positiveNumber(contextKey, value, 1)) };
  };
  const cognitoDomainPrefix = get('cognitoDomainPrefix', 'GATEWAY_COGNITO_DOMAIN_PREFIX');
  if (cognitoDomainPrefix) validate.cognitoDomainPrefix('cognitoDomainPrefix', cognitoDomainPrefix);
  const idleDays = get('clientIdleExpiryDays', 'GATEWAY_CLIENT_IDLE_EXPIRY_DAYS');
  const activationHours = get('registrationActivationHours', 'GATEWAY_REGISTRATION_ACTIVATION_HOURS');
  const upstreamIssuer = get('upstreamIssuer', 'GATEWAY_UPSTREAM_ISSUER');
  const domainName = get('customDomainName', 'GATEWAY_CUSTOM_DOMAIN_NAME');
  if (domainName) validate.domainName('customDomainName', domainName);
  return {
    stackName: get('stackName', 'GATEWAY_STACK_NAME') ?? 'McpOAuthGateway',
    gateway: {
      redirectUriPolicy: redirectUriPolicyFrom(
        get('allowPrivateUseSchemes', 'GATEWAY_ALLOW_PRIVATE_USE_SCHEMES'),
        get('allowedRedirectHosts', 'GATEWAY_ALLOWED_REDIRECT_HOSTS'),
      ),
      publicEndpointThrottle: {
        rateLimit: numberSetting('throttleRateLimit', get('throttleRateLimit', 'GATEWAY_THROTTLE_RATE_LIMIT'), 5),
        burstLimit: numberSetting('throttleBurstLimit', get('throttleBurstLimit', 'GATEWAY_THROTTLE_BURST_LIMIT'), 10),
      },
      logRetention: retentionDays as logs.RetentionDays,
      // Off unless asked for: the role is one setting per account and region (see OAuthGatewayProps).
      apiGatewayCloudWatchRole: get('apiGatewayCloudWatchRole', 'GATEWAY_API_GATEWAY_CLOUDWATCH_ROLE') === 'true',
      sourceMaps: get('sourceMaps', 'GATEWAY_SOURCE_MAPS') !== 'false',
      ...(resources.length > 0 ? { protectedResources: resources } : {}),
      ...(scopes.length > 0 ? { scopes } : {}),
      ...(idJagTrustedIssuers ? { idJagTrustedIssuers: idJagTrustedIssuers as TrustedIdentityProvider[] } : {}),
      ...(clientCredentialsScopes !== undefined
        ? { clientCredentialsScopes: list('clientCredentialsScopes', 'GATEWAY_CLIENT_CREDENTIALS_SCOPES') }
        : {}),
      ...lifetime('accessTokenLifetime', 'accessTokenSeconds', 'GATEWAY_ACCESS_TOKEN_SECONDS'),
      ...lifetime('refreshTokenIdleLifetime', 'refreshTokenIdleSeconds', 'GATEWAY_REFRESH_TOKEN_IDLE_SECONDS'),
      ...lifetime(
        'refreshTokenAbsoluteLifetime',
        'refreshTokenAbsoluteSeconds',
        'GATEWAY_REFRESH_TOKEN_ABSOLUTE_SECONDS',
      ),
      ...(get('refreshTokenReuseGraceSeconds', 'GATEWAY_REFRESH_TOKEN_REUSE_GRACE_SECONDS') !== undefined
        ? {
            refreshTokenReuseGrace: Duration.seconds(
              numberSetting(
                'refreshTokenReuseGraceSeconds',
                get('refreshTokenReuseGraceSeconds', 'GATEWAY_REFRESH_TOKEN_REUSE_GRACE_SECONDS'),
                60,
              ),
            ),
          }
        : {}),
      ...(get('grantStatusCacheSeconds', 'GATEWAY_GRANT_STATUS_CACHE_SECONDS') !== undefined
        ? {
            grantStatusCache: Duration.seconds(
              numberSetting(
                'grantStatusCacheSeconds',
                get('grantStatusCacheSeconds', 'GATEWAY_GRANT_STATUS_CACHE_SECONDS'),
                30,
              ),
            ),
          }
        : {}),
      ...(cognitoDomainPrefix ? { cognitoDomainPrefix } : {}),
      ...(get('webAcl', 'GATEWAY_WEB_ACL') === 'true'
        ? {
            webAcl: {
              registrationRateLimit: numberSetting(
                'registrationRateLimit',
                get('registrationRateLimit', 'GATEWAY_REGISTRATION_RATE_LIMIT'),
                100,
              ),
            },
          }
        : {}),
      ...(get('monitoring', 'GATEWAY_MONITORING') === 'true' ? { monitoring: {} } : {}),
      tracing: get('tracing', 'GATEWAY_TRACING') === 'true',
      requireInitialAccessToken: get('requireInitialAccessToken', 'GATEWAY_REQUIRE_INITIAL_ACCESS_TOKEN') === 'true',
      ...(idleDays ? { clientIdleExpiryDays: numberSetting('clientIdleExpiryDays', idleDays, 0) } : {}),
      // 0 is a value here (off), not an absence; the construct validates the number.
      ...(activationHours !== undefined
        ? { registrationActivationHours: numberSetting('registrationActivationHours', activationHours, 0) }
        : {}),
    },
    ...(domainName
      ? {
          customDomain: {
            domainName,
            certificateArn: requiredWith(
              'certificateArn',
              'customDomainName',
              get('certificateArn', 'GATEWAY_CERTIFICATE_ARN'),
            ),
          },
        }
      : {}),
    ...(list('mcpAllowedOrigins', 'GATEWAY_MCP_ALLOWED_ORIGINS').length > 0
      ? { mcpAllowedOrigins: list('mcpAllowedOrigins', 'GATEWAY_MCP_ALLOWED_ORIGINS') }
      : {}),
    ...(get('mcpBackendUrl', 'GATEWAY_MCP_BACKEND_URL')
      ? { mcpBackendUrl: get('mcpBackendUrl', 'GATEWAY_MCP_BACKEND_URL') }
      : {}),
    ...(upstreamIssuer
      ? {
          upstream: {
            issuer: upstreamIssuer,
            clientId: requiredWith(
              'upstreamClientId',
              'upstreamIssuer',
              get('upstreamClientId', 'GATEWAY_UPSTREAM_CLIENT_ID'),
            ),
            clientSecretArn: get('upstreamClientSecretArn', 'GATEWAY_UPSTREAM_CLIENT_SECRET_ARN'),
            scope: get('upstreamScope', 'GATEWAY_UPSTREAM_SCOPE'),
          },
        }
      : {}),
  };
}
