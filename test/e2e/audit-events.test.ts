/**
 * Audit events end to end (lambda/http/audit.ts): the local server's own JSON log lines, read
 * from its output, carry exactly one audit event per registration, consent decision, code,
 * token grant and refusal, reuse, revocation, update and deletion, each with the client and
 * request ids (and the subject where there is one), and no line anywhere carries a secret.
 */
import { describe, expect, it } from 'vitest';
import { CookieJar } from '../support/browser-like.js';
import { useLocalServer } from '../support/local-server-fixture.js';
import { authorizationUrl, discover, registerTestClient, runBrowser } from '../support/oauth-flow.js';

const server = useLocalServer({ POWERTOOLS_LOG_LEVEL: 'INFO' });

type Json = Record<string, unknown>;

/** The audit objects of the server's log lines, in the order written. */
function auditEvents(output: string): Json[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Json)
    .filter((line) => line.message === 'audit')
    .map((line) => line.audit as Json);
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function form(path: string, fields: Record<string, string>, authorization: string) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: authorization },
    body: new URLSearchParams(fields),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Json };
}

function subjectOf(accessToken: string): string {
  return JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()).sub as string;
}

describe('audit events', () => {
  it('one line per event, with client, subject and request ids, and never a secret', async () => {
    const before = server.process.output().length;
    const as = await discover(server.url);
    const registered = await registerTestClient(as, 'client_secret_basic');
    const clientId = registered.client.client_id;
    const secret = registered.client.client_secret as string;
    const registrationToken = registered.client.registration_access_token as string;
    const authorization = basic(clientId, secret);
    const jar = new CookieJar();
    const secrets: string[] = [secret, registrationToken, authorization];

    const signIn = async (decision: 'allow' | 'deny') => {
      const attempt = await authorizationUrl(as, registered);
      const landing = await runBrowser(attempt.url, registered.redirectUri, jar, { decision });
      expect(landing.kind).toBe('stopped');
      secrets.push(attempt.codeVerifier);
      return { landing: landing.url, verifier: attempt.codeVerifier };
    };
    const exchange = async (code: string, verifier: string) =>
      form(
        '/token',
        { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: registered.redirectUri },
        authorization,
      );

    // Declined: the client hears access_denied.
    const denied = await signIn('deny');
    expect(denied.landing.searchParams.get('error')).toBe('access_denied');

    // Allowed: a code, its exchange, a refresh, the refresh token revoked.
    const allowed = await signIn('allow');
    const code = allowed.landing.searchParams.get('code') as string;
    const issued = await exchange(code, allowed.verifier);
    expect(issued.status).toBe(200);
    const refreshed = await form(
      '/token',
      { grant_type: 'refresh_token', refresh_token: issued.json.refresh_token as string },
      authorization,
    );
    expect(refreshed.status).toBe(200);
    const revoked = await form('/revoke', { token: refreshed.json.refresh_token as string }, authorization);
    expect(revoked.status).toBe(200);

    // Refused: a code that was never issued.
    const refused = await form(
      '/token',
      { grant_type: 'authorization_code', code: 'not-a-code', code_verifier: 'v' },
      authorization,
    );
    expect(refused.json.error).toBe('invalid_grant');

    // Remembered consent (no page, so no decision), then the code used twice: the grant is revoked.
    const again = await signIn('allow');
    const secondCode = again.landing.searchParams.get('code') as string;
    const secondIssued = await exchange(secondCode, again.verifier);
    expect(secondIssued.status).toBe(200);
    const replayed = await exchange(secondCode, again.verifier);
    expect(replayed.json.error).toBe('invalid_grant');

    // RFC 7592: replaced, then deleted.
    const uri = registered.client.registration_client_uri as string;
    const manage = (method: string, body?: Json) =>
      fetch(uri, {
        method,
        headers: { Authorization: `Bearer ${registrationToken}`, 'Content-Type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    const put = await manage('PUT', {
      client_id: clientId,
      redirect_uris: [registered.redirectUri],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    });
    expect(put.status, await put.text()).toBe(200);
    expect((await manage('DELETE')).status).toBe(204);

    const output = server.process.output().slice(before);
    const subject = subjectOf(issued.json.access_token as string);
    const grantOf = (token: string) => token.split('.')[0];
    const firstGrant = grantOf(code);
    const secondGrant = grantOf(secondCode);
    const events = auditEvents(output);
    const requestIds = events.map((event) => event.request_id);
    expect(requestIds.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(events.map(({ request_id: _, ...rest }) => rest)).toStrictEqual([
      { event: 'client.registered', client_id: clientId },
      { event: 'consent.denied', client_id: clientId },
      { event: 'consent.allowed', client_id: clientId },
      { event: 'code.issued', client_id: clientId, subject, grant_id: firstGrant },
      { event: 'token.issued', client_id: clientId, subject, grant_id: firstGrant, grant_type: 'authorization_code' },
      { event: 'token.issued', client_id: clientId, subject, grant_id: firstGrant, grant_type: 'refresh_token' },
      { event: 'token.revoked', client_id: clientId, grant_id: firstGrant },
      { event: 'token.refused', client_id: clientId, grant_type: 'authorization_code', error: 'invalid_grant' },
      { event: 'code.issued', client_id: clientId, subject, grant_id: secondGrant },
      { event: 'token.issued', client_id: clientId, subject, grant_id: secondGrant, grant_type: 'authorization_code' },
      { event: 'grant.revoked', client_id: clientId, subject, grant_id: secondGrant, grant_type: 'authorization_code' },
      { event: 'token.refused', client_id: clientId, grant_type: 'authorization_code', error: 'invalid_grant' },
      { event: 'client.updated', client_id: clientId },
      { event: 'client.deleted', client_id: clientId },
    ]);
    // One request, one event: every request id differs, but for the replay's revocation and its refusal.
    expect(new Set(requestIds).size).toBe(requestIds.length - 1);

    secrets.push(
      code,
      secondCode,
      ...[issued, refreshed, secondIssued].flatMap(({ json }) => [json.access_token, json.refresh_token] as string[]),
    );
    for (const value of secrets) {
      expect(value.length).toBeGreaterThan(10);
      expect(output.includes(value), `the log carries a secret: ${value.slice(0, 12)}…`).toBe(false);
    }
  });
});
