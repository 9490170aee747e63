/**
 * The default upstream OpenID provider: a Cognito user pool with a hosted sign-in domain and a
 * public app client (PKCE, no secret) that calls back to the gateway's /callback. The gateway
 * creates it only when no `upstream` is given.
 *
 * Not a node of its own in the construct tree: the pool, its domain and its client are created
 * in the scope given, under the ids they have always had there. A logical id is a resource's
 * identity to CloudFormation, and a new one replaces it: the retained pool (every user) would be
 * orphaned and an empty one created, with a new client id and sign-in domain. test/infra pins them.
 */
import { Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import * as validate from './validation.js';

export interface CognitoSignInProps {
  /** The gateway's callback URL (`<issuer>/callback`), the app client's only redirect URI. */
  readonly callbackUrl: string;
  /** Prefix of the hosted sign-in domain. Default: see defaultCognitoDomainPrefix. */
  readonly domainPrefix?: string;
}

/** What the gateway needs of an OpenID provider it signs people in at. */
export interface SignInProvider {
  /** OpenID issuer URL; its discovery document is read at the first sign-in. */
  readonly issuer: string;
  readonly clientId: string;
  readonly scope: string;
}

export class CognitoSignIn {
  readonly userPool: cognito.UserPool;
  readonly domain: cognito.UserPoolDomain;
  /** Public client: no secret to store, and no custom resource to read one. */
  readonly client: cognito.UserPoolClient;
  readonly provider: SignInProvider;

  constructor(scope: Construct, props: CognitoSignInProps) {
    this.userPool = new cognito.UserPool(scope, 'Users', {
      // The first user is created by an administrator (see README); nobody signs themselves up.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.domain = this.userPool.addDomain('SignInDomain', {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? defaultCognitoDomainPrefix(Stack.of(scope)) },
    });
    this.client = this.userPool.addClient('GatewayClient', {
      generateSecret: false,
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls: [props.callbackUrl],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
    });
    this.provider = {
      issuer: this.userPool.userPoolProviderUrl,
      clientId: this.client.userPoolClientId,
      scope: 'openid email',
    };
  }
}

/** Cognito prefixes hold at most 63 characters: the name part leaves room for `-` and 8 hex digits. */
const PREFIX_NAME_LENGTH = 63 - 9;

/** The stack name as a Cognito prefix: lowercase, `[a-z0-9-]`, no reserved word, no edge hyphen. */
export function cognitoPrefixName(stackName: string): string {
  let name = Token.isUnresolved(stackName) ? '' : stackName.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  // Removing one word can join two halves into another ("aawsws"), so repeat until nothing changes.
  for (let previous = ''; previous !== name; ) {
    previous = name;
    for (const word of validate.COGNITO_RESERVED_WORDS) name = name.replaceAll(word, '');
  }
  name = name.replace(/-+/g, '-').replace(/^-/, '').slice(0, PREFIX_NAME_LENGTH).replace(/-$/, '');
  return name === '' ? 'mcp-gateway' : name;
}

/**
 * The default Cognito domain prefix: the sanitized stack name and the first 8 hex digits of
 * the UUID at the end of the stack's CloudFormation id (`arn:...:stack/<name>/<uuid>`).
 * The prefix is public (it is the sign-in URL) and global per region across all accounts, so
 * it must be unique without naming the account. A synth-time hash of the stack name and
 * construct path would be the same for everyone who deploys this project under the default
 * stack name, and the second deployment in a region would find the prefix taken; the account
 * id (the old default) is unique but leaks. The stack's UUID is random per stack, resolved by
 * CloudFormation, stable across updates, and says nothing about the account. Hex digits hold
 * no reserved word, and the hyphen keeps the two parts from forming one.
 */
export function defaultCognitoDomainPrefix(stack: Stack): string {
  const name = cognitoPrefixName(stack.stackName);
  // What the token resolves to has this shape: check the concrete part against the rule now.
  validate.cognitoDomainPrefix('the default cognitoDomainPrefix', `${name}-00000000`);
  const stackUuid = Fn.select(2, Fn.split('/', stack.stackId));
  return `${name}-${Fn.select(0, Fn.split('-', stackUuid))}`;
}
