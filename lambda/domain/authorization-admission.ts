/**
 * The admission decision for GET /authorize, made by the redirect-URI authorizer before any
 * backend runs: the client must be registered and the redirect URI one it registered.
 * Everything else about the request is the backend's to judge, once the redirect URI is
 * known to be safe to send errors to.
 */

import { REFUSALS, type Refusal } from './authorization-refusal.js';
import type { RegisteredClient } from './clients.js';
import { OAuthError } from './oauth-error.js';
import type { MultiValueQuery, SingleValueQuery } from './query.js';
import { singleValuedQuery } from './query.js';
import { matchRedirectUri } from './redirect-uri-policy.js';

export type Admission =
  | { admitted: true; client: RegisteredClient; redirectUri: string }
  | { admitted: false; refusal: Refusal };

export type ClientLookup = (clientId: string) => Promise<RegisteredClient | undefined>;

/**
 * The gateway response prints refusal descriptions into JSON unescaped; these descriptions are
 * our own fixed phrases, and this keeps them so even if one ever quoted something.
 */
function templateSafe(description: string): string {
  return description.replace(/["\\\u0000-\u001f$#]/g, '');
}

export async function admitAuthorizeRequest(
  multi: MultiValueQuery,
  single: SingleValueQuery,
  getClient: ClientLookup,
): Promise<Admission> {
  const query = singleValuedQuery(multi, single);
  if (!query.ok) return { admitted: false, refusal: REFUSALS.repeatedParameter };
  const clientId = query.params.client_id;
  if (!clientId) return { admitted: false, refusal: REFUSALS.missingClientId };

  let client: RegisteredClient | undefined;
  try {
    client = await getClient(clientId);
  } catch (error) {
    // A client metadata document that cannot be used names its reason; any other fault fails closed.
    if (error instanceof OAuthError && error.code === 'invalid_client') {
      return {
        admitted: false,
        refusal: { error: 'invalid_client', error_description: templateSafe(error.description) },
      };
    }
    return { admitted: false, refusal: REFUSALS.registryUnavailable };
  }
  if (!client) return { admitted: false, refusal: REFUSALS.unknownClient };

  const requested = query.params.redirect_uri;
  const redirectUri = matchRedirectUri(client.redirect_uris, requested);
  if (!redirectUri) {
    const refusal = requested === undefined ? REFUSALS.redirectUriRequired : REFUSALS.redirectUriNotRegistered;
    return { admitted: false, refusal };
  }
  return { admitted: true, client, redirectUri };
}
