/**
 * Whether the grant an access token came from is still live (RFC 7009 section 2: revocation
 * should reach access tokens where the server can). Access tokens stay self-contained JWTs a
 * resource verifies with the JWKS alone; this adds one bounded check of the grant named by their
 * `sid` claim: a revoked, expired or vanished grant ends every access token it issued.
 *
 * The answer is cached per process (per Lambda instance) for at most `ttlSeconds`, never past
 * the grant's own end, and for at most `maxEntries` grants (least recently used evicted), so a
 * revocation stops access tokens within `ttlSeconds`: one GetItem per grant per period. `0`
 * checks every request. A read that fails with no fresh answer cached is an error, never an
 * Allow: the caller refuses the request (fail closed) as "could not be checked", not "invalid".
 */

/** The grant record's fields the check reads (grants.ts GrantRecord); everything else stays unread. */
export interface GrantState {
  revoked_at?: number;
  /** Until when the grant can be used (its code, then its refresh token's idle deadline). */
  expires_at: number;
  /** The grant's absolute end. */
  grant_expires_at: number;
}

/**
 * The port: one grant's state by its id, undefined when no such grant is stored. Given the
 * token's client, a client deleted since (RFC 7592 DELETE: "SHOULD immediately invalidate all
 * existing authorization grants and currently-active access tokens") reads as a revoked grant.
 */
export interface GrantStateReader {
  read(grantId: string, clientId?: string): Promise<GrantState | undefined>;
}

export type GrantStatus = 'active' | 'revoked' | 'expired' | 'unknown';

/** Grant ids as token-service.ts mints them: 128 random bits, base64url. Anything else is no grant. */
const GRANT_ID = /^[A-Za-z0-9_-]{22}$/;

export function isGrantId(value: unknown): value is string {
  return typeof value === 'string' && GRANT_ID.test(value);
}

/** The status of a stored grant at `now` (seconds); undefined (none stored) is `unknown`. */
export function grantStatusOf(state: GrantState | undefined, now: number): GrantStatus {
  if (!state) return 'unknown';
  if (state.revoked_at !== undefined) return 'revoked';
  if (state.expires_at <= now || state.grant_expires_at <= now) return 'expired';
  return 'active';
}

/** The grant's state could not be read and no fresh answer was cached: the token was not checked. */
export class GrantStatusUnavailableError extends Error {
  override readonly name = 'GrantStatusUnavailableError';
  constructor(options?: ErrorOptions) {
    super('The state of the grant could not be read.', options);
  }
}

/** Seconds a grant's status is cached when the deployment does not say (GRANT_STATUS_CACHE_SECONDS). */
export const DEFAULT_GRANT_STATUS_CACHE_SECONDS = 30;
/** The largest cache period a deployment may set: beyond it, "revocation" would mean little. */
export const MAX_GRANT_STATUS_CACHE_SECONDS = 3600;
/**
 * Grants one process remembers. An entry is a short id and three numbers (~200 bytes with the
 * map's overhead): 10,000 is about 2 MB, and far more grants than one Lambda instance serves
 * within a cache period.
 */
export const DEFAULT_GRANT_STATUS_CACHE_ENTRIES = 10_000;

export interface GrantStatusCheckOptions {
  reader: GrantStateReader;
  /** How long an answer is reused: the revocation bound. 0: every call reads. */
  ttlSeconds?: number;
  /** How many grants are remembered at most. */
  maxEntries?: number;
  /** Seconds since the epoch; a test's clock, or Date.now. */
  now?: () => number;
}

export interface GrantStatusCheck {
  /**
   * The grant's status (revoked, too, when `clientId`, the token's client, was deleted); throws
   * GrantStatusUnavailableError when it could not be read.
   */
  status(grantId: string, clientId?: string): Promise<GrantStatus>;
  /** How many grants are cached now (for tests and the bench). */
  readonly size: number;
}

interface Entry {
  status: GrantStatus;
  /** Seconds since the epoch after which the answer is read again. */
  until: number;
}

const systemNow = () => Math.floor(Date.now() / 1000);

export function createGrantStatusCheck(options: GrantStatusCheckOptions): GrantStatusCheck {
  const ttl = options.ttlSeconds ?? DEFAULT_GRANT_STATUS_CACHE_SECONDS;
  const maxEntries = options.maxEntries ?? DEFAULT_GRANT_STATUS_CACHE_ENTRIES;
  if (!Number.isSafeInteger(ttl) || ttl < 0 || ttl > MAX_GRANT_STATUS_CACHE_SECONDS) {
    throw new Error(`the grant status cache period must be 0 to ${MAX_GRANT_STATUS_CACHE_SECONDS} whole seconds`);
  }
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new Error('the grant status cache needs room');
  const now = options.now ?? systemNow;
  // A Map iterates in insertion order: re-inserting on use makes its first key the least recently used.
  const cache = new Map<string, Entry>();
  // Concurrent checks of one grant (a busy client's parallel requests in one process) share one read.
  const reading = new Map<string, Promise<GrantState | undefined>>();

  function remember(grantId: string, entry: Entry): void {
    cache.delete(grantId);
    cache.set(grantId, entry);
    while (cache.size > maxEntries) {
      const oldest = cache.keys().next().value as string;
      cache.delete(oldest);
    }
  }

  async function read(grantId: string, clientId: string | undefined): Promise<GrantState | undefined> {
    let pending = reading.get(grantId);
    if (!pending) {
      pending = options.reader.read(grantId, clientId).finally(() => reading.delete(grantId));
      reading.set(grantId, pending);
    }
    try {
      return await pending;
    } catch (error) {
      throw new GrantStatusUnavailableError({ cause: error });
    }
  }

  return {
    get size() {
      return cache.size;
    },
    async status(grantId, clientId) {
      // A malformed id names no grant: no read, and nothing remembered for it.
      if (!isGrantId(grantId)) return 'unknown';
      const at = now();
      const cached = cache.get(grantId);
      if (cached && at < cached.until) {
        remember(grantId, cached);
        return cached.status;
      }
      // Stale or absent: read, and forget the stale answer even if the read fails (no Allow from it).
      cache.delete(grantId);
      const state = await read(grantId, clientId);
      const status = grantStatusOf(state, at);
      if (ttl > 0) {
        // An active grant is read again when it would have expired, if that comes sooner.
        const until =
          status === 'active' && state ? Math.min(at + ttl, state.expires_at, state.grant_expires_at) : at + ttl;
        remember(grantId, { status, until });
      }
      return status;
    },
  };
}
