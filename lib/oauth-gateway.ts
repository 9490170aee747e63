/**
 * The reusable construct: one function per entry of the route table with exactly the grants it
 * declares, the REST API with its redirect-URI authorizer and OAuth-shaped gateway responses,
 * and the settings every function's environment is derived from. It creates the stateful parts
 * too: the tables (gateway-tables.ts), the signing key and secrets, and, without an upstream,
 * the Cognito sign-in (cognito-sign-in.ts). Stack-level concerns (outputs, cdk-nag) live in
 * gateway-stack.ts.
 */
import { Duration, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENDPOINTS, RESOURCE_ENDPOINTS } from '../lambda/contract/endpoints.js';
import { DEFAULT_LIFETIMES } from '../lambda/contract/environment.js';
import {
  DEFAULT_REDIRECT_URI_POLICY,
  type RedirectUriPolicy,
  type TrustedIdentityProvider,
} from '../lambda/contract/settings.js';
import { CognitoSignIn } from './cognito-sign-in.js';
import type { GatewaySettings } from './function-environment.js';
import { GatewayTables } from './gateway-tables.js';
import { GatewayMonitoring, type MonitoringProps } from './monitoring.js';
import { RouteTableApi, type ThrottleSettings } from './route-table-api.js';
import type { FunctionName, FunctionSpec } from './routes.js';
import * as validate from './validation.js';
import { GatewayWebAcl, type WebAclProps } from './web-acl.js';

export type { ThrottleSettings };

