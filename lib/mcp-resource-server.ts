/**
 * The resource side: an MCP server behind a Lambda authorizer that accepts only this gateway's
 * access tokens, with its RFC 9728 protected resource metadata. It is a REST API of its own:
 * gateway responses belong to a whole API, and its 401 (a Bearer challenge naming the metadata)
 * cannot share one with the /authorize refusal. Each resource is one such API, so several on one
 * gateway each have their own URL (the `aud` of their tokens), metadata and challenge.
 *
 * Its /mcp (POST, GET for the SSE stream, DELETE to end a session) goes to the backend: the
 * team's own Lambda function (Lambda proxy integration), any HTTPS origin (HTTP proxy), or a
 * private load balancer through a VPC link (HTTP proxy, connection type VPC_LINK). HTTP proxies
 * pass every request and response header through (Mcp-Session-Id, MCP-Protocol-Version,
 * Last-Event-ID), and the verified identity is set as IDENTITY_HEADERS by integration request
 * parameters from the authorizer context. That the mapped value takes the place of a header of the
 * same name the caller sent is how API Gateway applies mappings, but its documentation does not
 * say so in as many words: a first deployment should check it (a spoofed x-mcp-gateway-sub must
 * not reach the backend).
 *
 * It is served on its own execute-api endpoint, also when the gateway has a custom domain: the
 * resource URL (the tokens' audience) is that endpoint's /mcp, and that endpoint stays on.
 * The gateway's web ACL and monitoring, when it has them, cover this API too; the web ACL also
 * enforces the resource's Origin allow-list, when it has one.
 */

