/**
 * What the redirect-URI authorizer tells a refused caller. A Deny policy carries these as
 * context values, and the ACCESS_DENIED gateway response (lib/gateway-responses.ts) prints
 * them into its JSON body without escaping, so every description here is a fixed sentence
 * with no quotes or backslashes, and nothing a caller sent is ever echoed.
 */
import type { OAuthErrorCode } from './oauth-error.js';

export interface Refusal {
  readonly error: OAuthErrorCode;
  readonly error_description: string;
}

export const REFUSALS = {
  malformed: {
    error: 'invalid_request',
    error_description: 'The authorization request is malformed.',
  },
  repeatedParameter: {
    error: 'invalid_request',
    error_description: 'A parameter appears more than once in the authorization request.',
  },
  missingClientId: {
    error: 'invalid_request',
    error_description: 'The authorization request has no client_id.',
  },
  unknownClient: {
    error: 'invalid_client',
    error_description: 'The client_id is not registered with this server. The application must register again.',
  },
  redirectUriRequired: {
    error: 'invalid_request',
    error_description: 'The client registered several redirect URIs, so the request must name one in redirect_uri.',
  },
  redirectUriNotRegistered: {
    error: 'invalid_request',
    error_description: 'The redirect_uri is not one this client registered, so this server will not send you there.',
  },
  registryUnavailable: {
    error: 'temporarily_unavailable',
    error_description: 'The client registry could not be read. Try again shortly.',
  },
} as const satisfies Record<string, Refusal>;