export interface OAuthGatewayProps {
  /** Which redirect URIs clients may register. Default: https anywhere, http on loopback, private-use schemes. */
  readonly redirectUriPolicy?: RedirectUriPolicy;
  /** Method throttling on the endpoints anyone can make write (/register, /token). Default: 5 requests/s, burst 10. */
  readonly publicEndpointThrottle?: ThrottleSettings;
  /** Retention of function and access logs. Default: one month. */
  readonly logRetention?: logs.RetentionDays;
  /** API Gateway stage name; it is part of the URL without a custom domain. Default: `v1`. */
  readonly stageName?: string;
  /**
   * What receives GET /authorize once the redirect-URI authorizer allowed it. The authorizer's
   * context (clientId, clientName, redirectUri, tokenEndpointAuthMethod) reaches it as
   * `requestContext.authorizer`. Default: the built-in backend function.
   */
  readonly authorizeIntegration?: apigw.Integration;
  /**
   * Create the account-wide role API Gateway needs to write access logs, and point the
   * account's API Gateway settings (AWS::ApiGateway::Account) at it. That is one setting per
   * account and region: turn this on in exactly one stack there (or configure the role once
   * outside CDK), or two stacks overwrite each other's setting and deleting one breaks the
   * other's logging. Access logs need the setting to exist. Default: false.
   */
  readonly apiGatewayCloudWatchRole?: boolean;
  /** RFC 8707 resources tokens are issued for. Default: `<issuer>/mcp`. */
  readonly protectedResources?: string[];
  /** Scopes the deployment defines; requested scopes outside this list are dropped. Default: none. */
  readonly scopes?: string[];
  /**
   * Scopes a machine client may be given with the client_credentials grant, where no person
   * approves anything; `[]` gives machine clients tokens without scopes. Each must be one of
   * `scopes`. Default: every scope of `scopes`.
   */
  readonly clientCredentialsScopes?: string[];
  /**
   * Enterprise identity providers (SEP-990) whose Identity Assertion JWT Authorization Grants
   * (ID-JAG) the token endpoint accepts with the jwt-bearer grant: each an exact `issuer` and
   * its keys, a `jwks_uri` (fetched through the SSRF guard, cached) or an inline `jwks`. Reaches
   * the token function as ID_JAG_TRUSTED_ISSUERS. Default: none.
   */
  readonly idJagTrustedIssuers?: TrustedIdentityProvider[];
  /** Access-token lifetime. Default: one hour. */
  readonly accessTokenLifetime?: Duration;
  /** A refresh token unused this long stops working. Default: 30 days. */
  readonly refreshTokenIdleLifetime?: Duration;
  /** A chain of refresh tokens ends this long after the first sign-in. Default: 90 days. */
  readonly refreshTokenAbsoluteLifetime?: Duration;
  /**
   * How long a replaced refresh token still refreshes (several processes of one client sharing
   * a token, a lost answer retried; RFC 9700 4.14.2); `Duration.seconds(0)` is strict: the first
   * reuse revokes the grant. At most one hour. Default: 60 seconds.
   */
  readonly refreshTokenReuseGrace?: Duration;
  /**
   * How long a resource's token authorizer may reuse what it read of a grant (one GetItem per
   * grant per period per instance): a revocation (POST /revoke, a replayed code or refresh
   * token, the admin CLI, a deleted client) stops that grant's access tokens within this long.
   * `Duration.seconds(0)` reads the grant on every request. At most one hour. Default: 30 seconds.
   */
  readonly grantStatusCache?: Duration;
  /**
   * The OpenID provider people sign in with. Default: a Cognito user pool created here, with a
   * public app client (PKCE, no secret) and a hosted sign-in domain.
   */
  readonly upstream?: UpstreamProviderProps;
  /**
   * Domain prefix of the Cognito sign-in pages (when no upstream is given): 1-63 lowercase
   * letters, digits and hyphens, without `aws`, `amazon` or `cognito`. It cannot change on an
   * existing stack without replacing the domain. Default: the stack name, sanitized, and eight
   * hex digits unique to the CloudFormation stack (see defaultCognitoDomainPrefix in
   * cognito-sign-in.ts).
   */
  readonly cognitoDomainPrefix?: string;
  /**
   * Asymmetric ECC_NIST_P256 SIGN_VERIFY KMS keys; the first signs, all are published in the
   * JWKS. To rotate: put a new key first and keep the old one until its tokens have expired.
   * Default: one key created here.
   */
  readonly signingKeys?: kms.IKey[];
  /**
   * Require an RFC 7591 initial access token at POST /register (kept in Secrets Manager, read it
   * there to hand it out). MCP clients such as Claude.ai cannot send one, so this is for closed
   * deployments. Default: false (open registration, throttled).
   */
  readonly requireInitialAccessToken?: boolean;
  /** Registered clients that obtain no tokens for this many days stop working. Default: never. */
  readonly clientIdleExpiryDays?: number;
  /**
   * Against registration floods: a dynamically registered client that obtains no token within
   * this many hours stops working, and the clients table's TTL removes it; its first token keeps
   * it. 0 turns this off. Client ID Metadata Document clients are never affected. Default: 24.
   */
  readonly registrationActivationHours?: number;
  /** An AWS WAF web ACL (rate limit on /register, managed rule groups). Default: none (a web ACL costs). */
  readonly webAcl?: WebAclProps;
  /** CloudWatch alarms and a dashboard. Default: none. */
  readonly monitoring?: MonitoringProps;
  /** AWS X-Ray tracing of the API and its functions. Default: false. */
  readonly tracing?: boolean;
  /**
   * Serve the API on a custom domain, mapped at the root so the issuer has no path. The default
   * execute-api endpoint is then turned off: one API, one issuer. Default: the default endpoint,
   * whose issuer carries the stage path.
   */
  readonly customDomain?: CustomDomainProps;
  /**
   * Ship source maps and enable them at runtime so logged stack traces name TypeScript
   * sources. Measured cost: see README (Cold start). Default: true.
   */
  readonly sourceMaps?: boolean;
}

export interface CustomDomainProps {
  /** e.g. `auth.example.com`; the issuer becomes `https://auth.example.com`, with no path. */
  readonly domainName: string;
  /** An ACM certificate for the name, in the stack's region (regional endpoint). */
  readonly certificate: acm.ICertificate;
}

