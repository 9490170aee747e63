/**
 * The one route table. The CDK construct builds the REST API from it and the local server
 * serves it, so a route, the function behind it, its authorizer and everything that function
 * may touch (table actions, KMS, secrets) are declared once. Plain data: importing this pulls
 * in no CDK code.
 */
import { CLIENT_CONFIGURATION_PATH, ENDPOINTS, RESOURCE_ENDPOINTS } from '../lambda/contract/endpoints.js';
import { GRANT_KEY_PREFIXES } from '../lambda/contract/tables.js';

/** DynamoDB actions a function may use on a table; its IAM grant is exactly this. */
export type TableAction = 'dynamodb:GetItem' | 'dynamodb:PutItem' | 'dynamodb:UpdateItem' | 'dynamodb:DeleteItem';

export interface FunctionSpec {
  /** Entry file under lambda/. */
  readonly entry: string;
  readonly description: string;
  /** The registered-clients table. */
  readonly clients: readonly TableAction[];
  /** Pending requests, codes, refresh tokens, cached client metadata documents. */
  readonly grants: readonly TableAction[];
  /** Restricts the grants-table actions to items whose key starts with one of these (IAM dynamodb:LeadingKeys). */
  readonly grantsKeyPrefixes?: readonly string[];
  /** dynamodb:Query on the grants table's by-subject index (a person's grants), and nothing else of it. */
  readonly grantsBySubject?: boolean;
  /** `sign`: kms:Sign on the current signing key; `publicKey`: kms:GetPublicKey on every published key. */
  readonly signingKey?: 'sign' | 'publicKey';
  /** Reads the cookie-signing secret and the upstream client secret (if any). */
  readonly secrets?: boolean;
  /** Needs the authorization server's settings (issuer, resources, scopes, upstream, lifetimes). */
  readonly server?: boolean;
  /** POST /register: reads the initial access token, when the deployment requires one. */
  readonly registration?: boolean;
  /** Needs the protected resource's settings (resource URL, metadata URL, issuer, JWKS URL). */
  readonly resourceServer?: boolean;
}

/** What the token and revocation functions touch in the grants table: grants, and what client authentication caches or spends. */
const CLIENT_AUTHENTICATION_KEYS = [
  GRANT_KEY_PREFIXES.grant,
  GRANT_KEY_PREFIXES.metadataDocument,
  GRANT_KEY_PREFIXES.jwks,
  GRANT_KEY_PREFIXES.assertion,
] as const;

