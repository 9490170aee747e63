/**
 * The grant check's rules and its cache's bounds, on an injected clock and a counting reader:
 * a status per grant state (table first), one read per grant per period, never past the grant's
 * own end, at most `maxEntries` grants (least recently used evicted), `0` reading every time,
 * concurrent checks sharing one read, and a failed read refusing rather than reusing a stale
 * answer.
 */
import { describe, expect, it } from 'vitest';
import {
  createGrantStatusCheck,
  DEFAULT_GRANT_STATUS_CACHE_SECONDS,
  type GrantState,
  type GrantStatus,
  GrantStatusUnavailableError,
  grantStatusOf,
  isGrantId,
} from '../../lambda/domain/grant-status.js';
import { grantStatusCacheSeconds } from '../../lambda/wiring/grant-status.js';

const NOW = 1_800_000_000;
const id = (n: number) => `grant${String(n).padStart(17, '0')}`;

describe('grantStatusOf', () => {
  const live: GrantState = { expires_at: NOW + 100, grant_expires_at: NOW + 1000 };
  it.each<[string, GrantState | undefined, GrantStatus]>([
    ['a live grant', live, 'active'],
    ['revoked, even if otherwise live', { ...live, revoked_at: NOW - 1 }, 'revoked'],
    ['past its idle deadline (expires_at)', { ...live, expires_at: NOW }, 'expired'],
    ['past its absolute end (grant_expires_at)', { ...live, grant_expires_at: NOW }, 'expired'],
    [
      'revoked and expired: revoked is what happened',
      { expires_at: NOW - 5, grant_expires_at: NOW, revoked_at: 1 },
      'revoked',
    ],
    ['not stored (deleted by TTL, or never)', undefined, 'unknown'],
  ])('%s', (_reason, state, expected) => {
    expect(grantStatusOf(state, NOW)).toBe(expected);
  });
});

describe('isGrantId', () => {
  it.each([
    [id(1), true],
    ['', false],
    ['a'.repeat(21), false],
    ['a'.repeat(23), false],
    ['aaaaaaaaaaaaaaaaaaaaa=', false],
    [42, false],
    [undefined, false],
  ])('%s: %s', (value, expected) => {
    expect(isGrantId(value)).toBe(expected);
  });
});

/** A reader over a mutable table, counting its reads; `fail` makes every read throw. */
function table(initial: Record<string, GrantState> = {}) {
  const rows = new Map(Object.entries(initial));
  const state = { reads: 0, fail: false };
  return {
    rows,
    state,
    reader: {
      async read(grantId: string) {
        state.reads += 1;
        if (state.fail) throw new Error('connect ECONNREFUSED');
        return rows.get(grantId);
      },
    },
  };
}

const live = (until = NOW + 10_000): GrantState => ({ expires_at: until, grant_expires_at: until });

describe('createGrantStatusCheck: time bound', () => {
  it('reads a grant once per period, and sees a revocation once the period has passed', async () => {
    const db = table({ [id(1)]: live() });
    let now = NOW;
    const check = createGrantStatusCheck({ reader: db.reader, ttlSeconds: 30, now: () => now });
    expect(await check.status(id(1))).toBe('active');
    db.rows.set(id(1), { ...live(), revoked_at: NOW + 1 });
    now = NOW + 29;
    // Still the cached answer: this is the bound, not a bug.
    expect(await check.status(id(1))).toBe('active');
    expect(db.state.reads).toBe(1);
    now = NOW + 30;
    expect(await check.status(id(1))).toBe('revoked');
    expect(db.state.reads).toBe(2);
  });

  it('never keeps an active answer past the grant’s own end', async () => {
    const db = table({ [id(1)]: live(NOW + 5) });
    let now = NOW;
    const check = createGrantStatusCheck({ reader: db.reader, ttlSeconds: 30, now: () => now });
    expect(await check.status(id(1))).toBe('active');
    now = NOW + 5;
    expect(await check.status(id(1))).toBe('expired');
    expect(db.state.reads).toBe(2);
  });

  it('caches ended grants as well, for the same period (a revoked client retrying costs no more reads)', async () => {
    const db = table({ [id(1)]: { ...live(), revoked_at: NOW } });
    let now = NOW;
    const check = createGrantStatusCheck({ reader: db.reader, ttlSeconds: 30, now: () => now });
    for (let i = 0; i < 5; i++) expect(await check.status(id(1))).toBe('revoked');
    expect(await check.status(id(2))).toBe('unknown');
    expect(await check.status(id(2))).toBe('unknown');
    expect(db.state.reads).toBe(2);
    now = NOW + 30;
    await check.status(id(1));
    expect(db.state.reads).toBe(3);
  });

  it('0 reads the grant on every check and remembers nothing', async () => {
    const db = table({ [id(1)]: live() });
    const check = createGrantStatusCheck({ reader: db.reader, ttlSeconds: 0, now: () => NOW });
    for (let i = 0; i < 4; i++) expect(await check.status(id(1))).toBe('active');
    expect(db.state.reads).toBe(4);
    expect(check.size).toBe(0);
  });

  it('defaults to 30 seconds', async () => {
    expect(DEFAULT_GRANT_STATUS_CACHE_SECONDS).toBe(30);
    const db = table({ [id(1)]: live() });
    let now = NOW;
    const check = createGrantStatusCheck({ reader: db.reader, now: () => now });
    await check.status(id(1));
    now = NOW + 29;
    await check.status(id(1));
    expect(db.state.reads).toBe(1);
    now = NOW + 30;
    await check.status(id(1));
    expect(db.state.reads).toBe(2);
  });
});

