/**
 * IAM as AWS evaluates identity-based policies, for the statements the template gives each
 * function's role: an explicit Deny wins, otherwise some Allow must match the action, the
 * resource and every condition. Actions match case-insensitively with wildcards, resources
 * with wildcards; the condition operators the template uses are implemented, any other is
 * an error (never silently true). Managed policies cannot be read from a template, so a role
 * with one is an error too.
 */
import type { Template } from './cloud-assembly.js';
import type { Resolver } from './intrinsics.js';

export interface Statement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
  conditions: Record<string, Record<string, string[]>>;
  /** Where it came from, for messages: the policy's logical id. */
  source: string;
}

export interface AwsRequest {
  action: string;
  resource: string;
  /** Condition keys of the request, e.g. `dynamodb:LeadingKeys`. */
  context?: Record<string, string[]>;
}

const list = (value: unknown): string[] => (value === undefined ? [] : ([] as unknown[]).concat(value).map(String));

function wildcard(pattern: string, flags = ''): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\?/g, '.'))
    .join('.*');
  return new RegExp(`^${body}$`, flags);
}

/** The statements of every policy attached to each role, by the role's logical id. */
export function roleStatements(template: Template, resolver: Resolver): Map<string, Statement[]> {
  const byRole = new Map<string, Statement[]>();
  const add = (role: string, statements: Statement[]) => byRole.set(role, [...(byRole.get(role) ?? []), ...statements]);
  const parse = (document: unknown, source: string): Statement[] =>
    (resolver.resolve((document as { Statement: unknown }).Statement) as unknown[]).map((raw) => {
      const statement = raw as Record<string, unknown>;
      if (statement.NotAction || statement.NotResource || statement.Principal) {
        throw new Error(`${source}: NotAction, NotResource and Principal are not evaluated here`);
      }
      return {
        effect: statement.Effect as 'Allow' | 'Deny',
        actions: list(statement.Action),
        resources: list(statement.Resource),
        conditions: Object.fromEntries(
          Object.entries((statement.Condition ?? {}) as Record<string, Record<string, unknown>>).map(
            ([operator, keys]) => [operator, Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, list(v)]))],
          ),
        ),
        source,
      };
    });
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Role') {
      byRole.set(logicalId, byRole.get(logicalId) ?? []);
      if (props.ManagedPolicyArns) throw new Error(`${logicalId} has managed policies, which a template cannot show`);
      for (const policy of (props.Policies ?? []) as Array<{ PolicyDocument: unknown }>) {
        add(logicalId, parse(policy.PolicyDocument, logicalId));
      }
    }
    if (resource.Type === 'AWS::IAM::Policy') {
      for (const role of (props.Roles ?? []) as Array<{ Ref: string }>) {
        add(role.Ref, parse(props.PolicyDocument, logicalId));
      }
    }
  }
  return byRole;
}

function conditionHolds(operator: string, key: string, expected: string[], context: Record<string, string[]>): boolean {
  const values = context[key];
  const equals = (value: string) => expected.includes(value);
  const like = (value: string) => expected.some((pattern) => wildcard(pattern).test(value));
  switch (operator) {
    case 'StringEquals':
      return values !== undefined && values.length > 0 && values.every(equals);
    case 'StringLike':
      return values !== undefined && values.length > 0 && values.every(like);
    // ForAllValues holds for a missing key too (AWS: "true if the key is absent"), which is why
    // policies pair it with the key's presence; DynamoDB always sends LeadingKeys for item calls.
    case 'ForAllValues:StringEquals':
      return (values ?? []).every(equals);
    case 'ForAllValues:StringLike':
      return (values ?? []).every(like);
    case 'ForAnyValue:StringEquals':
      return (values ?? []).some(equals);
    case 'ForAnyValue:StringLike':
      return (values ?? []).some(like);
  }
  throw new Error(`condition operator ${operator} is not evaluated here`);
}

function matches(statement: Statement, request: AwsRequest): boolean {
  const context = request.context ?? {};
  return (
    statement.actions.some((action) => wildcard(action, 'i').test(request.action)) &&
    statement.resources.some((resource) => wildcard(resource).test(request.resource)) &&
    Object.entries(statement.conditions).every(([operator, keys]) =>
      Object.entries(keys).every(([key, expected]) => conditionHolds(operator, key, expected, context)),
    )
  );
}

/** The decision for a request under these statements, and the Allow statement that granted it. */
export function evaluate(statements: readonly Statement[], request: AwsRequest): { allowed: boolean; by?: Statement } {
  if (statements.some((statement) => statement.effect === 'Deny' && matches(statement, request))) {
    return { allowed: false };
  }
  const by = statements.find((statement) => statement.effect === 'Allow' && matches(statement, request));
  return by ? { allowed: true, by } : { allowed: false };
}
