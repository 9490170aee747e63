/**
 * What each function is told through its environment, derived from the route table's
 * declaration of what it touches. The construct calls this per function (with CloudFormation
 * tokens as values); the local server calls it for every function and sets the union on its
 * one process. Either way a function sees the same variables.
 */
import {
  DEFAULT_LIFETIMES,
  DEFAULT_REGISTRATION_ACTIVATION_HOURS,
  ENV,
  METRICS_NAMESPACE,
  redirectUriPolicyEnv,
  SERVICE_NAME,
} from '../lambda/contract/environment.js';
import type { RedirectUriPolicy, TrustedIdentityProvider } from '../lambda/contract/settings.js';
import type { FunctionSpec } from './routes.js';

export interface GatewaySettings {
  clientsTable: string;
  grantsTable: string;
  issuer: string;
  resources: readonly string[];
  scopes: readonly string[];
  /** Scopes machine clients may get (client_credentials); absent: all of `scopes`. */
  clientCredentialsScopes?: readonly string[];
  /** Enterprise identity providers whose ID-JAGs the token endpoint accepts; absent: none. */
  idJagTrustedIssuers?: readonly TrustedIdentityProvider[];
  lifetimes?: {
    accessToken?: number;
    refreshTokenIdle?: number;
    refreshTokenAbsolute?: number;
    /** Seconds a replaced refresh token still refreshes; 0 = strict; absent: the default (60). */
    refreshTokenReuseGrace?: number;
  };
  redirectUriPolicy: RedirectUriPolicy;
  /** The cookie-signing key: its value (local) or a Secrets Manager ARN (deployed). */
  cookieSecret: { value: string } | { arn: string };
  cookieSecure: boolean;
  upstream: {
    issuer: string;
    clientId: string;
    clientSecret?: { value: string } | { arn: string };
    scope?: string;
    allowHttp?: boolean;
  };
  /** A local JWK file, or KMS key ids (current first). */
  signing: { file: string } | { kmsKeyIds: readonly string[] };
  /** The protected resource (the MCP server's API); only its functions need it. */
  resourceServer?: {
    /** The exact /mcp URL: tokens' `aud`, and one of `resources`. */
    resourceUrl: string;
    metadataUrl: string;
    jwksUrl: string;
    scopes?: readonly string[];
    /** Scopes every request's token must carry (the token authorizer answers 403 otherwise). */
    requiredScopes?: readonly string[];
    name?: string;
  };
  /** RFC 7591 initial access token required at POST /register; absent: open registration. */
  initialAccessToken?: { value: string } | { arn: string };
  /** Registered clients unused this many days stop working; 0 or absent: never. */
  clientIdleExpiryDays?: number;
  /** Seconds the token authorizer caches a grant's status (the revocation bound); 0: every request; absent: 30. */
  grantStatusCacheSeconds?: number;
  /** Hours a new registration has to obtain its first token; 0: off; absent: 24. */
  registrationActivationHours?: number;
  /** Tests and local mode only: client metadata documents may come from http://127.0.0.1. */
  cimdAllowLoopbackHttp?: boolean;
  /** Extra variables every function gets (NODE_OPTIONS, log level). */
  common?: Record<string, string>;
}

function secretEnv(secret: { value: string } | { arn: string }, valueName: string, arnName: string) {
  return 'value' in secret ? { [valueName]: secret.value } : { [arnName]: secret.arn };
}

