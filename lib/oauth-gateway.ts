/**
 * The reusable construct: the clients table, one function per entry of the route table, the
 * REST API with its redirect-URI authorizer and OAuth-shaped gateway responses.
 * Stack-level concerns (outputs, cdk-nag) live in gateway-stack.ts.
 */
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, METRICS_NAMESPACE, redirectUriPolicyEnv, SERVICE_NAME } from '../lambda/config.js';
import { DEFAULT_REDIRECT_URI_POLICY, type RedirectUriPolicy } from '../lambda/domain/redirect-uri-policy.js';
import { CLIENTS_TABLE_KEY } from '../lambda/store/dynamodb-client-store.js';
import { BUNDLING } from './bundling.js';
import { GATEWAY_RESPONSE_HEADERS, GATEWAY_RESPONSES } from './gateway-responses.js';
import { AUTHORIZERS, type AuthorizerName, FUNCTIONS, type FunctionName, ROUTES } from './routes.js';

const LAMBDA_DIR = fileURLToPath(new URL('../lambda/', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface ThrottleSettings {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the rate. */
  readonly burstLimit: number;
}

export interface OAuthGatewayProps {
  /** Which redirect URIs clients may register. Default: https anywhere, http on loopback, private-use schemes. */
  readonly redirectUriPolicy?: RedirectUriPolicy;
  /** Method throttling on the open registration endpoint. Default: 5 requests/s, burst 10. */
  readonly registerThrottle?: ThrottleSettings;
  /** Retention of function and access logs. Default: one month. */
  readonly logRetention?: logs.RetentionDays;
  /** API Gateway stage name; it is part of the URL without a custom domain. Default: `v1`. */
  readonly stageName?: string;
  /**
   * What receives GET /authorize once the redirect-URI authorizer allowed it. The authorizer's
   * context (clientId, clientName, redirectUri, tokenEndpointAuthMethod) reaches it as
   * `requestContext.authorizer`. Default: the built-in backend function.
   */
  readonly authorizeIntegration?: apigw.Integration;
  /**
   * Create the account-wide role API Gateway needs to write access logs. Turn off when the
   * account already has one configured (it is a single setting per account and region).
   * Default: true.
   */
  readonly apiGatewayCloudWatchRole?: boolean;
  /**
   * Ship source maps and enable them at runtime so logged stack traces name TypeScript
   * sources. Measured cost: see README (Cold start). Default: true.
   */
  readonly sourceMaps?: boolean;
}

export class OAuthGateway extends Construct {
  readonly table: dynamodb.TableV2;
  readonly api: apigw.RestApi;
  readonly functions: Partial<Record<FunctionName, NodejsFunction>> = {};
  /** API methods by route, e.g. `POST /register`. */
  readonly methods: Record<string, apigw.Method> = {};
  private readonly authorizers: Partial<Record<AuthorizerName, apigw.RequestAuthorizer>> = {};

  constructor(
    scope: Construct,
    id: string,
    private readonly props: OAuthGatewayProps = {},
  ) {
    super(scope, id);

    this.table = new dynamodb.TableV2(this, 'ClientsTable', {
      partitionKey: { name: CLIENTS_TABLE_KEY, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // Registered clients outlive the stack: deleting it must not disconnect every connector.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention });
    const registerThrottle = props.registerThrottle ?? { rateLimit: 5, burstLimit: 10 };

    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-oauth`,
      description: 'OAuth client registration and redirect-URI gateway for MCP servers',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole: props.apiGatewayCloudWatchRole ?? true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        // Standard fields carry no query string, so no OAuth parameter is ever logged.
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        methodOptions: Object.fromEntries(
          ROUTES.filter((route) => route.throttled).map((route) => [
            `${route.path}/${route.method}`,
            { throttlingRateLimit: registerThrottle.rateLimit, throttlingBurstLimit: registerThrottle.burstLimit },
          ]),
        ),
      },
    });

    for (const response of GATEWAY_RESPONSES) {
      this.api.addGatewayResponse(response.type, {
        type: apigw.ResponseType.of(response.type),
        ...(response.statusCode ? { statusCode: String(response.statusCode) } : {}),
        responseHeaders: Object.fromEntries(
          Object.entries(GATEWAY_RESPONSE_HEADERS).map(([name, value]) => [name, `'${value}'`]),
        ),
        templates: { 'application/json': response.template },
      });
    }

    for (const route of ROUTES) {
      const integration =
        route.path === '/authorize' && props.authorizeIntegration
          ? props.authorizeIntegration
          : new apigw.LambdaIntegration(this.functionFor(route.function));
      const authorizer = route.authorizer ? this.authorizerFor(route.authorizer) : undefined;
      this.methods[`${route.method} ${route.path}`] = this.api.root
        .resourceForPath(route.path)
        .addMethod(route.method, integration, {
          ...(authorizer ? { authorizer, authorizationType: apigw.AuthorizationType.CUSTOM } : {}),
        });
    }
  }

  /** Creates a route table function once: its own role, log group, and exactly its table actions. */
  private functionFor(name: FunctionName): NodejsFunction {
    const existing = this.functions[name];
    if (existing) return existing;
    const spec = FUNCTIONS[name];
    const sourceMaps = this.props.sourceMaps ?? true;
    const logGroup = new logs.LogGroup(this, `${name}Logs`, {
      retention: this.props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    const role = new iam.Role(this, `${name}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${spec.description} (logs to its own group only)`,
    });
    logGroup.grantWrite(role);

    const fn = new NodejsFunction(this, `${name}Function`, {
      entry: `${LAMBDA_DIR}${spec.entry}`,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      description: spec.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
      timeout: Duration.seconds(10),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        ...(spec.tableActions.length > 0 ? { [ENV.tableName]: this.table.tableName } : {}),
        ...redirectUriPolicyEnv(this.props.redirectUriPolicy ?? DEFAULT_REDIRECT_URI_POLICY),
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLING.target,
        platform: BUNDLING.platform,
        mainFields: [...BUNDLING.mainFields],
        minify: BUNDLING.minify,
        sourceMap: sourceMaps,
        sourcesContent: false,
        // Bundle the AWS SDK too: a pinned, tree-shaken client starts faster than the runtime's copy.
        externalModules: [],
        banner: BUNDLING.banner,
      },
    });
    if (spec.tableActions.length > 0) this.table.grant(fn, ...spec.tableActions);
    this.functions[name] = fn;
    return fn;
  }

  private authorizerFor(name: AuthorizerName): apigw.RequestAuthorizer {
    const existing = this.authorizers[name];
    if (existing) return existing;
    const spec = AUTHORIZERS[name];
    const authorizer = new apigw.RequestAuthorizer(this, `${name}RequestAuthorizer`, {
      handler: this.functionFor(spec.function),
      identitySources: spec.identityQueryParameters.map((parameter) => apigw.IdentitySource.queryString(parameter)),
      resultsCacheTtl: Duration.seconds(spec.resultsCacheTtlSeconds),
    });
    this.authorizers[name] = authorizer;
    return authorizer;
  }
}
