/**
 * One REST API built from the route table: its stage (access logs, throttling), its gateway
 * responses, CORS preflights, and for every route the function, authorizer and integration.
 * The authorization server's API and the MCP server's API are both built by this.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CORS } from '../lambda/contract/cors.js';
import { BUNDLING, functionSource } from './bundling.js';
import { functionEnvironment, type GatewaySettings } from './function-environment.js';
import { gatewayResponseHeaders, gatewayResponsesFor } from './gateway-responses.js';
import {
  type ApiName,
  AUTHORIZERS,
  type AuthorizerName,
  corsPaths,
  FUNCTIONS,
  type FunctionName,
  type FunctionSpec,
  routesOf,
} from './routes.js';

export interface ThrottleSettings {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the rate. */
  readonly burstLimit: number;
}

export interface RouteTableApiProps {
  readonly api: ApiName;
  readonly description: string;
  readonly stageName: string;
  readonly logRetention: logs.RetentionDays;
  /** Method throttling on the routes the table marks `throttled`. Default: none of their own. */
  readonly throttle?: ThrottleSettings;
  /** Default throttling of every method of the stage (routes with their own keep theirs). Default: the account's. */
  readonly stageThrottle?: ThrottleSettings;
  /** Create the account-level role API Gateway writes access logs with (one per account and region). */
  readonly cloudWatchRole: boolean;
  readonly disableExecuteApiEndpoint?: boolean;
  readonly sourceMaps: boolean;
  /** AWS X-Ray tracing of the stage and the functions. */
  readonly tracing?: boolean;
  /** The stage presents this API Gateway client certificate to HTTP backends. Default: none. */
  readonly clientCertificateId?: string;
}

export interface RouteOptions {
  readonly settings: GatewaySettings;
  /** Grants a function exactly what its route-table entry declares. */
  readonly grantAccess: (fn: NodejsFunction, spec: FunctionSpec) => void;
  /** Integrations replacing a route's function, keyed `METHOD /path`. */
  readonly integrations?: Readonly<Record<string, apigw.Integration>>;
}

