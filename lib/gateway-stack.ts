/** The deployable stack: the gateway construct, its outputs, and the acknowledged cdk-nag findings. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ENDPOINTS } from '../lambda/contract/endpoints.js';
import { type McpBackend, McpResourceServer } from './mcp-resource-server.js';
import { acknowledgeApiFindings, acknowledgeNagFindings } from './nag-suppressions.js';
import { OAuthGateway, type OAuthGatewayProps } from './oauth-gateway.js';

export interface GatewayStackProps extends StackProps {
  readonly gateway?: OAuthGatewayProps;
  /** Deploy an MCP server behind the gateway's tokens. Default: true. */
  readonly sampleMcpServer?: boolean;
  /** What serves that MCP server's /mcp. Default: the bundled sample server. */
  readonly mcpBackend?: McpBackend;
  /** Origins that MCP server accepts browser requests from (McpResourceServerProps.allowedOrigins). Default: any. */
  readonly mcpAllowedOrigins?: string[];
  /** A custom domain by name and the ARN of its ACM certificate (same region). */
  readonly customDomain?: { domainName: string; certificateArn: string };
  /** An OpenID provider by configuration, its client secret (if any) named by ARN. */
  readonly upstream?: { issuer: string; clientId: string; clientSecretArn?: string; scope?: string };
}

export class GatewayStack extends Stack {
  readonly gateway: OAuthGateway;
  readonly mcpServer?: McpResourceServer;

  constructor(scope: Construct, id: string, props: GatewayStackProps = {}) {
    super(scope, id, props);
    const { upstream, customDomain } = props;
    this.gateway = new OAuthGateway(this, 'Gateway', {
      ...props.gateway,
      ...(customDomain
        ? {
            customDomain: {
              domainName: customDomain.domainName,
              certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', customDomain.certificateArn),
            },
          }
        : {}),
      ...(upstream
        ? {
            upstream: {
              issuer: upstream.issuer,
              clientId: upstream.clientId,
              ...(upstream.scope ? { scope: upstream.scope } : {}),
              ...(upstream.clientSecretArn
                ? {
                    clientSecret: secretsmanager.Secret.fromSecretCompleteArn(
                      this,
                      'UpstreamClientSecret',
                      upstream.clientSecretArn,
                    ),
                  }
                : {}),
            },
          }
        : {}),
    });

    if (props.sampleMcpServer ?? true) {
      this.mcpServer = new McpResourceServer(this, 'McpServer', {
        gateway: this.gateway,
        backend: props.mcpBackend ?? { sample: true },
        ...(props.mcpBackend ? {} : { resourceName: 'Sample MCP server' }),
        ...(props.mcpAllowedOrigins ? { allowedOrigins: props.mcpAllowedOrigins } : {}),
      });
      acknowledgeApiFindings(this.mcpServer.routes);
      // The MCP server's own execute-api endpoint, which stays on with a custom domain on the gateway.
      new CfnOutput(this, 'McpServerUrl', {
        description: `The ${props.mcpBackend ? '' : 'sample '}MCP server: give this URL to an MCP client (custom connector, Claude Code, VS Code)`,
        value: this.mcpServer.resourceUrl,
      });
    }
    // From the issuer, not api.url: with a custom domain the execute-api endpoint is off.
    new CfnOutput(this, 'ApiUrl', {
      // The URL ends in a slash, so the endpoint paths are named without their leading one.
      description: `Base URL of the gateway; clients register at <ApiUrl>${ENDPOINTS.registration.slice(1)}`,
      value: `${this.gateway.issuer}/`,
    });
    new CfnOutput(this, 'RegistrationEndpoint', {
      description: 'RFC 7591 registration endpoint',
      value: `${this.gateway.issuer}${ENDPOINTS.registration}`,
    });
    if (this.gateway.domain) {
      new CfnOutput(this, 'CustomDomainTarget', {
        description: 'Point the custom domain (CNAME or alias) at this regional name',
        value: this.gateway.domain.domainNameAliasDomainName,
      });
    }
    new CfnOutput(this, 'Issuer', {
      description: `OAuth issuer; metadata at <Issuer>${ENDPOINTS.metadata}`,
      value: this.gateway.issuer,
    });
    if (this.gateway.signIn) {
      new CfnOutput(this, 'UserPoolId', {
        description: 'Cognito user pool people sign in with; create the first user here',
        value: this.gateway.signIn.userPool.userPoolId,
      });
    }
    new CfnOutput(this, 'ClientsTableName', {
      description: 'DynamoDB table of registered clients (retained when the stack is deleted)',
      value: this.gateway.tables.clients.tableName,
    });
    new CfnOutput(this, 'GrantsTableName', {
      description: 'DynamoDB table of grants (sign-ins), for the admin CLI: npm run admin -- --grants-table <this>',
      value: this.gateway.tables.grants.tableName,
    });
    acknowledgeNagFindings(this.gateway);
  }
}
