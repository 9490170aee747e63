/**
 * The environment contract between the infrastructure (lib/, which sets the variables per
 * function) and the functions (lambda/wiring/, which read them): one table of names, the
 * defaults both sides assume, and the encoding of the settings that are not plain strings.
 * A leaf module: it imports nothing.
 */
import type { RedirectUriPolicy } from './settings.js';

export const SERVICE_NAME = 'mcp-oauth-gateway';
export const METRICS_NAMESPACE = 'McpOAuthGateway';

export const ENV = {
  tableName: 'TABLE_NAME',
  grantsTableName: 'GRANTS_TABLE_NAME',
  allowPrivateUseSchemes: 'ALLOW_PRIVATE_USE_SCHEMES',
  allowedRedirectHosts: 'ALLOWED_REDIRECT_HOSTS',
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  /** The exact URL clients use as issuer; never derived from a request's Host header. */
  issuerUrl: 'ISSUER_URL',
  /** Comma-separated RFC 8707 resource identifiers this server issues tokens for. */
  protectedResources: 'PROTECTED_RESOURCES',
  /** Comma-separated scopes the deployment defines; others are dropped from requests. */
  scopes: 'SCOPES',
  /**
   * Comma-separated scopes a machine client may get with the client_credentials grant; unset:
   * every scope of SCOPES; set and empty: none.
   */
  clientCredentialsScopes: 'CLIENT_CREDENTIALS_SCOPES',
  /**
   * Trusted enterprise identity providers for ID-JAG (jwt-bearer grant): a JSON array of
   * {"issuer", "jwks_uri"} or {"issuer", "jwks": {"keys": [...]}}; unset: none.
   */
  idJagTrustedIssuers: 'ID_JAG_TRUSTED_ISSUERS',
  accessTokenTtlSeconds: 'ACCESS_TOKEN_TTL_SECONDS',
  refreshTokenIdleTtlSeconds: 'REFRESH_TOKEN_IDLE_TTL_SECONDS',
  refreshTokenAbsoluteTtlSeconds: 'REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS',
  /** Seconds a replaced refresh token still refreshes (concurrent or retried use); 0 = strict. */
  refreshTokenReuseGraceSeconds: 'REFRESH_TOKEN_REUSE_GRACE_SECONDS',
  /** HMAC key for cookies and form tokens: the value (local) or a Secrets Manager ARN (deployed). */
  cookieSecret: 'COOKIE_SECRET',
  cookieSecretArn: 'COOKIE_SECRET_ARN',
  /** 'false' only in local mode over plain http. */
  cookieSecure: 'COOKIE_SECURE',
  upstreamIssuer: 'UPSTREAM_ISSUER',
  upstreamClientId: 'UPSTREAM_CLIENT_ID',
  upstreamClientSecret: 'UPSTREAM_CLIENT_SECRET',
  upstreamClientSecretArn: 'UPSTREAM_CLIENT_SECRET_ARN',
  upstreamScope: 'UPSTREAM_SCOPE',
  /** 'true' only in local mode: lets the upstream provider be plain http on loopback. */
  upstreamAllowHttp: 'UPSTREAM_ALLOW_HTTP',
  /** Local mode: a JWK file holding the access-token signing key. */
  signingKeyFile: 'SIGNING_KEY_FILE',
  /** Deployed: comma-separated KMS key ids, the current signing key first, then keys being retired. */
  signingKeyIds: 'SIGNING_KEY_IDS',
  /** RFC 7591 section 3 initial access token for POST /register: the value (local) or a Secrets Manager ARN. */
  initialAccessToken: 'INITIAL_ACCESS_TOKEN',
  initialAccessTokenArn: 'INITIAL_ACCESS_TOKEN_ARN',
  /** Registered clients unused for this many days stop working; unset or 0: never. */
  clientIdleExpiryDays: 'CLIENT_IDLE_EXPIRY_DAYS',
  /**
   * Registration activation, read by POST /register: a client that obtains no token within this
   * many whole hours stops working and is removed by the clients table's TTL. 0: off. Unset: 24.
   */
  registrationActivationHours: 'REGISTRATION_ACTIVATION_HOURS',
  /** 'true' only in tests and local mode: Client ID Metadata Documents may be served over http from loopback. */
  cimdAllowLoopbackHttp: 'CIMD_ALLOW_LOOPBACK_HTTP',
  // The protected resource's functions (token authorizer, MCP server, protected resource metadata).

  /**
   * The RFC 8707 resource identifier: the exact URL of the MCP endpoint (say
   * https://api.example.com/mcp). Tokens must name it in `aud`; the MCP server builds request
   * URLs from it, never from a Host header. It must be one of the authorization server's
   * PROTECTED_RESOURCES.
   */
  resourceUrl: 'RESOURCE_URL',
  /** The authorization server's JWKS (its /jwks endpoint), fetched by the token authorizer. */
  jwksUrl: 'JWKS_URL',
  /** Where the protected resource metadata document is served; named in every challenge. */
  resourceMetadataUrl: 'RESOURCE_METADATA_URL',
  /** Optional, comma-separated: advertised as scopes_supported in the metadata document. */
  scopesSupported: 'RESOURCE_SCOPES',
  /** Optional, comma-separated: scopes every MCP request needs; a token without them gets 403. */
  requiredScopes: 'REQUIRED_SCOPES',
  /** Optional: human-readable resource_name in the metadata document. */
  resourceName: 'RESOURCE_NAME',
  /**
   * The token authorizer: whole seconds a grant's status (revoked, expired) is cached per
   * instance, so a revocation stops access tokens within this long; 0 = read it on every
   * request. Unset: 30.
   */
  grantStatusCacheSeconds: 'GRANT_STATUS_CACHE_SECONDS',
} as const;

