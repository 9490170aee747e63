/**
 * Checking a fetched Client ID Metadata Document and turning it into the client the rest of the
 * server works with. The draft's document rules, plus this server's:
 *
 * - the document is a JSON object whose `client_id` equals the URL it was fetched from, compared as
 *   plain strings (RFC 3986 section 6.2.1: no normalization);
 * - no shared secret: `client_secret` and `client_secret_expires_at` must be absent, and
 *   `token_endpoint_auth_method` must be `none` (the default when absent or null) or
 *   `private_key_jwt` with `jwks_uri` or `jwks` (RFC 7523: the document publishes keys, never a
 *   secret);
 * - a document that declares `private_key_jwt` authenticates with its key, always: a request with
 *   client_id alone is refused even when the document's `token_endpoint_auth_methods_supported`
 *   (not a registered metadata field, dropped) lists `none`. Otherwise anyone could use such a
 *   client as a public one, without the key its operator chose to require;
 * - `response_types` that include `code` are narrowed to `["code"]` (a document describes what the
 *   client can do, such as ChatGPT's `["code", "id_token"]`; this server answers with codes only);
 * - every other field obeys the registration rules (the same validator /register uses, so the same
 *   redirect-URI policy applies). Unknown fields are dropped, as at registration, and so are grant
 *   types this server does not offer.
 *
 * Every refusal is an OAuthError `invalid_client` whose description names the rule.
 */
import type { clientMetadataValidator } from './client-metadata.js';
import type { RegisteredClient } from './clients.js';
import { OAuthError } from './oauth-error.js';

export type MetadataValidator = ReturnType<typeof clientMetadataValidator>;

const SECRET_FIELDS = ['client_secret', 'client_secret_expires_at'] as const;

function refuse(description: string): OAuthError {
  return new OAuthError('invalid_client', description);
}

/** The client a Client ID Metadata Document describes, or an `invalid_client` OAuthError thrown. */
export function validateMetadataDocument(url: string, body: unknown, validate: MetadataValidator): RegisteredClient {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw refuse('the metadata document is not a JSON object');
  }
  const document = body as Record<string, unknown>;
  if (document.client_id !== url) {
    throw refuse("the metadata document's client_id does not equal its URL");
  }
  for (const field of SECRET_FIELDS) {
    if (Object.hasOwn(document, field)) {
      throw refuse(`the metadata document must not contain ${field}: its client is public and has no secret`);
    }
  }
  const method = document.token_endpoint_auth_method ?? 'none';
  if (method !== 'none' && method !== 'private_key_jwt') {
    throw refuse(
      'the metadata document\'s token_endpoint_auth_method must be "none" or "private_key_jwt": it has no secret',
    );
  }

  const { client_id: _clientId, ...metadata } = document;
  const responseTypes = metadata.response_types;
  const narrowed = Array.isArray(responseTypes) && responseTypes.includes('code') ? { response_types: ['code'] } : {};
  const result = validate({ ...metadata, ...narrowed, token_endpoint_auth_method: method });
  if (!result.ok) throw refuse(`the metadata document is invalid: ${result.error.description}`);
  if (result.metadata.token_endpoint_auth_method !== method) {
    throw refuse('the metadata document\'s token_endpoint_auth_method must be "none" or "private_key_jwt"');
  }
  return { ...result.metadata, client_id: url, client_id_issued_at: 0 };
}
