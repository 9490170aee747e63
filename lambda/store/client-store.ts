/**
 * The ClientStore port: everything the system (and a user's own backend) asks of the
 * registered-clients table. Handlers depend on this interface; adapters implement it.
 */
import type { ClientMetadata } from '../domain/client-metadata.js';

export interface RegisteredClient extends ClientMetadata {
  client_id: string;
  /** Seconds since the epoch. */
  client_id_issued_at: number;
  /** Present for confidential clients only; the secret itself is never stored. */
  client_secret_hash?: string;
}

export interface ClientStore {
  /** Stores a new client. Throws ClientExistsError rather than overwrite one. */
  create(client: RegisteredClient): Promise<void>;
  /** Reads consistently: a client registered a moment ago is found. */
  getById(clientId: string): Promise<RegisteredClient | undefined>;
}

export class ClientExistsError extends Error {
  constructor(clientId: string) {
    super(`client ${clientId} already exists`);
    this.name = 'ClientExistsError';
  }
}
