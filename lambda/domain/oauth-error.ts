/**
 * OAuth errors as values. Domain code throws or returns these; only the HTTP layer
 * (lambda/http/) turns them into responses, so the code-to-status mapping lives here alone.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_token'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'server_error'
  | 'temporarily_unavailable'
  // OpenID Connect Core 3.1.2.6: authorization responses to prompt=none (and from the provider).
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'account_selection_required';

const DEFAULT_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  invalid_token: 401,
  access_denied: 403,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  server_error: 500,
  temporarily_unavailable: 503,
  login_required: 400,
  consent_required: 400,
  interaction_required: 400,
  account_selection_required: 400,
};

export class OAuthError extends Error {
  readonly status: number;

  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    /** Only for transport-level refusals (405, 413, 415) whose status RFC 6749 does not fix. */
    status?: number,
    /** Response headers the error requires, e.g. WWW-Authenticate on a 401 (RFC 6749 5.2). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${code}: ${description}`);
    this.name = 'OAuthError';
    this.status = status ?? DEFAULT_STATUS[code];
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

/** A dependency (the table) failed; the request may succeed if repeated. */
export class UnavailableError extends OAuthError {
  constructor(description = 'The service is temporarily unavailable; try again shortly.') {
    super('temporarily_unavailable', description);
  }
}