import { Duration, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { IDENTITY_HEADERS } from '../lambda/contract/backend-headers.js';
import { TOKEN_CONTEXT_KEYS } from '../lambda/contract/context-keys.js';
import { ENDPOINTS, RESOURCE_ENDPOINTS } from '../lambda/contract/endpoints.js';
import type { OAuthGateway } from './oauth-gateway.js';
import { allowedOrigins } from './origin-allow-list.js';
import { RouteTableApi, type ThrottleSettings } from './route-table-api.js';
import { routesOf } from './routes.js';
import * as validate from './validation.js';

/** The team's own Lambda MCP server, as a Lambda proxy integration. */
export interface FunctionBackend {
  /**
   * A Lambda proxy event cannot carry headers the gateway adds: the verified identity is in
   * `event.requestContext.authorizer` (keys `sub`, `clientId`, `scope`, as TOKEN_CONTEXT_KEYS).
   */
  readonly function: lambda.IFunction;
  /**
   * Invoke with response streaming (ResponseTransferMode.STREAM, the function's
   * response-streaming-invocations endpoint, up to 15 minutes). Only for a function written with
   * `awslambda.streamifyResponse` and the HTTP integration response prelude; a buffered handler
   * must leave it off. Default: false (buffered, 29 s).
   */
  readonly responseStreaming?: boolean;
}

/** An MCP server over HTTPS, as an HTTP proxy integration; with a VPC link, a private NLB/ALB. */
export interface UrlBackend {
  /** The backend's MCP endpoint, e.g. `https://mcp.internal.example.com/mcp`. */
  readonly url: string;
  /** Reach the URL through this API Gateway VPC link (connection type VPC_LINK). Default: the internet. */
  readonly vpcLink?: apigw.IVpcLink;
}

/** The bundled sample server (lambda/mcp-server.ts): the sample stack's default. */
export interface SampleBackend {
  readonly sample: true;
}

export type McpBackend = FunctionBackend | UrlBackend | SampleBackend;

/** Longest a streamed response may last in API Gateway REST, and so the HTTP backends' timeout. */
export const MAX_STREAM_TIMEOUT = Duration.minutes(15);

export interface McpResourceServerProps {
  /** The authorization server whose tokens this resource accepts. */
  readonly gateway: OAuthGateway;
  /** What serves /mcp once a token is verified. */
  readonly backend: McpBackend;
  /**
   * Pass the caller's `Authorization` header on to an HTTP backend (it is the token's audience
   * and may verify it again). API Gateway REST cannot remove a header: `false` maps it to an
   * empty value, so the backend receives `Authorization:` with nothing in it. A Lambda proxy
   * event always carries the request's headers, so `false` is refused for a function backend.
   * Default: true.
   */
  readonly forwardAuthorization?: boolean;
  /**
   * Integration timeout of an HTTP backend (streamed: the whole response, including an SSE
   * stream, must end within it). At most 15 minutes. Default: 15 minutes.
   */
  readonly timeout?: Duration;
  /** Default: `v1`. */
  readonly stageName?: string;
  /** Default: the gateway's (one month). */
  readonly logRetention?: logs.RetentionDays;
  /** Stage-wide default throttling of every method of this API. Default: 50 requests/s, burst 100. */
  readonly throttle?: ThrottleSettings;
  /**
   * Present an API Gateway client certificate to a public HTTPS backend, so that it can accept
   * the gateway alone (mutual TLS on its side: it verifies the certificate, whose PEM
   * `aws apigateway get-client-certificate` prints). A public origin can otherwise be called
   * directly, with any x-mcp-gateway-* headers. Only for a `{ url }` backend without a VPC link.
   * Default: false.
   */
  readonly clientCertificate?: boolean;
  /** scopes_supported in this resource's metadata (RFC 9728). Default: the gateway's scopes. */
  readonly scopes?: string[];
  /**
   * Scopes every request's token must carry: without them the token authorizer answers 403
   * `insufficient_scope` naming them all. Each must be one of the gateway's scopes, or no token
   * could ever carry it. Default: none.
   */
  readonly requiredScopes?: string[];
  /**
   * Refuse browser requests from any other origin (403, before the authorizer, preflights too):
   * e.g. `['https://app.example.com']`, 1 to 10 origins. Requests without `Origin` (SDKs, CLIs,
   * agents) always pass. A rule of the gateway's web ACL enforces it, so the gateway needs
   * `webAcl`. Default: any origin, so that browser clients such as the MCP Inspector work; the
   * token travels in a header, never a cookie, so another origin has nothing ambient to use
   * (lib/origin-allow-list.ts).
   */
  readonly allowedOrigins?: string[];
  /** resource_name in the metadata document. */
  readonly resourceName?: string;
  /** Default: true, as for the gateway. */
  readonly sourceMaps?: boolean;
  /** AWS X-Ray. Default: as the gateway. */
  readonly tracing?: boolean;
}

export class McpResourceServer extends Construct {
  readonly routes: RouteTableApi;
  /** The RFC 8707 resource identifier: the exact /mcp URL, the `aud` of its tokens. */
  readonly resourceUrl: string;
  readonly metadataUrl: string;
  /** The certificate the stage presents to the backend, when `clientCertificate` is on. */
  readonly clientCertificate?: apigw.CfnClientCertificate;

  constructor(scope: Construct, id: string, props: McpResourceServerProps) {
    super(scope, id);
    const { gateway, backend } = props;
    if (props.stageName !== undefined) validate.stageName('stageName', props.stageName);
    if (props.throttle) validate.throttle('throttle', props.throttle);
    if (props.logRetention !== undefined) validate.logRetention('logRetention', props.logRetention);
    const unknownScope = (props.requiredScopes ?? []).find(
      (scope) => !Token.isUnresolved(scope) && !gateway.settings.scopes.includes(scope),
    );
    if (unknownScope !== undefined) {
      throw new Error(
        `requiredScopes: "${unknownScope}" is not one of the gateway's scopes, so no token could carry it`,
      );
    }
    const origins = props.allowedOrigins ? allowedOrigins('allowedOrigins', props.allowedOrigins) : undefined;
    if (origins && !gateway.webAcl) {
      throw new Error(
        'allowedOrigins is enforced by a rule of the gateway’s web ACL: give the gateway webAcl (GATEWAY_WEB_ACL=true in the sample stack)',
      );
    }
    if (props.clientCertificate) {
      if (!('url' in backend) || backend.vpcLink) {
        throw new Error('clientCertificate needs a { url } backend reached over the internet (no VPC link)');
      }
      this.clientCertificate = new apigw.CfnClientCertificate(this, 'ClientCertificate', {
        description: `Presented by the MCP resource ${this.node.path} to its backend`,
      });
    }
    this.routes = new RouteTableApi(this, 'Resource', {
      api: 'resource',
      description: 'MCP server protected by the mcp-oauth-gateway access tokens',
      stageName: props.stageName ?? 'v1',
      logRetention: props.logRetention ?? gateway.logRetention,
      // No route of this API is marked `throttled`: the throttle is the stage's default.
      stageThrottle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
      // One account-level logging role per region: the gateway's API creates it, if anyone does.
      cloudWatchRole: false,
      // Its own endpoint is the resource URL, custom domain on the gateway or not.
      disableExecuteApiEndpoint: false,
      sourceMaps: props.sourceMaps ?? true,
      tracing: props.tracing ?? gateway.tracing,
      ...(this.clientCertificate ? { clientCertificateId: this.clientCertificate.attrClientCertificateId } : {}),
    });
    const account = gateway.api.node.tryFindChild('Account');
    if (account) this.routes.restApi.deploymentStage.node.addDependency(account);

    this.resourceUrl = `${this.routes.baseUrl}${RESOURCE_ENDPOINTS.mcp}`;
    this.metadataUrl = `${this.routes.baseUrl}${RESOURCE_ENDPOINTS.protectedResourceMetadata}`;
    gateway.addProtectedResource(this.resourceUrl);
    this.routes.addRoutes({
      settings: {
        ...gateway.settings,
        resourceServer: {
          resourceUrl: this.resourceUrl,
          metadataUrl: this.metadataUrl,
          jwksUrl: `${gateway.issuer}${ENDPOINTS.jwks}`,
          scopes: props.scopes ?? gateway.settings.scopes,
          ...(props.requiredScopes && props.requiredScopes.length > 0 ? { requiredScopes: props.requiredScopes } : {}),
          ...(props.resourceName ? { name: props.resourceName } : {}),
        },
      },
      // Tokens are checked against the JWKS; the token authorizer also reads the grant records
      // (GetItem, LeadingKeys `grant#*`) to refuse revoked grants. Nothing else touches a table.
      grantAccess: (fn, spec) => gateway.tables.grantAccess(fn, spec),
      integrations: backendIntegrations(backend, props),
    });
    gateway.webAcl?.protect(this.routes, origins ? { allowedOrigins: origins } : {});
    if (gateway.monitoring) {
      const functions = Object.values(this.routes.functions).filter((fn): fn is NodejsFunction => fn !== undefined);
      const authorizer = this.routes.functions.tokenAuthorizer;
      gateway.monitoring.monitor({
        apis: [this.routes.restApi],
        tokenAuthorizers: authorizer ? [authorizer] : [],
        functions,
      });
    }
  }
}

/** The integration per /mcp route for a backend; none for the sample (the route table's function). */
function backendIntegrations(
  backend: McpBackend,
  props: McpResourceServerProps,
): Record<string, apigw.Integration> | undefined {
  if ('sample' in backend) return undefined;
  const forwardAuthorization = props.forwardAuthorization ?? true;
  const timeout = props.timeout ?? MAX_STREAM_TIMEOUT;
  if (!timeout.isUnresolved() && timeout.toMilliseconds() > MAX_STREAM_TIMEOUT.toMilliseconds()) {
    throw new Error(
      `timeout must be at most 15 minutes (API Gateway's longest streamed response), not ${timeout.toHumanString()}`,
    );
  }
  const mcpRoutes = routesOf('resource').filter((route) => route.path === RESOURCE_ENDPOINTS.mcp);
  const integrations: Record<string, apigw.Integration> = {};
  if ('function' in backend) {
    if (!forwardAuthorization) {
      throw new Error(
        'forwardAuthorization: false needs an HTTP backend: a Lambda proxy event always carries the request headers',
      );
    }
    // One integration for all methods: its invoke permission covers the API's /mcp of any method.
    const integration = new apigw.LambdaIntegration(backend.function, {
      ...(backend.responseStreaming
        ? { responseTransferMode: apigw.ResponseTransferMode.STREAM, timeout: props.timeout ?? MAX_STREAM_TIMEOUT }
        : {}),
    });
    for (const route of mcpRoutes) integrations[`${route.method} ${route.path}`] = integration;
    return integrations;
  }
  if (!Token.isUnresolved(backend.url)) {
    const url = URL.canParse(backend.url) ? new URL(backend.url) : undefined;
    // Through a VPC link the load balancer may listen on plain http inside the VPC; on the internet, https only.
    const schemes = backend.vpcLink ? ['https:', 'http:'] : ['https:'];
    if (!url || !schemes.includes(url.protocol)) {
      throw new Error(
        `backend.url must be an absolute ${backend.vpcLink ? 'http(s)' : 'https'} URL, not "${backend.url}"`,
      );
    }
  }
  const requestParameters: Record<string, string> = {
    [`integration.request.header.${IDENTITY_HEADERS.subject}`]: `context.authorizer.${TOKEN_CONTEXT_KEYS.subject}`,
    [`integration.request.header.${IDENTITY_HEADERS.clientId}`]: `context.authorizer.${TOKEN_CONTEXT_KEYS.clientId}`,
    [`integration.request.header.${IDENTITY_HEADERS.scope}`]: `context.authorizer.${TOKEN_CONTEXT_KEYS.scope}`,
    // No mapping removes a header in a REST API: an empty static value replaces it.
    ...(forwardAuthorization ? {} : { 'integration.request.header.Authorization': "''" }),
  };
  for (const route of mcpRoutes) {
    integrations[`${route.method} ${route.path}`] = new apigw.HttpIntegration(backend.url, {
      httpMethod: route.method,
      proxy: true,
      options: {
        ...(backend.vpcLink ? { connectionType: apigw.ConnectionType.VPC_LINK, vpcLink: backend.vpcLink } : {}),
        requestParameters,
        // SSE answers (POST and the GET stream) reach the client event by event.
        responseTransferMode: apigw.ResponseTransferMode.STREAM,
        timeout,
      },
    });
  }
  return integrations;
}
