/**
 * API Gateway REST (v1) event shapes, built from a real HTTP request, so that local mode hands
 * the handlers and the authorizer exactly what API Gateway would.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type {
  APIGatewayEventRequestContext,
  APIGatewayProxyEvent,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';

export const LOCAL_STAGE = 'local';
const ACCOUNT = '000000000000';
const API_ID = 'local';

export interface RawRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headersDistinct'];
  body: Buffer;
  sourceIp: string;
}

function headerMaps(headers: RawRequest['headers']) {
  // No prototype: a parameter or header named __proto__ or constructor is data, as in API Gateway's JSON.
  const single: Record<string, string> = Object.create(null);
  const multi: Record<string, string[]> = Object.create(null);
  for (const [name, values] of Object.entries(headers)) {
    if (!values || values.length === 0) continue;
    single[name] = values[values.length - 1];
    multi[name] = [...values];
  }
  return { single, multi };
}

function queryMaps(url: URL) {
  // No prototype: a parameter or header named __proto__ or constructor is data, as in API Gateway's JSON.
  const single: Record<string, string> = Object.create(null);
  const multi: Record<string, string[]> = Object.create(null);
  for (const [name, value] of url.searchParams) {
    single[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  const empty = Object.keys(single).length === 0;
  return { single: empty ? null : single, multi: empty ? null : multi };
}

export function methodArn(method: string, resourcePath: string): string {
  return `arn:aws:execute-api:local:${ACCOUNT}:${API_ID}/${LOCAL_STAGE}/${method}${resourcePath}`;
}

function requestContext(request: RawRequest, resource: string): APIGatewayEventRequestContext {
  const userAgent = request.headers['user-agent']?.[0] ?? null;
  return {
    accountId: ACCOUNT,
    apiId: API_ID,
    authorizer: null,
    protocol: 'HTTP/1.1',
    httpMethod: request.method,
    path: `/${LOCAL_STAGE}${request.url.pathname}`,
    stage: LOCAL_STAGE,
    requestId: randomUUID(),
    requestTimeEpoch: Date.now(),
    resourceId: resource,
    resourcePath: resource,
    identity: {
      accessKey: null,
      accountId: null,
      apiKey: null,
      apiKeyId: null,
      caller: null,
      clientCert: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: request.sourceIp,
      user: null,
      userAgent,
      userArn: null,
    },
  };
}

export function proxyEvent(
  request: RawRequest,
  path: string,
  resource: string,
  pathParameters: Record<string, string> | null,
): APIGatewayProxyEvent {
  const headers = headerMaps(request.headers);
  const query = queryMaps(request.url);
  return {
    resource,
    path,
    httpMethod: request.method,
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters,
    stageVariables: null,
    requestContext: requestContext(request, resource),
    // API Gateway without binary media types hands text bodies over as UTF-8 strings.
    body: request.body.length > 0 ? request.body.toString('utf8') : null,
    isBase64Encoded: false,
  };
}

export function authorizerEvent(proxy: APIGatewayProxyEvent): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: methodArn(proxy.httpMethod, proxy.resource),
    resource: proxy.resource,
    path: proxy.path,
    httpMethod: proxy.httpMethod,
    headers: proxy.headers as Record<string, string>,
    multiValueHeaders: proxy.multiValueHeaders as Record<string, string[]>,
    pathParameters: proxy.pathParameters,
    queryStringParameters: proxy.queryStringParameters,
    multiValueQueryStringParameters: proxy.multiValueQueryStringParameters as Record<string, string[]> | null,
    stageVariables: proxy.stageVariables,
    requestContext: { ...proxy.requestContext, authorizer: undefined },
  };
}

export function lambdaContext(functionName: string, requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
