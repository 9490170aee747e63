/**
 * RFC 7592 client management at the registration_client_uri: read, replace, delete, each
 * authorized by the client's own registration access token (a Bearer token, compared as a
 * hash in constant time). A wrong token and an unknown client look the same: 401.
 */

import { bearerChallenge, bearerToken } from './bearer.js';
import { issuesSecret, type MetadataResult } from './client-metadata.js';
import type { ClientManagementStore, RegisteredClient } from './clients.js';
import { hashSecret, newSecret, secretMatchesHash } from './credentials.js';
import { OAuthError } from './oauth-error.js';
import { type ClientInformation, clientInformation } from './registration.js';

/** Where a deleted client is remembered until its last access token has expired. */
export interface ClientDeletions {
  record(clientId: string, now: number, keepUntil: number): Promise<void>;
}

export interface ManagementDeps {
  store: ClientManagementStore;
  validate: (body: unknown) => MetadataResult;
  issuer: string;
  /**
   * RFC 7592 section 2.3: deleting a client SHOULD invalidate its grants and active access tokens.
   * Its refresh tokens stop with the record (invalid_client); its access tokens stop within the
   * resource's grant-status cache period, since the token authorizer reads this beside the grant.
   */
  deletions: ClientDeletions;
  /** The access-token lifetime: how long a deletion must be remembered. */
  accessTokenTtl: number;
  now: () => number;
}

/** Fields the server sets; a client may not send them in an update (RFC 7592 section 2.2). */
const READ_ONLY_FIELDS = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
] as const;

function invalidToken(): OAuthError {
  return new OAuthError(
    'invalid_token',
    'The registration access token is missing, wrong, or for another client.',
    401,
    {
      'WWW-Authenticate': bearerChallenge({ error: 'invalid_token' }),
    },
  );
}

/** The client, when the token is its registration access token; otherwise 401. */
async function authorizedClient(deps: ManagementDeps, clientId: string, authorization: string | undefined) {
  const token = bearerToken(authorization);
  if (!token) {
    throw new OAuthError('invalid_token', 'A registration access token is required.', 401, {
      'WWW-Authenticate': bearerChallenge(),
    });
  }
  const client = await deps.store.getById(clientId);
  if (!client?.registration_token_hash || !secretMatchesHash(token, client.registration_token_hash)) {
    throw invalidToken();
  }
  return { client, tokenHash: client.registration_token_hash };
}

export async function readClient(deps: ManagementDeps, clientId: string, authorization: string | undefined) {
  const { client } = await authorizedClient(deps, clientId, authorization);
  return clientInformation(client, deps.issuer);
}

export async function replaceClient(
  deps: ManagementDeps,
  clientId: string,
  authorization: string | undefined,
  body: unknown,
): Promise<ClientInformation> {
  const { client, tokenHash } = await authorizedClient(deps, clientId, authorization);
  const fields =
    typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  if (fields.client_id !== clientId) {
    throw new OAuthError('invalid_client_metadata', 'client_id must be sent and equal the client being updated.');
  }
  const readOnly = READ_ONLY_FIELDS.find((field) => fields[field] !== undefined && fields[field] !== null);
  if (readOnly)
    throw new OAuthError('invalid_client_metadata', `${readOnly} is set by the server and may not be sent.`);
  if (fields.client_secret !== undefined && fields.client_secret !== null) {
    const secret = fields.client_secret;
    if (
      typeof secret !== 'string' ||
      !client.client_secret_hash ||
      !secretMatchesHash(secret, client.client_secret_hash)
    ) {
      throw new OAuthError('invalid_client_metadata', 'client_secret does not match the current secret.');
    }
  }
  const result = deps.validate(body);
  if (!result.ok) throw result.error;

  // A client that moves to a secret method gets a secret; one that moves to none or private_key_jwt loses it.
  const newClientSecret = issuesSecret(result.metadata) && !client.client_secret_hash ? newSecret() : undefined;
  const secretHash = issuesSecret(result.metadata)
    ? (client.client_secret_hash ?? hashSecret(newClientSecret as string))
    : undefined;
  const replacement: RegisteredClient = {
    ...result.metadata,
    client_id: clientId,
    client_id_issued_at: client.client_id_issued_at,
    ...(secretHash ? { client_secret_hash: secretHash } : {}),
    registration_token_hash: tokenHash,
    ...(client.last_used_at !== undefined ? { last_used_at: client.last_used_at } : {}),
  };
  if (!(await deps.store.replace(replacement, tokenHash))) throw invalidToken();
  return {
    ...clientInformation(replacement, deps.issuer),
    ...(newClientSecret ? { client_secret: newClientSecret } : {}),
  };
}

export async function deleteClient(deps: ManagementDeps, clientId: string, authorization: string | undefined) {
  const { tokenHash } = await authorizedClient(deps, clientId, authorization);
  // Recorded first: should the removal fail, the client deletes again; the reverse order could
  // leave it gone with its access tokens still accepted.
  const now = deps.now();
  await deps.deletions.record(clientId, now, now + deps.accessTokenTtl);
  if (!(await deps.store.remove(clientId, tokenHash))) throw invalidToken();
}