/** Lifetimes, in seconds, when the deployment does not set them. */
export const DEFAULT_LIFETIMES = {
  accessToken: 3600,
  refreshTokenIdle: 30 * 24 * 3600,
  refreshTokenAbsolute: 90 * 24 * 3600,
  /** RFC 6749 4.1.2 recommends at most 10 minutes; we allow 60 seconds. */
  authorizationCode: 60,
  pendingAuthorization: 10 * 60,
  consentMemory: 30 * 24 * 3600,
  /** A signed-in visit to the connected apps page (/account); then the person signs in again. */
  accountSession: 15 * 60,
} as const;

/** Hours a new registration has to obtain its first token, when the deployment does not say. */
export const DEFAULT_REGISTRATION_ACTIVATION_HOURS = 24;

/** Serializes a policy into the environment variables that readRedirectUriPolicy reads. */
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

/** A set of environment variables: `process.env` in the functions, a test's or local mode's own. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** A comma-separated setting as a list, items trimmed, empty items dropped. */
export function readList(env: EnvSource, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A lifetime in whole seconds; unset or empty is the fallback, anything else not positive is refused. */
export function readSeconds(env: EnvSource, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds <= 0) throw new Error(`${name} must be a positive whole number of seconds`);
  return seconds;
}

/** Registration activation hours: unset or empty is the default (24), 0 is off, anything else a whole number >= 0. */
export function readRegistrationActivationHours(env: EnvSource): number {
  const value = env[ENV.registrationActivationHours];
  if (value === undefined || value.trim() === '') return DEFAULT_REGISTRATION_ACTIVATION_HOURS;
  const hours = Number(value);
  if (!Number.isSafeInteger(hours) || hours < 0) {
    throw new Error(
      `${ENV.registrationActivationHours} must be a whole number of hours (0 turns it off), not ${value}`,
    );
  }
  return hours;
}

/** The issuer exactly as clients use it: RFC 8414 section 2, no trailing slash. */
export function readIssuer(env: EnvSource): string {
  const issuer = env[ENV.issuerUrl];
  if (!issuer) throw new Error(`Missing required environment variable ${ENV.issuerUrl}`);
  return issuer.replace(/\/+$/, '');
}

export function readRedirectUriPolicy(env: EnvSource): RedirectUriPolicy {
  return redirectUriPolicyFrom(env[ENV.allowPrivateUseSchemes], env[ENV.allowedRedirectHosts]);
}
