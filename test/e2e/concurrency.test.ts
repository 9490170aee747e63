/**
 * End to end: concurrent requests against the real local server (`npm start`'s entry point in a
 * child process). Registrations at once all land, each readable; one authorization code redeemed
 * many times at once yields tokens exactly once, and the replays revoke what it yielded; one
 * refresh token used many times at once rotates exactly once.
 */
import * as oauth from 'oauth4webapi';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalServer } from '../support/local-server-fixture.js';
import {
  authorizationUrl,
  discover,
  INSECURE,
  obtainTokens,
  type RegisteredTestClient,
  registerTestClient,
  runBrowser,
} from '../support/oauth-flow.js';

type Json = Record<string, unknown>;

const server = useLocalServer();
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  as = await discover(server.url);
});

interface Reply {
  status: number;
  json: Json;
  text: string;
}

async function reply(res: Response): Promise<Reply> {
  const text = await res.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    // Not JSON; the assertions on status and text say what it was.
  }
  return { status: res.status, json, text };
}

/** A raw token request, so that every concurrent answer is seen as it came (no client library checks). */
function tokenRequest(
  registered: RegisteredTestClient,
  params: Record<string, string>,
  at: oauth.AuthorizationServer = as,
): Promise<Reply> {
  return fetch(at.token_endpoint as string, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: registered.client.client_id, ...params }),
  }).then(reply);
}

function refresh(
  registered: RegisteredTestClient,
  refreshToken: string,
  at: oauth.AuthorizationServer = as,
): Promise<Reply> {
  return tokenRequest(registered, { grant_type: 'refresh_token', refresh_token: refreshToken }, at);
}

/** Statuses with their counts, for readable failure messages. */
function tally(replies: readonly Reply[]): string {
  const counts = new Map<string, number>();
  for (const { status, json } of replies) {
    const key = `${status} ${typeof json.error === 'string' ? json.error : ''}`.trim();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, count]) => `${count}× ${key}`).join(', ');
}

describe('concurrent registrations', () => {
  it('50 registrations at once all land with distinct client_ids, each readable at its registration_client_uri', async () => {
    const bodies = Array.from({ length: 50 }, (_, i) => ({
      redirect_uris: [`https://client.example/callback/${i}`, `http://127.0.0.1/cb${i}`],
      token_endpoint_auth_method: i % 2 === 0 ? 'none' : 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      client_name: `Concurrent client ${i}`,
    }));
    const replies = await Promise.all(
      bodies.map((body) =>
        fetch(`${server.url}/register`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        }).then(reply),
      ),
    );
    expect(
      replies.map((r) => r.status),
      tally(replies),
    ).toEqual(Array(50).fill(201));

    const ids = replies.map((r) => r.json.client_id as string);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(50);
    const tokens = replies.map((r) => r.json.registration_access_token as string);
    expect(new Set(tokens).size).toBe(50);

    // Read back (all at once as well): each client is exactly what was sent for it.
    const reads = await Promise.all(
      replies.map((r) =>
        fetch(r.json.registration_client_uri as string, {
          headers: { Authorization: `Bearer ${r.json.registration_access_token}` },
        }).then(reply),
      ),
    );
    reads.forEach((read, i) => {
      expect(read.status, read.text).toBe(200);
      expect(read.json.client_id).toBe(ids[i]);
      expect(read.json.redirect_uris).toEqual(bodies[i].redirect_uris);
      expect(read.json.client_name).toBe(bodies[i].client_name);
      expect(read.json.token_endpoint_auth_method).toBe(bodies[i].token_endpoint_auth_method);
    });
  });
});

