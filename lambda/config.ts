/**
 * Function configuration, read from the environment at module load so a misconfigured
 * function fails at its first cold start, not on some later request. The names are shared
 * with the CDK construct and the local server, which set them.
 */
import type { RedirectUriPolicy } from './domain/redirect-uri-policy.js';

export const SERVICE_NAME = 'mcp-oauth-gateway';
export const METRICS_NAMESPACE = 'McpOAuthGateway';

export const ENV = {
  tableName: 'TABLE_NAME',
  allowPrivateUseSchemes: 'ALLOW_PRIVATE_USE_SCHEMES',
  allowedRedirectHosts: 'ALLOWED_REDIRECT_HOSTS',
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
} as const;

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Missing required environment variable ${name}`);
  return value;
}

/** Serializes a policy into the environment variables that redirectUriPolicyFromEnv reads. */
export function redirectUriPolicyEnv(policy: RedirectUriPolicy): Record<string, string> {
  return {
    [ENV.allowPrivateUseSchemes]: String(policy.allowPrivateUseSchemes),
    ...(policy.allowedHosts ? { [ENV.allowedRedirectHosts]: policy.allowedHosts.join(',') } : {}),
  };
}

/** Reads a policy from its two settings: `'false'` disables private-use schemes; hosts are comma-separated. */
export function redirectUriPolicyFrom(
  allowPrivateUseSchemes: string | undefined,
  allowedHosts: string | undefined,
): RedirectUriPolicy {
  const hosts = allowedHosts
    ?.split(',')
    .map((host) => host.trim().toLowerCase())
    .filter((host) => host !== '');
  return {
    allowPrivateUseSchemes: allowPrivateUseSchemes !== 'false',
    ...(hosts && hosts.length > 0 ? { allowedHosts: hosts } : {}),
  };
}

export function redirectUriPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): RedirectUriPolicy {
  return redirectUriPolicyFrom(env[ENV.allowPrivateUseSchemes], env[ENV.allowedRedirectHosts]);
}
