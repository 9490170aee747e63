/**
 * What a registered client's use decides.
 *
 * Idle expiry: a registered client unused for the configured number of days stops working, so
 * abandoned registrations do not stay valid forever. Use is recorded at most once a day per
 * client, by the token endpoint only (never by the authorizer, which only reads).
 *
 * Activation: against registration floods (open registration lets anyone create clients by the
 * million, few of which are ever used), a dynamically registered client is stored with a deadline
 * in the clients table's TTL attribute. Until its first token it works; past the deadline it is
 * treated as not registered by every read, since DynamoDB's TTL deletes an item only some time
 * (up to days) after it expires. The first record of use removes the deadline in the same write,
 * and the client is then kept like any other. Client ID Metadata Document clients (issued_at 0)
 * are never registrations and never expire this way.
 */
import { CLIENTS_TABLE_TTL_ATTRIBUTE } from '../contract/tables.js';
import type { RegisteredClient } from './clients.js';

export const DAY_SECONDS = 86_400;
export const HOUR_SECONDS = 3600;

/** A client as the clients table holds it: while it awaits its first token, with its deadline. */
export type StoredClient = RegisteredClient & { [CLIENTS_TABLE_TTL_ATTRIBUTE]?: number };

/** Whether the client has been idle longer than allowed; CIMD clients (issued_at 0) never are. */
export function isIdleExpired(client: RegisteredClient, now: number, idleDays: number): boolean {
  if (idleDays <= 0 || client.client_id_issued_at === 0) return false;
  const lastActive = Math.max(client.last_used_at ?? 0, client.client_id_issued_at);
  return now - lastActive > idleDays * DAY_SECONDS;
}

/** True when no use was recorded in the last day: then, and only then, the token endpoint writes. */
export function shouldRecordUse(client: RegisteredClient, now: number): boolean {
  if (client.client_id_issued_at === 0) return false;
  return client.last_used_at === undefined || now - client.last_used_at >= DAY_SECONDS;
}

/**
 * The activation deadline a new registration is stored with: `issuedAt + hours`, as the TTL
 * attribute; nothing when activation is off (0 hours) or for a CIMD client (issued_at 0).
 */
export function activationDeadline(
  issuedAt: number,
  hours: number,
): Pick<StoredClient, typeof CLIENTS_TABLE_TTL_ATTRIBUTE> {
  if (hours <= 0 || issuedAt === 0) return {};
  return { [CLIENTS_TABLE_TTL_ATTRIBUTE]: issuedAt + hours * HOUR_SECONDS };
}

/**
 * Whether a stored client's activation deadline has passed without a token: then it is not
 * registered, whether or not DynamoDB's TTL has deleted it yet. A client without a deadline
 * (activated, registered before activation existed, or with activation off) never expires so.
 */
export function isActivationExpired(client: StoredClient, now: number): boolean {
  const deadline = client[CLIENTS_TABLE_TTL_ATTRIBUTE];
  if (deadline === undefined || client.client_id_issued_at === 0) return false;
  return now >= deadline;
}

/** The client without its storage-only deadline: what the store hands out. */
export function withoutDeadline(client: StoredClient): RegisteredClient {
  const { [CLIENTS_TABLE_TTL_ATTRIBUTE]: _deadline, ...rest } = client;
  return rest;
}