export interface UpstreamProviderProps {
  /** OpenID issuer URL; its discovery document is read at the first sign-in. */
  readonly issuer: string;
  readonly clientId: string;
  /** For a confidential upstream client; a Secrets Manager secret whose string value is the secret. */
  readonly clientSecret?: secretsmanager.ISecret;
  /** Default: `openid`. */
  readonly scope?: string;
}

export class OAuthGateway extends Construct {
  /** The clients and grants tables: the state, apart from the stateless API and functions. */
  readonly tables: GatewayTables;
  readonly api: apigw.RestApi;
  /** The issuer URL: the API's stage URL, without a trailing slash. */
  readonly issuer: string;
  readonly signingKeys: kms.IKey[];
  readonly cookieSecret: secretsmanager.Secret;
  /** The registration token, when registration requires one. */
  readonly initialAccessToken?: secretsmanager.Secret;
  /** The custom domain, when one was given; point DNS at its domainNameAliasDomainName. */
  readonly domain?: apigw.DomainName;
  readonly webAcl?: GatewayWebAcl;
  readonly tracing: boolean;
  readonly monitoring?: GatewayMonitoring;
  /** The Cognito user pool, sign-in domain and app client, when the construct created them (no upstream). */
  readonly signIn?: CognitoSignIn;
  readonly functions: Partial<Record<FunctionName, NodejsFunction>>;
  /** API methods by route, e.g. `POST /register` (and `OPTIONS /register` for CORS preflights). */
  readonly methods: Record<string, apigw.Method>;
  /** The API built from the route table's authorization routes. */
  readonly routes: RouteTableApi;
  /** Settings every function's environment is derived from; a resource server reuses them. */
  readonly settings: GatewaySettings;
  readonly logRetention: logs.RetentionDays;
  private readonly protectedResources: string[];
  private upstreamSecret: secretsmanager.ISecret | undefined;

