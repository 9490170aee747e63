/**
 * How every AWS SDK client of the functions talks to its service: bounded retries and timeouts,
 * so a slow or unreachable dependency yields a prompt 503, never a hung request or a Lambda
 * init that runs into the function timeout. Each of the 3 attempts gets at most 2 s, 1 s of
 * it to connect; the SDK only warns about a request over its requestTimeout unless told to
 * abort it (throwOnRequestTimeout), and would otherwise wait out its 300 s socket timeout.
 */
export const BOUNDED_SDK_OPTIONS = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true },
} as const;
