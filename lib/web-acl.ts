/**
 * An optional AWS WAF web ACL for the gateway's APIs (the authorization server's, and a
 * resource server's when one protects itself with it): a rate-based rule on the open
 * registration endpoint (per client IP), size limits and an instance-metadata rule of our own,
 * and AWS managed rule groups for common exploits, known bad inputs and IP reputation. Off by
 * default because a web ACL has a monthly cost.
 *
 * The common rule set is tuned for web pages, not for OAuth: it blocks bodies over 8 KB and
 * query strings over 2 KB, and its SSRF, LFI and RFI rules match the IP-literal URLs that
 * native clients register and send as redirect_uri (RFC 8252 section 7.3:
 * `http://127.0.0.1:PORT/callback`). Those rules only count (their labels and metrics stay),
 * and the rules below block what still matters.
 */
import { Aws, Lazy, Names } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ENDPOINTS, RESOURCE_ENDPOINTS } from '../lambda/contract/endpoints.js';
import { GATEWAY_RESPONSE_HEADERS } from './gateway-responses.js';
import { ORIGIN_REFUSAL } from './origin-allow-list.js';
import type { RouteTableApi } from './route-table-api.js';
import * as validate from './validation.js';

export interface WebAclProps {
  /** Requests to /register per client IP in any 5-minute window before WAF blocks (10 or more). Default: 100. */
  readonly registrationRateLimit?: number;
  /** Add AWS managed rule groups (common rule set, known bad inputs, IP reputation). Default: true. */
  readonly managedRuleGroups?: boolean;
}

const OAUTH_URL_VALUES =
  'matches IP-literal URLs, such as the loopback redirect_uri of native clients (RFC 8252 7.3), in ';
const NO_FILE_INCLUSION = '; no function includes files or fetches URLs named by a request value';

/**
 * Rules of a managed group that real OAuth or MCP traffic trips, each with the reason it only
 * counts. Rules not listed keep the group's action: the cookie and URI-path variants cannot
 * match this traffic (cookies carry random ids; paths are the route table's).
 */
export const COUNTED_MANAGED_RULES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  AWSManagedRulesCommonRuleSet: {
    SizeRestrictions_BODY: 'blocks bodies over 8 KB: MCP JSON-RPC messages exceed it; BodySizeLimit replaces it',
    SizeRestrictions_QUERYSTRING:
      'blocks query strings over 2 KB: /authorize carries redirect_uri, state, PKCE, scope and resource; ' +
      'QueryStringSizeLimit replaces it',
    EC2MetaDataSSRF_BODY: `${OAUTH_URL_VALUES}token and registration bodies; InstanceMetadataAddress replaces it`,
    EC2MetaDataSSRF_QUERYARGUMENTS: `${OAUTH_URL_VALUES}/authorize; InstanceMetadataAddress replaces it`,
    GenericLFI_BODY: `${OAUTH_URL_VALUES}bodies${NO_FILE_INCLUSION}`,
    GenericLFI_QUERYARGUMENTS: `${OAUTH_URL_VALUES}query strings${NO_FILE_INCLUSION}`,
    GenericRFI_BODY: `${OAUTH_URL_VALUES}token and registration bodies${NO_FILE_INCLUSION}`,
    GenericRFI_QUERYARGUMENTS: `${OAUTH_URL_VALUES}/authorize${NO_FILE_INCLUSION}`,
  },
  // Known bad inputs (Log4j, Java deserialization, exploitable paths, Host: localhost) inspect
  // nothing a client legitimately sends here: the Host header is the API's, never the loopback.
  AWSManagedRulesKnownBadInputsRuleSet: {},
  AWSManagedRulesAmazonIpReputationList: {},
};

const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesCommonRuleSet',
] as const;

/**
 * Bodies above this are refused outside the MCP endpoint. 16 KiB is what API Gateway forwards
 * to WAF by default (more costs extra), and forty times the largest real registration body.
 */
