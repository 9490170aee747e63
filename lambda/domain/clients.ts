/**
 * The ClientStore port: everything the system (and a user's own backend) asks of the
 * registered-clients table. Handlers depend on this interface; adapters implement it.
 */
import type { ClientMetadata } from './client-metadata.js';

export interface RegisteredClient extends ClientMetadata {
  client_id: string;
  /** Seconds since the epoch. */
  client_id_issued_at: number;
  /** Present for confidential clients only; the secret itself is never stored. */
  client_secret_hash?: string;
  /** Hash of the RFC 7592 registration access token; absent for clients registered before it existed. */
  registration_token_hash?: string;
  /** When the client last obtained tokens (seconds), recorded at most once a day. */
  last_used_at?: number;
}

/** Records that a client was used, for idle expiry and registration activation. */
export interface ClientActivityStore {
  /**
   * Records the use and, in the same write, removes any activation deadline
   * (domain/client-activity.ts). Resolves true when this write was the client's activation; an
   * adapter that keeps no deadlines may resolve nothing.
   */
  recordUse(clientId: string, now: number): Promise<boolean | void>;
}

export interface ClientStore {
  /** Stores a new client. Throws ClientExistsError rather than overwrite one. */
  create(client: RegisteredClient): Promise<void>;
  /** Reads consistently: a client registered a moment ago is found. */
  getById(clientId: string): Promise<RegisteredClient | undefined>;
}

/** RFC 7592 management: whole-record replacement and deletion, guarded by the registration token. */
export interface ClientManagementStore extends ClientStore {
  /**
   * Replaces the stored client whole, in one conditional write that holds only while the stored
   * registration token hash is still `expectedTokenHash`. False when it no longer is (or is gone).
   */
  replace(client: RegisteredClient, expectedTokenHash: string): Promise<boolean>;
  /** Deletes the client under the same condition. False when nothing matching was there. */
  remove(clientId: string, expectedTokenHash: string): Promise<boolean>;
}

export class ClientExistsError extends Error {
  constructor(clientId: string) {
    super(`client ${clientId} already exists`);
    this.name = 'ClientExistsError';
  }
}
