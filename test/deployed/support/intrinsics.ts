/**
 * CloudFormation intrinsics resolved to plausible values, the way a deployment would resolve
 * them: every physical id is derived from the logical id, in the shape AWS gives it (table
 * names, key UUIDs, secret ARNs with their random suffix, API ids, user pool ids). An intrinsic
 * or attribute this does not know is an error, so a template change cannot slip past silently.
 */
import { createHash } from 'node:crypto';
import type { CfnValue, Template } from './cloud-assembly.js';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

function digest(text: string, alphabet: string, length: number): string {
  const bytes = createHash('sha256').update(text).digest();
  return Array.from(bytes.subarray(0, length), (byte) => alphabet[byte % alphabet.length]).join('');
}
const lower = 'abcdefghijklmnopqrstuvwxyz0123456789';
const mixed = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function uuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export class Resolver {
  constructor(
    private readonly template: Template,
    private readonly stackName: string,
  ) {}

  private typeOf(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`Ref to unknown resource ${logicalId}`);
    return resource.Type;
  }

  /** What `Ref` returns for a resource. */
  ref(logicalId: string): string {
    switch (logicalId) {
      case 'AWS::Region':
        return REGION;
      case 'AWS::AccountId':
        return ACCOUNT;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.stackName;
    }
    const type = this.typeOf(logicalId);
    switch (type) {
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::DynamoDB::Table':
        return `${this.stackName}-${logicalId}-${digest(logicalId, lower, 12).toUpperCase()}`;
      case 'AWS::KMS::Key':
        return uuid(logicalId);
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${logicalId}-${digest(logicalId, mixed, 6)}`;
      case 'AWS::ApiGateway::RestApi':
        return digest(logicalId, lower, 10);
      case 'AWS::Cognito::UserPool':
        return `${REGION}_${digest(logicalId, mixed, 9)}`;
      case 'AWS::Cognito::UserPoolClient':
        return digest(logicalId, lower, 26);
      case 'AWS::IAM::Role':
      case 'AWS::Lambda::Function':
      case 'AWS::Logs::LogGroup':
        return `${this.stackName}-${logicalId}`.slice(0, 64);
    }
    throw new Error(`no plausible Ref value for ${type} ${logicalId}`);
  }

  /** What `Fn::GetAtt` returns. */
  getAtt(logicalId: string, attribute: string): string {
    const type = this.typeOf(logicalId);
    const ref = this.ref(logicalId);
    const key = `${type}.${attribute}`;
    switch (key) {
      case 'AWS::DynamoDB::GlobalTable.Arn':
      case 'AWS::DynamoDB::Table.Arn':
        return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${ref}`;
      case 'AWS::KMS::Key.Arn':
        return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${ref}`;
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${ACCOUNT}:role/${ref}`;
      case 'AWS::Lambda::Function.Arn':
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${ref}`;
      case 'AWS::Logs::LogGroup.Arn':
        return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${ref}:*`;
      case 'AWS::Cognito::UserPool.Arn':
        return `arn:aws:cognito-idp:${REGION}:${ACCOUNT}:userpool/${ref}`;
      // As CloudFormation returns it: with the scheme (aws/aws-cdk#22951).
      case 'AWS::Cognito::UserPool.ProviderURL':
        return `https://cognito-idp.${REGION}.amazonaws.com/${ref}`;
      case 'AWS::Cognito::UserPool.ProviderName':
        return `cognito-idp.${REGION}.amazonaws.com/${ref}`;
      case 'AWS::ApiGateway::RestApi.RootResourceId':
        return digest(`${logicalId}/root`, lower, 10);
    }
    throw new Error(`no plausible value for Fn::GetAtt ${key}`);
  }

  resolve(value: CfnValue): unknown {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) {
      return value;
    }
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    const entries = Object.entries(value as Record<string, CfnValue>);
    if (entries.length === 1) {
      const [fn, args] = entries[0];
      switch (fn) {
        case 'Ref':
          return this.ref(args as string);
        case 'Fn::GetAtt': {
          const [id, attribute] = typeof args === 'string' ? args.split('.') : (args as [string, string]);
          return this.getAtt(id, attribute);
        }
        case 'Fn::Join': {
          const [separator, parts] = args as [string, CfnValue[]];
          return (this.resolve(parts) as unknown[]).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = args as [CfnValue, CfnValue];
          return (this.resolve(list) as unknown[])[Number(this.resolve(index))];
        }
        case 'Fn::Split': {
          const [separator, source] = args as [string, CfnValue];
          return String(this.resolve(source)).split(separator);
        }
        case 'Fn::Sub': {
          const [text, variables] =
            typeof args === 'string' ? [args, {}] : (args as [string, Record<string, CfnValue>]);
          return text.replace(/\$\{([^}]+)\}/g, (_match, name: string) => {
            if (name in variables) return String(this.resolve(variables[name]));
            if (name.includes('.')) {
              const [id, attribute] = name.split('.');
              return this.getAtt(id, attribute);
            }
            return this.ref(name);
          });
        }
      }
      if (fn.startsWith('Fn::') || fn === 'Condition') throw new Error(`unsupported intrinsic ${fn}`);
    }
    return Object.fromEntries(entries.map(([name, item]) => [name, this.resolve(item)]));
  }

  /** A string-valued map (an environment), every value resolved. */
  strings(values: Record<string, CfnValue>): Record<string, string> {
    return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, String(this.resolve(value))]));
  }
}
