/**
 * The one route table. The CDK construct builds the REST API from it and the local server
 * serves it, so a route, the function behind it, its authorizer and the table actions that
 * function may use are declared once. Plain data: importing this pulls in no CDK code.
 */

/** DynamoDB actions a function may use on the clients table; its IAM grant is exactly this. */
export type TableAction = 'dynamodb:GetItem' | 'dynamodb:PutItem';

export interface FunctionSpec {
  /** Entry file under lambda/. */
  readonly entry: string;
  readonly description: string;
  readonly tableActions: readonly TableAction[];
}

export const FUNCTIONS = {
  register: {
    entry: 'register.ts',
    description: 'RFC 7591 dynamic client registration',
    tableActions: ['dynamodb:PutItem'],
  },
  redirectUriAuthorizer: {
    entry: 'redirect-uri-authorizer.ts',
    description: 'Admits GET /authorize only for a registered client and one of its redirect URIs',
    tableActions: ['dynamodb:GetItem'],
  },
  authorize: {
    entry: 'authorize.ts',
    description: 'Placeholder authorization backend: validates the rest of the request',
    tableActions: [],
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;

export interface AuthorizerSpec {
  readonly function: FunctionName;
  /**
   * Query parameters API Gateway requires before it calls the authorizer; a request without
   * one is answered 401 (the UNAUTHORIZED gateway response) and never reaches the function.
   * redirect_uri is deliberately absent: it may be omitted when a client has one URI.
   */
  readonly identityQueryParameters: readonly string[];
  /**
   * 0: no result caching, so a changed or deleted client takes effect on the next request.
   * A cache keyed only on the identity sources could replay an Allow for another redirect_uri.
   */
  readonly resultsCacheTtlSeconds: 0;
}

export const AUTHORIZERS = {
  redirectUri: {
    function: 'redirectUriAuthorizer',
    identityQueryParameters: ['client_id'],
    resultsCacheTtlSeconds: 0,
  },
} as const satisfies Record<string, AuthorizerSpec>;

export type AuthorizerName = keyof typeof AUTHORIZERS;

export interface RouteSpec {
  readonly method: 'GET' | 'POST';
  /** API Gateway resource path, `{name}` for path parameters. */
  readonly path: string;
  readonly function: FunctionName;
  readonly authorizer?: AuthorizerName;
  /** Routes open to anyone on the internet get their own method throttling. */
  readonly throttled?: boolean;
}

export const ROUTES: readonly RouteSpec[] = [
  { method: 'POST', path: '/register', function: 'register', throttled: true },
  { method: 'GET', path: '/authorize', function: 'authorize', authorizer: 'redirectUri' },
];
