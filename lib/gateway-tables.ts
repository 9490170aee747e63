/**
 * The gateway's stateful storage, apart from the stateless API and functions: the registered
 * clients table and the grants table (pending sign-ins, codes, refresh tokens, cached client
 * metadata documents), and the IAM grants that confine a function to the table actions, and
 * grants-table items, the route table declares for it.
 *
 * Not a node of its own in the construct tree: the tables are created in the scope given, under
 * the ids they have always had there. A logical id is a table's identity to CloudFormation, and
 * a new one replaces the table: the retained clients table would be orphaned (every connector
 * registers again) and the grants table deleted (everyone signs in again). test/infra pins them.
 * Handing it another scope, a stack of its own, is the way to split storage off later; that
 * move is a migration (`cdk import`), not a refactor.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { GRANTS_BY_SUBJECT_INDEX } from '../lambda/contract/grants-index.js';
import {
  CLIENTS_TABLE_KEY,
  CLIENTS_TABLE_TTL_ATTRIBUTE,
  GRANTS_TABLE_KEY,
  GRANTS_TABLE_TTL_ATTRIBUTE,
} from '../lambda/contract/tables.js';
import type { FunctionSpec } from './routes.js';

/** The part of a route-table entry that says what a function may do to the tables. */
export type TableAccess = Pick<FunctionSpec, 'clients' | 'grants' | 'grantsKeyPrefixes' | 'grantsBySubject'>;

export class GatewayTables {
  /** One item per registered client, keyed by client_id; a registration never activated is removed by TTL. */
  readonly clients: dynamodb.TableV2;
  /** Short-lived state under `<kind>#<id or hash>`, removed by TTL; grants indexed by subject. */
  readonly grants: dynamodb.TableV2;

  constructor(scope: Construct) {
    this.clients = new dynamodb.TableV2(scope, 'ClientsTable', {
      partitionKey: { name: CLIENTS_TABLE_KEY, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      // Registration activation: a client that obtained no token in time (domain/client-activity.ts).
      // Enabling TTL on an existing table updates it in place; it keeps its logical id and items.
      timeToLiveAttribute: CLIENTS_TABLE_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // Registered clients outlive the stack: deleting it must not disconnect every connector.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.grants = new dynamodb.TableV2(scope, 'GrantsTable', {
      partitionKey: { name: GRANTS_TABLE_KEY, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: GRANTS_TABLE_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Short-lived state only (pending requests, codes, refresh tokens): losing it signs people out.
      removalPolicy: RemovalPolicy.DESTROY,
      // Who holds access, for the admin CLI (lambda/admin/): one Query lists or off-boards a person.
      // The only index, on purpose: DynamoDB (so CloudFormation) creates at most one global
      // secondary index per table update, and a second one in the same deploy would fail to
      // update an existing stack. Listing by client is a paged Scan with a filter (admin
      // operations are rare); a second index, if ever needed, must come in a deploy of its own.
      globalSecondaryIndexes: [
        {
          indexName: GRANTS_BY_SUBJECT_INDEX.name,
          partitionKey: { name: GRANTS_BY_SUBJECT_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
          sortKey: { name: GRANTS_BY_SUBJECT_INDEX.sortKey, type: dynamodb.AttributeType.NUMBER },
          projectionType: dynamodb.ProjectionType.INCLUDE,
          nonKeyAttributes: [...GRANTS_BY_SUBJECT_INDEX.projected],
        },
      ],
    });
  }

  /**
   * Exactly the declared actions: on the clients table, and on the grants table, confined by
   * dynamodb:LeadingKeys to the items under grantsKeyPrefixes when the entry names them.
   */
  grantAccess(grantee: iam.IGrantable, access: TableAccess): void {
    if (access.clients.length > 0) this.clients.grant(grantee, ...access.clients);
    if (access.grantsBySubject) {
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['dynamodb:Query'],
        resourceArns: [`${this.grants.tableArn}/index/${GRANTS_BY_SUBJECT_INDEX.name}`],
      });
    }
    if (access.grants.length === 0) return;
    if (access.grantsKeyPrefixes && access.grantsKeyPrefixes.length > 0) {
      iam.Grant.addToPrincipal({
        grantee,
        actions: [...access.grants],
        resourceArns: [this.grants.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': access.grantsKeyPrefixes.map((prefix) => `${prefix}*`) },
        },
      });
    } else {
      // The table alone, not its index (table.grant would add `index/*`): Query is granted above, by name.
      iam.Grant.addToPrincipal({ grantee, actions: [...access.grants], resourceArns: [this.grants.tableArn] });
    }
  }
}
