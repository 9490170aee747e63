/** RFC 8414 authorization server metadata, and what it says the server supports. */

import {
  CLIENT_ASSERTION_SIGNING_ALGS,
  CODE_CHALLENGE_METHODS,
  GRANT_TYPES,
  PROMPT_VALUES,
  RESPONSE_MODES,
  RESPONSE_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
} from '../contract/capabilities.js';
import { ENDPOINTS } from '../contract/endpoints.js';

/**
 * OpenID Provider Metadata requires these two fields; this server issues no ID tokens, so they
 * describe only what it would use (public subjects, its one signing algorithm).
 */
export const OPENID_REQUIRED_FIELDS = {
  subject_types_supported: ['public'],
  id_token_signing_alg_values_supported: ['ES256'],
} as const;

/** RFC 8414 authorization server metadata for an issuer. */
export function authorizationServerMetadata(issuer: string, scopes: readonly string[]): Record<string, unknown> {
  const url = (path: string) => `${issuer}${path}`;
  return {
    issuer,
    authorization_endpoint: url(ENDPOINTS.authorization),
    token_endpoint: url(ENDPOINTS.token),
    registration_endpoint: url(ENDPOINTS.registration),
    jwks_uri: url(ENDPOINTS.jwks),
    revocation_endpoint: url(ENDPOINTS.revocation),
    response_types_supported: [...RESPONSE_TYPES],
    response_modes_supported: [...RESPONSE_MODES],
    grant_types_supported: [...GRANT_TYPES],
    code_challenge_methods_supported: [...CODE_CHALLENGE_METHODS],
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_SIGNING_ALGS],
    revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_SIGNING_ALGS],
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: [...PROMPT_VALUES],
    ...(scopes.length > 0 ? { scopes_supported: [...scopes] } : {}),
    client_id_metadata_document_supported: true,
  };
}
