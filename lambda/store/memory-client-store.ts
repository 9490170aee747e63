/**
 * In-memory adapter of the ClientStore port: a Map, for tests, benchmarks and embedding. It keeps
 * the DynamoDB adapter's semantics (create never overwrites, replace and remove are conditioned
 * on the stored registration token hash, a late record of use never brings a client back, a
 * client past its activation deadline is not there, the first record of use removes the deadline
 * and a replacement keeps it) and copies records in and out, so a caller can never change stored
 * state through a reference.
 */
import { CLIENTS_TABLE_TTL_ATTRIBUTE } from '../contract/tables.js';
import { isActivationExpired, type StoredClient, withoutDeadline } from '../domain/client-activity.js';
import {
  type ClientActivityStore,
  ClientExistsError,
  type ClientManagementStore,
  type RegisteredClient,
} from '../domain/clients.js';

export class MemoryClientStore implements ClientManagementStore, ClientActivityStore {
  readonly #clients = new Map<string, StoredClient>();
  readonly #now: () => number;

  constructor(clients: Iterable<StoredClient> = [], now: () => number = () => Math.floor(Date.now() / 1000)) {
    for (const client of clients) this.#clients.set(client.client_id, structuredClone(client));
    this.#now = now;
  }

  /** How many clients are stored (expired or not: as in the table until its TTL deletes them). */
  get size(): number {
    return this.#clients.size;
  }

  async create(client: RegisteredClient): Promise<void> {
    if (this.#clients.has(client.client_id)) throw new ClientExistsError(client.client_id);
    this.#clients.set(client.client_id, structuredClone(client));
  }

  async getById(clientId: string): Promise<RegisteredClient | undefined> {
    const client = this.#live(clientId);
    return client && withoutDeadline(structuredClone(client));
  }

  async replace(client: RegisteredClient, expectedTokenHash: string): Promise<boolean> {
    const stored = this.#live(client.client_id);
    if (stored?.registration_token_hash !== expectedTokenHash) return false;
    const deadline = stored[CLIENTS_TABLE_TTL_ATTRIBUTE];
    this.#clients.set(client.client_id, {
      ...withoutDeadline(structuredClone(client)),
      ...(deadline !== undefined ? { [CLIENTS_TABLE_TTL_ATTRIBUTE]: deadline } : {}),
    });
    return true;
  }

  async remove(clientId: string, expectedTokenHash: string): Promise<boolean> {
    if (this.#clients.get(clientId)?.registration_token_hash !== expectedTokenHash) return false;
    this.#clients.delete(clientId);
    return true;
  }

  async recordUse(clientId: string, now: number): Promise<boolean> {
    const client = this.#clients.get(clientId);
    if (!client) return false;
    client.last_used_at = now;
    const activated = client[CLIENTS_TABLE_TTL_ATTRIBUTE] !== undefined;
    delete client[CLIENTS_TABLE_TTL_ATTRIBUTE];
    return activated;
  }

  /** The stored record, unless it is past its activation deadline. */
  #live(clientId: string): StoredClient | undefined {
    const client = this.#clients.get(clientId);
    return client && !isActivationExpired(client, this.#now()) ? client : undefined;
  }
}
