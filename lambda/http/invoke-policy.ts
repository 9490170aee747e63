/** The IAM policy a Lambda authorizer returns: allow or deny execute-api:Invoke on one resource ARN. */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';

export function invokePolicy(
  effect: 'Allow' | 'Deny',
  resourceArn: string,
): APIGatewayAuthorizerResult['policyDocument'] {
  return {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resourceArn }],
  };
}
