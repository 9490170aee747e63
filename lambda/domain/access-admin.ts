/**
 * Who has access, for an operator: the registered clients and the grants (one per sign-in) people
 * gave them, what listing shows of each, and the port the admin CLI (lambda/admin/) needs. Never
 * a secret: a listing carries no client-secret, registration-token, code or refresh-token hash.
 */
import type { GrantRecord } from './grants.js';

/** What a listing shows of a registered client. */
export interface ClientSummary {
  client_id: string;
  client_name?: string;
  /** Seconds since the epoch, as every time here. */
  client_id_issued_at: number;
  last_used_at?: number;
  token_endpoint_auth_method?: string;
  redirect_uris?: string[];
  /** Set while a registration awaits its first token (domain/client-activity.ts). */
  activation_deadline?: number;
  /** Past that deadline without a token: every read treats the client as not registered. */
  activation_expired?: boolean;
}

/** What a listing shows of a grant: the by-subject index's projection (contract/grants-index.ts). */
export type GrantSummary = Pick<
  GrantRecord,
  | 'grant_id'
  | 'client_id'
  | 'client_name'
  | 'redirect_uri'
  | 'subject'
  | 'scope'
  | 'resource'
  | 'created_at'
  | 'grant_expires_at'
  | 'expires_at'
  | 'last_used_at'
  | 'revoked_at'
>;

export interface Page<T> {
  items: T[];
  /** Opaque; present when there may be more. */
  next?: string;
}

/** The outcome of revoking one grant: revoked now, revoked before (at that time), or no such grant. */
export type Revocation =
  | { outcome: 'revoked' }
  | { outcome: 'already-revoked'; revokedAt: number }
  | { outcome: 'missing' };

export interface AccessAdminStore {
  listClients(limit: number, next?: string): Promise<Page<ClientSummary>>;
  getClient(clientId: string): Promise<ClientSummary | undefined>;
  /** Deletes the client record; false when there was none. */
  deleteClient(clientId: string): Promise<boolean>;
  /** Every grant of a person, newest first. */
  grantsOfSubject(subject: string): Promise<GrantSummary[]>;
  /** Every grant given to a client. */
  grantsOfClient(clientId: string): Promise<GrantSummary[]>;
  /**
   * Ends the grant and every token it issued (the first revocation's time stays), and withdraws
   * the person's consent to that client: no browser's remembered approval skips the consent page
   * for it any more (domain/consent-memory.ts ConsentWithdrawals).
   */
  revokeGrant(grantId: string, now: number): Promise<Revocation>;
}

export type GrantStatus = 'active' | 'revoked' | 'expired';

/**
 * A grant is revoked once revoked_at is set, expired once past its idle deadline (expires_at: an
 * unspent code's expiry, then the refresh token's) or its absolute end, and active otherwise.
 */
export function grantStatus(grant: GrantSummary, now: number): GrantStatus {
  if (grant.revoked_at !== undefined) return 'revoked';
  if (grant.expires_at <= now || grant.grant_expires_at <= now) return 'expired';
  return 'active';
}

export type ClientStatus = 'active' | 'awaiting first token' | 'activation expired';

export function clientStatus(client: ClientSummary): ClientStatus {
  if (client.activation_expired) return 'activation expired';
  return client.activation_deadline === undefined ? 'active' : 'awaiting first token';
}

/** A value an operator gave that cannot be used (a malformed page token): a usage error, not a fault. */
export class AdminInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminInputError';
  }
}
