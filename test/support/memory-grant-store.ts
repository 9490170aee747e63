/**
 * An in-memory GrantStore for unit tests of the domain (lambda/domain/grants.ts is the port). It
 * keeps the semantics of the DynamoDB adapter, lambda/store/dynamodb-grant-store.ts, as
 * test/integration/token-service.test.ts exercises it on dynalite, on the points the domain
 * relies on:
 *
 * - One map under the adapter's key scheme (`pending#<id>`, `grant#<grant id>`,
 *   contract/tables.ts). An id longer than a DynamoDB key may be (2048 bytes with its prefix) is
 *   simply not found by getPending and takePending.
 * - A put never overwrites: meeting the very item it writes succeeds (the adapter's retried
 *   write finding its own first attempt), meeting another throws UnavailableError.
 * - takePending deletes and returns in one step: of two callers only one gets the request.
 * - redeemCode, rotateRefreshToken, addRefreshSibling and revokeGrantByRefreshToken are one
 *   conditional check-and-set of the grant, with the adapter's conditions: the winner gets the
 *   grant as it was before, a loser `missing` or `refused` with the grant as it is (and wrote
 *   nothing). The release methods undo a write only while it is still the last one.
 * - Expiry is the caller's clock, never the store's: nothing is deleted as time passes (DynamoDB's
 *   TTL deletes late, dynalite never).
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
  CodeRedemption,
  GrantRecord,
  GrantStore,
  PendingSignIn,
  Rotation,
  Written,
} from '../../lambda/domain/grants.js';
import { UnavailableError } from '../../lambda/domain/oauth-error.js';

type Item = Record<string, unknown>;

/** DynamoDB's limit for a partition key value, which the adapter checks before asking. */
const MAX_KEY_BYTES = 2048;

const key = {
  pending: (id: string) => `${GRANT_KEY_PREFIXES.pending}${id}`,
  grant: (id: string) => `${GRANT_KEY_PREFIXES.grant}${id}`,
};

/** What the document client would store for `value` (undefined values removed), as a fresh copy. */
function marshalled<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export class MemoryGrantStore implements GrantStore {
  readonly #items = new Map<string, Item>();

  /** How many items are stored, of every kind (pending requests, grants). */
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

  /** One conditional write of a grant, as the adapter's UpdateItem. */
  #update(grantId: string, holds: (grant: GrantRecord) => boolean, apply: (grant: GrantRecord) => void): Written {
    const grant = this.#items.get(key.grant(grantId)) as GrantRecord | undefined;
    if (grant === undefined) return { outcome: 'missing' };
    if (!holds(grant)) return { outcome: 'refused', record: marshalled(grant) };
    const before = marshalled(grant);
    apply(grant);
    this.#items.set(key.grant(grantId), marshalled(grant) as unknown as Item);
    return { outcome: 'written', before };
  }

  async putPending(pending: PendingSignIn): Promise<void> {
    this.#put(key.pending(pending.id), pending);
  }

  async getPending(id: string): Promise<PendingSignIn | undefined> {
    if (Buffer.byteLength(key.pending(id)) > MAX_KEY_BYTES) return undefined;
    return this.#get(key.pending(id));
  }

  async takePending(id: string): Promise<PendingSignIn | undefined> {
    if (Buffer.byteLength(key.pending(id)) > MAX_KEY_BYTES) return undefined;
    const pending = this.#get<PendingSignIn>(key.pending(id));
    this.#items.delete(key.pending(id));
    return pending;
  }

  async createGrant(grant: GrantRecord): Promise<void> {
    this.#put(key.grant(grant.grant_id), grant);
  }

  async getGrant(grantId: string): Promise<GrantRecord | undefined> {
    return this.#get(key.grant(grantId));
  }

  async redeemCode(r: CodeRedemption): Promise<Written> {
    return this.#update(
      r.grantId,
      (g) =>
        g.code_hash === r.codeHash &&
        g.code_redeemed_at === undefined &&
        g.revoked_at === undefined &&
        (g.code_expires_at ?? 0) > r.now &&
        g.client_id === r.clientId &&
        g.code_challenge === r.codeChallenge &&
        (r.redirectUri !== undefined ? g.redirect_uri === r.redirectUri : g.redirect_uri_in_request === false) &&
        (r.resource === undefined || g.resource === r.resource),
      (g) => {
        g.code_redeemed_at = r.now;
        g.expires_at = r.expiresAt;
        g.last_used_at = r.now;
        if (r.refreshHash !== undefined) g.refresh_hashes = [r.refreshHash];
      },
    );
  }

  async releaseCode(grantId: string, redeemedAt: number, codeExpiresAt: number): Promise<void> {
    this.#update(
      grantId,
      (g) => g.code_redeemed_at === redeemedAt,
      (g) => {
        delete g.code_redeemed_at;
        delete g.refresh_hashes;
        delete g.last_used_at;
        g.expires_at = codeExpiresAt;
      },
    );
  }

  static #live(g: GrantRecord, r: Rotation): boolean {
    return (
      g.client_id === r.clientId && g.revoked_at === undefined && g.expires_at > r.now && g.grant_expires_at > r.now
    );
  }

  async rotateRefreshToken(r: Rotation): Promise<Written> {
    return this.#update(
      r.grantId,
      (g) => MemoryGrantStore.#live(g, r) && (g.refresh_hashes ?? []).includes(r.presentedHash),
      (g) => {
        g.previous_hashes = g.refresh_hashes;
        g.refresh_hashes = [r.newHash];
        g.rotated_at = r.now;
        g.expires_at = r.expiresAt;
        g.last_used_at = r.now;
      },
    );
  }

  async addRefreshSibling(r: Rotation & { rotatedAfter: number; maxSiblings: number }): Promise<Written> {
    return this.#update(
      r.grantId,
      (g) =>
        MemoryGrantStore.#live(g, r) &&
        (g.previous_hashes ?? []).includes(r.presentedHash) &&
        g.rotated_at !== undefined &&
        g.rotated_at >= r.rotatedAfter &&
        g.refresh_hashes !== undefined &&
        g.refresh_hashes.length < r.maxSiblings,
      (g) => {
        g.refresh_hashes = [...(g.refresh_hashes ?? []), r.newHash];
        g.last_used_at = r.now;
      },
    );
  }

  async releaseRotation(r: Rotation, before: GrantRecord): Promise<void> {
    this.#update(
      r.grantId,
      (g) => isDeepStrictEqual(g.refresh_hashes, [r.newHash]) && g.rotated_at === r.now,
      (g) => {
        g.refresh_hashes = before.refresh_hashes ?? [];
        g.expires_at = before.expires_at;
        if (before.previous_hashes) g.previous_hashes = before.previous_hashes;
        else delete g.previous_hashes;
        if (before.rotated_at !== undefined) g.rotated_at = before.rotated_at;
        else delete g.rotated_at;
        if (before.last_used_at !== undefined) g.last_used_at = before.last_used_at;
        else delete g.last_used_at;
      },
    );
  }

  async revokeGrant(grantId: string, now: number): Promise<void> {
    this.#update(
      grantId,
      () => true,
      (g) => {
        g.revoked_at ??= now;
      },
    );
  }

  async revokeGrantByRefreshToken(grantId: string, clientId: string, tokenHash: string, now: number): Promise<boolean> {
    const written = this.#update(
      grantId,
      (g) =>
        g.client_id === clientId &&
        ((g.refresh_hashes ?? []).includes(tokenHash) || (g.previous_hashes ?? []).includes(tokenHash)),
      (g) => {
        g.revoked_at ??= now;
      },
    );
    return written.outcome === 'written';
  }
}