export const OAUTH_BODY_LIMIT_BYTES = 16 * 1024;
/** Query strings above this are refused (the /authorize request is the longest real one). */
export const QUERY_STRING_LIMIT_BYTES = 8 * 1024;

function visibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

const NONE = [{ priority: 0, type: 'NONE' }];
const DECODED = [
  { priority: 0, type: 'URL_DECODE' },
  { priority: 1, type: 'LOWERCASE' },
];

function pathEndsWith(path: string): wafv2.CfnWebACL.StatementProperty {
  return {
    byteMatchStatement: {
      fieldToMatch: { uriPath: {} },
      positionalConstraint: 'ENDS_WITH',
      searchString: path,
      textTransformations: NONE,
    },
  };
}

function contains(fieldToMatch: wafv2.CfnWebACL.FieldToMatchProperty, text: string): wafv2.CfnWebACL.StatementProperty {
  return {
    byteMatchStatement: {
      fieldToMatch,
      positionalConstraint: 'CONTAINS',
      searchString: text,
      textTransformations: DECODED,
    },
  };
}

function blockRule(
  name: string,
  statement: wafv2.CfnWebACL.StatementProperty,
): Omit<wafv2.CfnWebACL.RuleProperty, 'priority'> {
  return { name, action: { block: {} }, visibilityConfig: visibility(name), statement };
}

/** The custom response body of a refused Origin (ORIGIN_REFUSAL), by its key in the web ACL. */
const ORIGIN_REFUSAL_BODY = 'OriginRefused';

function headerEquals(header: string, value: string): wafv2.CfnWebACL.StatementProperty {
  return {
    byteMatchStatement: {
      fieldToMatch: { singleHeader: { Name: header } },
      positionalConstraint: 'EXACTLY',
      searchString: value,
      textTransformations: [{ priority: 0, type: 'LOWERCASE' }],
    },
  };
}

/**
 * Blocks a request to one API (by its Host) that carries an Origin header equal to none of the
 * listed origins, with ORIGIN_REFUSAL. A request without Origin has an empty header, which no
 * size above zero matches: non-browser clients pass.
 */
function originRule(
  name: string,
  apiHost: string,
  origins: readonly string[],
): Omit<wafv2.CfnWebACL.RuleProperty, 'priority'> {
  const listed = origins.map((origin) => headerEquals('origin', origin));
  return {
    name,
    action: {
      block: {
        customResponse: {
          responseCode: ORIGIN_REFUSAL.statusCode,
          customResponseBodyKey: ORIGIN_REFUSAL_BODY,
          responseHeaders: Object.entries(GATEWAY_RESPONSE_HEADERS)
            .filter(([header]) => header !== 'Content-Type')
            .map(([header, value]) => ({ name: header, value })),
        },
      },
    },
    visibilityConfig: visibility(name),
    statement: {
      andStatement: {
        statements: [
          headerEquals('host', apiHost),
          {
            sizeConstraintStatement: {
              fieldToMatch: { singleHeader: { Name: 'origin' } },
              comparisonOperator: 'GT',
              size: 0,
              textTransformations: NONE,
            },
          },
          { notStatement: { statement: listed.length === 1 ? listed[0] : { orStatement: { statements: listed } } } },
        ],
      },
    },
  };
}

export interface ProtectOptions {
  /** Refuse requests whose Origin is present and none of these (already checked: origin-allow-list.ts). */
  readonly allowedOrigins?: readonly string[];
}

