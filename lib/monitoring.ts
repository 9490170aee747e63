/**
 * Optional alarms and a dashboard: 5xx rate of each API, authorizer errors, Lambda throttles,
 * DynamoDB throttling, and the gateway's own Powertools metrics (registrations, refusals by
 * OAuth error, authorizer decisions, token grants and failures).
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { GRANT_TYPES } from '../lambda/contract/capabilities.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../lambda/contract/environment.js';
import { METRIC_DIMENSIONS, METRICS, TOKEN_CHECK_FAILED } from '../lambda/contract/metrics.js';
import * as validate from './validation.js';

export interface MonitoringProps {
  /** Where alarms notify; without it they still show in CloudWatch. */
  readonly alarmTopic?: sns.ITopic;
  /** Default: true. */
  readonly dashboard?: boolean;
  /** 5xx responses as a share of requests, over 5 minutes, that raise the alarm (more than 0, at most 1). Default: 0.01 (1%). */
  readonly serverErrorRate?: number;
}

export interface MonitoredResources {
  readonly apis: readonly apigw.RestApi[];
  /** Authorizers that answer only Allow or Deny: any function error is a failure. */
  readonly authorizers: readonly lambda.IFunction[];
  /**
   * Token authorizers of protected resources. They throw `Unauthorized` for every bad token (the
   * 401), so their Errors metric counts routine refusals; the alarm watches the tokens they
   * could not check instead (TOKEN_CHECK_FAILED), once for all of them.
   */
  readonly tokenAuthorizers?: readonly lambda.IFunction[];
  readonly functions: readonly lambda.IFunction[];
  readonly tables: readonly dynamodb.ITableV2[];
}

const PERIOD = Duration.minutes(5);

/** Every series of a metric that Powertools recorded with one extra dimension (an error code, a decision). */
function byDimension(metricName: string, dimension: string, label: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},service,${dimension}} MetricName="${metricName}"', 'Sum', ${PERIOD.toSeconds()})`,
    label,
    period: PERIOD,
  });
}

function serviceMetric(metricName: string, dimensions?: Record<string, string>): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME, ...dimensions },
    statistic: 'Sum',
    period: PERIOD,
  });
}

export class GatewayMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard?: cloudwatch.Dashboard;
  private readonly props: MonitoringProps;
  /** Alarms of each kind so far: ids stay `ServerErrorRate0`, `ServerErrorRate1`, ... across calls. */
  private readonly counts: Record<string, number> = {};
  private watchingTokenChecks = false;

  constructor(scope: Construct, id: string, resources: MonitoredResources, props: MonitoringProps = {}) {
    super(scope, id);
    if (props.serverErrorRate !== undefined) validate.fraction('monitoring.serverErrorRate', props.serverErrorRate);
    this.props = props;

    if (props.dashboard ?? true) {
      this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
        widgets: [
          [
            new cloudwatch.GraphWidget({
              title: 'Registrations, and refusals by OAuth error',
              left: [
                serviceMetric(METRICS.registrations),
                byDimension(METRICS.registrationsRefused, METRIC_DIMENSIONS.error, 'refused'),
              ],
            }),
            new cloudwatch.GraphWidget({
              title: 'Authorizer decisions',
              left: [byDimension(METRICS.authorizeDecisions, METRIC_DIMENSIONS.decision, 'decisions')],
            }),
            new cloudwatch.GraphWidget({
              title: 'Tokens issued and refused',
              left: [
                ...GRANT_TYPES.map((grantType) =>
                  serviceMetric(METRICS.tokensIssued, { [METRIC_DIMENSIONS.grantType]: grantType }),
                ),
                byDimension(METRICS.tokenRefused, METRIC_DIMENSIONS.error, 'refused'),
              ],
            }),
          ],
          // Reads this.alarms when the dashboard is rendered, so alarms added later are listed too.
          [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms })],
        ],
      });
    }
    this.monitor(resources);
  }

  /** Alarms (and dashboard graphs) for more resources, such as a resource server's API and authorizer. */
  monitor(resources: Partial<MonitoredResources>): void {
    for (const api of resources.apis ?? []) {
      const rate = new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, errors / requests, 0)',
        usingMetrics: {
          errors: api.metricServerError({ period: PERIOD, statistic: 'Sum' }),
          requests: api.metricCount({ period: PERIOD, statistic: 'Sum' }),
        },
        period: PERIOD,
      });
      this.alarm(
        'ServerErrorRate',
        rate,
        this.props.serverErrorRate ?? 0.01,
        `5xx share of ${api.restApiName} requests`,
      );
      this.dashboard?.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${api.restApiName}: requests, 4xx, 5xx`,
          left: [
            api.metricCount({ period: PERIOD }),
            api.metricClientError({ period: PERIOD }),
            api.metricServerError({ period: PERIOD }),
          ],
        }),
      );
    }
    for (const fn of resources.authorizers ?? []) {
      this.alarm(
        'AuthorizerErrors',
        fn.metricErrors({ period: PERIOD }),
        1,
        'A Lambda authorizer failed (requests fail closed)',
      );
    }
    if ((resources.tokenAuthorizers ?? []).length > 0 && !this.watchingTokenChecks) {
      this.watchingTokenChecks = true;
      this.alarm(
        'TokenCheckFailures',
        new cloudwatch.MathExpression({
          expression: 'FILL(jwks, 0) + FILL(grants, 0) + FILL(failed, 0)',
          usingMetrics: {
            jwks: serviceMetric(METRICS.tokenDecisions, {
              [METRIC_DIMENSIONS.decision]: TOKEN_CHECK_FAILED.jwksUnavailable,
            }),
            grants: serviceMetric(METRICS.tokenDecisions, {
              [METRIC_DIMENSIONS.decision]: TOKEN_CHECK_FAILED.grantStatusUnavailable,
            }),
            failed: serviceMetric(METRICS.tokenDecisions, { [METRIC_DIMENSIONS.decision]: TOKEN_CHECK_FAILED.error }),
          },
          period: PERIOD,
        }),
        1,
        'A token authorizer could not check access tokens (keys or grants table unreachable, or an internal error; requests fail closed with 503)',
      );
    }
    for (const fn of resources.functions ?? []) {
      this.alarm('Throttles', fn.metricThrottles({ period: PERIOD }), 1, 'A gateway function was throttled');
    }
    for (const table of resources.tables ?? []) {
      const throttled = new cloudwatch.MathExpression({
        expression: 'reads + writes',
        usingMetrics: {
          reads: table.metric('ReadThrottleEvents', { period: PERIOD, statistic: 'Sum' }),
          writes: table.metric('WriteThrottleEvents', { period: PERIOD, statistic: 'Sum' }),
        },
        period: PERIOD,
      });
      this.alarm('TableThrottling', throttled, 1, 'DynamoDB throttled the gateway (requests retried, then 503)');
    }
  }

  private alarm(kind: string, metric: cloudwatch.IMetric, threshold: number, description: string): void {
    const index = this.counts[kind] ?? 0;
    this.counts[kind] = index + 1;
    const created = new cloudwatch.Alarm(this, `${kind}${index}`, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    if (this.props.alarmTopic) created.addAlarmAction(new actions.SnsAction(this.props.alarmTopic));
    this.alarms.push(created);
  }
}
