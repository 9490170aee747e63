/**
 * The GrantStore port: short-lived authorization state, kept apart from the clients table.
 * Codes and refresh tokens are stored only by the hash of their value; every expiry is
 * enforced in code, since DynamoDB's TTL deletes late and dynalite never does.
 */

export interface PendingAuthorization {
  /** 256 random bits; also the `state` sent upstream and the browser-binding cookie value. */
  id: string;
  purpose?: never;
  client_id: string;
  /** The name the client registered (or its metadata document gave) when the person approved it. */
  client_name?: string;
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
  /**
   * Set when the consent page was skipped for an approval this browser remembered, given then
   * (seconds): the callback checks the person did not withdraw the client's access since.
   */
  remembered_approval_at?: number;
  /** Seconds since the epoch. */
  expires_at: number;
}

/**
 * A person signing in to see their connected apps (GET /account): no client, no code; the
 * callback then opens an account session instead of sending a code anywhere.
 */
export interface PendingAccountSignIn {
  /** 256 random bits, as a pending authorization's. */
  id: string;
  purpose: 'account';
  upstream_nonce: string;
  upstream_code_verifier: string;
  expires_at: number;
}

/** Either kind of sign-in in progress, stored alike; the callback tells them apart by `purpose`. */
export type PendingSignIn = PendingAuthorization | PendingAccountSignIn;

/**
 * One grant: what one sign-in gave one client (its "family"). The code, the refresh tokens of the
 * current and the previous generation (hashes only), the subject, client, scope, resource,
 * lifetimes and revocation live in this one record, so spending a code or rotating a refresh
 * token is one conditional update of it, and revoking it ends every token it issued.
 *
 * Codes and refresh tokens are `<grant id>.<secret>`: the id leads to the record without a
 * look-up, and only the SHA-256 of the secret part is stored.
 */
export interface GrantRecord {
  grant_id: string;
  client_id: string;
  /** The client's name as the person approved it, for their connected apps page. */
  client_name?: string;
  subject: string;
  scope: string;
  resource: string;
  /** Seconds since the epoch, as every time here. */
  created_at: number;
  /** The absolute end of the grant (the refresh token absolute lifetime), fixed at sign-in. */
  grant_expires_at: number;
  /**
   * Until when the grant can still be used: the code's expiry, then the refresh token's idle
   * deadline (or the access token's expiry without refresh tokens). Also the table's TTL.
   */
  expires_at: number;

  /**
   * How the grant was made, when not by a sign-in: `client_credentials` (a machine client for
   * itself) or the jwt-bearer grant (an ID-JAG, id-jag.ts): one record per issued token, no code,
   * no refresh token. Absent: a sign-in.
   */
  grant_type?: 'client_credentials' | 'urn:ietf:params:oauth:grant-type:jwt-bearer';
  /** The authorization code's fields: absent from a grant no sign-in made (no code to redeem). */
  code_hash?: string;
  code_challenge?: string;
  redirect_uri?: string;
  /** Whether the authorization request named redirect_uri (RFC 6749 4.1.3 then requires it at /token). */
  redirect_uri_in_request?: boolean;
  code_expires_at?: number;
  code_redeemed_at?: number;

  /** Hashes of the refresh tokens of the current generation (more than one only from the grace window). */
  refresh_hashes?: string[];
  /** Hashes of the generation before, accepted within the reuse grace window after rotated_at. */
  previous_hashes?: string[];
  rotated_at?: number;
  last_used_at?: number;
  revoked_at?: number;
}

/**
 * Outcome of a conditional write: it happened (the record as it was before), the item is absent,
 * or a condition did not hold (the record as it is, for the caller to tell why; nothing written).
 */
export type Written =
  | { outcome: 'written'; before: GrantRecord }
  | { outcome: 'missing' }
  | { outcome: 'refused'; record: GrantRecord };

/** Spending a code, with every check the request implies made in the write itself. */
export interface CodeRedemption {
  grantId: string;
  codeHash: string;
  now: number;
  clientId: string;
  /** S256 of the request's code_verifier, or '' when it has none a challenge could be made of. */
  codeChallenge: string;
  /** The request's redirect_uri; undefined when it sent none (the authorization request must not have either). */
  redirectUri: string | undefined;
  /** The request's resource, when it sent one. */
  resource: string | undefined;
  /** The first refresh token's hash, when the client gets refresh tokens. */
  refreshHash: string | undefined;
  /** The grant's expires_at from now on. */
  expiresAt: number;
}

/** Rotating a refresh token of the current generation to a new one. */
export interface Rotation {
  grantId: string;
  clientId: string;
  presentedHash: string;
  newHash: string;
  now: number;
  /** The grant's idle deadline from now on. */
  expiresAt: number;
}

export interface GrantStore {
  putPending(pending: PendingSignIn): Promise<void>;
  getPending(id: string): Promise<PendingSignIn | undefined>;
  /** Removes and returns the pending request: a callback can complete it once. */
  takePending(id: string): Promise<PendingSignIn | undefined>;

  /** Stores a new grant with its unredeemed code; never overwrites another. */
  createGrant(grant: GrantRecord): Promise<void>;
  getGrant(grantId: string): Promise<GrantRecord | undefined>;
  /** Spends the code in one conditional write (and starts the refresh tokens); a refused redemption writes nothing. */
  redeemCode(redemption: CodeRedemption): Promise<Written>;
  /** Undoes this request's redemption (made at `redeemedAt`) when no tokens could be issued for it. */
  releaseCode(grantId: string, redeemedAt: number, codeExpiresAt: number): Promise<void>;
  /** Rotates a current-generation refresh token in one conditional write. */
  rotateRefreshToken(rotation: Rotation): Promise<Written>;
  /**
   * Within the grace window: adds `newHash` to the current generation, if the presented hash is
   * still of the previous one, rotated at or after `rotatedAfter`, and the generation has room.
   */
  addRefreshSibling(rotation: Rotation & { rotatedAfter: number; maxSiblings: number }): Promise<Written>;
  /** Undoes this request's rotation (it left `before`) when no tokens could be issued for it. */
  releaseRotation(rotation: Rotation, before: GrantRecord): Promise<void>;
  /** Ends the grant and every token it issued. Idempotent. */
  revokeGrant(grantId: string, now: number): Promise<void>;
  /** Ends the grant only if `tokenHash` is one of its live refresh tokens and it is this client's. */
  revokeGrantByRefreshToken(grantId: string, clientId: string, tokenHash: string, now: number): Promise<boolean>;
}
