/**
 * The package's constructs, as a user's CDK app imports them: `import { OAuthGateway,
 * McpResourceServer } from 'mcp-oauth-gateway'`. The runtime helpers for a backend have their
 * own entry points (`mcp-oauth-gateway/require-scopes`, `mcp-oauth-gateway/verifier`,
 * `mcp-oauth-gateway/library`), so a Lambda or an MCP server importing them never loads CDK.
 */
export type { RedirectUriPolicy } from '../lambda/contract/settings.js';
export {
  type FunctionBackend,
  MAX_STREAM_TIMEOUT,
  type McpBackend,
  McpResourceServer,
  type McpResourceServerProps,
  type SampleBackend,
  type UrlBackend,
} from './mcp-resource-server.js';
export type { MonitoringProps } from './monitoring.js';
export {
  type CustomDomainProps,
  OAuthGateway,
  type OAuthGatewayProps,
  type ThrottleSettings,
  type UpstreamProviderProps,
} from './oauth-gateway.js';
export type { WebAclProps } from './web-acl.js';
