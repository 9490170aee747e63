/**
 * The registration use case (RFC 7591 section 3): validate, mint credentials, store, answer.
 * Pure but for its ports: the store and the clock come in as arguments.
 */

import { ENDPOINTS } from '../contract/endpoints.js';
import { activationDeadline, type StoredClient, withoutDeadline } from './client-activity.js';
import { type ClientMetadata, issuesSecret, type MetadataResult } from './client-metadata.js';
import type { ClientStore, RegisteredClient } from './clients.js';
import { hashSecret, newClientId, newSecret } from './credentials.js';

/** The RFC 7591 section 3.2.1 client information response, with RFC 7592's management fields. */
export type ClientInformation = ClientMetadata & {
  client_id: string;
  client_id_issued_at: number;
  client_secret?: string;
  client_secret_expires_at?: number;
  registration_client_uri?: string;
  registration_access_token?: string;
};

export interface RegistrationDeps {
  store: ClientStore;
  validate: (body: unknown) => MetadataResult;
  /** The issuer, for the RFC 7592 registration_client_uri. */
  issuer: string;
  now?: () => Date;
  /**
   * Registration activation: a client that obtains no token within this many hours stops working
   * and is removed by the table's TTL (domain/client-activity.ts). 0 or absent: off.
   */
  activationHours?: number;
}

export function registrationClientUri(issuer: string, clientId: string): string {
  return `${issuer}${ENDPOINTS.registration}/${encodeURIComponent(clientId)}`;
}

/** What a stored client may tell about itself: its metadata and ids, never a hash. */
export function clientInformation(client: RegisteredClient, issuer: string): ClientInformation {
  const { client_secret_hash, registration_token_hash, last_used_at: _lastUsed, ...rest } = withoutDeadline(client);
  return {
    ...rest,
    ...(client_secret_hash ? { client_secret_expires_at: 0 } : {}),
    ...(registration_token_hash ? { registration_client_uri: registrationClientUri(issuer, client.client_id) } : {}),
  };
}

export async function registerClient(body: unknown, deps: RegistrationDeps): Promise<ClientInformation> {
  const result = deps.validate(body);
  if (!result.ok) throw result.error;
  const { metadata } = result;

  const issuedAt = Math.floor((deps.now?.() ?? new Date()).getTime() / 1000);
  const clientId = newClientId();
  const secret = issuesSecret(metadata) ? newSecret() : undefined;
  const registrationToken = newSecret();
  const record: StoredClient = {
    ...metadata,
    client_id: clientId,
    client_id_issued_at: issuedAt,
    ...(secret ? { client_secret_hash: hashSecret(secret) } : {}),
    registration_token_hash: hashSecret(registrationToken),
    ...activationDeadline(issuedAt, deps.activationHours ?? 0),
  };
  // 128 random bits make a collision practically impossible; the store's conditional
  // write still guarantees that one could never overwrite an existing client.
  await deps.store.create(record);

  return {
    client_id: clientId,
    client_id_issued_at: issuedAt,
    ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
    ...metadata,
    registration_client_uri: registrationClientUri(deps.issuer, clientId),
    registration_access_token: registrationToken,
  };
}