describe('concurrent redemptions of one authorization code', () => {
  it('20 redemptions at once: exactly one gets tokens, the rest invalid_grant, and the winner’s refresh token is revoked', async () => {
    const registered = await registerTestClient(as, 'none');
    const attempt = await authorizationUrl(as, registered);
    const landing = await runBrowser(attempt.url, registered.redirectUri);
    if (landing.kind !== 'stopped') throw new Error(`the flow ended on a page: ${landing.response.status}`);
    const params = oauth.validateAuthResponse(as, registered.client, landing.url, attempt.state);
    const code = params.get('code') as string;
    expect(code).toEqual(expect.any(String));

    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        tokenRequest(registered, {
          grant_type: 'authorization_code',
          code,
          code_verifier: attempt.codeVerifier,
          redirect_uri: registered.redirectUri,
        }),
      ),
    );
    const winners = replies.filter((r) => r.status === 200);
    const losers = replies.filter((r) => r.status !== 200);
    expect(winners, tally(replies)).toHaveLength(1);
    expect(losers, tally(replies)).toHaveLength(19);
    for (const loser of losers) {
      expect(loser.status, loser.text).toBe(400);
      expect(loser.json.error, loser.text).toBe('invalid_grant');
    }
    const [winner] = winners;
    expect(winner.json.access_token).toEqual(expect.any(String));
    const refreshToken = winner.json.refresh_token as string;
    expect(refreshToken).toEqual(expect.any(String));

    // The expectation, stated: RFC 6749 4.1.2 (and RFC 9700 4.14) — an authorization code used more
    // than once revokes the tokens issued for it. The 19 replays above were such uses, so the
    // refresh token the one winner received is already revoked: refreshing it fails.
    const refreshed = await refresh(registered, refreshToken);
    expect(refreshed.status, refreshed.text).toBe(400);
    expect(refreshed.json.error, refreshed.text).toBe('invalid_grant');

    // And the code stays spent: one more redemption is refused too.
    const again = await tokenRequest(registered, {
      grant_type: 'authorization_code',
      code,
      code_verifier: attempt.codeVerifier,
      redirect_uri: registered.redirectUri,
    });
    expect(again.status, again.text).toBe(400);
    expect(again.json.error, again.text).toBe('invalid_grant');
  });
});

describe('concurrent refreshes of one refresh token, within the reuse grace window (the default, 60 s)', () => {
  it('20 refreshes at once all succeed, each with its own refresh token, and every one of those refreshes again', async () => {
    const registered = await registerTestClient(as, 'none');
    const tokens = await obtainTokens(as, registered);
    const refreshToken = tokens.refresh_token as string;

    const replies = await Promise.all(Array.from({ length: 20 }, () => refresh(registered, refreshToken)));
    expect(
      replies.filter((r) => r.status === 200),
      tally(replies),
    ).toHaveLength(20);
    const issued = replies.map((r) => r.json.refresh_token as string);
    expect(new Set(issued).size).toBe(20);
    // Several processes of one client sharing a token stay signed in: the grant lives on.
    const next = await Promise.all(issued.map((token) => refresh(registered, token)));
    expect(
      next.filter((r) => r.status === 200),
      tally(next),
    ).toHaveLength(20);
  });

  it('a confidential client’s concurrent refreshes (oauth4webapi, HTTP Basic) all succeed as well', async () => {
    const registered = await registerTestClient(as, 'client_secret_basic');
    const tokens = await obtainTokens(as, registered);
    const refreshToken = tokens.refresh_token as string;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, async () =>
        oauth.processRefreshTokenResponse(
          as,
          registered.client,
          await oauth.refreshTokenGrantRequest(as, registered.client, registered.auth, refreshToken, INSECURE),
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(20);
  });
});

describe('concurrent refreshes of one refresh token, strict (REFRESH_TOKEN_REUSE_GRACE_SECONDS=0)', () => {
  const strict = useLocalServer({ REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' });
  let strictAs: oauth.AuthorizationServer;

  beforeAll(async () => {
    strictAs = await discover(strict.url);
  });

  it('20 refreshes at once: exactly one succeeds, the rest invalid_grant, and the reuse revokes the grant', async () => {
    const registered = await registerTestClient(strictAs, 'none');
    const tokens = await obtainTokens(strictAs, registered);
    const refreshToken = tokens.refresh_token as string;

    const replies = await Promise.all(Array.from({ length: 20 }, () => refresh(registered, refreshToken, strictAs)));
    const winners = replies.filter((r) => r.status === 200);
    const losers = replies.filter((r) => r.status !== 200);
    expect(winners, tally(replies)).toHaveLength(1);
    for (const loser of losers) {
      expect(loser.status, loser.text).toBe(400);
      expect(loser.json.error, loser.text).toBe('invalid_grant');
    }
    const [winner] = winners;
    expect(winner.json.refresh_token).not.toBe(refreshToken);
    // Reusing a rotated refresh token ends its grant (RFC 9700 4.14.2), so the one rotation's new
    // token is revoked by the 19 replays as well.
    const next = await refresh(registered, winner.json.refresh_token as string, strictAs);
    expect(next.status, next.text).toBe(400);
    expect(next.json.error, next.text).toBe('invalid_grant');
  });
});