export const FUNCTIONS = {
  register: {
    entry: 'register.ts',
    description: 'RFC 7591 dynamic client registration',
    clients: ['dynamodb:PutItem'],
    grants: [],
    server: true,
    registration: true,
  },
  manageClient: {
    entry: 'manage-client.ts',
    description: 'RFC 7592 client configuration: read, replace, delete',
    clients: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
    // A deleted client is remembered (deleted#) until its access tokens expire: the token authorizer refuses them.
    grants: ['dynamodb:PutItem'],
    grantsKeyPrefixes: [GRANT_KEY_PREFIXES.deletedClient],
    server: true,
  },
  redirectUriAuthorizer: {
    entry: 'redirect-uri-authorizer.ts',
    description: 'Admits GET /authorize only for a registered client and one of its redirect URIs',
    clients: ['dynamodb:GetItem'],
    // Caches Client ID Metadata Documents, and may touch nothing else in the grants table.
    grants: ['dynamodb:GetItem', 'dynamodb:PutItem'],
    grantsKeyPrefixes: [GRANT_KEY_PREFIXES.metadataDocument],
  },
  authorization: {
    entry: 'authorization.ts',
    description: 'Authorization endpoint, consent, upstream sign-in callback and the connected apps page',
    clients: [],
    // Pending sign-ins (Put, Get, Delete), a new grant per sign-in (Put); the connected apps page
    // lists the person's grants (the by-subject index) and revokes one (UpdateItem).
    grants: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
    grantsBySubject: true,
    secrets: true,
    server: true,
  },
  token: {
    entry: 'token.ts',
    description: 'Token endpoint: authorization codes, rotating refresh tokens, client credentials',
    // UpdateItem records a client's use (idle expiry), at most once a day.
    clients: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    // A grant's code and refresh tokens change by conditional UpdateItem (GetItem only on a
    // refusal); a client_credentials token's grant record is one PutItem; a client's metadata
    // document and JWKS are cached (Get/Put), and a private_key_jwt assertion's jti is spent by
    // one conditional PutItem.
    grants: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    // An ID-JAG's jti is spent by one conditional PutItem under its own prefix (idjag#).
    grantsKeyPrefixes: [...CLIENT_AUTHENTICATION_KEYS, GRANT_KEY_PREFIXES.idJagAssertion],
    signingKey: 'sign',
    server: true,
  },
  revoke: {
    entry: 'revoke.ts',
    description: 'RFC 7009 token revocation',
    clients: ['dynamodb:GetItem'],
    // One conditional UpdateItem of the grant the token names; client authentication as at /token.
    grants: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    grantsKeyPrefixes: CLIENT_AUTHENTICATION_KEYS,
    // An access token presented for revocation is verified (its sid names the grant it ends).
    signingKey: 'publicKey',
    // The issuer: a private_key_jwt assertion's audience.
    server: true,
  },
  metadata: {
    entry: 'metadata.ts',
    description: 'RFC 8414 authorization server metadata',
    clients: [],
    grants: [],
    server: true,
  },
  jwks: {
    entry: 'jwks.ts',
    description: 'Public keys of the access-token signing keys',
    clients: [],
    grants: [],
    signingKey: 'publicKey',
  },
  tokenAuthorizer: {
    entry: 'token-authorizer.ts',
    description: 'Admits MCP requests only with a valid access token of this gateway',
    clients: [],
    // The state of the grant a token names (revoked, expired), one GetItem per grant per cache period.
    grants: ['dynamodb:GetItem'],
    grantsKeyPrefixes: [GRANT_KEY_PREFIXES.grant, GRANT_KEY_PREFIXES.deletedClient],
    resourceServer: true,
  },
  protectedResourceMetadata: {
    entry: 'protected-resource-metadata.ts',
    description: 'RFC 9728 protected resource metadata of the MCP server',
    clients: [],
    grants: [],
    resourceServer: true,
  },
  mcpServer: {
    entry: 'mcp-server.ts',
    description: 'Sample MCP server (Streamable HTTP, stateless) behind the token authorizer',
    clients: [],
    grants: [],
    resourceServer: true,
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;

export interface AuthorizerSpec {
  readonly function: FunctionName;
  /**
   * Query parameters API Gateway requires before it calls the authorizer; a request without
   * one is answered by the UNAUTHORIZED gateway response and never reaches the function.
   * redirect_uri is deliberately absent: it may be omitted when a client has one URI.
   */
  readonly identityQueryParameters: readonly string[];
  /** Headers API Gateway requires likewise. */
  readonly identityHeaders: readonly string[];
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
    identityHeaders: [],
    resultsCacheTtlSeconds: 0,
  },
  accessToken: {
    function: 'tokenAuthorizer',
    identityQueryParameters: [],
    identityHeaders: ['Authorization'],
    resultsCacheTtlSeconds: 0,
  },
} as const satisfies Record<string, AuthorizerSpec>;

export type AuthorizerName = keyof typeof AUTHORIZERS;

/**
 * Gateway responses belong to a whole REST API, and the resource's 401 (a Bearer challenge) and
 * the /authorize refusal cannot share one, so the MCP server is a second API.
 */
export type ApiName = 'authorization' | 'resource';

export interface RouteSpec {
  /** Default: the authorization server's API. */
  readonly api?: ApiName;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway resource path, `{name}` for path parameters. */
  readonly path: string;
  readonly function: FunctionName;
  readonly authorizer?: AuthorizerName;
  /** Routes where anyone on the internet can make the server write get their own method throttling. */
  readonly throttled?: boolean;
  /** Readable by browser-based clients from any origin (a preflight, and CORS headers on errors). */
  readonly cors?: boolean;
}

export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', path: ENDPOINTS.metadata, function: 'metadata', cors: true },
  { method: 'GET', path: ENDPOINTS.openidConfiguration, function: 'metadata', cors: true },
  { method: 'POST', path: ENDPOINTS.registration, function: 'register', throttled: true, cors: true },
  { method: 'GET', path: CLIENT_CONFIGURATION_PATH, function: 'manageClient', cors: true },
  { method: 'PUT', path: CLIENT_CONFIGURATION_PATH, function: 'manageClient', cors: true },
  { method: 'DELETE', path: CLIENT_CONFIGURATION_PATH, function: 'manageClient', cors: true },
  { method: 'GET', path: ENDPOINTS.authorization, function: 'authorization', authorizer: 'redirectUri' },
  { method: 'POST', path: ENDPOINTS.consent, function: 'authorization' },
  { method: 'GET', path: ENDPOINTS.callback, function: 'authorization' },
  // Without a session, GET /account stores a pending sign-in: anyone can make it write.
  { method: 'GET', path: ENDPOINTS.account, function: 'authorization', throttled: true },
  { method: 'POST', path: ENDPOINTS.account, function: 'authorization' },
  { method: 'POST', path: ENDPOINTS.token, function: 'token', throttled: true, cors: true },
  { method: 'POST', path: ENDPOINTS.revocation, function: 'revoke', cors: true },
  { method: 'GET', path: ENDPOINTS.jwks, function: 'jwks', cors: true },
  ...(['POST', 'GET', 'DELETE'] as const).map(
    (method): RouteSpec => ({
      api: 'resource',
      method,
      path: RESOURCE_ENDPOINTS.mcp,
      function: 'mcpServer',
      authorizer: 'accessToken',
      cors: true,
    }),
  ),
  {
    api: 'resource',
    method: 'GET',
    path: RESOURCE_ENDPOINTS.protectedResourceMetadata,
    function: 'protectedResourceMetadata',
    cors: true,
  },
];

export function apiOf(route: RouteSpec): ApiName {
  return route.api ?? 'authorization';
}

export function routesOf(api: ApiName): RouteSpec[] {
  return ROUTES.filter((route) => apiOf(route) === api);
}

/** Each CORS path with the methods its preflight allows. */
export function corsPaths(routes: readonly RouteSpec[]): Map<string, string[]> {
  const paths = new Map<string, string[]>();
  for (const route of routes.filter((candidate) => candidate.cors)) {
    paths.set(route.path, [...(paths.get(route.path) ?? []), route.method]);
  }
  return paths;
}
