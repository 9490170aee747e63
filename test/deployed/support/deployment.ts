/**
 * A deployment of the synthesized app on this machine, as close to AWS as it can be without
 * AWS: every AWS::Lambda::Function of the template runs from its bundled asset under the
 * Lambda runtime interface client (lambda-runtime.ts), with the template's environment
 * (intrinsics resolved, intrinsics.ts) and its role's credentials, against AWS-shaped endpoints
 * that enforce that role's policies from the template (aws-endpoints.ts, iam.ts).
 *
 * What stands in for what AWS runs:
 * - API Gateway: the local gateway (lib/local/: the route table, authorizer
 *   semantics, gateway responses), served over https on 127.0.0.1 under the stage path, each
 *   route invoking the function's execution environment with the REST proxy or REQUEST
 *   authorizer event.
 * - DNS: the APIs' execute-api URLs and the Cognito issuer URL in the resolved environment are
 *   rewritten to those local https origins, so the functions' own calls (the token authorizer's
 *   JWKS fetch, the authorization function's OpenID discovery and token request) really cross
 *   TLS, trusting a test certificate through NODE_EXTRA_CA_CERTS.
 * - Cognito: the development OpenID provider (panva's oidc-provider) over https, with the app
 *   client id and callback URL of the template.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
} from 'aws-lambda';
import { generate } from 'selfsigned';
import { type DevOidcProvider, startDevOidcProvider } from '../../../lib/local/dev-oidc-provider.js';
import { LocalGateway } from '../../../lib/local/gateway.js';
import { serveNodeRequest } from '../../../lib/local/node-adapter.js';
import { FUNCTIONS, type FunctionName } from '../../../lib/routes.js';
import { AwsEndpoints } from './aws-endpoints.js';
import type { SynthesizedApp, TemplateFunction } from './cloud-assembly.js';
import { roleStatements, type Statement } from './iam.js';
import { Resolver } from './intrinsics.js';
import { InvocationError, LambdaFunction, nodeBinaryFor } from './lambda-runtime.js';

export interface DeploymentOptions {
  /** Run every function on this Lambda runtime instead of the template's (e.g. `nodejs22.x`). */
  runtime?: string;
}

export interface DeployedFunction {
  spec: TemplateFunction;
  runtime: string;
  statements: Statement[];
  environment: Record<string, string>;
  lambda: LambdaFunction;
}

export class Deployment {
  readonly functions = new Map<FunctionName, DeployedFunction>();
  /** The issuer the deployment announces (the rewritten execute-api URL of the stage). */
  issuer = '';
  /** The MCP server's resource URL (its tokens' `aud`). */
  resourceUrl = '';
  private server!: Server;
  private oidc!: DevOidcProvider;

  private constructor(
    readonly app: SynthesizedApp,
    readonly aws: AwsEndpoints,
    readonly resolver: Resolver,
  ) {}

  static async start(app: SynthesizedApp, options: DeploymentOptions = {}): Promise<Deployment> {
    const resolver = new Resolver(app.template, app.stackName);
    const aws = await AwsEndpoints.start(app.template, resolver);
    const deployment = new Deployment(app, aws, resolver);
    try {
      await deployment.init(options);
    } catch (error) {
      await deployment.close();
      throw error;
    }
    return deployment;
  }

  private resourcesOfType(type: string): string[] {
    return Object.entries(this.app.template.Resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([logicalId]) => logicalId);
  }