export function functionEnvironment(spec: FunctionSpec, settings: GatewaySettings): Record<string, string> {
  const env: Record<string, string> = {
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    ...settings.common,
    ...redirectUriPolicyEnv(settings.redirectUriPolicy),
    ...(settings.cimdAllowLoopbackHttp ? { [ENV.cimdAllowLoopbackHttp]: 'true' } : {}),
  };
  if (spec.clients.length > 0) {
    env[ENV.tableName] = settings.clientsTable;
    if (settings.clientIdleExpiryDays) env[ENV.clientIdleExpiryDays] = String(settings.clientIdleExpiryDays);
  }
  if (spec.registration) {
    // Only registration writes the deadline; every read checks the one stored with the client.
    env[ENV.registrationActivationHours] = String(
      settings.registrationActivationHours ?? DEFAULT_REGISTRATION_ACTIVATION_HOURS,
    );
  }
  if (spec.registration && settings.initialAccessToken) {
    Object.assign(env, secretEnv(settings.initialAccessToken, ENV.initialAccessToken, ENV.initialAccessTokenArn));
  }
  if (spec.grants.length > 0) env[ENV.grantsTableName] = settings.grantsTable;
  if (spec.server) {
    const lifetimes = settings.lifetimes ?? {};
    Object.assign(env, {
      [ENV.issuerUrl]: settings.issuer,
      [ENV.protectedResources]: settings.resources.join(','),
      [ENV.scopes]: settings.scopes.join(','),
      ...(settings.clientCredentialsScopes !== undefined
        ? { [ENV.clientCredentialsScopes]: settings.clientCredentialsScopes.join(',') }
        : {}),
      ...(settings.idJagTrustedIssuers && settings.idJagTrustedIssuers.length > 0
        ? { [ENV.idJagTrustedIssuers]: JSON.stringify(settings.idJagTrustedIssuers) }
        : {}),
      [ENV.accessTokenTtlSeconds]: String(lifetimes.accessToken ?? DEFAULT_LIFETIMES.accessToken),
      [ENV.refreshTokenIdleTtlSeconds]: String(lifetimes.refreshTokenIdle ?? DEFAULT_LIFETIMES.refreshTokenIdle),
      [ENV.refreshTokenAbsoluteTtlSeconds]: String(
        lifetimes.refreshTokenAbsolute ?? DEFAULT_LIFETIMES.refreshTokenAbsolute,
      ),
      ...(lifetimes.refreshTokenReuseGrace !== undefined
        ? { [ENV.refreshTokenReuseGraceSeconds]: String(lifetimes.refreshTokenReuseGrace) }
        : {}),
    });
  }
  if (spec.secrets) {
    const { upstream } = settings;
    Object.assign(env, {
      ...secretEnv(settings.cookieSecret, ENV.cookieSecret, ENV.cookieSecretArn),
      [ENV.cookieSecure]: String(settings.cookieSecure),
      [ENV.upstreamIssuer]: upstream.issuer,
      [ENV.upstreamClientId]: upstream.clientId,
      ...(upstream.clientSecret
        ? secretEnv(upstream.clientSecret, ENV.upstreamClientSecret, ENV.upstreamClientSecretArn)
        : {}),
      ...(upstream.scope ? { [ENV.upstreamScope]: upstream.scope } : {}),
      ...(upstream.allowHttp ? { [ENV.upstreamAllowHttp]: 'true' } : {}),
    });
  }
  if (spec.resourceServer) {
    const resource = settings.resourceServer;
    if (!resource) throw new Error('a resource-server function needs settings.resourceServer');
    Object.assign(env, {
      [ENV.resourceUrl]: resource.resourceUrl,
      // The issuer as it puts it in `iss`: the same variable the authorization server reads.
      [ENV.issuerUrl]: settings.issuer,
      [ENV.jwksUrl]: resource.jwksUrl,
      [ENV.resourceMetadataUrl]: resource.metadataUrl,
      ...(resource.scopes && resource.scopes.length > 0 ? { [ENV.scopesSupported]: resource.scopes.join(',') } : {}),
      ...(resource.requiredScopes && resource.requiredScopes.length > 0
        ? { [ENV.requiredScopes]: resource.requiredScopes.join(',') }
        : {}),
      ...(resource.name ? { [ENV.resourceName]: resource.name } : {}),
    });
    // The token authorizer reads grants: how long it may reuse what it read.
    if (spec.grants.length > 0 && settings.grantStatusCacheSeconds !== undefined) {
      env[ENV.grantStatusCacheSeconds] = String(settings.grantStatusCacheSeconds);
    }
  }
  if (spec.signingKey) {
    const { signing } = settings;
    if ('file' in signing) env[ENV.signingKeyFile] = signing.file;
    else
      env[ENV.signingKeyIds] = (spec.signingKey === 'sign' ? signing.kmsKeyIds.slice(0, 1) : signing.kmsKeyIds).join(
        ',',
      );
  }
  return env;
}
