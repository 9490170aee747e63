/**
 * Idle expiry: a registered client unused for the configured number of days stops working, so
 * abandoned registrations do not stay valid forever. Use is recorded at most once a day per
 * client, by the token endpoint only (never by the authorizer, which only reads).
 */
import type { RegisteredClient } from './clients.js';

export const DAY_SECONDS = 86_400;

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
