/**
 * The audit line (lambda/http/audit.ts): one Powertools JSON line per event, message `audit`,
 * the event's identifiers under `audit`, in the same shape for every event, and nothing else:
 * a field the contract does not list (a token passed by mistake) has nowhere to go.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AUDIT_EVENTS, type AuditRecord } from '../../lambda/contract/audit-events.js';
import { audit, auditClient, grantAuditor, refusedClient, refusedGrantType } from '../../lambda/http/audit.js';
import { logger } from '../../lambda/http/powertools.js';

const request = { requestContext: { requestId: 'req-1' } };

let lines: string[];

beforeEach(() => {
  lines = [];
  logger.setLogLevel('INFO');
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  logger.setLogLevel('SILENT');
});

/** The JSON lines written, parsed. */
function written(): Array<Record<string, unknown>> {
  return lines
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the audit event names', () => {
  it('are the closed list queries filter on', () => {
    expect(AUDIT_EVENTS).toEqual([
      'client.registered',
      'client.updated',
      'client.deleted',
      'consent.allowed',
      'consent.denied',
      'code.issued',
      'token.issued',
      'token.refused',
      'token.revoked',
      'grant.revoked',
      'access.revoked',
    ]);
  });
});

describe('audit', () => {
  it.each<[string, Omit<AuditRecord, 'request_id'>, Record<string, string>]>([
    ['a registration: the client', { event: 'client.registered', client_id: 'c1' }, { client_id: 'c1' }],
    [
      'a token grant: client, subject, grant and grant type',
      { event: 'token.issued', client_id: 'c1', subject: 'alice', grant_id: 'g1', grant_type: 'refresh_token' },
      { client_id: 'c1', subject: 'alice', grant_id: 'g1', grant_type: 'refresh_token' },
    ],
    [
      'a refusal: the OAuth error code',
      { event: 'token.refused', client_id: 'c1', error: 'invalid_grant' },
      { client_id: 'c1', error: 'invalid_grant' },
    ],
    [
      'a refusal naming no client: no client_id key',
      { event: 'token.refused', error: 'invalid_client' },
      { error: 'invalid_client' },
    ],
  ])('writes one line for %s, with the request id', (_, record, expected) => {
    audit(request, record);
    const [line, ...rest] = written();
    expect(rest).toEqual([]);
    expect(line.message).toBe('audit');
    expect(line.level).toBe('INFO');
    expect(line.audit).toStrictEqual({ event: record.event, ...expected, request_id: 'req-1' });
  });

  it('writes only the listed fields: anything else given is dropped, and empty values too', () => {
    const mistaken = {
      event: 'client.registered',
      client_id: 'c1',
      subject: '',
      client_secret: 'the-secret',
      refresh_token: 'the-token',
      client_name: 'Evil\nName',
    } as Omit<AuditRecord, 'request_id'>;
    audit(request, mistaken);
    expect(written()[0].audit).toStrictEqual({ event: 'client.registered', client_id: 'c1', request_id: 'req-1' });
    expect(lines.join('')).not.toMatch(/the-secret|the-token|Evil/);
  });
});

describe('refusedClient', () => {
  it('names the authenticated client, else the form client_id, else none', () => {
    const authenticated = { body: { client_id: 'claimed' } };
    auditClient(authenticated, 'verified');
    expect(refusedClient(authenticated)).toBe('verified');
    expect(refusedClient({ body: { client_id: 'claimed' } })).toBe('claimed');
    expect(refusedClient({ body: 'client_id=raw' })).toBeUndefined();
    expect(refusedClient({ body: { client_id: 'x'.repeat(2049) } })).toBeUndefined();
    expect(refusedClient({})).toBeUndefined();
  });
});

describe('grantAuditor', () => {
  it('turns the token service reports into token.issued and grant.revoked', () => {
    const report = grantAuditor(request, 'authorization_code');
    report({ what: 'issued', grantId: 'g1', clientId: 'c1', subject: 'alice' });
    report({ what: 'revoked', grantId: 'g1', clientId: 'c1', subject: 'alice' });
    const same = {
      client_id: 'c1',
      subject: 'alice',
      grant_id: 'g1',
      grant_type: 'authorization_code',
      request_id: 'req-1',
    };
    expect(written().map((line) => line.audit)).toStrictEqual([
      { event: 'token.issued', ...same },
      { event: 'grant.revoked', ...same },
    ]);
  });
});

describe('refusedGrantType', () => {
  it.each([
    [{ grant_type: 'client_credentials' }, 'client_credentials', 'a grant this server implements'],
    [
      { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' },
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
      'ID-JAG',
    ],
    [{ grant_type: 'password' }, undefined, 'one it does not: never client text in the log'],
    [{ grant_type: 'x'.repeat(5000) }, undefined, 'anything else'],
    [{}, undefined, 'none (a revocation)'],
    [undefined, undefined, 'no body'],
  ])('%j -> %s (%s)', (body, expected, _reason) => {
    expect(refusedGrantType({ body })).toBe(expected);
  });
});
