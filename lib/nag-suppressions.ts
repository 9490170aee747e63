/**
 * Every cdk-nag AwsSolutions finding this project acknowledges, with its reason, in one place.
 * Each is acknowledged on the constructs it concerns, not stack-wide, so that a new resource
 * with the same weakness is still reported. Anything not listed here fails synthesis.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { OAuthGateway } from './oauth-gateway.js';
import type { RouteTableApi } from './route-table-api.js';
import { corsPaths, routesOf } from './routes.js';

interface Acknowledgement<T> {
  readonly id: string;
  readonly reason: string;
  readonly on: (subject: T) => IConstruct[];
}

const openRoutes = (api: RouteTableApi) => {
  const routes = routesOf(api.apiName);
  return [
    ...routes.filter((route) => !route.authorizer).map((route) => api.methods[`${route.method} ${route.path}`]),
    ...[...corsPaths(routes).keys()].map((path) => api.methods[`OPTIONS ${path}`]),
  ];
};
const guardedRoutes = (api: RouteTableApi) =>
  routesOf(api.apiName)
    .filter((route) => route.authorizer)
    .map((route) => api.methods[`${route.method} ${route.path}`]);

/** Findings on either REST API built from the route table. */
export const API_FINDINGS: readonly Acknowledgement<RouteTableApi>[] = [
  {
    id: 'AwsSolutions-APIG2',
    reason:
      'Requests are validated in the functions by the registration rules module, which answers with RFC 7591 error ' +
      'bodies; an API Gateway model would repeat those rules and answer in its own format.',
    on: (api) => [api.restApi],
  },
  {
    id: 'AwsSolutions-APIG3',
    reason:
      'WAF is an opt-in construct option (webAcl; a web ACL has a monthly cost); the regional endpoint accepts one.',
    on: (api) => (api.hasWebAcl ? [] : [api.restApi.deploymentStage]),
  },
  {
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    reason:
      'AWS documents this managed policy for the account-level role API Gateway uses to write access logs; the ' +
      'functions have their own least-privilege roles.',
    on: (api) => (api.cloudWatchRole ? [api.restApi] : []),
  },
  {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray (opt-in tracing) takes no resource-level permissions: PutTraceSegments needs Resource *.',
    on: (api) => (api.tracing ? Object.values(api.functions).flatMap((fn) => (fn?.role ? [fn.role] : [])) : []),
  },
  {
    id: 'AwsSolutions-APIG4',
    reason:
      'Open by design: RFC 7591 open registration (throttled), discovery, JWKS, protected resource metadata, and ' +
      'the token, revocation and management endpoints, which authenticate clients themselves; CORS preflights are ' +
      'mock integrations.',
    on: openRoutes,
  },
  {
    id: 'AwsSolutions-COG4',
    reason: 'Open by design (see APIG4); OAuth clients are not Cognito users.',
    on: openRoutes,
  },
  {
    id: 'AwsSolutions-COG4',
    reason:
      'Guarded by Lambda authorizers: the redirect-URI authorizer on /authorize, the access-token authorizer on /mcp ' +
      '(tokens of this gateway, which Cognito did not issue).',
    on: guardedRoutes,
  },
];

/** Findings on the authorization server's own resources. */
export const GATEWAY_FINDINGS: readonly Acknowledgement<OAuthGateway>[] = [
  {
    id: 'AwsSolutions-SMG4',
    reason:
      'A random HMAC key for cookies and consent forms, not a credential to a service: rotating it only makes ' +
      'browsers consent again and abandons sign-ins in flight, and a rotation Lambda would be one more function to own.',
    on: (gateway) => [gateway.cookieSecret],
  },
  {
    id: 'AwsSolutions-SMG4',
    reason:
      'The initial access token is handed to the people allowed to register clients; rotating it is an operator ' +
      'decision (update the secret value), not a schedule.',
    on: (gateway) => (gateway.initialAccessToken ? [gateway.initialAccessToken] : []),
  },
  {
    id: 'AwsSolutions-COG2',
    reason:
      'MFA is optional (TOTP) so that an administrator-created first user can sign in and enrol; teams that require ' +
      'MFA set it on the pool or bring their own provider (upstream property).',
    on: (gateway) => (gateway.signIn ? [gateway.signIn.userPool] : []),
  },
  {
    id: 'AwsSolutions-COG8',
    reason: 'The Plus feature plan is billed per user; it is a choice for the team, not a default.',
    on: (gateway) => (gateway.signIn ? [gateway.signIn.userPool] : []),
  },
];

/** Every acknowledged finding id, for tests that compare against what cdk-nag reports. */
export const ACKNOWLEDGED_FINDINGS = [...API_FINDINGS, ...GATEWAY_FINDINGS];

function acknowledge<T>(findings: readonly Acknowledgement<T>[], subject: T): void {
  for (const { id, reason, on } of findings) {
    for (const construct of on(subject)) Validations.of(construct).acknowledge({ id, reason });
  }
}

export function acknowledgeApiFindings(api: RouteTableApi): void {
  acknowledge(API_FINDINGS, api);
}

export function acknowledgeNagFindings(gateway: OAuthGateway): void {
  acknowledge(GATEWAY_FINDINGS, gateway);
  acknowledgeApiFindings(gateway.routes);
}
