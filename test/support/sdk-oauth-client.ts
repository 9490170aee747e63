/**
 * The official MCP SDK client connecting to a local gateway's /mcp the way an MCP application
 * does: a 401, discovery, dynamic registration, consent and the development login (driven by
 * runBrowser), the code exchange, then a connected Client.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { runBrowser } from './oauth-flow.js';

export interface ClientProviderOptions {
  /** Present a Client ID Metadata Document at this URL instead of registering. */
  clientMetadataUrl?: string;
  /** Default: authorization_code and refresh_token. */
  grantTypes?: string[];
  /** Default: 'SDK Test Client'. */
  clientName?: string;
}

/** An MCP client application's side of OAuth, kept in memory; the browser part is driven by runBrowser. */
export class InMemoryClientProvider implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  readonly clientMetadataUrl: string | undefined;
  private information: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier = '';

  constructor(
    readonly redirectUrl: string,
    private readonly options: ClientProviderOptions = {},
  ) {
    this.clientMetadataUrl = options.clientMetadataUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.options.clientName ?? 'SDK Test Client',
      redirect_uris: [this.redirectUrl],
      grant_types: this.options.grantTypes ?? ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.information;
  }
  saveClientInformation(information: OAuthClientInformationMixed) {
    this.information = information;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** Signs in through the gateway in front of mcpUrl and returns the connected client. */
export async function connectWithOAuth(mcpUrl: URL, provider: InMemoryClientProvider): Promise<Client> {
  const first = new Client({ name: 'sdk-backend-e2e', version: '1.0.0' });
  try {
    await first.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
    throw new Error('the first connection was expected to need authorization');
  } catch (error) {
    if (!/Unauthorized/.test(String(error))) throw error;
  }
  if (!provider.authorizationUrl) throw new Error('the SDK did not start authorization');
  const landing = await runBrowser(provider.authorizationUrl, provider.redirectUrl);
  if (landing.kind !== 'stopped') throw new Error(`the browser ended on a page: ${landing.body.slice(0, 200)}`);
  const code = landing.url.searchParams.get('code');
  if (!code) throw new Error(`no code in ${landing.url.href}`);
  const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
  await transport.finishAuth(code);
  const client = new Client({ name: 'sdk-backend-e2e', version: '1.0.0' });
  await client.connect(transport);
  return client;
}
