/**
 * Scopes at the resource: the scope decision, the two challenges (as the token authorizer and
 * requireScopes build them, and as the static gateway responses carry them, which must be
 * equal), and scopes_supported without offline_access. Table-first: input, outcome, reason.
 */
import { describe, expect, it } from 'vitest';
import { protectedResourceMetadata } from '../../lambda/domain/protected-resource-metadata.js';
import {
  type GrantedScopes,
  INSUFFICIENT_SCOPE_DESCRIPTION,
  insufficientScopeChallenge,
  missingScopes,
  normalizeRequiredScopes,
  tokenRequiredChallenge,
} from '../../lambda/domain/resource-scopes.js';
import { checkScopes, InsufficientScopeError, requireScopes } from '../../lambda/require-scopes.js';
import {
  INSUFFICIENT_SCOPE_DESCRIPTION as GATEWAY_DESCRIPTION,
  gatewayResponseHeaders,
  resourceChallenges,
  resourceGatewayResponses,
} from '../../lib/gateway-responses.js';

const METADATA = 'https://api.example/prod/.well-known/oauth-protected-resource/mcp';

describe('missingScopes', () => {
  const cases: Array<[string, GrantedScopes, string[], string[]]> = [
    ['nothing required admits any token', 'x', [], []],
    ['nothing required admits a token without scope', undefined, [], []],
    ['all held, as a token string', 'mcp:read mcp:write', ['mcp:read'], []],
    ['one missing of two', 'mcp:read', ['mcp:read', 'mcp:write'], ['mcp:write']],
    ['none held', undefined, ['mcp:read'], ['mcp:read']],
    ['an empty string holds nothing', '', ['mcp:read'], ['mcp:read']],
    ['extra spaces in the token string', '  mcp:read   mcp:write ', ['mcp:write'], []],
    ['a list', ['mcp:read'], ['mcp:read', 'mcp:admin'], ['mcp:admin']],
    ["the SDK's AuthInfo", { scopes: ['mcp:admin'] }, ['mcp:admin'], []],
    ['exact match only: a prefix is not the scope', 'mcp:read', ['mcp'], ['mcp']],
    ['case matters (RFC 6749 3.3)', 'MCP:READ', ['mcp:read'], ['mcp:read']],
  ];
  it.each(cases)('%s', (_reason, granted, required, missing) => {
    expect(missingScopes(granted, required)).toEqual(missing);
  });
});

describe('normalizeRequiredScopes', () => {
  it.each([
    ['blanks and duplicates dropped', ['a', ' ', 'a', 'b'], ['a', 'b']],
    ['offline_access is never a resource scope', ['offline_access', 'mcp:read'], ['mcp:read']],
    ['empty stays empty', [], []],
  ])('%s', (_reason, input, expected) => {
    expect(normalizeRequiredScopes(input)).toEqual(expected);
  });
});