export class RouteTableApi extends Construct {
  readonly restApi: apigw.RestApi;
  readonly apiName: ApiName;
  readonly tracing: boolean;
  /** Whether this API created the account-level CloudWatch role (and AWS::ApiGateway::Account). */
  readonly cloudWatchRole: boolean;
  /** Set by whoever associates a WAF web ACL with this API's stage. */
  hasWebAcl = false;
  /** The stage's URL without a trailing slash, built without referring to the Stage resource. */
  readonly baseUrl: string;
  readonly functions: Partial<Record<FunctionName, NodejsFunction>> = {};
  /** Methods by route, e.g. `POST /register`, and `OPTIONS /register` for CORS preflights. */
  readonly methods: Record<string, apigw.Method> = {};
  private readonly authorizers: Partial<Record<AuthorizerName, apigw.RequestAuthorizer>> = {};
  private options: RouteOptions | undefined;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: RouteTableApiProps,
  ) {
    super(scope, id);
    this.apiName = props.api;
    this.tracing = props.tracing ?? false;
    this.cloudWatchRole = props.cloudWatchRole;
    const { throttle, stageThrottle } = props;
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.restApi = new apigw.RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-${props.api}`,
      description: props.description,
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole: props.cloudWatchRole,
      ...(props.cloudWatchRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      disableExecuteApiEndpoint: props.disableExecuteApiEndpoint ?? false,
      deployOptions: {
        stageName: props.stageName,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        // Standard fields carry no query string, so no OAuth parameter is ever logged.
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: props.tracing ?? false,
        ...(props.clientCertificateId ? { clientCertificateId: props.clientCertificateId } : {}),
        ...(stageThrottle
          ? { throttlingRateLimit: stageThrottle.rateLimit, throttlingBurstLimit: stageThrottle.burstLimit }
          : {}),
        methodOptions: throttle
          ? Object.fromEntries(
              routesOf(props.api)
                .filter((route) => route.throttled)
                .map((route) => [
                  `${route.path}/${route.method}`,
                  { throttlingRateLimit: throttle.rateLimit, throttlingBurstLimit: throttle.burstLimit },
                ]),
            )
          : {},
      },
    });
    // RestApi's own `Endpoint` output names the execute-api URL, which is off then: no output that lies.
    if (props.disableExecuteApiEndpoint) this.restApi.node.tryRemoveChild('Endpoint');
    const stack = Stack.of(this);
    // The API id and the literal stage name: referring to the Stage itself would make every
    // function depend on the deployment that depends on them.
    this.baseUrl = `https://${this.restApi.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${props.stageName}`;
  }

  /** Adds the gateway responses, preflights and routes; call once the settings are known. */
  addRoutes(options: RouteOptions): void {
    this.options = options;
    const { api } = this.props;
    const metadataUrl = options.settings.resourceServer?.metadataUrl ?? '';
    const requiredScopes = options.settings.resourceServer?.requiredScopes;
    for (const response of gatewayResponsesFor(api, metadataUrl, requiredScopes)) {
      this.restApi.addGatewayResponse(response.type, {
        type: apigw.ResponseType.of(response.type),
        ...(response.statusCode ? { statusCode: String(response.statusCode) } : {}),
        responseHeaders: Object.fromEntries(
          Object.entries(gatewayResponseHeaders(response)).map(([name, value]) => [name, `'${value}'`]),
        ),
        templates: { 'application/json': response.template },
      });
    }
    const routes = routesOf(api);
    for (const [path, methods] of corsPaths(routes)) {
      this.methods[`OPTIONS ${path}`] = this.restApi.root.resourceForPath(path).addCorsPreflight({
        allowOrigins: [CORS.allowOrigin],
        allowHeaders: [...CORS.allowHeaders],
        allowMethods: methods,
        exposeHeaders: [...CORS.exposeHeaders],
        maxAge: Duration.seconds(CORS.maxAgeSeconds),
      });
    }
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      const integration = options.integrations?.[key] ?? new apigw.LambdaIntegration(this.functionFor(route.function));
      const authorizer = route.authorizer ? this.authorizerFor(route.authorizer) : undefined;
      this.methods[key] = this.restApi.root.resourceForPath(route.path).addMethod(route.method, integration, {
        ...(authorizer ? { authorizer, authorizationType: apigw.AuthorizationType.CUSTOM } : {}),
      });
    }
  }

  /** Creates a route-table function once: its own role, its own log group, exactly its grants. */
  private functionFor(name: FunctionName): NodejsFunction {
    const existing = this.functions[name];
    if (existing) return existing;
    if (!this.options) throw new Error('addRoutes first');
    const spec: FunctionSpec = FUNCTIONS[name];
    const logGroup = new logs.LogGroup(this, `${name}Logs`, { retention: this.props.logRetention });
    const role = new iam.Role(this, `${name}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${spec.description} (logs to its own group only)`,
    });
    logGroup.grantWrite(role);
    const fn = new NodejsFunction(this, `${name}Function`, {
      ...functionSource(spec.entry),
      description: spec.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
      timeout: Duration.seconds(10),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      ...(this.props.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
      environment: functionEnvironment(spec, this.options.settings),
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLING.target,
        platform: BUNDLING.platform,
        mainFields: [...BUNDLING.mainFields],
        minify: BUNDLING.minify,
        sourceMap: this.props.sourceMaps,
        sourcesContent: false,
        // Bundle the AWS SDK too: a pinned, tree-shaken client starts faster than the runtime's copy.
        externalModules: [],
        banner: BUNDLING.banner,
      },
    });
    this.options.grantAccess(fn, spec);
    this.functions[name] = fn;
    return fn;
  }

  private authorizerFor(name: AuthorizerName): apigw.RequestAuthorizer {
    const existing = this.authorizers[name];
    if (existing) return existing;
    const spec = AUTHORIZERS[name];
    const authorizer = new apigw.RequestAuthorizer(this, `${name}RequestAuthorizer`, {
      handler: this.functionFor(spec.function),
      identitySources: [
        ...spec.identityQueryParameters.map((parameter) => apigw.IdentitySource.queryString(parameter)),
        ...spec.identityHeaders.map((header) => apigw.IdentitySource.header(header)),
      ],
      resultsCacheTtl: Duration.seconds(spec.resultsCacheTtlSeconds),
    });
    this.authorizers[name] = authorizer;
    return authorizer;
  }
}
