/**
 * The GrantStore port: short-lived authorization state, kept apart from the clients table.
 * Codes and refresh tokens are stored only by the hash of their value; every expiry is
 * enforced in code, since DynamoDB's TTL deletes late and dynalite never does.
 */

export interface PendingAuthorization {
  /** 256 random bits; also the `state` sent upstream and the browser-binding cookie value. */
  id: string;
  client_id: string;
  /** The client's version when the person saw it (consent-memory.ts): what an approval remembers. */
  client_version?: string;
  redirect_uri: string;
  /** Whether the client's request named redirect_uri (RFC 6749 4.1.3 then requires it at /token). */
  redirect_uri_in_request: boolean;
  code_challenge: string;
  state?: string;
  scope: string;
  resource: string;
  upstream_nonce: string;
  upstream_code_verifier: string;
  /** The client's prompt=none or prompt=login, passed to the provider. */
  upstream_prompt?: 'none' | 'login';
  /** The client's max_age, passed to the provider and checked against auth_time. */
  max_age?: number;
  /** Seconds since the epoch. */
  expires_at: number;
}

export interface AuthorizationCodeRecord {
  client_id: string;
  redirect_uri: string;
  redirect_uri_in_request: boolean;
  code_challenge: string;
  scope: string;
  resource: string;
  subject: string;
  /** The refresh-token family the code's tokens belong to; revoked if the code is replayed. */
  family_id: string;
  expires_at: number;
  redeemed_at?: number;
}

export interface RefreshTokenRecord {
  client_id: string;
  subject: string;
  scope: string;
  resource: string;
  family_id: string;
  /** Idle deadline: the token is refused after this. */
  expires_at: number;
  /** Absolute deadline of the whole family, fixed at the first grant. */
  family_expires_at: number;
  used_at?: number;
}

/**
 * Outcome of consuming a single-use item: the record, absent, already used (a replay), or
 * refused because it did not meet the expectations (left unused, to be diagnosed from `record`).
 */
export type Consumed<T> =
  | { outcome: 'consumed'; record: T }
  | { outcome: 'missing' }
  | { outcome: 'replayed'; record: T }
  | { outcome: 'refused'; record: T };

/** What a single-use item must hold for the consuming write to succeed (checked in the write itself). */
export interface ConsumeExpectations {
  /** Attributes that must equal these values. */
  equals?: Readonly<Record<string, string | number | boolean>>;
  /** expires_at must be later than this. */
  validAt?: number;
}

export interface GrantStore {
  putPending(pending: PendingAuthorization): Promise<void>;
  getPending(id: string): Promise<PendingAuthorization | undefined>;
  /** Removes and returns the pending request: a callback can complete it once. */
  takePending(id: string): Promise<PendingAuthorization | undefined>;

  putCode(codeHash: string, record: AuthorizationCodeRecord): Promise<void>;
  getCode(codeHash: string): Promise<AuthorizationCodeRecord | undefined>;
  /**
   * Marks the code redeemed in one conditional write that also checks `expect`, so a refused
   * redemption writes nothing and a successful one needs no read first; a second call sees a replay.
   */
  redeemCode(codeHash: string, now: number, expect?: ConsumeExpectations): Promise<Consumed<AuthorizationCodeRecord>>;
  /**
   * Undoes this request's redemption (marked at `redeemedAt`) when no tokens could be issued for
   * it, so the client's retry can still redeem the code. A no-op if the mark is not that one.
   */
  releaseCode(codeHash: string, redeemedAt: number): Promise<void>;

  putRefreshToken(tokenHash: string, record: RefreshTokenRecord): Promise<void>;
  getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /** Marks the token used in one conditional write; a second call sees a replay. */
  useRefreshToken(tokenHash: string, now: number): Promise<Consumed<RefreshTokenRecord>>;
  /** Undoes this request's use (marked at `usedAt`) when no tokens could be issued for it. */
  releaseRefreshToken(tokenHash: string, usedAt: number): Promise<void>;

  revokeFamily(familyId: string, expiresAt: number): Promise<void>;
  isFamilyRevoked(familyId: string): Promise<boolean>;
}
