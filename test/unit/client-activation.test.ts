/**
 * Registration activation (lambda/domain/client-activity.ts): a registration gets a deadline in
 * the clients table's TTL attribute, is not registered once it has passed without a token, and
 * its first recorded use removes it. The rules table-first, then the registration use case and
 * the in-memory store (lambda/store/memory-client-store.ts) that keeps the DynamoDB adapter's
 * semantics; the DynamoDB adapter itself is tested against dynalite in
 * test/integration/abuse-controls.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REGISTRATION_ACTIVATION_HOURS,
  readRegistrationActivationHours,
} from '../../lambda/contract/environment.js';
import { CLIENTS_TABLE_TTL_ATTRIBUTE } from '../../lambda/contract/tables.js';
import {
  activationDeadline,
  HOUR_SECONDS,
  isActivationExpired,
  type StoredClient,
  withoutDeadline,
} from '../../lambda/domain/client-activity.js';
import { clientMetadataValidator } from '../../lambda/domain/client-metadata.js';
import { clientInformation, registerClient } from '../../lambda/domain/registration.js';
import { MemoryClientStore } from '../../lambda/store/memory-client-store.js';
import { registeredClient } from '../support/clients.js';

const ISSUED_AT = 1_800_000_000;
const DEADLINE = ISSUED_AT + 24 * HOUR_SECONDS;

/** A registration stored with a 24-hour deadline, never used. */
const pending = (overrides: Partial<StoredClient> = {}): StoredClient => ({
  ...registeredClient({ client_id_issued_at: ISSUED_AT }),
  [CLIENTS_TABLE_TTL_ATTRIBUTE]: DEADLINE,
  ...overrides,
});

describe('activationDeadline', () => {
  it.each<[string, number, number, Partial<StoredClient>]>([
    ['24 hours: issued_at + 86400 s', ISSUED_AT, 24, { expires_at: ISSUED_AT + 86_400 }],
    ['1 hour', ISSUED_AT, 1, { expires_at: ISSUED_AT + 3600 }],
    ['0 hours: off, no attribute', ISSUED_AT, 0, {}],
    ['a metadata-document client (issued_at 0): exempt', 0, 24, {}],
  ])('%s', (_name, issuedAt, hours, expected) => {
    expect(activationDeadline(issuedAt, hours)).toStrictEqual(expected);
  });

  it('is written under the clients table TTL attribute', () => {
    expect(Object.keys(activationDeadline(ISSUED_AT, 24))).toEqual([CLIENTS_TABLE_TTL_ATTRIBUTE]);
  });
});

describe('isActivationExpired', () => {
  it.each<[string, StoredClient, number, boolean]>([
    ['within the window', pending(), DEADLINE - 1, false],
    ['at the deadline', pending(), DEADLINE, true],
    ['a week past the deadline (TTL deletion is lazy)', pending(), DEADLINE + 7 * 86_400, true],
    [
      'activated (no deadline), long after',
      registeredClient({ client_id_issued_at: ISSUED_AT }),
      DEADLINE + 86_400,
      false,
    ],
    [
      'a metadata-document client (issued_at 0) with a stray deadline',
      pending({ client_id_issued_at: 0 }),
      DEADLINE,
      false,
    ],
  ])('%s', (_name, client, now, expected) => {
    expect(isActivationExpired(client, now)).toBe(expected);
  });
});

describe('readRegistrationActivationHours (REGISTRATION_ACTIVATION_HOURS)', () => {
  it.each<[string, string | undefined, number]>([
    ['unset: 24', undefined, 24],
    ['empty: 24', '', 24],
    ['0: off', '0', 0],
    ['48', '48', 48],
  ])('%s', (_name, value, expected) => {
    expect(readRegistrationActivationHours({ REGISTRATION_ACTIVATION_HOURS: value })).toBe(expected);
  });

  it('defaults to 24, as docs and INTERFACES.md pin', () => {
    expect(DEFAULT_REGISTRATION_ACTIVATION_HOURS).toBe(24);
  });

  it.each(['-1', '1.5', 'a day', 'NaN'])('refuses %j, naming the variable', (value) => {
    expect(() => readRegistrationActivationHours({ REGISTRATION_ACTIVATION_HOURS: value })).toThrow(
      /REGISTRATION_ACTIVATION_HOURS must be a whole number of hours/,
    );
  });
});

