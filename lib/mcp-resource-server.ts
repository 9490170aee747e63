/**
 * The resource side: an MCP server behind a Lambda authorizer that accepts only this gateway's
 * access tokens, with its RFC 9728 protected resource metadata. It is a REST API of its own:
 * gateway responses belong to a whole API, and its 401 (a Bearer challenge naming the metadata)
 * cannot share one with the /authorize refusal.
 *
 * It is served on its own execute-api endpoint, also when the gateway has a custom domain: the
 * resource URL (the tokens' audience) is that endpoint's /mcp, and that endpoint stays on.
 * The gateway's web ACL and monitoring, when it has them, cover this API too.
 */

import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENDPOINTS, RESOURCE_ENDPOINTS } from '../lambda/contract/endpoints.js';
import type { OAuthGateway } from './oauth-gateway.js';
import { RouteTableApi, type ThrottleSettings } from './route-table-api.js';
import * as validate from './validation.js';

export interface McpResourceServerProps {
  /** The authorization server whose tokens this resource accepts. */
  readonly gateway: OAuthGateway;
  /** Default: `v1`. */
  readonly stageName?: string;
  /** Default: the gateway's (one month). */
  readonly logRetention?: logs.RetentionDays;
  /** Stage-wide default throttling of every method of this API. Default: 50 requests/s, burst 100. */
  readonly throttle?: ThrottleSettings;
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

  constructor(scope: Construct, id: string, props: McpResourceServerProps) {
    super(scope, id);
    const { gateway } = props;
    if (props.stageName !== undefined) validate.stageName('stageName', props.stageName);
    if (props.throttle) validate.throttle('throttle', props.throttle);
    if (props.logRetention !== undefined) validate.logRetention('logRetention', props.logRetention);
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
          scopes: gateway.settings.scopes,
          ...(props.resourceName ? { name: props.resourceName } : {}),
        },
      },
      // The resource's functions touch no table, key or secret: tokens are checked against the JWKS.
      grantAccess: () => undefined,
    });
    gateway.webAcl?.protect(this.routes);
    if (gateway.monitoring) {
      const functions = Object.values(this.routes.functions).filter((fn): fn is NodejsFunction => fn !== undefined);
      const authorizer = this.routes.functions.tokenAuthorizer;
      gateway.monitoring.monitor({
        apis: [this.routes.restApi],
        authorizers: authorizer ? [authorizer] : [],
        functions,
      });
    }
  }
}
