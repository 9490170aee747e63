/** The deployable stack: the gateway construct, its outputs, and the acknowledged cdk-nag findings. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { acknowledgeNagFindings } from './nag-suppressions.js';
import { OAuthGateway, type OAuthGatewayProps } from './oauth-gateway.js';

export interface GatewayStackProps extends StackProps {
  readonly gateway?: OAuthGatewayProps;
}

export class GatewayStack extends Stack {
  readonly gateway: OAuthGateway;

  constructor(scope: Construct, id: string, props: GatewayStackProps = {}) {
    super(scope, id, props);
    this.gateway = new OAuthGateway(this, 'Gateway', props.gateway);

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the gateway; clients register at <ApiUrl>register',
      value: this.gateway.api.url,
    });
    new CfnOutput(this, 'RegistrationEndpoint', {
      description: 'RFC 7591 registration endpoint',
      value: this.gateway.api.urlForPath('/register'),
    });
    new CfnOutput(this, 'ClientsTableName', {
      description: 'DynamoDB table of registered clients (retained when the stack is deleted)',
      value: this.gateway.table.tableName,
    });
    acknowledgeNagFindings(this.gateway);
  }
}
