/**
 * Audit events: the closed list of names an operator's queries filter on, and the one line shape
 * every event is written in (lambda/http/audit.ts). A name, once shipped, is never changed or
 * reused: saved CloudWatch Logs Insights queries and alarms depend on it.
 */

/** The log line's `message`, the same for every audit event. */
export const AUDIT_MESSAGE = 'audit';

/** The key the event's fields sit under, so that `audit.event` and `audit.client_id` are fields to filter on. */
export const AUDIT_KEY = 'audit';

export const AUDIT_EVENTS = [
  /** POST /register created a client (RFC 7591). */
  'client.registered',
  /** PUT /register/{client_id} replaced its metadata (RFC 7592). */
  'client.updated',
  /** DELETE /register/{client_id} removed it (RFC 7592). */
  'client.deleted',
  /** The person pressed Allow on the consent page (before signing in: no subject yet). */
  'consent.allowed',
  /** The person pressed Deny; the client was sent access_denied. */
  'consent.denied',
  /** The person signed in and the client was sent a code: a new grant, with its subject. */
  'code.issued',
  /** POST /token answered tokens (grant_type: authorization_code, refresh_token, client_credentials or jwt-bearer). */
  'token.issued',
  /** POST /token refused (error: the OAuth error code; grant_type: the one asked for, when the server implements it). */
  'token.refused',
  /** POST /revoke ended a grant by one of its refresh tokens (RFC 7009). */
  'token.revoked',
  /** A code or refresh token was used again outside its grace window: the whole grant was revoked. */
  'grant.revoked',
  /** The person ended a client's access on their connected apps page (/account): one line per grant. */
  'access.revoked',
] as const;

export type AuditEventName = (typeof AUDIT_EVENTS)[number];

/** What one audit line carries under AUDIT_KEY: identifiers only, never a token, code, secret or client-chosen text. */
export interface AuditRecord {
  event: AuditEventName;
  /** The client; for a refusal before the client authenticated, the client_id the request named (unverified), if any. */
  client_id?: string;
  /** The person (the upstream provider's sub), where the event has one. */
  subject?: string;
  /** The grant (one sign-in) a code, token or revocation belongs to. */
  grant_id?: string;
  grant_type?: string;
  /** The OAuth error code of a refusal. */
  error?: string;
  /** API Gateway's request id (also the log's correlation_id). */
  request_id?: string;
}
