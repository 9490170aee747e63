/**
 * What the local gateway answers, and its gateway responses rendered the way API Gateway
 * renders the templates of lib/gateway-responses.ts, for the $context variables they use.
 */
import {
  type GatewayResponseSpec,
  type GatewayResponseType,
  gatewayResponse,
  gatewayResponseHeaders,
} from '../gateway-responses.js';

export interface GatewayReply {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Renders a gateway response template the way API Gateway does for the variables we use. */
export function renderGatewayResponse(
  responses: readonly GatewayResponseSpec[],
  type: GatewayResponseType,
  defaultStatus: number,
  values: { authorizer?: Record<string, unknown>; errorMessage: string },
): GatewayReply {
  const spec = gatewayResponse(responses, type);
  const body = spec.template
    .replace(/\$context\.authorizer\.(\w+)/g, (_m, key: string) => String(values.authorizer?.[key] ?? ''))
    .replace(/\$context\.error\.messageString/g, JSON.stringify(values.errorMessage))
    .replace(/\$context\.error\.message/g, values.errorMessage);
  return {
    statusCode: spec.statusCode ?? defaultStatus,
    headers: gatewayResponseHeaders(spec),
    body: Buffer.from(body),
  };
}
