/**
 * What API Gateway decides around a REQUEST authorizer, for the local gateway: whether the
 * authorizer is called at all (every identity source present), and what the policy it returns
 * allows (IAM evaluation against the method ARN, an explicit Deny winning).
 */
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent } from 'aws-lambda';
import type { AuthorizerSpec } from '../routes.js';

export type PolicyDecision = 'Allow' | 'Deny' | 'Invalid';

/** API Gateway answers UNAUTHORIZED, without calling the authorizer, when an identity source is empty. */
export function hasIdentitySources(authorizer: AuthorizerSpec, event: APIGatewayProxyEvent): boolean {
  const headers = new Map(Object.entries(event.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return (
    authorizer.identityQueryParameters.every((name) => event.queryStringParameters?.[name]) &&
    authorizer.identityHeaders.every((name) => headers.get(name.toLowerCase()))
  );
}

function resourceMatches(pattern: string, arn: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^$()|[\]{}\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return regex.test(arn);
}

/** IAM evaluation as API Gateway applies it to the method ARN: an explicit Deny wins. */
export function evaluatePolicy(result: unknown, arn: string): PolicyDecision {
  const document = (result as APIGatewayAuthorizerResult | undefined)?.policyDocument;
  if (
    !document ||
    !Array.isArray(document.Statement) ||
    typeof (result as APIGatewayAuthorizerResult).principalId !== 'string'
  ) {
    return 'Invalid';
  }
  let allowed = false;
  for (const statement of document.Statement as unknown as Array<Record<string, unknown>>) {
    const actions = ([] as unknown[]).concat(statement.Action);
    const resources = ([] as unknown[]).concat(statement.Resource);
    const invokes = actions.some(
      (action) => action === 'execute-api:Invoke' || action === '*' || action === 'execute-api:*',
    );
    const covers = resources.some((resource) => typeof resource === 'string' && resourceMatches(resource, arn));
    if (!invokes || !covers) continue;
    if (statement.Effect === 'Deny') return 'Deny';
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'Allow' : 'Deny';
}
