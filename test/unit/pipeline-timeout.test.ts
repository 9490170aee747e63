/**
 * The HTTP pipeline's backstop (lambda/http/pipeline.ts ANSWER_BEFORE_TIMEOUT_MS): a request
 * still running close to the function timeout is answered 503 temporarily_unavailable in the
 * OAuth JSON shape, not left to a Lambda timeout (which API Gateway answers with a bare 502).
 * The Lambda context's remaining time is given small here, so nothing waits long.
 */
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../lambda/contract/metrics.js';
import { ANSWER_BEFORE_TIMEOUT_MS, httpFunction } from '../../lambda/http/pipeline.js';
import { apiEvent, lambdaContext } from '../support/api-gateway-events.js';

function contextWithRemaining(ms: number) {
  const started = Date.now();
  return { ...lambdaContext('test', 'req-timeout'), getRemainingTimeInMillis: () => ms - (Date.now() - started) };
}

describe('the pipeline near the function timeout', () => {
  it(`answers a handler still running ${ANSWER_BEFORE_TIMEOUT_MS} ms before the deadline with 503 temporarily_unavailable`, async () => {
    const stalled = httpFunction(() => new Promise(() => {}), { refusalMetric: METRICS.authorizationRefused });
    const response = await stalled(
      apiEvent({ path: '/authorize' }),
      contextWithRemaining(ANSWER_BEFORE_TIMEOUT_MS + 200),
    );
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['Cache-Control'] ?? response.headers?.['cache-control']).toBe('no-store');
    expect(JSON.parse(response.body)).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The request could not be completed in time; try again.',
    });
  });

  it('leaves a handler that answers in time alone', async () => {
    const quick = httpFunction(async () => ({ statusCode: 200, body: 'ok' }), {
      refusalMetric: METRICS.authorizationRefused,
    });
    const response = await quick(
      apiEvent({ path: '/authorize' }),
      contextWithRemaining(ANSWER_BEFORE_TIMEOUT_MS + 200),
    );
    expect(response).toMatchObject({ statusCode: 200, body: 'ok' });
  });
});
