/**
 * Writes audit events (contract/audit-events.ts) as Powertools log lines of one shape:
 * `{"message":"audit","audit":{"event":"token.issued","client_id":…,"subject":…,"request_id":…}}`,
 * so one Logs Insights `filter audit.event = '…'` finds any of them. Only the identifiers the
 * contract lists are written: a token, code, secret or client-chosen text has no field to go in.
 */
import { AUDIT_KEY, AUDIT_MESSAGE, type AuditRecord } from '../contract/audit-events.js';
import { type GrantType, isGrantType } from '../contract/capabilities.js';
import type { GrantReport } from '../domain/token-service.js';
import { logger } from './powertools.js';

/** The part of an API Gateway event an audit line needs: its request id. */
export interface AuditedRequest {
  requestContext?: { requestId?: string };
}

const FIELDS = ['event', 'client_id', 'subject', 'grant_id', 'grant_type', 'error', 'request_id'] as const;

/** The audit line's fields, in one order, without the absent ones and without anything not listed. */
export function auditFields(request: AuditedRequest, record: Omit<AuditRecord, 'request_id'>): AuditRecord {
  const all: Record<string, unknown> = { ...record, request_id: request.requestContext?.requestId };
  const fields: Record<string, string> = {};
  for (const name of FIELDS) if (typeof all[name] === 'string' && all[name] !== '') fields[name] = all[name];
  return fields as unknown as AuditRecord;
}

/** Writes one audit event for this request. */
export function audit(request: AuditedRequest, record: Omit<AuditRecord, 'request_id'>): void {
  logger.info(AUDIT_MESSAGE, { [AUDIT_KEY]: auditFields(request, record) });
}

/** The authenticated client of each request in flight, for the audit event its refusal writes. */
const authenticated = new WeakMap<object, string>();

/** Notes that this request's client authenticated, so that a later refusal names it. */
export function auditClient(request: object, clientId: string): void {
  authenticated.set(request, clientId);
}

/** A client_id longer than this (a URL client id is at most a few hundred characters) is not written. */
const MAX_NAMED_CLIENT_ID = 2048;

/**
 * The client a refused request is audited under: the one that authenticated, or else the
 * client_id its form named (unverified; a refusal of HTTP Basic credentials names none).
 */
export function refusedClient(request: { body?: unknown }): string | undefined {
  const known = authenticated.get(request);
  if (known) return known;
  const body = request.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const named = (body as Record<string, unknown>).client_id;
  return typeof named === 'string' && named.length <= MAX_NAMED_CLIENT_ID ? named : undefined;
}

/**
 * The grant type a refused token request asked for, when it is one this server implements (a
 * closed list, so no client-chosen text reaches the log); undefined otherwise and elsewhere.
 */
export function refusedGrantType(request: { body?: unknown }): GrantType | undefined {
  const body = request.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const named = (body as Record<string, unknown>).grant_type;
  return typeof named === 'string' && isGrantType(named) ? named : undefined;
}

/** The token service's report port for one request: tokens issued, or a grant revoked for reuse. */
export function grantAuditor(request: AuditedRequest, grantType: string): (report: GrantReport) => void {
  return ({ what, grantId, clientId, subject }) =>
    audit(request, {
      event: what === 'issued' ? 'token.issued' : 'grant.revoked',
      client_id: clientId,
      subject,
      grant_id: grantId,
      grant_type: grantType,
    });
}
