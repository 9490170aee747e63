/**
 * AWS-shaped endpoints on 127.0.0.1 for the deployed functions (AWS itself cannot run here):
 * DynamoDB is dynalite behind an IAM check, KMS and Secrets Manager are small stand-ins that
 * speak their JSON protocols for the calls the functions make (KMS Sign returns a DER ECDSA
 * signature of the digest as given, as KMS does, from a real P-256 key). On the points that
 * matter they behave like AWS: the caller is identified by the access key of its SigV4
 * Authorization header (each function runs with its own role's credentials), and every call
 * its role's policies in the template do not allow is refused with AccessDeniedException,
 * the resource being the ARN AWS would check, with `dynamodb:LeadingKeys` for item calls.
 * Signatures themselves are not verified. Every call is recorded, allowed or not.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type LocalDynamo, startDynalite } from '../../../lib/local/dynamodb.js';
import { kmsOperation, type StandInKmsKey } from '../../support/fake-kms.js';
import type { Template } from './cloud-assembly.js';
import { evaluate, type Statement } from './iam.js';
import { ACCOUNT, REGION, type Resolver } from './intrinsics.js';

export interface Caller {
  /** The route-table function the credentials belong to. */
  name: string;
  roleName: string;
  statements: readonly Statement[];
}

export interface RecordedCall {
  service: 'dynamodb' | 'kms' | 'secretsmanager';
  caller: string;
  action: string;
  resource: string;
  context: Record<string, string[]>;
  allowed: boolean;
  /** The policy whose Allow statement granted it. */
  grantedBy?: Statement;
}

/** `up`: answers; `down`: resets every connection; `stall`: accepts and never answers. */
export type EndpointMode = 'up' | 'down' | 'stall';

type Reply = [status: number, body: object | Buffer, headers?: Record<string, string>];

abstract class JsonEndpoint {
  mode: EndpointMode = 'up';
  private readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer((request, response) => this.receive(request, response));
  url = '';

