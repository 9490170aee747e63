/**
 * Every cdk-nag AwsSolutions finding this project acknowledges, with its reason, in one place.
 * Each is acknowledged on the constructs it concerns, not stack-wide, so that a new resource
 * with the same weakness is still reported. Anything not listed here fails synthesis.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { OAuthGateway } from './oauth-gateway.js';
import { corsPaths, ROUTES } from './routes.js';

interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
  readonly on: (gateway: OAuthGateway) => IConstruct[];
}

const openRoutes = (gateway: OAuthGateway) => [
  ...ROUTES.filter((route) => !route.authorizer).map((route) => gateway.methods[`${route.method} ${route.path}`]),
  ...[...corsPaths().keys()].map((path) => gateway.methods[`OPTIONS ${path}`]),
];
const guardedRoutes = (gateway: OAuthGateway) =>
  ROUTES.filter((route) => route.authorizer).map((route) => gateway.methods[`${route.method} ${route.path}`]);

export const ACKNOWLEDGED_FINDINGS: readonly Acknowledgement[] = [
  {
    id: 'AwsSolutions-APIG2',
    reason:
      'Requests are validated in the functions by the registration rules module, which answers with RFC 7591 error ' +
      'bodies; an API Gateway model would repeat those rules and answer in its own format.',
    on: (gateway) => [gateway.api],
  },
  {
    id: 'AwsSolutions-APIG3',
    reason: 'WAF is an opt-in construct option (a web ACL has a monthly cost); the regional endpoint accepts one.',
    on: (gateway) => [gateway.api.deploymentStage],
  },
  {
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    reason:
      'AWS documents this managed policy for the account-level role API Gateway uses to write access logs; the ' +
      'functions have their own least-privilege roles.',
    on: (gateway) => [gateway.api],
  },
  {
    id: 'AwsSolutions-APIG4',
    reason:
      'Open by design: RFC 7591 open registration (throttled), discovery, JWKS, and the token, revocation and ' +
      'management endpoints, which authenticate clients themselves; CORS preflights are mock integrations.',
    on: openRoutes,
  },
  {
    id: 'AwsSolutions-COG4',
    reason: 'Open by design (see APIG4); OAuth clients are not Cognito users.',
    on: openRoutes,
  },
  {
    id: 'AwsSolutions-COG4',
    reason: 'Guarded by the redirect-URI Lambda authorizer; OAuth clients are not Cognito users.',
    on: guardedRoutes,
  },
  {
    id: 'AwsSolutions-SMG4',
    reason:
      'A random HMAC key for cookies and consent forms, not a credential to a service: rotating it only makes ' +
      'browsers consent again and abandons sign-ins in flight, and a rotation Lambda would be one more function to own.',
    on: (gateway) => [gateway.cookieSecret],
  },
  {
    id: 'AwsSolutions-COG2',
    reason:
      'MFA is optional (TOTP) so that an administrator-created first user can sign in and enrol; teams that require ' +
      'MFA set it on the pool or bring their own provider (upstream property).',
    on: (gateway) => (gateway.userPool ? [gateway.userPool] : []),
  },
  {
    id: 'AwsSolutions-COG8',
    reason: 'The Plus feature plan is billed per user; it is a choice for the team, not a default.',
    on: (gateway) => (gateway.userPool ? [gateway.userPool] : []),
  },
];

export function acknowledgeNagFindings(gateway: OAuthGateway): void {
  for (const { id, reason, on } of ACKNOWLEDGED_FINDINGS) {
    for (const construct of on(gateway)) Validations.of(construct).acknowledge({ id, reason });
  }
}
