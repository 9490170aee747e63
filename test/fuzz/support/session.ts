/**
 * What a fuzz suite keeps around its one server: fixture clients of every kind (public, both
 * secret methods, loopback, native, two redirect URIs) registered before the properties, a real
 * access and refresh token, and every client registered along the way with what it must still
 * read back as. useFuzzSession() sets it all up; expectClientsIntact() is the check that state
 * survived whatever the suite sent.
 */
import type * as oauth from 'oauth4webapi';
import { afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { discover, obtainTokens, type RegisteredTestClient, registerTestClient } from '../../support/oauth-flow.js';
import { type Json, knownTokens } from './arbitraries.js';
import { SCALE, SEED } from './budget.js';
import { echoable, expectHealthy, statuses } from './oracles.js';
import { server, useFuzzServer } from './server.js';

// ---------------------------------------------------------------------------------------------
// What the run keeps: registered clients and what they must still be

export interface Tracked {
  clientId: string;
  uri: string;
  token: string;
  redirectUris: unknown;
  /** What a read must return: the registration (or last replacement) answer without its secrets. */
  expected: Json;
  /** Registered by a fuzz property (fixtures are never replaced, so later properties can use them). */
  disposable: boolean;
}

export const tracked = new Map<string, Tracked>();

export function withoutSecrets(body: Json): Json {
  const { client_secret: _secret, registration_access_token: _token, ...rest } = body;
  return rest;
}

export function track(response: Json, sentRedirectUris: unknown, disposable: boolean): void {
  const entry: Tracked = {
    clientId: response.client_id as string,
    uri: response.registration_client_uri as string,
    token: response.registration_access_token as string,
    redirectUris: sentRedirectUris,
    expected: withoutSecrets(response),
    disposable,
  };
  tracked.set(entry.clientId, entry);
  echoable.push(JSON.stringify(response));
}

export interface Fixture extends RegisteredTestClient {
  redirectUris: string[];
  secret?: string;
}

// ---------------------------------------------------------------------------------------------
// The session: server, fixtures, tokens

export let authServer: oauth.AuthorizationServer;
export const fixtures: Record<'public' | 'basic' | 'post' | 'loopback' | 'native' | 'multi', Fixture> = {} as never;
/** The public fixture's tokens, from a real flow. */
export let accessToken = '';
export let refreshToken = '';

async function registerFixture(
  method: 'none' | 'client_secret_basic' | 'client_secret_post',
  redirectUris: string[],
): Promise<Fixture> {
  const registered = await registerTestClient(authServer, method, redirectUris[0], {
    redirect_uris: redirectUris,
    client_name: `Fuzz fixture (${method})`,
  });
  const response = registered.client as unknown as Json;
  track(response, redirectUris, false);
  knownTokens.push(response.registration_access_token as string);
  return {
    ...registered,
    redirectUris,
    ...(typeof response.client_secret === 'string' ? { secret: response.client_secret } : {}),
  };
}

/**
 * The suite's server, its fixtures and tokens (in a beforeAll after the server's), and after
 * each property the statuses it saw: what the generators reached. `name` labels the seed line.
 */
export function useFuzzSession(name: string): void {
  useFuzzServer();
  beforeAll(async () => {
    console.info(`${name}: FUZZ_SEED=${SEED}${SCALE !== 1 ? ` FUZZ_SCALE=${SCALE}` : ''}`);
    authServer = await discover(server.url);
    fixtures.public = await registerFixture('none', ['https://client.example/callback']);
    fixtures.basic = await registerFixture('client_secret_basic', ['https://client.example/basic']);
    fixtures.post = await registerFixture('client_secret_post', ['https://client.example/post']);
    fixtures.loopback = await registerFixture('none', ['http://127.0.0.1/callback']);
    fixtures.native = await registerFixture('none', ['com.example.app:/oauth/callback']);
    fixtures.multi = await registerFixture('none', ['https://client.example/one', 'https://client.example/two']);
    const tokens = await obtainTokens(authServer, fixtures.public);
    accessToken = tokens.access_token;
    refreshToken = tokens.refresh_token as string;
    knownTokens.push(accessToken, refreshToken);
  }, 90_000);
  beforeEach(() => statuses.clear());
  afterEach((context) => {
    if (statuses.size === 0) return;
    const total = [...statuses.values()].reduce((sum, count) => sum + count, 0);
    const shown = [...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`);
    console.info(`${context.task.name}\n  ${total} checked responses: ${shown.join(' ')}`);
  });
}

export function fixtureList(): Fixture[] {
  return Object.values(fixtures);
}

/**
 * Afterwards: the server is up, logged no crash, and every client registered along the way
 * (fixtures, and those the suite's properties registered, which then must be more than none)
 * reads back through its registration_client_uri as it was last stored.
 */
export async function expectClientsIntact(options: { registeredByProperties: boolean }): Promise<void> {
  await expectHealthy();
  if (options.registeredByProperties) expect(tracked.size).toBeGreaterThan(fixtureList().length);
  const mismatches: string[] = [];
  for (const client of tracked.values()) {
    const res = await fetch(client.uri, { headers: { Authorization: `Bearer ${client.token}` } });
    const text = await res.text();
    if (res.status !== 200) {
      mismatches.push(`${client.clientId}: ${res.status} ${text}`);
      continue;
    }
    const read = JSON.parse(text) as Json;
    if (JSON.stringify(read.redirect_uris) !== JSON.stringify(client.redirectUris)) {
      mismatches.push(
        `${client.clientId}: redirect_uris ${JSON.stringify(read.redirect_uris)}, sent ${JSON.stringify(client.redirectUris)}`,
      );
    }
    try {
      expect(read).toEqual(client.expected);
    } catch {
      mismatches.push(`${client.clientId}: read ${text}\nexpected ${JSON.stringify(client.expected)}`);
    }
  }
  expect(mismatches, mismatches.join('\n')).toEqual([]);
  // Nothing crashed behind the scenes either.
  expect(server.process.output()).not.toMatch(/Unhandled|uncaught|FATAL ERROR|heap out of memory/i);
}