  private async init(options: DeploymentOptions): Promise<void> {
    const { template } = this.app;
    const tls = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      algorithm: 'sha256',
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const caFile = join(this.app.dir, 'test-ca.pem');
    writeFileSync(caFile, tls.cert);

    // API Gateway's front door first: its port is part of every URL the functions are told.
    const stageName = String(
      template.Resources[this.resourcesOfType('AWS::ApiGateway::Stage')[0]].Properties?.StageName ?? 'v1',
    );
    let gateway: LocalGateway | undefined;
    this.server = createServer({ key: tls.private, cert: tls.cert }, (req, res) => {
      if (!gateway) return void res.writeHead(503).end();
      void serveNodeRequest(gateway, req, res);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const origin = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;

    // "DNS": each API's execute-api origin is the local front door.
    const rewrites = new Map<string, string>();
    for (const api of this.resourcesOfType('AWS::ApiGateway::RestApi')) {
      rewrites.set(`https://${this.resolver.ref(api)}.execute-api.us-east-1.amazonaws.com`, origin);
    }
    const rewrite = (value: string) => {
      let result = value;
      for (const [from, to] of rewrites) result = result.split(from).join(to);
      return result;
    };

    const environments = new Map(
      this.app.functions.map((fn) => [fn.name, rewrite(JSON.stringify(this.resolver.strings(fn.environment)))]),
    );
    const authorization = JSON.parse(environments.get('authorization') as string) as Record<string, string>;
    this.issuer = authorization.ISSUER_URL;
    const resource = JSON.parse(environments.get('tokenAuthorizer') as string) as Record<string, string>;
    this.resourceUrl = resource.RESOURCE_URL;

    // Cognito: the user pool's issuer is the development provider, with the template's app client.
    this.oidc = await startDevOidcProvider({
      clients: [{ client_id: authorization.UPSTREAM_CLIENT_ID, redirect_uris: [`${this.issuer}/callback`] }],
      tls: { key: tls.private, cert: tls.cert },
    });
    rewrites.set(authorization.UPSTREAM_ISSUER, this.oidc.issuer);

    const statements = roleStatements(template, this.resolver);
    for (const spec of this.app.functions) {
      const runtime = options.runtime ?? spec.runtime;
      const nodeBinary = nodeBinaryFor(runtime);
      if (!nodeBinary)
        throw new Error(`no Node.js binary for ${runtime} (npm test installs them: test/deployed/runtimes)`);
      const environment: Record<string, string> = {
        ...(JSON.parse(rewrite(JSON.stringify(this.resolver.strings(spec.environment)))) as Record<string, string>),
      };
      const roleStatementsOf = statements.get(spec.roleLogicalId) ?? [];
      const roleName = this.resolver.ref(spec.roleLogicalId);
      const lambda = new LambdaFunction({
        name: this.resolver.ref(spec.logicalId),
        assetDir: spec.assetDir,
        handler: spec.handler,
        nodeBinary,
        timeoutSeconds: spec.timeoutSeconds,
        memoryMb: spec.memoryMb,
        environment: {
          ...(spec.loggingFormat === 'JSON' ? { AWS_LAMBDA_LOG_FORMAT: 'JSON' } : {}),
          ...environment,
          ...this.aws.credentialsFor({ name: spec.name, roleName, statements: roleStatementsOf }),
          ...this.aws.endpointEnvironment(),
          NODE_EXTRA_CA_CERTS: caFile,
        },
      });
      this.functions.set(spec.name, { spec, runtime, statements: roleStatementsOf, environment, lambda });
    }

    const metadataUrl = resource.RESOURCE_METADATA_URL;
    const basePath = `/${stageName}`;
    const local = new LocalGateway(basePath, metadataUrl);
    await local.load(async (entry) => {
      const name = (Object.keys(FUNCTIONS) as FunctionName[]).find((candidate) => FUNCTIONS[candidate].entry === entry);
      const fn = name ? this.functions.get(name) : undefined;
      if (!fn) throw new Error(`the template has no function for ${entry}`);
      return { handler: (event: unknown) => this.invokeForGateway(fn, event) };
    });
    gateway = local;
  }

  /** API Gateway's view of an invocation: a function error is an Error with the function's message. */
  private async invokeForGateway(fn: DeployedFunction, event: unknown): Promise<never> {
    try {
      return (await fn.lambda.invoke(event)) as never;
    } catch (error) {
      if (error instanceof InvocationError) throw new Error(error.error.errorMessage);
      throw error;
    }
  }

  function(name: FunctionName): DeployedFunction {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`the template has no ${name} function`);
    return fn;
  }

  /** Invokes a function directly, as Lambda's Invoke API does. */
  invokeProxy(name: FunctionName, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    return this.function(name).lambda.invoke(event) as Promise<APIGatewayProxyResult>;
  }

  invokeAuthorizer(name: FunctionName, event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
    return this.function(name).lambda.invoke(event) as Promise<APIGatewayAuthorizerResult>;
  }

  /** Everything the functions printed. */
  logs(): string {
    return [...this.functions.values()].map((fn) => fn.lambda.output).join('\n');
  }

  async close(): Promise<void> {
    await Promise.all([...this.functions.values()].map((fn) => fn.lambda.close()));
    await this.oidc?.close();
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise((resolve) => this.server.close(resolve));
    }
    await this.aws.close();
  }
}
