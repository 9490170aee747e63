/**
 * In-memory adapter of the ClientStore port: a Map, for tests, benchmarks and embedding. It keeps
 * the DynamoDB adapter's semantics (create never overwrites, replace and remove are conditioned
 * on the stored registration token hash, a late record of use never brings a client back) and
 * copies records in and out, so a caller can never change stored state through a reference.
 */
import {
  type ClientActivityStore,
  ClientExistsError,
  type ClientManagementStore,
  type RegisteredClient,
} from '../domain/clients.js';

export class MemoryClientStore implements ClientManagementStore, ClientActivityStore {
  readonly #clients = new Map<string, RegisteredClient>();

  constructor(clients: Iterable<RegisteredClient> = []) {
    for (const client of clients) this.#clients.set(client.client_id, structuredClone(client));
  }

  /** How many clients are stored. */
  get size(): number {
    return this.#clients.size;
  }

  async create(client: RegisteredClient): Promise<void> {
    if (this.#clients.has(client.client_id)) throw new ClientExistsError(client.client_id);
    this.#clients.set(client.client_id, structuredClone(client));
  }

  async getById(clientId: string): Promise<RegisteredClient | undefined> {
    const client = this.#clients.get(clientId);
    return client && structuredClone(client);
  }

  async replace(client: RegisteredClient, expectedTokenHash: string): Promise<boolean> {
    if (!this.#holds(client.client_id, expectedTokenHash)) return false;
    this.#clients.set(client.client_id, structuredClone(client));
    return true;
  }

  async remove(clientId: string, expectedTokenHash: string): Promise<boolean> {
    if (!this.#holds(clientId, expectedTokenHash)) return false;
    this.#clients.delete(clientId);
    return true;
  }

  async recordUse(clientId: string, now: number): Promise<void> {
    const client = this.#clients.get(clientId);
    if (client) client.last_used_at = now;
  }

  #holds(clientId: string, expectedTokenHash: string): boolean {
    return this.#clients.get(clientId)?.registration_token_hash === expectedTokenHash;
  }
}
