/**
 * The grants table's one secondary index in the template: by subject (partition) and created_at
 * (sort), projecting only what the admin CLI lists, never a code or refresh-token hash. One only:
 * DynamoDB and CloudFormation add at most one global secondary index per table update
 * (contract/grants-index.ts). No function is granted the index (none queries it); the stack
 * names both tables for the CLI; cdk-nag stays clean.
 */
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { GRANTS_BY_SUBJECT_INDEX } from '../../lambda/contract/grants-index.js';
import { CLIENTS_TABLE_KEY, GRANTS_TABLE_KEY } from '../../lambda/contract/tables.js';
import { GatewayStack } from '../../lib/gateway-stack.js';
import { newApp } from './support/app.js';

interface TableProperties {
  KeySchema: Array<{ AttributeName: string; KeyType: string }>;
  AttributeDefinitions: Array<{ AttributeName: string; AttributeType: string }>;
  GlobalSecondaryIndexes?: Array<{
    IndexName: string;
    KeySchema: Array<{ AttributeName: string; KeyType: string }>;
    Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
  }>;
}

const stack = new GatewayStack(newApp(), 'IndexedGateway');
const template = Template.fromStack(stack);

function tableKeyedBy(key: string): TableProperties {
  const tables = Object.values(template.findResources('AWS::DynamoDB::GlobalTable')).map(
    (resource) => resource.Properties as TableProperties,
  );
  const found = tables.filter((table) => table.KeySchema[0]?.AttributeName === key);
  expect(found).toHaveLength(1);
  return found[0];
}

describe('the grants table', () => {
  it('has exactly one global secondary index, by-subject: subject (S) then created_at (N)', () => {
    const grants = tableKeyedBy(GRANTS_TABLE_KEY);
    expect(grants.GlobalSecondaryIndexes).toHaveLength(1);
    const [index] = grants.GlobalSecondaryIndexes ?? [];
    expect(index.IndexName).toBe('by-subject');
    expect(index.KeySchema).toEqual([
      { AttributeName: 'subject', KeyType: 'HASH' },
      { AttributeName: 'created_at', KeyType: 'RANGE' },
    ]);
    expect(grants.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'subject', AttributeType: 'S' },
        { AttributeName: 'created_at', AttributeType: 'N' },
      ]),
    );
  });

  it('projects only what a listing shows, no hash', () => {
    const [index] = tableKeyedBy(GRANTS_TABLE_KEY).GlobalSecondaryIndexes ?? [];
    expect(index.Projection.ProjectionType).toBe('INCLUDE');
    expect([...(index.Projection.NonKeyAttributes ?? [])].sort()).toEqual(
      [
        'client_id',
        'client_name',
        'expires_at',
        'grant_expires_at',
        'grant_id',
        'last_used_at',
        'redirect_uri',
        'resource',
        'revoked_at',
        'scope',
      ].sort(),
    );
    expect(GRANTS_BY_SUBJECT_INDEX.projected.filter((name) => /hash|challenge|secret/.test(name))).toEqual([]);
  });

  it('leaves the clients table without an index', () => {
    expect(tableKeyedBy(CLIENTS_TABLE_KEY).GlobalSecondaryIndexes).toBeUndefined();
  });
});

describe('IAM', () => {
  it('grants the index to the connected apps page alone, for Query only', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const naming = Object.entries(policies).filter(([, policy]) => /\/index\//.test(JSON.stringify(policy)));
    expect(naming.map(([, policy]) => JSON.stringify(policy.Properties.Roles))).toEqual([
      expect.stringMatching(/authorizationRole/),
    ]);
    const statements = naming[0][1].Properties.PolicyDocument.Statement as Array<{
      Action: string | string[];
      Resource: unknown;
    }>;
    const onIndex = statements.filter((statement) => /\/index\//.test(JSON.stringify(statement.Resource)));
    expect(onIndex).toHaveLength(1);
    expect(onIndex[0].Action).toBe('dynamodb:Query');
    expect(JSON.stringify(onIndex[0].Resource)).toContain('/index/by-subject');
  });
});

describe('outputs', () => {
  it('name both tables, for the admin CLI', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ClientsTableName.Value).toEqual(stack.resolve(stack.gateway.tables.clients.tableName));
    expect(outputs.GrantsTableName.Value).toEqual(stack.resolve(stack.gateway.tables.grants.tableName));
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('passes with the index', () => {
    const app = newApp();
    new GatewayStack(app, 'NagIndexedGateway');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
