/**
 * The logical ids of the resources that hold state, pinned. CloudFormation knows a resource by
 * its logical id, and CDK derives that id from the construct path: a construct moved to another
 * scope or given another id gets a new one, and `cdk deploy` then creates a new, empty resource
 * and deletes the old one (or, when it is retained, orphans it). For the clients table that
 * disconnects every registered connector; for the user pool it loses every user. A refactor
 * must keep these ids; changing one on purpose needs a migration (`cdk import`, or CloudFormation
 * refactoring) and an edit of this list.
 *
 * Log groups are left out: a new one loses no data (the old one is retained) and their ids
 * follow the route table's function names.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { GatewayStack, type GatewayStackProps } from '../../lib/gateway-stack.js';
import { newApp } from './support/app.js';

const STATEFUL_TYPES = [
  'AWS::DynamoDB::GlobalTable',
  'AWS::Cognito::UserPool',
  'AWS::Cognito::UserPoolDomain',
  'AWS::Cognito::UserPoolClient',
  'AWS::KMS::Key',
  'AWS::SecretsManager::Secret',
];

interface Pinned {
  readonly type: string;
  /** CloudFormation's default (Delete) when absent. */
  readonly deletionPolicy?: string;
}

/** What each holds, and so what a replacement would lose. */
const STORAGE: Record<string, Pinned> = {
  // Registered clients: replaced, every connector must register again (the old table is retained).
  GatewayClientsTableEF721A42: { type: 'AWS::DynamoDB::GlobalTable', deletionPolicy: 'Retain' },
  // Pending sign-ins, codes, refresh tokens: replaced, everyone signs in again.
  GatewayGrantsTableA8FF9C9D: { type: 'AWS::DynamoDB::GlobalTable', deletionPolicy: 'Delete' },
  // Replaced, every issued access token fails verification and the JWKS changes.
  GatewayAccessTokenSigningKey7D2CEE92: { type: 'AWS::KMS::Key', deletionPolicy: 'Delete' },
  // Replaced, every cookie and consent-form token is void.
  GatewayCookieSigningSecretCE1893E0: { type: 'AWS::SecretsManager::Secret', deletionPolicy: 'Delete' },
};

const INITIAL_ACCESS_TOKEN: Record<string, Pinned> = {
  // Replaced, the token handed to the people who register clients stops working.
  GatewayInitialAccessToken750036E2: { type: 'AWS::SecretsManager::Secret', deletionPolicy: 'Delete' },
};

const COGNITO_SIGN_IN: Record<string, Pinned> = {
  // Every user: replaced, the retained pool is orphaned and an empty one takes its place.
  GatewayUsersBF94DA18: { type: 'AWS::Cognito::UserPool', deletionPolicy: 'Retain' },
  // The sign-in URL, and the client id the functions are configured with.
  GatewayUsersSignInDomain1E8B4B0C: { type: 'AWS::Cognito::UserPoolDomain' },
  GatewayUsersGatewayClient403B302B: { type: 'AWS::Cognito::UserPoolClient' },
};

function statefulResources(props: GatewayStackProps): Record<string, Pinned> {
  const app = newApp();
  const resources = Template.fromStack(new GatewayStack(app, 'McpOAuthGateway', props)).toJSON().Resources as Record<
    string,
    { Type: string; DeletionPolicy?: string }
  >;
  return Object.fromEntries(
    Object.entries(resources)
      .filter(([, resource]) => STATEFUL_TYPES.includes(resource.Type))
      .map(([id, resource]) => [
        id,
        { type: resource.Type, ...(resource.DeletionPolicy ? { deletionPolicy: resource.DeletionPolicy } : {}) },
      ]),
  );
}

describe('stateful resources keep their logical ids', () => {
  it('in the default stack: tables, signing key, cookie secret and the Cognito sign-in', () => {
    expect(statefulResources({})).toEqual({ ...STORAGE, ...COGNITO_SIGN_IN });
  });

  it('with a required initial access token', () => {
    expect(statefulResources({ gateway: { requireInitialAccessToken: true } })).toEqual({
      ...STORAGE,
      ...INITIAL_ACCESS_TOKEN,
      ...COGNITO_SIGN_IN,
    });
  });

  it('with an upstream provider instead of Cognito, and without the sample MCP server', () => {
    const upstream = { issuer: 'https://login.example.com', clientId: 'gateway' };
    expect(statefulResources({ upstream, sampleMcpServer: false })).toEqual(STORAGE);
  });
});
