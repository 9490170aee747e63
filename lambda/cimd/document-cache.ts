/**
 * Resolving a Client Identifier URL to a client: from the cache when a fresh copy is there,
 * otherwise by fetching and checking the document and caching the result.
 *
 * The cache lives in the grants table (key `pk`, TTL attribute `expires_at`) under
 * `cimd#sha256:<base64url of SHA-256 of the URL>`: always hashed, since a URL may be longer than
 * DynamoDB's 2048-byte key limit. DynamoDB's TTL deletes late (and dynalite never), so expiry is
 * enforced in code. Only documents that passed every check are cached; failures never are (the
 * draft forbids caching errors and invalid documents).
 *
 * Concurrent misses for the same URL are not coalesced: each fetches and each writes the same
 * result (last write wins). That costs at most a few extra fetches per expiry, and avoids a lock
 * whose holder could die mid-fetch; Lambda instances share nothing else to coalesce on anyway.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { sharedDocumentClient } from '../aws/dynamodb.js';
import { GRANT_KEY_PREFIXES, GRANTS_TABLE_KEY, GRANTS_TABLE_TTL_ATTRIBUTE } from '../contract/tables.js';
import { clientIdUrlProblem } from '../domain/client-id-url.js';
import type { RegisteredClient } from '../domain/clients.js';
import { type MetadataValidator, validateMetadataDocument } from '../domain/metadata-document.js';
import { OAuthError, UnavailableError } from '../domain/oauth-error.js';
import { type FetchOptions, type fetchMetadataDocument, MetadataDocumentError } from './safe-fetch.js';

/** Where resolved clients are kept between fetches. Times are seconds since the epoch. */
export interface MetadataDocumentCache {
  /** The cached client for `url`, or undefined when there is none or it expired at or before `now`. */
  get(url: string, now: number): Promise<RegisteredClient | undefined>;
  /** Stores (or replaces) the client for `url`, to be served until `expiresAt`. */
  put(url: string, client: RegisteredClient, expiresAt: number): Promise<void>;
}

/** The grants-table key of a URL's cache entry. */
export function metadataCacheKey(url: string): string {
  return `${GRANT_KEY_PREFIXES.metadataDocument}sha256:${createHash('sha256').update(url, 'utf8').digest('base64url')}`;
}

interface CacheItem {
  [GRANTS_TABLE_KEY]: string;
  [GRANTS_TABLE_TTL_ATTRIBUTE]: number;
  client: RegisteredClient;
}

export class DynamoDbMetadataDocumentCache implements MetadataDocumentCache {
  constructor(
    private readonly tableName: string,
    private readonly documentClient: DynamoDBDocumentClient = sharedDocumentClient(),
  ) {}

  async get(url: string, now: number): Promise<RegisteredClient | undefined> {
    let item: CacheItem | undefined;
    try {
      const { Item } = await this.documentClient.send(
        new GetCommand({ TableName: this.tableName, Key: { [GRANTS_TABLE_KEY]: metadataCacheKey(url) } }),
      );
      item = Item as CacheItem | undefined;
    } catch {
      throw new UnavailableError('The client metadata cache could not be read; try again.');
    }
    if (!item || !(item[GRANTS_TABLE_TTL_ATTRIBUTE] > now)) return undefined;
    // The hash names the URL; the stored client_id confirms it.
    return item.client?.client_id === url ? item.client : undefined;
  }

  async put(url: string, client: RegisteredClient, expiresAt: number): Promise<void> {
    const item: CacheItem = {
      [GRANTS_TABLE_KEY]: metadataCacheKey(url),
      [GRANTS_TABLE_TTL_ATTRIBUTE]: expiresAt,
      client,
    };
    try {
      await this.documentClient.send(new PutCommand({ TableName: this.tableName, Item: item }));
    } catch {
      throw new UnavailableError('The client metadata cache could not be written; try again.');
    }
  }
}

export const CACHE_TTL_DEFAULTS = { minTtlSeconds: 300, maxTtlSeconds: 86_400 } as const;

export interface ResolveDeps {
  cache: MetadataDocumentCache;
  fetch: typeof fetchMetadataDocument;
  validate: MetadataValidator;
  /** Seconds since the epoch. */
  now: () => number;
  /** Shortest time a document is cached, whatever its Cache-Control says (no-store included); default 300. */
  minTtlSeconds?: number;
  /** Longest time a document is cached; default 86400. */
  maxTtlSeconds?: number;
  /** Development switch: http and loopback addresses on 127.0.0.1/localhost. Never in production. */
  allowLoopbackHttp: boolean;
  /** Passed to the fetch; its defaults (3000 ms, 5120 bytes) apply when absent. */
  timeoutMs?: number;
  maxBytes?: number;
}

/**
 * The client a Client Identifier URL names. A fresh cache entry is returned without fetching; on a
 * miss the document is fetched once, checked, cached for its Cache-Control max-age clamped to
 * [minTtlSeconds, maxTtlSeconds] (minTtlSeconds when it gives none), and returned.
 *
 * Throws OAuthError `invalid_client` when the URL is not a Client Identifier URL or the document
 * cannot be fetched or fails a check (the description says why), and the cache's UnavailableError
 * when the cache cannot be read or written.
 */
export async function resolveMetadataClient(url: string, deps: ResolveDeps): Promise<RegisteredClient> {
  const problem = clientIdUrlProblem(url, { allowLoopbackHttp: deps.allowLoopbackHttp });
  if (problem) {
    throw new OAuthError('invalid_client', `the client_id is not a Client ID Metadata Document URL: it ${problem}`);
  }

  const cached = await deps.cache.get(url, deps.now());
  if (cached) return cached;

  const options: FetchOptions = { allowLoopbackHttp: deps.allowLoopbackHttp };
  if (deps.timeoutMs !== undefined) options.timeoutMs = deps.timeoutMs;
  if (deps.maxBytes !== undefined) options.maxBytes = deps.maxBytes;
  let fetched: Awaited<ReturnType<typeof fetchMetadataDocument>>;
  try {
    fetched = await deps.fetch(url, options);
  } catch (error) {
    const reason = error instanceof MetadataDocumentError ? error.reason : 'the document could not be fetched';
    throw new OAuthError('invalid_client', `the client metadata document could not be fetched: ${reason}`);
  }
  const client = validateMetadataDocument(url, fetched.body, deps.validate);

  const minTtl = deps.minTtlSeconds ?? CACHE_TTL_DEFAULTS.minTtlSeconds;
  const maxTtl = deps.maxTtlSeconds ?? CACHE_TTL_DEFAULTS.maxTtlSeconds;
  const ttl = Math.min(Math.max(fetched.cacheControlMaxAge ?? minTtl, minTtl), maxTtl);
  await deps.cache.put(url, client, deps.now() + ttl);
  return client;
}
