/**
 * An in-memory GrantStore for unit tests of the domain (lambda/domain/grants.ts is the port). It
 * keeps the semantics of the DynamoDB adapter, lambda/store/dynamodb-grant-store.ts, as
 * test/integration/token-service.test.ts exercises it on dynalite, on the points the domain
 * relies on:
 *
 * - One map under the adapter's key scheme (`<kind>#<id or hash>`, contract/tables.ts), so a
 *   pending id, a code hash and a refresh hash never meet. An id longer than a DynamoDB key may
 *   be (2048 bytes with its prefix) is simply not found by getPending and takePending.
 * - A put never overwrites: meeting the very item it writes succeeds (the adapter's retried
 *   write finding its own first attempt), meeting another throws UnavailableError.
 * - takePending deletes and returns in one step: of two callers only one gets the request.
 * - redeemCode and useRefreshToken are one conditional check-and-set: the item exists, its mark
 *   (`redeemed_at`, `used_at`) is unset, every `equals` attribute is strictly equal (an absent
 *   attribute never is) and `expires_at > validAt`. The winner gets the marked record; a loser
 *   gets `missing`, `replayed` (the mark was set, whatever else failed) or `refused` (unmarked,
 *   and left unmarked: a refused consume writes nothing).
 * - releaseCode and releaseRefreshToken clear the mark only while it is still the one set at
 *   the time given; a later mark, an unmarked or a missing item is left as it is (nothing is
 *   created).
 * - Expiry is the caller's clock, never the store's: nothing is deleted as time passes (DynamoDB's
 *   TTL deletes late, dynalite never), and the only time a write checks is the `validAt` it is
 *   given. A domain rule that forgets an expiry check therefore fails its test here as it would
 *   deployed, instead of being covered by a store that hid the expired item.
 * - revokeFamily is a plain, idempotent put of a marker; isFamilyRevoked reads the marker alone
 *   and does not look at its expiry, as the adapter does not.
 * - Records are copied in and out as the document client marshals them (a JSON round trip drops
 *   undefined values), so a caller never changes stored state through a reference.
 *
 * Each operation runs to completion without awaiting anything, so it is as atomic as the single
 * item write it stands for. Not modelled: table faults, lost answers and SDK retries
 * (test/integration/dynamodb-faults.test.ts covers those against the real adapter).
 */
import { isDeepStrictEqual } from 'node:util';
import { GRANT_KEY_PREFIXES } from '../../lambda/contract/tables.js';
import type {
  AuthorizationCodeRecord,
  Consumed,
  ConsumeExpectations,
  GrantStore,
  PendingAuthorization,
  RefreshTokenRecord,
} from '../../lambda/domain/grants.js';
import { UnavailableError } from '../../lambda/domain/oauth-error.js';

type Item = Record<string, unknown>;

/** DynamoDB's limit for a partition key value, which the adapter checks before asking. */
const MAX_KEY_BYTES = 2048;

const key = {
  pending: (id: string) => `${GRANT_KEY_PREFIXES.pending}${id}`,
  code: (hash: string) => `${GRANT_KEY_PREFIXES.code}${hash}`,
  refresh: (hash: string) => `${GRANT_KEY_PREFIXES.refresh}${hash}`,
  family: (id: string) => `${GRANT_KEY_PREFIXES.family}${id}`,
};

/** What the document client would store for `value` (undefined values removed), as a fresh copy. */
function marshalled<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export class MemoryGrantStore implements GrantStore {
  readonly #items = new Map<string, Item>();

  /** How many items are stored, of every kind (pending, code, refresh, family). */
  get size(): number {
    return this.#items.size;
  }

  #put(pk: string, record: object): void {
    const item = marshalled(record) as Item;
    const existing = this.#items.get(pk);
    if (existing === undefined) {
      this.#items.set(pk, item);
      return;
    }
    if (isDeepStrictEqual(existing, item)) return;
    throw new UnavailableError('Authorization state could not be written; try again.');
  }

  #get<T>(pk: string): T | undefined {
    const item = this.#items.get(pk);
    return item === undefined ? undefined : marshalled(item as T);
  }

  #consume<T>(pk: string, attribute: string, now: number, expect: ConsumeExpectations = {}): Consumed<T> {
    const item = this.#items.get(pk);
    if (item === undefined) return { outcome: 'missing' };
    if (item[attribute] !== undefined) return { outcome: 'replayed', record: marshalled(item as T) };
    const meets =
      Object.entries(expect.equals ?? {}).every(([name, value]) => item[name] === value) &&
      (expect.validAt === undefined || (typeof item.expires_at === 'number' && item.expires_at > expect.validAt));
    if (!meets) return { outcome: 'refused', record: marshalled(item as T) };
    item[attribute] = now;
    return { outcome: 'consumed', record: marshalled(item as T) };
  }

  #release(pk: string, attribute: string, at: number): void {
    const item = this.#items.get(pk);
    if (item !== undefined && item[attribute] === at) delete item[attribute];
  }

  async putPending(pending: PendingAuthorization): Promise<void> {
    this.#put(key.pending(pending.id), pending);
  }

  async getPending(id: string): Promise<PendingAuthorization | undefined> {
    if (Buffer.byteLength(key.pending(id)) > MAX_KEY_BYTES) return undefined;
    return this.#get(key.pending(id));
  }

  async takePending(id: string): Promise<PendingAuthorization | undefined> {
    if (Buffer.byteLength(key.pending(id)) > MAX_KEY_BYTES) return undefined;
    const pending = this.#get<PendingAuthorization>(key.pending(id));
    this.#items.delete(key.pending(id));
    return pending;
  }

  async putCode(codeHash: string, record: AuthorizationCodeRecord): Promise<void> {
    this.#put(key.code(codeHash), record);
  }

  async getCode(codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    return this.#get(key.code(codeHash));
  }

  async redeemCode(
    codeHash: string,
    now: number,
    expect?: ConsumeExpectations,
  ): Promise<Consumed<AuthorizationCodeRecord>> {
    return this.#consume(key.code(codeHash), 'redeemed_at', now, expect);
  }

  async releaseCode(codeHash: string, redeemedAt: number): Promise<void> {
    this.#release(key.code(codeHash), 'redeemed_at', redeemedAt);
  }

  async putRefreshToken(tokenHash: string, record: RefreshTokenRecord): Promise<void> {
    this.#put(key.refresh(tokenHash), record);
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    return this.#get(key.refresh(tokenHash));
  }

  async useRefreshToken(tokenHash: string, now: number): Promise<Consumed<RefreshTokenRecord>> {
    return this.#consume(key.refresh(tokenHash), 'used_at', now);
  }

  async releaseRefreshToken(tokenHash: string, usedAt: number): Promise<void> {
    this.#release(key.refresh(tokenHash), 'used_at', usedAt);
  }

  async revokeFamily(familyId: string, expiresAt: number): Promise<void> {
    // A plain put in the adapter too: revoking twice is harmless and just refreshes the marker.
    this.#items.set(key.family(familyId), { revoked: true, expires_at: expiresAt });
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    return this.#items.has(key.family(familyId));
  }
}
