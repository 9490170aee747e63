/**
 * The middy pipeline every HTTP function shares: Powertools context and metrics, a correlation
 * id from API Gateway's request id, normalized headers, and one error mapping that turns
 * whatever went wrong into an OAuth error body. Nothing internal reaches the caller.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpUrlencodeBodyParser from '@middy/http-urlencode-body-parser';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { AuditEventName } from '../contract/audit-events.js';
import { CORS_RESPONSE_HEADERS } from '../contract/cors.js';
import { METRIC_DIMENSIONS } from '../contract/metrics.js';
import { OAuthError, UnavailableError } from '../domain/oauth-error.js';
import { audit, refusedClient, refusedGrantType } from './audit.js';
import { countWithDimension, logger, metrics } from './powertools.js';
import { oauthErrorResponse } from './responses.js';

export type HttpHandler<TEvent = APIGatewayProxyEvent> = (
  event: TEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/** Bodies are capped well below API Gateway's 10 MB; registration metadata is tiny. */
export const MAX_BODY_BYTES = 64 * 1024;

interface PipelineOptions {
  /** Metric counting refusals, with the OAuth error code as its dimension. */
  refusalMetric: string;
  /** Audit event every refusal writes, with its OAuth error code (lambda/http/audit.ts). */
  refusalAudit?: AuditEventName;
  /** Answer browsers from any origin (lambda/http/cors.ts); every route of the function must be a CORS route. */
  cors?: boolean;
}

/** How a body-taking endpoint names its media type and a body it cannot read. */
interface BodyRules {
  mediaType: string;
  unreadable: (reason: string) => OAuthError;
}

const JSON_BODY: BodyRules = {
  mediaType: 'application/json',
  unreadable: (reason) => new OAuthError('invalid_client_metadata', reason),
};

const FORM_BODY: BodyRules = {
  mediaType: 'application/x-www-form-urlencoded',
  unreadable: (reason) => new OAuthError('invalid_request', reason),
};

function correlationIdFromRequest(): middy.MiddlewareObj<APIGatewayProxyEvent> {
  return {
    before: ({ event }) => {
      logger.setCorrelationId(event.requestContext?.requestId);
    },
  };
}

/** Maps any error to an OAuth response; unexpected ones are logged (message and stack only). */
function oauthErrors(
  options: PipelineOptions,
  body?: BodyRules,
): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: (request) => {
      const error = toOAuthError(request.error, body);
      if (error.status >= 500) {
        logger.error('request failed', { error: request.error as Error });
      } else {
        logger.info('request refused', { error: error.code, description: error.description });
      }
      countWithDimension(options.refusalMetric, METRIC_DIMENSIONS.error, error.code);
      if (options.refusalAudit) {
        audit(request.event, {
          event: options.refusalAudit,
          client_id: refusedClient(request.event),
          grant_type: refusedGrantType(request.event),
          error: error.code,
        });
      }
      request.response = withCors(oauthErrorResponse(error), options);
    },
  };
}

function withCors(response: APIGatewayProxyResult, options: PipelineOptions): APIGatewayProxyResult {
  if (!options.cors) return response;
  return { ...response, headers: { ...response.headers, ...CORS_RESPONSE_HEADERS } };
}

function corsHeaders(options: PipelineOptions): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    after: (request) => {
      if (request.response) request.response = withCors(request.response, options);
    },
  };
}

interface HttpErrorLike {
  statusCode: number;
  message: string;
}

function isHttpError(error: unknown): error is HttpErrorLike {
  return error instanceof Error && typeof (error as Partial<HttpErrorLike>).statusCode === 'number';
}

/** Translates middy's body-parser errors; anything unknown becomes a bare server_error. */
export function toOAuthError(error: unknown, body: BodyRules = JSON_BODY): OAuthError {
  if (error instanceof OAuthError) return error;
  if (isHttpError(error) && error.statusCode === 415) {
    // middy's body parsers use 415 both for the media type and for an unparseable body.
    return error.message === 'Unsupported Media Type'
      ? new OAuthError('invalid_request', `Content-Type must be ${body.mediaType}`, 415)
      : body.unreadable(`The request body is not valid ${body.mediaType}.`);
  }
  return new OAuthError('server_error', 'An unexpected error occurred.');
}