  constructor(
    readonly service: RecordedCall['service'],
    private readonly callers: Map<string, Caller>,
    private readonly calls: RecordedCall[],
  ) {
    this.server.on('connection', (socket) => {
      if (this.mode === 'down') {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private receive(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (this.mode === 'stall') return;
      const body = Buffer.concat(chunks);
      this.answer(request, body).then(
        ([status, reply, headers]) => {
          const payload = Buffer.isBuffer(reply) ? reply : Buffer.from(JSON.stringify(reply));
          response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', ...headers }).end(payload);
        },
        (error: Error) => {
          response.writeHead(500).end(JSON.stringify({ __type: 'InternalFailure', message: error.message }));
        },
      );
    });
  }

  /** The caller named by the access key id in the SigV4 Authorization header. */
  protected callerOf(request: IncomingMessage): Caller | undefined {
    const match = /Credential=([^/,\s]+)\//.exec(String(request.headers.authorization ?? ''));
    return match ? this.callers.get(match[1]) : undefined;
  }

  /** Records the call and answers whether the caller's role allows it. */
  protected authorize(caller: Caller, action: string, resource: string, context: Record<string, string[]> = {}) {
    const decision = evaluate(caller.statements, { action, resource, context });
    this.calls.push({
      service: this.service,
      caller: caller.name,
      action,
      resource,
      context,
      allowed: decision.allowed,
      ...(decision.by ? { grantedBy: decision.by } : {}),
    });
    return decision.allowed;
  }

  protected denied(caller: Caller, action: string, resource: string): Reply {
    const message = `User: arn:aws:sts::${ACCOUNT}:assumed-role/${caller.roleName}/${caller.name} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
    return [400, { __type: 'com.amazon.coral.service#AccessDeniedException', message, Message: message }];
  }

  private async answer(request: IncomingMessage, body: Buffer): Promise<Reply> {
    const caller = this.callerOf(request);
    if (!caller) {
      return [
        400,
        { __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' },
      ];
    }
    const target = String(request.headers['x-amz-target'] ?? '');
    return this.handle(caller, target, body, request);
  }

  protected abstract handle(caller: Caller, target: string, body: Buffer, request: IncomingMessage): Promise<Reply>;
}

/** DynamoDB: the IAM check, then the request as sent, to dynalite. */
class DynamoDbEndpoint extends JsonEndpoint {
  constructor(
    callers: Map<string, Caller>,
    calls: RecordedCall[],
    private readonly dynalite: LocalDynamo,
    /** Partition key attribute by table name. */
    private readonly partitionKeys: Map<string, string>,
  ) {
    super('dynamodb', callers, calls);
  }

  protected async handle(caller: Caller, target: string, body: Buffer, request: IncomingMessage): Promise<Reply> {
    const operation = target.replace(/^DynamoDB_20120810\./, '');
    const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, any>;
    const table = String(input.TableName ?? '');
    const action = `dynamodb:${operation}`;
    // A Query or Scan of an index is authorized against the index's ARN, as DynamoDB does.
    const index = typeof input.IndexName === 'string' ? `/index/${input.IndexName}` : '';
    const resource = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}${index}`;
    const key = this.partitionKeys.get(table);
    const item = input.Key ?? input.Item;
    const leading = key && item?.[key] ? [String(Object.values(item[key])[0])] : undefined;
    if (!this.authorize(caller, action, resource, leading ? { 'dynamodb:LeadingKeys': leading } : {})) {
      return this.denied(caller, action, resource);
    }
    return this.forward(request, body);
  }

  private forward(request: IncomingMessage, body: Buffer): Promise<Reply> {
    const target = new URL(this.dynalite.endpoint);
    const { host: _host, connection: _connection, ...headers } = request.headers;
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        { host: target.hostname, port: target.port, method: request.method, path: request.url, headers },
        (reply) => {
          const chunks: Buffer[] = [];
          reply.on('data', (chunk: Buffer) => chunks.push(chunk));
          reply.on('end', () =>
            resolve([
              reply.statusCode ?? 500,
              Buffer.concat(chunks),
              { 'Content-Type': String(reply.headers['content-type'] ?? 'application/x-amz-json-1.0') },
            ]),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }
}

/** KMS: GetPublicKey and Sign, on a real P-256 key per AWS::KMS::Key of the template. */
class KmsEndpoint extends JsonEndpoint {
  constructor(
    callers: Map<string, Caller>,
    calls: RecordedCall[],
    private readonly keys: StandInKmsKey[],
  ) {
    super('kms', callers, calls);
  }

  protected async handle(caller: Caller, target: string, body: Buffer): Promise<Reply> {
    const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, string>;
    const key = this.keys.find(
      (candidate) => candidate.arn === input.KeyId || candidate.arn.endsWith(`/${input.KeyId}`),
    );
    const operation = target.replace(/^TrentService\./, '');
    const action = `kms:${operation}`;
    const resource = key?.arn ?? `arn:aws:kms:${REGION}:${ACCOUNT}:key/${input.KeyId}`;
    if (!this.authorize(caller, action, resource)) return this.denied(caller, action, resource);
    if (!key) return [400, { __type: 'NotFoundException', message: `Key '${resource}' does not exist` }];
    return kmsOperation(target, input, key);
  }
}

interface StandInSecret {
  arn: string;
  value: string;
}

/** Secrets Manager: GetSecretValue, of a value generated per AWS::SecretsManager::Secret. */
class SecretsManagerEndpoint extends JsonEndpoint {
  constructor(
    callers: Map<string, Caller>,
    calls: RecordedCall[],
    private readonly secrets: StandInSecret[],
  ) {
    super('secretsmanager', callers, calls);
  }

  protected async handle(caller: Caller, target: string, body: Buffer): Promise<Reply> {
    const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, string>;
    const operation = target.replace(/^secretsmanager\./, '');
    const secret = this.secrets.find((candidate) => candidate.arn === input.SecretId);
    const action = `secretsmanager:${operation}`;
    const resource = secret?.arn ?? String(input.SecretId);
    if (!this.authorize(caller, action, resource)) return this.denied(caller, action, resource);
    if (!secret)
      return [
        400,
        { __type: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." },
      ];
    if (operation !== 'GetSecretValue') return [400, { __type: 'UnknownOperationException', message: target }];
    return [
      200,
      {
        ARN: secret.arn,
        Name: secret.arn
          .split(':')
          .at(-1)
          ?.replace(/-[A-Za-z0-9]{6}$/, ''),
        SecretString: secret.value,
        VersionId: '00000000-0000-4000-8000-000000000000',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Math.floor(Date.now() / 1000),
      },
    ];
  }
}

export class AwsEndpoints {
  readonly calls: RecordedCall[] = [];
  readonly callers = new Map<string, Caller>();
  readonly secrets: StandInSecret[] = [];
  readonly keys: StandInKmsKey[] = [];
  dynamodb!: DynamoDbEndpoint;
  kms!: KmsEndpoint;
  secretsManager!: SecretsManagerEndpoint;
  private dynalite!: LocalDynamo;

  /** Creates the template's tables in dynalite, a key per KMS key and a value per secret. */
  static async start(template: Template, resolver: Resolver): Promise<AwsEndpoints> {
    const endpoints = new AwsEndpoints();
    await endpoints.init(template, resolver);
    return endpoints;
  }

  private async init(template: Template, resolver: Resolver): Promise<void> {
    this.dynalite = await startDynalite(':memory:');
    const admin = new DynamoDBClient({ endpoint: this.dynalite.endpoint });
    const partitionKeys = new Map<string, string>();
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const props = (resource.Properties ?? {}) as Record<string, any>;
      if (resource.Type === 'AWS::DynamoDB::GlobalTable' || resource.Type === 'AWS::DynamoDB::Table') {
        const TableName = resolver.ref(logicalId);
        const hash = (props.KeySchema as Array<{ AttributeName: string; KeyType: string }>).find(
          (key) => key.KeyType === 'HASH',
        );
        if (hash) partitionKeys.set(TableName, hash.AttributeName);
        await admin.send(
          new CreateTableCommand({
            TableName,
            KeySchema: props.KeySchema,
            AttributeDefinitions: props.AttributeDefinitions,
            // The template's indexes as declared (a GlobalTable's have no throughput of their own).
            GlobalSecondaryIndexes: props.GlobalSecondaryIndexes?.map((index: Record<string, unknown>) => ({
              IndexName: index.IndexName,
              KeySchema: index.KeySchema,
              Projection: index.Projection,
            })),
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
      }
      if (resource.Type === 'AWS::KMS::Key') {
        if (props.KeySpec !== 'ECC_NIST_P256')
          throw new Error(`${logicalId}: the stand-in holds only ECC_NIST_P256 keys`);
        this.keys.push({
          arn: resolver.getAtt(logicalId, 'Arn'),
          ...generateKeyPairSync('ec', { namedCurve: 'P-256' }),
          keySpec: props.KeySpec,
          keyUsage: props.KeyUsage,
        });
      }
      if (resource.Type === 'AWS::SecretsManager::Secret') {
        const length = Number(props.GenerateSecretString?.PasswordLength ?? 32);
        const value =
          props.SecretString ?? randomBytes(length).toString('base64url').replace(/[-_]/g, 'x').slice(0, length);
        this.secrets.push({ arn: resolver.ref(logicalId), value: String(value) });
      }
    }
    admin.destroy();
    this.dynamodb = new DynamoDbEndpoint(this.callers, this.calls, this.dynalite, partitionKeys);
    this.kms = new KmsEndpoint(this.callers, this.calls, this.keys);
    this.secretsManager = new SecretsManagerEndpoint(this.callers, this.calls, this.secrets);
    await Promise.all([this.dynamodb.listen(), this.kms.listen(), this.secretsManager.listen()]);
  }

  /** Credentials for a caller: the access key id is how the endpoints know who calls. */
  credentialsFor(caller: Caller): Record<string, string> {
    const accessKeyId = `ASIA${createHash('sha256').update(caller.name).digest('hex').toUpperCase().slice(0, 16)}`;
    this.callers.set(accessKeyId, caller);
    return {
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: randomBytes(30).toString('base64'),
      AWS_SESSION_TOKEN: randomBytes(64).toString('base64'),
    };
  }

  /** The variables that point the SDK at these endpoints (service-specific endpoint settings). */
  endpointEnvironment(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_DYNAMODB: this.dynamodb.url,
      AWS_ENDPOINT_URL_KMS: this.kms.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.secretsManager.url,
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.dynamodb?.close(), this.kms?.close(), this.secretsManager?.close()]);
    await this.dynalite?.close();
  }
}