describe('challenges', () => {
  it.each([
    [
      'insufficient_scope names every required scope, space-separated',
      insufficientScopeChallenge({ resourceMetadata: METADATA, required: ['mcp:read', 'mcp:admin'] }),
      `Bearer resource_metadata="${METADATA}", error="insufficient_scope", error_description="${INSUFFICIENT_SCOPE_DESCRIPTION}", scope="mcp:read mcp:admin"`,
    ],
    [
      '401 carries resource_metadata and scope, no error (also sent when no token came)',
      tokenRequiredChallenge({ resourceMetadata: METADATA, required: ['mcp:read', 'mcp:admin'] }),
      `Bearer resource_metadata="${METADATA}", scope="mcp:read mcp:admin"`,
    ],
    [
      '401 without required scopes has no scope parameter',
      tokenRequiredChallenge({ resourceMetadata: METADATA, required: [] }),
      `Bearer resource_metadata="${METADATA}"`,
    ],
  ])('%s', (_reason, actual, expected) => {
    expect(actual).toBe(expected);
  });

  it.each([[[]], [['mcp:read']], [['mcp:read', 'mcp:admin']]])(
    'the static gateway responses carry exactly what the domain builds (required %j)',
    (required: string[]) => {
      const gateway = resourceChallenges(METADATA, required);
      expect(gateway.tokenRequired).toBe(tokenRequiredChallenge({ resourceMetadata: METADATA, required }));
      expect(gateway.insufficientScope).toBe(insufficientScopeChallenge({ resourceMetadata: METADATA, required }));
      expect(GATEWAY_DESCRIPTION).toBe(INSUFFICIENT_SCOPE_DESCRIPTION);
    },
  );

  it('maps outcomes to statuses: UNAUTHORIZED 401, ACCESS_DENIED 403, AUTHORIZER_FAILURE 503', () => {
    const responses = resourceGatewayResponses(METADATA, ['mcp:read']);
    const byType = (type: string) => responses.find((spec) => spec.type === type);
    expect(byType('UNAUTHORIZED')).toMatchObject({ statusCode: 401 });
    expect(gatewayResponseHeaders(byType('UNAUTHORIZED') as never)['WWW-Authenticate']).toBe(
      `Bearer resource_metadata="${METADATA}", scope="mcp:read"`,
    );
    expect(byType('ACCESS_DENIED')).toMatchObject({ statusCode: 403 });
    expect(JSON.parse(byType('ACCESS_DENIED')?.template as string)).toEqual({
      error: 'insufficient_scope',
      error_description: INSUFFICIENT_SCOPE_DESCRIPTION,
    });
    expect(byType('AUTHORIZER_FAILURE')).toMatchObject({ statusCode: 503 });
  });
});

describe('requireScopes (per-tool checks in a Node MCP server)', () => {
  const options = { resourceMetadata: METADATA };

  it.each([
    ['admits a token holding every scope', { scopes: ['files:read', 'files:write'] }, ['files:write'], false],
    ['admits when nothing is required', undefined, [], false],
    ['refuses a token lacking one', 'files:read', ['files:read', 'files:write'], true],
    ['refuses no scopes at all', undefined, ['files:read'], true],
  ] as Array<[string, GrantedScopes, string[], boolean]>)('%s', (_reason, granted, required, refused) => {
    if (refused) expect(() => requireScopes(granted, required, options)).toThrow(InsufficientScopeError);
    else expect(() => requireScopes(granted, required, options)).not.toThrow();
    expect(checkScopes(granted, required, options) !== undefined).toBe(refused);
  });

  it('answers the same 403 challenge as the gateway, naming all required scopes', async () => {
    const refusal = checkScopes('files:read', ['files:read', 'files:write'], options) as InsufficientScopeError;
    expect(refusal.statusCode).toBe(403);
    expect(refusal.missing).toEqual(['files:write']);
    expect(refusal.wwwAuthenticate).toBe(resourceChallenges(METADATA, ['files:read', 'files:write']).insufficientScope);
    expect(refusal.headers['WWW-Authenticate']).toBe(refusal.wwwAuthenticate);
    const response = refusal.toResponse();
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe(refusal.wwwAuthenticate);
    expect(await response.json()).toEqual({
      error: 'insufficient_scope',
      error_description: INSUFFICIENT_SCOPE_DESCRIPTION,
      scope: 'files:read files:write',
    });
  });
});

describe('scopes_supported', () => {
  it.each([
    ['offline_access is never advertised', ['mcp:read', 'offline_access'], ['mcp:read']],
    ['only offline_access: no scopes_supported at all', ['offline_access'], undefined],
    ['duplicates once', ['a', 'a'], ['a']],
  ])('%s', (_reason, scopesSupported, expected) => {
    const metadata = protectedResourceMetadata({
      resource: 'https://api.example/prod/mcp',
      authorizationServers: ['https://gateway.example'],
      scopesSupported,
    });
    expect(metadata.scopes_supported).toEqual(expected);
  });
});
