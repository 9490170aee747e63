/**
 * An optional AWS WAF web ACL for the authorization server's API: a rate-based rule on the open
 * registration endpoint (per client IP) and AWS managed rule groups for common exploits, known
 * bad inputs and IP reputation. Off by default because a web ACL has a monthly cost.
 */
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ENDPOINTS } from '../lambda/domain/endpoints.js';

export interface WebAclProps {
  /** Requests to /register per client IP in any 5-minute window before WAF blocks. Default: 100. */
  readonly registrationRateLimit?: number;
  /** Add AWS managed rule groups (common rule set, known bad inputs, IP reputation). Default: true. */
  readonly managedRuleGroups?: boolean;
}

const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesCommonRuleSet',
] as const;

function visibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

export class GatewayWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, stage: apigw.Stage, props: WebAclProps = {}) {
    super(scope, id);
    const managed = (props.managedRuleGroups ?? true) ? MANAGED_RULE_GROUPS : [];
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('McpOAuthGatewayWebAcl'),
      rules: [
        {
          name: 'RegistrationRateLimit',
          priority: 0,
          action: { block: {} },
          visibilityConfig: visibility('RegistrationRateLimit'),
          statement: {
            rateBasedStatement: {
              limit: props.registrationRateLimit ?? 100,
              aggregateKeyType: 'IP',
              // Only POST .../register counts: the rest of the API has its own throttling.
              scopeDownStatement: {
                byteMatchStatement: {
                  fieldToMatch: { uriPath: {} },
                  positionalConstraint: 'ENDS_WITH',
                  searchString: ENDPOINTS.registration,
                  textTransformations: [{ priority: 0, type: 'NONE' }],
                },
              },
            },
          },
        },
        ...managed.map((name, index) => ({
          name,
          priority: index + 1,
          overrideAction: { none: {} },
          visibilityConfig: visibility(name),
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
        })),
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