  constructor(scope: Construct, id: string, props: OAuthGatewayProps = {}) {
    super(scope, id);
    validateProps(props);

    // Created in this construct's scope, so their logical ids stay what they have always been.
    this.tables = new GatewayTables(this);

    this.signingKeys = props.signingKeys ?? [
      new kms.Key(this, 'AccessTokenSigningKey', {
        description: 'Signs the gateway access tokens (ES256)',
        keySpec: kms.KeySpec.ECC_NIST_P256,
        keyUsage: kms.KeyUsage.SIGN_VERIFY,
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      }),
    ];
    if (this.signingKeys.length === 0) throw new Error('signingKeys must hold at least one key');

    this.cookieSecret = new secretsmanager.Secret(this, 'CookieSigningSecret', {
      description: 'HMAC key for the gateway cookies and consent-form tokens',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });

    if (props.requireInitialAccessToken) {
      this.initialAccessToken = new secretsmanager.Secret(this, 'InitialAccessToken', {
        description: 'RFC 7591 initial access token required to register a client at this gateway',
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
    }

    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.logRetention = logRetention;
    this.routes = new RouteTableApi(this, 'Authorization', {
      api: 'authorization',
      description: 'OAuth client registration, redirect-URI enforcement and authorization server for MCP servers',
      stageName: props.stageName ?? 'v1',
      logRetention,
      throttle: props.publicEndpointThrottle ?? { rateLimit: 5, burstLimit: 10 },
      cloudWatchRole: props.apiGatewayCloudWatchRole ?? false,
      disableExecuteApiEndpoint: props.customDomain !== undefined,
      sourceMaps: props.sourceMaps ?? true,
      tracing: props.tracing ?? false,
    });
    this.api = this.routes.restApi;
    this.tracing = props.tracing ?? false;
    this.issuer = props.customDomain ? `https://${props.customDomain.domainName}` : this.routes.baseUrl;
    if (props.customDomain) {
      this.domain = new apigw.DomainName(this, 'CustomDomain', {
        domainName: props.customDomain.domainName,
        certificate: props.customDomain.certificate,
        endpointType: apigw.EndpointType.REGIONAL,
        securityPolicy: apigw.SecurityPolicy.TLS_1_2,
      });
      // No base path: the stage is served at the root, so the issuer has no path.
      this.domain.addBasePathMapping(this.api, { stage: this.api.deploymentStage });
    }
    let upstream: UpstreamProviderProps;
    if (props.upstream) {
      upstream = props.upstream;
    } else {
      this.signIn = new CognitoSignIn(this, {
        callbackUrl: `${this.issuer}${ENDPOINTS.callback}`,
        domainPrefix: props.cognitoDomainPrefix,
      });
      upstream = this.signIn.provider;
    }
    this.upstreamSecret = upstream.clientSecret;
    this.protectedResources = [...(props.protectedResources ?? [])];
    this.settings = {
      clientsTable: this.tables.clients.tableName,
      grantsTable: this.tables.grants.tableName,
      issuer: this.issuer,
      // Lazy: a resource server constructed after this gateway adds its URL (addProtectedResource).
      resources: [
        Lazy.string({
          produce: () =>
            (this.protectedResources.length > 0
              ? this.protectedResources
              : [`${this.issuer}${RESOURCE_ENDPOINTS.mcp}`]
            ).join(','),
        }),
      ],
      scopes: props.scopes ?? [],
      ...(props.clientCredentialsScopes ? { clientCredentialsScopes: props.clientCredentialsScopes } : {}),
      ...(props.idJagTrustedIssuers ? { idJagTrustedIssuers: props.idJagTrustedIssuers } : {}),
      lifetimes: {
        accessToken: props.accessTokenLifetime?.toSeconds(),
        refreshTokenIdle: props.refreshTokenIdleLifetime?.toSeconds(),
        refreshTokenAbsolute: props.refreshTokenAbsoluteLifetime?.toSeconds(),
        ...(props.refreshTokenReuseGrace ? { refreshTokenReuseGrace: props.refreshTokenReuseGrace.toSeconds() } : {}),
      },
      redirectUriPolicy: props.redirectUriPolicy ?? DEFAULT_REDIRECT_URI_POLICY,
      cookieSecret: { arn: this.cookieSecret.secretArn },
      cookieSecure: true,
      upstream: {
        issuer: upstream.issuer,
        clientId: upstream.clientId,
        ...(upstream.clientSecret ? { clientSecret: { arn: upstream.clientSecret.secretArn } } : {}),
        ...(upstream.scope ? { scope: upstream.scope } : {}),
      },
      signing: { kmsKeyIds: this.signingKeys.map((key) => key.keyArn) },
      ...(this.initialAccessToken ? { initialAccessToken: { arn: this.initialAccessToken.secretArn } } : {}),
      ...(props.clientIdleExpiryDays ? { clientIdleExpiryDays: props.clientIdleExpiryDays } : {}),
      ...(props.registrationActivationHours !== undefined
        ? { registrationActivationHours: props.registrationActivationHours }
        : {}),
      ...(props.grantStatusCache ? { grantStatusCacheSeconds: props.grantStatusCache.toSeconds() } : {}),
      common: (props.sourceMaps ?? true) ? { NODE_OPTIONS: '--enable-source-maps' } : {},
    };
    this.routes.addRoutes({
      settings: this.settings,
      grantAccess: (fn, spec) => this.grantAccess(fn, spec),
      ...(props.authorizeIntegration
        ? { integrations: { [`GET ${ENDPOINTS.authorization}`]: props.authorizeIntegration } }
        : {}),
    });
    this.functions = this.routes.functions;
    this.methods = this.routes.methods;

    if (props.webAcl) {
      this.webAcl = new GatewayWebAcl(this, 'WebAcl', props.webAcl);
      this.webAcl.protect(this.routes);
    }
    if (props.monitoring) {
      const functions = Object.values(this.functions).filter((fn): fn is NodejsFunction => fn !== undefined);
      this.monitoring = new GatewayMonitoring(
        this,
        'Monitoring',
        {
          apis: [this.api],
          authorizers: this.functions.redirectUriAuthorizer ? [this.functions.redirectUriAuthorizer] : [],
          functions,
          tables: [this.tables.clients, this.tables.grants],
        },
        props.monitoring,
      );
    }
  }

  /** Issues tokens for this resource too (RFC 8707); a resource server calls this with its URL. */
  addProtectedResource(resourceUrl: string): void {
    this.protectedResources.push(resourceUrl);
  }

  /** Exactly what the route table says the function touches, and nothing else. */
  private grantAccess(fn: NodejsFunction, spec: FunctionSpec): void {
    this.tables.grantAccess(fn, spec);
    if (spec.signingKey === 'sign') this.signingKeys[0].grant(fn, 'kms:Sign');
    if (spec.signingKey === 'publicKey') for (const key of this.signingKeys) key.grant(fn, 'kms:GetPublicKey');
    if (spec.registration && this.initialAccessToken) grantSecretValue(fn, this.initialAccessToken);
    if (spec.secrets) {
      grantSecretValue(fn, this.cookieSecret);
      if (this.upstreamSecret) grantSecretValue(fn, this.upstreamSecret);
    }
  }
}

/** Refuses, at synth, settings CloudFormation or the services would refuse at deploy time. */
function validateProps(props: OAuthGatewayProps): void {
  if (props.cognitoDomainPrefix !== undefined)
    validate.cognitoDomainPrefix('cognitoDomainPrefix', props.cognitoDomainPrefix);
  if (props.stageName !== undefined) validate.stageName('stageName', props.stageName);
  if (props.publicEndpointThrottle) validate.throttle('publicEndpointThrottle', props.publicEndpointThrottle);
  if (props.logRetention !== undefined) validate.logRetention('logRetention', props.logRetention);
  if (props.clientIdleExpiryDays !== undefined)
    validate.positiveInteger('clientIdleExpiryDays', props.clientIdleExpiryDays);
  if (props.registrationActivationHours !== undefined)
    validate.nonNegativeInteger('registrationActivationHours', props.registrationActivationHours);
  if (props.customDomain) validate.domainName('customDomain.domainName', props.customDomain.domainName);
  if (props.refreshTokenReuseGrace && !props.refreshTokenReuseGrace.isUnresolved())
    validate.integerBetween('refreshTokenReuseGrace (seconds)', props.refreshTokenReuseGrace.toSeconds(), 0, 3600);
  if (props.grantStatusCache && !props.grantStatusCache.isUnresolved())
    validate.integerBetween('grantStatusCache (seconds)', props.grantStatusCache.toSeconds(), 0, 3600);
  const unknownMachineScope = props.clientCredentialsScopes?.find((scope) => !(props.scopes ?? []).includes(scope));
  if (unknownMachineScope !== undefined)
    throw new Error(`clientCredentialsScopes: ${unknownMachineScope} is not one of scopes`);
  validate.lifetimes(
    {
      accessToken: props.accessTokenLifetime,
      refreshTokenIdle: props.refreshTokenIdleLifetime,
      refreshTokenAbsolute: props.refreshTokenAbsoluteLifetime,
    },
    DEFAULT_LIFETIMES,
  );
}

/**
 * secretsmanager:GetSecretValue on the secret, the one call the functions make (grantRead would
 * add DescribeSecret, which nothing calls), and kms:Decrypt on its key if it has its own.
 */
function grantSecretValue(fn: NodejsFunction, secret: secretsmanager.ISecret): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
  );
  secret.encryptionKey?.grantDecrypt(fn);
}