describe('createGrantStatusCheck: size bound', () => {
  it('keeps at most maxEntries grants, evicting the least recently used', async () => {
    const db = table(Object.fromEntries([1, 2, 3, 4].map((n) => [id(n), live()])));
    const check = createGrantStatusCheck({ reader: db.reader, ttlSeconds: 60, maxEntries: 3, now: () => NOW });
    await check.status(id(1));
    await check.status(id(2));
    await check.status(id(3));
    // Using 1 again makes 2 the least recently used.
    await check.status(id(1));
    expect(db.state.reads).toBe(3);
    await check.status(id(4));
    expect(check.size).toBe(3);
    expect(db.state.reads).toBe(4);
    await check.status(id(1));
    await check.status(id(3));
    await check.status(id(4));
    expect(db.state.reads).toBe(4);
    await check.status(id(2));
    expect(db.state.reads).toBe(5);
    expect(check.size).toBe(3);
  });

  it('stays bounded under many distinct grants', async () => {
    const db = table();
    const check = createGrantStatusCheck({ reader: db.reader, ttlSeconds: 60, maxEntries: 100, now: () => NOW });
    for (let n = 0; n < 1000; n++) await check.status(id(n));
    expect(check.size).toBe(100);
  });

  it('reads nothing and remembers nothing for an id that is no grant id', async () => {
    const db = table();
    const check = createGrantStatusCheck({ reader: db.reader, ttlSeconds: 60, now: () => NOW });
    expect(await check.status('not a grant id')).toBe('unknown');
    expect(await check.status('x'.repeat(5000))).toBe('unknown');
    expect(db.state.reads).toBe(0);
    expect(check.size).toBe(0);
  });

  it('refuses settings that would not bound it', () => {
    const reader = table().reader;
    expect(() => createGrantStatusCheck({ reader, ttlSeconds: -1 })).toThrow(/0 to 3600/);
    expect(() => createGrantStatusCheck({ reader, ttlSeconds: 1.5 })).toThrow(/0 to 3600/);
    expect(() => createGrantStatusCheck({ reader, ttlSeconds: 3601 })).toThrow(/0 to 3600/);
    expect(() => createGrantStatusCheck({ reader, maxEntries: 0 })).toThrow(/room/);
  });
});

describe('createGrantStatusCheck: failures (fail closed)', () => {
  it('a failed read with nothing cached is GrantStatusUnavailableError, never a status', async () => {
    const db = table({ [id(1)]: live() });
    db.state.fail = true;
    const check = createGrantStatusCheck({ reader: db.reader, ttlSeconds: 30, now: () => NOW });
    await expect(check.status(id(1))).rejects.toBeInstanceOf(GrantStatusUnavailableError);
  });

  it('a fresh cached answer is served while the table is down; a stale one is not', async () => {
    const db = table({ [id(1)]: live() });
    let now = NOW;
    const check = createGrantStatusCheck({ reader: db.reader, ttlSeconds: 30, now: () => now });
    await check.status(id(1));
    db.state.fail = true;
    now = NOW + 10;
    expect(await check.status(id(1))).toBe('active');
    now = NOW + 30;
    await expect(check.status(id(1))).rejects.toBeInstanceOf(GrantStatusUnavailableError);
    // Nor is the stale answer kept for later: it is gone even once the table answers.
    db.state.fail = false;
    db.rows.set(id(1), { ...live(), revoked_at: NOW });
    expect(await check.status(id(1))).toBe('revoked');
  });

  it('a failed read is not remembered: the next check reads again', async () => {
    const db = table({ [id(1)]: live() });
    db.state.fail = true;
    const check = createGrantStatusCheck({ reader: db.reader, ttlSeconds: 30, now: () => NOW });
    await expect(check.status(id(1))).rejects.toThrow();
    db.state.fail = false;
    expect(await check.status(id(1))).toBe('active');
    expect(db.state.reads).toBe(2);
  });

  it('concurrent checks of one grant share one read', async () => {
    const db = table({ [id(1)]: live() });
    const check = createGrantStatusCheck({ reader: db.reader, ttlSeconds: 0, now: () => NOW });
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => check.status(id(1))));
    expect(answers).toEqual(['active', 'active', 'active', 'active', 'active']);
    expect(db.state.reads).toBe(1);
  });
});

describe('GRANT_STATUS_CACHE_SECONDS', () => {
  it.each([
    [undefined, 30],
    ['', 30],
    ['0', 0],
    ['1', 1],
    ['300', 300],
    ['3600', 3600],
  ])('%s reads as %s', (value, seconds) => {
    expect(grantStatusCacheSeconds(value === undefined ? {} : { GRANT_STATUS_CACHE_SECONDS: value })).toBe(seconds);
  });

  it.each(['-1', '1.5', 'abc', '3601', '1e3', '99999'])('%s is refused with a sentence naming the setting', (value) => {
    expect(() => grantStatusCacheSeconds({ GRANT_STATUS_CACHE_SECONDS: value })).toThrow(
      /GRANT_STATUS_CACHE_SECONDS must be a whole number of seconds from 0/,
    );
  });
});
