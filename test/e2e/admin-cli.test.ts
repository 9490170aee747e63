/**
 * The admin CLI end to end, as an operator runs it: `npm run admin`'s entry (bin/admin.ts) and
 * the package's `mcp-oauth-gateway admin` (lambda/admin/bin.ts) in child processes, against a
 * running local server's dynalite, found with --local in its data directory. People sign in
 * through the real flow first; what the CLI revokes is then refused at /token.
 */
import { execFile } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/browser-like.js';
import { useLocalServer } from '../support/local-server-fixture.js';
import {
  authorizationUrl,
  discover,
  obtainTokens,
  type RegisteredTestClient,
  registerTestClient,
  runBrowser,
} from '../support/oauth-flow.js';

const gateway = useLocalServer();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** One CLI run against the local server's tables; never rejects. */
function admin(args: string[], entry: string[] = ['bin/admin.ts'], local = true): Promise<Run> {
  const where = local ? ['--local', '--data-dir', gateway.process.dataDir] : [];
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const name of ['DYNAMODB_ENDPOINT', 'TABLE_NAME', 'GRANTS_TABLE_NAME', 'DATA_DIR']) delete env[name];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ...entry, ...args, ...where],
      { cwd: process.cwd(), env, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function json<T>(args: string[]): Promise<T> {
  const run = await admin([...args, '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

interface Grant {
  grant_id: string;
  client_id: string;
  subject: string;
  status: string;
  revoked_at?: number;
  [name: string]: unknown;
}

async function refresh(registered: RegisteredTestClient, refreshToken: string) {
  const response = await fetch(`${gateway.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: registered.client.client_id,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

let first: RegisteredTestClient;
let second: RegisteredTestClient;
/** alice with the first client, alice and bob with the second. */
const refreshTokens: Record<'aliceFirst' | 'aliceSecond' | 'bobSecond', string> = {
  aliceFirst: '',
  aliceSecond: '',
  bobSecond: '',
};

beforeAll(async () => {
  const as = await discover(gateway.url);
  first = await registerTestClient(as, 'none', 'https://first.example/callback', { client_name: 'First App' });
  second = await registerTestClient(as, 'none', 'https://second.example/callback', { client_name: 'Second App' });
  const signIn = async (registered: RegisteredTestClient, username: string) => {
    const tokens = await obtainTokens(as, registered, { username, extra: { scope: 'offline_access' } });
    return tokens.refresh_token as string;
  };
  refreshTokens.aliceFirst = await signIn(first, 'alice');
  refreshTokens.aliceSecond = await signIn(second, 'alice');
  refreshTokens.bobSecond = await signIn(second, 'bob');
}, 60_000);

describe('clients', () => {
  it('lists the registered clients with created and last-used times, as a table and as JSON', async () => {
    const text = await admin(['clients', 'list']);
    expect(text.code, text.stderr).toBe(0);
    const [header, ...rows] = text.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^CLIENT ID\s+NAME\s+CREATED\s+LAST USED\s+STATUS$/);
    const row = rows.find((line) => line.startsWith(first.client.client_id));
    expect(row).toMatch(/First App\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+active$/);
    // Aligned: every row's second column starts where the header's does.
    for (const line of rows) expect(line.slice(header.indexOf('NAME'))).toMatch(/^(First|Second) App /);

    const listed = await json<{ clients: Array<Record<string, unknown>> }>(['clients', 'list']);
    const client = listed.clients.find((entry) => entry.client_id === first.client.client_id);
    expect(client).toMatchObject({
      client_name: 'First App',
      client_id_issued_at: expect.any(Number),
      last_used_at: expect.any(Number),
      status: 'active',
    });
    expect(Object.keys(client ?? {}).filter((name) => /hash|secret/.test(name))).toEqual([]);
  });

  it('pages: --limit 1, then --next with the token it printed', async () => {
    const page = await json<{ clients: Array<{ client_id: string }>; next?: string }>([
      'clients',
      'list',
      '--limit',
      '1',
    ]);
    expect(page.clients).toHaveLength(1);
    expect(page.next).toEqual(expect.any(String));
    const rest = await json<{ clients: Array<{ client_id: string }> }>([
      'clients',
      'list',
      '--next',
      page.next as string,
    ]);
    const ids = [...page.clients, ...rest.clients].map((client) => client.client_id);
    expect(ids).toEqual(expect.arrayContaining([first.client.client_id, second.client.client_id]));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows one client', async () => {
    const shown = await admin(['clients', 'show', first.client.client_id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/name:\s+First App/);
    expect(shown.stdout).toMatch(/redirect URIs:\s+https:\/\/first\.example\/callback/);
  });

  it('takes an id that starts with a dash (base64url) as an id, not an option', async () => {
    const shown = await admin(['clients', 'show', '-no-such-client']);
    expect(shown.code).toBe(1);
    expect(shown.stderr.trim()).toBe('error: no client -no-such-client');
    const listed = await admin(['grants', 'list', '--client', '-no-such-client']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.trim()).toBe('no grants for client -no-such-client');
  });
});

describe('grants', () => {
  it("lists a person's grants by subject, and a client's by client id", async () => {
    const alice = await json<{ grants: Grant[] }>(['grants', 'list', '--subject', 'alice']);
    expect(alice.grants.map((grant) => grant.client_id).sort()).toEqual(
      [first.client.client_id, second.client.client_id].sort(),
    );
    expect(alice.grants.every((grant) => grant.subject === 'alice' && grant.status === 'active')).toBe(true);
    // Nothing secret is read, let alone printed.
    for (const grant of alice.grants) expect(Object.keys(grant).filter((name) => /hash/.test(name))).toEqual([]);

    const bySecond = await json<{ grants: Grant[] }>(['grants', 'list', '--client', second.client.client_id]);
    expect(bySecond.grants.map((grant) => grant.subject).sort()).toEqual(['alice', 'bob']);

    const text = await admin(['grants', 'list', '--subject', 'alice']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(
      /^GRANT ID\s+SUBJECT\s+CLIENT ID\s+SCOPE\s+CREATED\s+LAST USED\s+STATUS$/,
    );
    expect(text.stdout).toMatch(/active until/);
  });

  it("off-boards a person: every grant of theirs revoked, their refresh tokens refused, others' kept", async () => {
    const revoked = await admin(['grants', 'revoke', '--subject', 'alice']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout.trim()).toBe('revoked 2 grants of subject alice');

    const refused = await refresh(first, refreshTokens.aliceFirst);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect((await refresh(second, refreshTokens.aliceSecond)).body.error).toBe('invalid_grant');
    const bob = await refresh(second, refreshTokens.bobSecond);
    expect(bob.status).toBe(200);
    refreshTokens.bobSecond = bob.body.refresh_token as string;

    const after = await json<{ grants: Grant[] }>(['grants', 'list', '--subject', 'alice']);
    expect(after.grants.map((grant) => grant.status)).toEqual(['revoked', 'revoked']);
    const again = await admin(['grants', 'revoke', '--subject', 'alice']);
    expect(again.stdout.trim()).toBe('revoked 0 grants (2 already revoked) of subject alice');
  });

  it('revokes one grant by id, and says when there is no such grant', async () => {
    const [grant] = (await json<{ grants: Grant[] }>(['grants', 'list', '--subject', 'alice'])).grants;
    const again = await json<{ revoked: string[]; already_revoked: string[] }>(['grants', 'revoke', grant.grant_id]);
    expect(again).toEqual({ revoked: [], already_revoked: [grant.grant_id] });

    const missing = await admin(['grants', 'revoke', 'no-such-grant']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('error: no grant no-such-grant');
  });
});

describe('clients delete', () => {
  it('removes the client and revokes every grant it was given', async () => {
    const deleted = await json<{ deleted: boolean; revoked: string[]; already_revoked: string[] }>([
      'clients',
      'delete',
      second.client.client_id,
    ]);
    expect(deleted.deleted).toBe(true);
    expect(deleted.revoked).toHaveLength(1); // bob's; alice's was revoked before
    expect(deleted.already_revoked).toHaveLength(1);

    const shown = await admin(['clients', 'show', second.client.client_id]);
    expect(shown.code).toBe(1);
    expect(shown.stderr.trim()).toBe(`error: no client ${second.client.client_id}`);
    const grants = await json<{ grants: Grant[] }>(['grants', 'list', '--client', second.client.client_id]);
    expect(grants.grants.map((grant) => grant.status)).toEqual(['revoked', 'revoked']);
    expect((await refresh(second, refreshTokens.bobSecond)).status).toBeGreaterThanOrEqual(400);

    const listed = await json<{ clients: Array<{ client_id: string }> }>(['clients', 'list']);
    expect(listed.clients.map((client) => client.client_id)).not.toContain(second.client.client_id);
    expect((await admin(['clients', 'delete', second.client.client_id])).code).toBe(1);
  });
});

describe('off-boarding reaches every browser', () => {
  it("a browser that remembers the person's approval no longer skips the consent page for it", async () => {
    const as = await discover(gateway.url);
    const app = await registerTestClient(as, 'none', 'https://third.example/callback', { client_name: 'Third App' });
    const browser = new CookieJar();
    await obtainTokens(as, app, { jar: browser, username: 'carol' });
    const revoked = await admin(['grants', 'revoke', '--subject', 'carol']);
    expect(revoked.code, revoked.stderr).toBe(0);
    // The browser remembers approving Third App, skips the page, and is refused after sign-in.
    const attempt = await authorizationUrl(as, app);
    const landing = await runBrowser(attempt.url, app.redirectUri, browser, { decision: 'allow', username: 'carol' });
    const landed = (landing as { url: URL }).url;
    expect(landed.searchParams.get('error')).toBe('access_denied');
    expect(landed.searchParams.get('code')).toBeNull();
  });
});

describe('the command line', () => {
  it('is also the package command: mcp-oauth-gateway admin <command>', async () => {
    const run = await admin(['admin', 'clients', 'list', '--json'], ['lambda/admin/bin.ts']);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { clients: unknown[] }).clients.length).toBeGreaterThan(0);
  });

  it.each<[string, string[], boolean, number, RegExp]>([
    ['an unknown command', ['grants', 'explode'], true, 2, /^error: unknown command "grants explode" \(see --help\)$/],
    ['an unknown option', ['clients', 'list', '--colour'], true, 2, /^error: Unknown option '--colour'/],
    ['both --subject and --client', ['grants', 'list', '--subject', 'a', '--client', 'b'], true, 2, /either/],
    ['a page token it never printed', ['clients', 'list', '--next', 'bm9wZQ'], true, 2, /page token/],
    ['no tables named', ['clients', 'list'], false, 2, /name the clients table: --clients-table/],
  ])('refuses %s with a message, no stack trace', async (_name, args, local, code, message) => {
    const run = await admin(args, undefined, local);
    expect(run.code).toBe(code);
    expect(run.stderr.trim()).toMatch(message);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe('');
  });
});
