/** One logger and one metrics instance per function, configured by Powertools' environment. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../contract/environment.js';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

/**
 * Counts the request's outcome with one dimension (a refusal by its OAuth error code, say).
 * Each request records one outcome, and logMetrics flushes and clears dimensions per invocation.
 */
export function countWithDimension(metric: string, dimension: string, value: string): void {
  metrics.addDimension(dimension, value);
  metrics.addMetric(metric, 'Count', 1);
}