describe('registerClient with activation', () => {
  const validate = clientMetadataValidator();
  const body = { redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none' };
  const now = () => new Date(ISSUED_AT * 1000);

  it('stores the deadline, and never tells it to the client', async () => {
    const store = new MemoryClientStore([], () => ISSUED_AT);
    const response = await registerClient(body, {
      store,
      validate,
      issuer: 'https://as.example',
      now,
      activationHours: 24,
    });
    expect(response).not.toHaveProperty(CLIENTS_TABLE_TTL_ATTRIBUTE);
    // The attribute never leaves the store; what it holds shows at the deadline (below).
    expect(await store.getById(response.client_id)).not.toHaveProperty(CLIENTS_TABLE_TTL_ATTRIBUTE);
  });

  it.each<[string, number | undefined, boolean]>([
    ['24 hours: gone at the deadline', 24, true],
    ['0: off, kept', 0, false],
    ['not given (a library caller): off, kept', undefined, false],
  ])('%s', async (_name, activationHours, gone) => {
    let clock = ISSUED_AT;
    const store = new MemoryClientStore([], () => clock);
    const { client_id } = await registerClient(body, {
      store,
      validate,
      issuer: 'https://as.example',
      now,
      ...(activationHours !== undefined ? { activationHours } : {}),
    });
    clock = DEADLINE - 1;
    expect(await store.getById(client_id)).toBeDefined();
    clock = DEADLINE;
    expect((await store.getById(client_id)) === undefined).toBe(gone);
  });

  it('clientInformation never shows the deadline', () => {
    expect(clientInformation(pending(), 'https://as.example')).not.toHaveProperty(CLIENTS_TABLE_TTL_ATTRIBUTE);
    expect(withoutDeadline(pending())).not.toHaveProperty(CLIENTS_TABLE_TTL_ATTRIBUTE);
  });
});

describe('MemoryClientStore keeps the DynamoDB adapter activation semantics', () => {
  it('hides an unactivated client from the deadline on, and its first use activates it once', async () => {
    let clock = ISSUED_AT;
    const client = pending();
    const store = new MemoryClientStore([client], () => clock);
    expect(await store.getById(client.client_id)).toBeDefined();
    expect(await store.recordUse(client.client_id, ISSUED_AT + 60)).toBe(true);
    expect(await store.recordUse(client.client_id, ISSUED_AT + 2 * 86_400)).toBe(false);
    clock = DEADLINE + 86_400;
    expect((await store.getById(client.client_id))?.last_used_at).toBe(ISSUED_AT + 2 * 86_400);
  });

  it('an unactivated client past its deadline cannot be replaced', async () => {
    const client = pending({ registration_token_hash: 'hash' });
    const store = new MemoryClientStore([client], () => DEADLINE);
    expect(await store.replace(withoutDeadline(client), 'hash')).toBe(false);
  });

  it('a replacement keeps the deadline: registering and updating does not make a client permanent', async () => {
    let clock = ISSUED_AT;
    const client = pending({ registration_token_hash: 'hash' });
    const store = new MemoryClientStore([client], () => clock);
    expect(await store.replace({ ...withoutDeadline(client), client_name: 'renamed' }, 'hash')).toBe(true);
    expect((await store.getById(client.client_id))?.client_name).toBe('renamed');
    clock = DEADLINE;
    expect(await store.getById(client.client_id)).toBeUndefined();
  });
});