export class GatewayWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  /** One rule per API with an Origin allow-list, evaluated before every other rule. */
  private readonly originRules: Array<Omit<wafv2.CfnWebACL.RuleProperty, 'priority'>> = [];

  constructor(scope: Construct, id: string, props: WebAclProps = {}) {
    super(scope, id);
    const registrationRateLimit = props.registrationRateLimit ?? 100;
    validate.integerBetween(
      'webAcl.registrationRateLimit',
      registrationRateLimit,
      validate.WAF_RATE_LIMIT.min,
      validate.WAF_RATE_LIMIT.max,
    );
    const managed = (props.managedRuleGroups ?? true) ? MANAGED_RULE_GROUPS : [];
    const rules: Array<Omit<wafv2.CfnWebACL.RuleProperty, 'priority'>> = [
      blockRule('RegistrationRateLimit', {
        rateBasedStatement: {
          limit: registrationRateLimit,
          aggregateKeyType: 'IP',
          // Only .../register counts: the rest of the API has its own throttling.
          scopeDownStatement: pathEndsWith(ENDPOINTS.registration),
        },
      }),
      // MCP messages may be large (tool arguments); API Gateway's own payload limit applies there.
      blockRule('BodySizeLimit', {
        andStatement: {
          statements: [
            {
              sizeConstraintStatement: {
                // A body longer than WAF inspects is larger than the limit: it matches.
                fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
                comparisonOperator: 'GT',
                size: OAUTH_BODY_LIMIT_BYTES,
                textTransformations: NONE,
              },
            },
            { notStatement: { statement: pathEndsWith(RESOURCE_ENDPOINTS.mcp) } },
          ],
        },
      }),
      blockRule('QueryStringSizeLimit', {
        sizeConstraintStatement: {
          fieldToMatch: { queryString: {} },
          comparisonOperator: 'GT',
          size: QUERY_STRING_LIMIT_BYTES,
          textTransformations: NONE,
        },
      }),
      // What the SSRF rules are for: the instance metadata service, not any IP-literal URL.
      blockRule('InstanceMetadataAddress', {
        orStatement: {
          statements: [
            contains({ queryString: {} }, '169.254.169.254'),
            contains({ body: { oversizeHandling: 'CONTINUE' } }, '169.254.169.254'),
            contains({ queryString: {} }, 'fd00:ec2::254'),
            contains({ body: { oversizeHandling: 'CONTINUE' } }, 'fd00:ec2::254'),
          ],
        },
      }),
    ];
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('McpOAuthGatewayWebAcl'),
      // Known once every API is protected: the Origin rules come from the resources.
      customResponseBodies: Lazy.any({
        produce: () =>
          this.originRules.length > 0
            ? { [ORIGIN_REFUSAL_BODY]: { contentType: 'APPLICATION_JSON', content: ORIGIN_REFUSAL.body } }
            : undefined,
      }),
      rules: Lazy.any({
        produce: () => [
          ...[...this.originRules, ...rules].map((rule, index) => ({ ...rule, priority: index })),
          ...managed.map((name, index) => managedGroupRule(name, this.originRules.length + rules.length + index)),
        ],
      }),
    });
  }

  /**
   * Associates the web ACL with an API's stage (one web ACL serves several stages) and, with
   * allowedOrigins, adds that API's Origin rule.
   */
  protect(api: RouteTableApi, options: ProtectOptions = {}): void {
    const name = `${api.apiName.charAt(0).toUpperCase()}${api.apiName.slice(1)}`;
    // The authorization API keeps the id it always had; each resource API needs its own.
    const id = this.node.tryFindChild(`${name}Association`)
      ? `${name}Association${Names.uniqueId(api)}`
      : `${name}Association`;
    new wafv2.CfnWebACLAssociation(this, id, {
      resourceArn: api.restApi.deploymentStage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
    api.hasWebAcl = true;
    if (options.allowedOrigins && options.allowedOrigins.length > 0) {
      const host = `${api.restApi.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;
      this.originRules.push(originRule(`OriginAllowList${this.originRules.length + 1}`, host, options.allowedOrigins));
    }
  }
}

function managedGroupRule(name: (typeof MANAGED_RULE_GROUPS)[number], priority: number): wafv2.CfnWebACL.RuleProperty {
  const counted = Object.keys(COUNTED_MANAGED_RULES[name] ?? {});
  return {
    name,
    priority,
    overrideAction: { none: {} },
    visibilityConfig: visibility(name),
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ...(counted.length > 0
          ? { ruleActionOverrides: counted.map((rule) => ({ name: rule, actionToUse: { count: {} } })) }
          : {}),
      },
    },
  };
}
