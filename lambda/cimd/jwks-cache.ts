/**
 * A private_key_jwt client's `jwks_uri` keys (domain/client-assertion.ts ClientKeySource):
 * fetched through the same SSRF-guarded fetcher as metadata documents (cimd/safe-fetch.ts: public
 * addresses only, no redirects, JSON only, a size cap, one deadline), checked with the domain's
 * JWKS rules, and cached in the grants table under `jwks#sha256:<base64url of SHA-256 of the URL>`.
 *
 * Lifetime: the response's Cache-Control max-age clamped to [60 s, 3600 s], 300 s without one.
 * A key id the cached copy lacks asks for a fresh fetch (key rotation), granted only when the
 * cached copy is older than 30 s, so unknown kids cannot make this server fetch on every request.
 * Failures are never cached. Concurrent misses are not coalesced (as for documents).
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { sharedDocumentClient } from '../aws/dynamodb.js';
import { GRANT_KEY_PREFIXES, GRANTS_TABLE_KEY, GRANTS_TABLE_TTL_ATTRIBUTE } from '../contract/tables.js';
import { type ClientJwks, type ClientKeySource, JWKS_LIMITS, jwksProblem } from '../domain/client-assertion.js';
import { OAuthError, UnavailableError } from '../domain/oauth-error.js';
import { type fetchMetadataDocument, MetadataDocumentError } from './safe-fetch.js';

export const JWKS_CACHE = {
  defaultTtlSeconds: 300,
  minTtlSeconds: 60,
  maxTtlSeconds: 3600,
  refreshAfterSeconds: 30,
} as const;

export function jwksCacheKey(uri: string): string {
  return `${GRANT_KEY_PREFIXES.jwks}sha256:${createHash('sha256').update(uri, 'utf8').digest('base64url')}`;
}

export interface CachedJwks {
  jwks: ClientJwks;
  fetchedAt: number;
}

/** Where fetched JWKS are kept between fetches. Times are seconds since the epoch. */
export interface JwksCacheStore {
  get(uri: string, now: number): Promise<CachedJwks | undefined>;
  put(uri: string, entry: CachedJwks, expiresAt: number): Promise<void>;
}

interface CacheItem {
  [GRANTS_TABLE_KEY]: string;
  [GRANTS_TABLE_TTL_ATTRIBUTE]: number;
  uri: string;
  jwks: ClientJwks;
  fetched_at: number;
}

export class DynamoDbJwksCache implements JwksCacheStore {
  constructor(
    private readonly tableName: string,
    private readonly documentClient: DynamoDBDocumentClient = sharedDocumentClient(),
  ) {}

  async get(uri: string, now: number): Promise<CachedJwks | undefined> {
    let item: CacheItem | undefined;
    try {
      const { Item } = await this.documentClient.send(
        new GetCommand({ TableName: this.tableName, Key: { [GRANTS_TABLE_KEY]: jwksCacheKey(uri) } }),
      );
      item = Item as CacheItem | undefined;
    } catch {
      throw new UnavailableError("The client's keys could not be read; try again.");
    }
    if (!item || !(item[GRANTS_TABLE_TTL_ATTRIBUTE] > now) || item.uri !== uri) return undefined;
    return { jwks: item.jwks, fetchedAt: item.fetched_at };
  }

  async put(uri: string, entry: CachedJwks, expiresAt: number): Promise<void> {
    const item: CacheItem = {
      [GRANTS_TABLE_KEY]: jwksCacheKey(uri),
      [GRANTS_TABLE_TTL_ATTRIBUTE]: expiresAt,
      uri,
      jwks: entry.jwks,
      fetched_at: entry.fetchedAt,
    };
    try {
      await this.documentClient.send(new PutCommand({ TableName: this.tableName, Item: item }));
    } catch {
      throw new UnavailableError("The client's keys could not be cached; try again.");
    }
  }
}

export interface JwksSourceDeps {
  cache: JwksCacheStore;
  fetch: typeof fetchMetadataDocument;
  now: () => number;
  /** Development switch: http and loopback addresses on 127.0.0.1/localhost. Never in production. */
  allowLoopbackHttp: boolean;
}

/** The ClientKeySource for jwks_uri clients. */
export function jwksSource(deps: JwksSourceDeps): ClientKeySource {
  return {
    async jwksAt(uri, { refresh }) {
      const now = deps.now();
      const cached = await deps.cache.get(uri, now);
      if (cached && (!refresh || now - cached.fetchedAt < JWKS_CACHE.refreshAfterSeconds)) return cached.jwks;
      let fetched: Awaited<ReturnType<typeof fetchMetadataDocument>>;
      try {
        fetched = await deps.fetch(uri, { allowLoopbackHttp: deps.allowLoopbackHttp, maxBytes: JWKS_LIMITS.maxBytes });
      } catch (error) {
        const reason = error instanceof MetadataDocumentError ? error.reason : 'it could not be fetched';
        throw new OAuthError('invalid_client', `The client's jwks_uri could not be fetched: ${reason}.`, 401);
      }
      const problem = jwksProblem(fetched.body);
      if (problem) throw new OAuthError('invalid_client', `The client's jwks_uri document ${problem}.`, 401);
      const jwks = fetched.body as ClientJwks;
      const ttl = Math.min(
        Math.max(fetched.cacheControlMaxAge ?? JWKS_CACHE.defaultTtlSeconds, JWKS_CACHE.minTtlSeconds),
        JWKS_CACHE.maxTtlSeconds,
      );
      await deps.cache.put(uri, { jwks, fetchedAt: now }, now + ttl);
      return jwks;
    },
  };
}