/** Refuses bodies over the limit (413) and empty ones before any parsing is attempted. */
function boundedBody(rules: BodyRules): middy.MiddlewareObj<APIGatewayProxyEvent> {
  return {
    before: ({ event }) => {
      const body = event.body ?? '';
      const bytes = event.isBase64Encoded ? Buffer.byteLength(body, 'base64') : Buffer.byteLength(body);
      if (bytes > MAX_BODY_BYTES) {
        throw new OAuthError('invalid_request', `The request body must be at most ${MAX_BODY_BYTES} bytes.`, 413);
      }
      if (bytes === 0) throw rules.unreadable('The request body is empty.');
      // Media types are case-insensitive (RFC 9110 8.3.1); the parsers' checks are not.
      const contentType = event.headers?.['content-type'];
      if (contentType) event.headers['content-type'] = contentType.toLowerCase();
    },
  };
}

/**
 * How long before the function timeout a request still running is answered 503
 * temporarily_unavailable: a backstop behind the SDK's own bounds (sdk-options.ts: a stalled
 * dependency fails in about 6.5 s of the 10 s), for a machine so loaded that those run late. The
 * client then retries instead of getting API Gateway's bare 502 for a Lambda timeout.
 */
export const ANSWER_BEFORE_TIMEOUT_MS = 1000;

const timeoutEarly = {
  timeoutEarlyInMillis: ANSWER_BEFORE_TIMEOUT_MS,
  timeoutEarlyResponse: () => {
    throw new UnavailableError('The request could not be completed in time; try again.');
  },
};

function pipeline<TEvent extends APIGatewayProxyEvent>(
  handler: HttpHandler<TEvent>,
  options: PipelineOptions,
  body?: BodyRules,
) {
  return middy<TEvent, APIGatewayProxyResult>(handler, timeoutEarly)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(correlationIdFromRequest())
    .use(corsHeaders(options))
    .use(oauthErrors(options, body))
    .use(httpHeaderNormalizer());
}

/** A handler that takes no body. */
export function httpFunction(handler: HttpHandler, options: PipelineOptions) {
  return pipeline(handler, options);
}

type WithBody<TBody> = Omit<APIGatewayProxyEvent, 'body'> & { body: TBody };

/** Applies a body middleware only to methods that carry a body (POST, PUT, PATCH). */
function forBodies(middleware: middy.MiddlewareObj<APIGatewayProxyEvent>): middy.MiddlewareObj<APIGatewayProxyEvent> {
  return {
    before: async (request) => {
      if (!['POST', 'PUT', 'PATCH'].includes(request.event.httpMethod)) return;
      await middleware.before?.(request);
    },
  };
}

/**
 * A handler whose body, on POST and PUT, is a JSON object; the handler sees it already parsed.
 * GET and DELETE requests pass through without a body.
 */
export function jsonBodyFunction<TBody>(handler: HttpHandler<WithBody<TBody>>, options: PipelineOptions) {
  return pipeline(handler as unknown as HttpHandler, options, JSON_BODY)
    .use(forBodies(boundedBody(JSON_BODY)))
    .use(forBodies(httpJsonBodyParser() as middy.MiddlewareObj<APIGatewayProxyEvent>));
}

/**
 * A handler whose body is a form (RFC 6749 token and revocation requests). Parameters sent
 * more than once arrive as arrays; singleFormParams refuses them.
 */
export function formBodyFunction(
  handler: HttpHandler<WithBody<Record<string, string | string[] | undefined>>>,
  options: PipelineOptions,
) {
  return pipeline(handler as unknown as HttpHandler, options, FORM_BODY)
    .use(boundedBody(FORM_BODY))
    .use(httpUrlencodeBodyParser());
}
