/**
 * resolveMetadataClient against the real DynamoDB cache on dynalite and a loopback document
 * server that counts requests, with a clock the tests move.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDbMetadataDocumentCache,
  metadataCacheKey,
  type ResolveDeps,
  resolveMetadataClient,
} from '../../lambda/cimd/document-cache.js';
import { fetchMetadataDocument } from '../../lambda/cimd/safe-fetch.js';
import { clientMetadataValidator } from '../../lambda/domain/client-metadata.js';
import type { RegisteredClient } from '../../lambda/domain/clients.js';
import { OAuthError, UnavailableError } from '../../lambda/domain/oauth-error.js';
import { registeredClient } from '../support/clients.js';
import { useDynalite } from '../support/dynalite.js';

const START = 1_800_000_000;
const MIN_TTL = 300;
const MAX_TTL = 86_400;

const db = useDynalite('cimd-cache');
let cache: DynamoDbMetadataDocumentCache;
let server: Server;
let base: string;
const hits = new Map<string, number>();

/** Routes are /<mode>/<anything>; the mode picks the response. */
function route(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  hits.set(path, (hits.get(path) ?? 0) + 1);
  const mode = path.split('/')[1];
  const body = JSON.stringify({
    client_id: `${base}${path}`,
    client_name: 'Cached Client',
    redirect_uris: ['http://127.0.0.1:33418/callback'],
    token_endpoint_auth_method: 'none',
  });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  switch (mode) {
    case 'max-age-600':
      headers['cache-control'] = 'max-age=600';
      break;
    case 'max-age-1':
      headers['cache-control'] = 'max-age=1';
      break;
    case 'max-age-huge':
      headers['cache-control'] = 'public, max-age=999999999';
      break;
    case 'no-store':
      headers['cache-control'] = 'no-store';
      break;
    case 'no-header':
      break;
    case 'redirect':
      res.writeHead(302, { location: '/max-age-600/elsewhere' });
      return void res.end();
    case 'wrong-id':
      res.writeHead(200, headers);
      return void res.end(JSON.stringify({ ...JSON.parse(body), client_id: `${base}/someone-else` }));
    default:
      res.writeHead(404);
      return void res.end();
  }
  res.writeHead(200, headers);
  res.end(body);
}

beforeAll(async () => {
  cache = new DynamoDbMetadataDocumentCache(db.grantsTable, db.documents);
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A fresh URL per test, so that entries cached by one test never serve another. */
function freshUrl(mode: string, name: string = randomUUID()): string {
  return `${base}/${mode}/${name}`;
}

function fetchesOf(url: string): number {
  return hits.get(url.slice(base.length)) ?? 0;
}

function clock(start = START) {
  let now = start;
  return {
    now: () => now,
    set: (value: number) => {
      now = value;
    },
  };
}

function deps(now: () => number, overrides: Partial<ResolveDeps> = {}): ResolveDeps {
  return {
    cache,
    fetch: fetchMetadataDocument,
    validate: clientMetadataValidator(),
    now,
    minTtlSeconds: MIN_TTL,
    maxTtlSeconds: MAX_TTL,
    allowLoopbackHttp: true,
    timeoutMs: 2000,
    ...overrides,
  };
}

async function storedExpiry(url: string): Promise<number | undefined> {
  const { Item } = await db.documents.send(
    new GetCommand({ TableName: db.grantsTable, Key: { pk: metadataCacheKey(url) }, ConsistentRead: true }),
  );
  return Item?.expires_at as number | undefined;
}

async function refusal(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

describe('resolveMetadataClient with the DynamoDB cache', () => {
  it('fetches on a miss, then serves from the cache until max-age runs out', async () => {
    const url = freshUrl('max-age-600');
    const time = clock();
    const first = await resolveMetadataClient(url, deps(time.now));
    expect(first).toMatchObject({ client_id: url, client_id_issued_at: 0, token_endpoint_auth_method: 'none' });
    expect(fetchesOf(url)).toBe(1);
    expect(await storedExpiry(url)).toBe(START + 600);

    time.set(START + 599);
    expect(await resolveMetadataClient(url, deps(time.now))).toEqual(first);
    expect(fetchesOf(url)).toBe(1);

    time.set(START + 600);
    expect(await resolveMetadataClient(url, deps(time.now))).toEqual(first);
    expect(fetchesOf(url)).toBe(2);
    expect(await storedExpiry(url)).toBe(START + 1200);
  });

  it('clamps max-age=1 up to the minimum TTL, and refetches after it', async () => {
    const url = freshUrl('max-age-1');
    const time = clock();
    await resolveMetadataClient(url, deps(time.now));
    expect(await storedExpiry(url)).toBe(START + MIN_TTL);

    time.set(START + 2);
    await resolveMetadataClient(url, deps(time.now));
    time.set(START + MIN_TTL - 1);
    await resolveMetadataClient(url, deps(time.now));
    expect(fetchesOf(url)).toBe(1);

    time.set(START + MIN_TTL);
    await resolveMetadataClient(url, deps(time.now));
    expect(fetchesOf(url)).toBe(2);
  });

  it('clamps a huge max-age down to the maximum TTL', async () => {
    const url = freshUrl('max-age-huge');
    const time = clock();
    await resolveMetadataClient(url, deps(time.now));
    expect(await storedExpiry(url)).toBe(START + MAX_TTL);

    time.set(START + MAX_TTL - 1);
    await resolveMetadataClient(url, deps(time.now));
    expect(fetchesOf(url)).toBe(1);
    time.set(START + MAX_TTL);
    await resolveMetadataClient(url, deps(time.now));
    expect(fetchesOf(url)).toBe(2);
  });

  it.each(['no-store', 'no-header'])('caches for the minimum TTL when Cache-Control is %s', async (mode) => {
    const url = freshUrl(mode);
    const time = clock();
    await resolveMetadataClient(url, deps(time.now));
    expect(await storedExpiry(url)).toBe(START + MIN_TTL);
  });

  it('uses the default bounds (300 s, 86400 s) when none are given', async () => {
    const time = clock();
    const short = freshUrl('max-age-1');
    const long = freshUrl('max-age-huge');
    const defaults = { minTtlSeconds: undefined, maxTtlSeconds: undefined };
    await resolveMetadataClient(short, deps(time.now, defaults));
    await resolveMetadataClient(long, deps(time.now, defaults));
    expect(await storedExpiry(short)).toBe(START + 300);
    expect(await storedExpiry(long)).toBe(START + 86_400);
  });

  it('caches a 3000-character URL under a hashed key', async () => {
    const prefix = freshUrl('max-age-600', 'long-');
    const url = prefix + 'x'.repeat(3000 - prefix.length);
    expect(url).toHaveLength(3000);
    const time = clock();
    const first = await resolveMetadataClient(url, deps(time.now));
    expect(first.client_id).toBe(url);
    time.set(START + 10);
    expect(await resolveMetadataClient(url, deps(time.now))).toEqual(first);
    expect(fetchesOf(url)).toBe(1);
    expect(metadataCacheKey(url)).toMatch(/^cimd#sha256:[A-Za-z0-9_-]{43}$/);
  });

  it('does not cache a refused document, and says why it was refused', async () => {
    const url = freshUrl('wrong-id');
    const time = clock();
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const error = await refusal(resolveMetadataClient(url, deps(time.now)));
      expect(error.code).toBe('invalid_client');
      expect(error.description).toBe("the metadata document's client_id does not equal its URL");
      expect(fetchesOf(url)).toBe(attempt);
    }
    expect(await storedExpiry(url)).toBeUndefined();
  });

  it('turns a fetch refusal into invalid_client with its reason, and caches nothing', async () => {
    const url = freshUrl('redirect');
    const error = await refusal(resolveMetadataClient(url, deps(clock().now)));
    expect(error.code).toBe('invalid_client');
    expect(error.description).toBe('the client metadata document could not be fetched: redirects are not followed');
    expect(await storedExpiry(url)).toBeUndefined();
  });

  it('refuses a client_id that is not a Client ID Metadata Document URL, without fetching', async () => {
    const url = `${freshUrl('max-age-600')}?v=2`;
    const error = await refusal(resolveMetadataClient(url, deps(clock().now)));
    expect(error.code).toBe('invalid_client');
    expect(error.description).toMatch(/must not contain a query/);
    expect(fetchesOf(url)).toBe(0);
  });

  it('refuses a loopback http client_id when the switch is off, without fetching', async () => {
    const url = freshUrl('max-age-600');
    const error = await refusal(resolveMetadataClient(url, deps(clock().now, { allowLoopbackHttp: false })));
    expect(error.code).toBe('invalid_client');
    expect(error.description).toMatch(/must use the https scheme/);
    expect(fetchesOf(url)).toBe(0);
  });

  it('surfaces a cache that cannot be read as UnavailableError, without fetching', async () => {
    const url = freshUrl('max-age-600');
    const missingTable = new DynamoDbMetadataDocumentCache('no-such-table', db.documents);
    const error = await refusal(resolveMetadataClient(url, deps(clock().now, { cache: missingTable })));
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.code).toBe('temporarily_unavailable');
    expect(fetchesOf(url)).toBe(0);
  });

  it('surfaces a cache that cannot be written as UnavailableError', async () => {
    const url = freshUrl('max-age-600');
    const unwritable = {
      get: cache.get.bind(cache),
      put: () => new DynamoDbMetadataDocumentCache('no-such-table', db.documents).put(url, {} as RegisteredClient, 0),
    };
    const error = await refusal(resolveMetadataClient(url, deps(clock().now, { cache: unwritable })));
    expect(error).toBeInstanceOf(UnavailableError);
    expect(fetchesOf(url)).toBe(1);
  });
});

describe('DynamoDbMetadataDocumentCache', () => {
  // As a metadata document's client is held: its URL as client_id, issued at 0.
  const client = registeredClient({
    client_id: 'https://app.example.com/client.json',
    client_id_issued_at: 0,
    client_name: '',
    redirect_uris: ['https://app.example.com/cb'],
    grant_types: ['authorization_code'],
  });

  it('returns an entry strictly before its expiry and nothing from its expiry on', async () => {
    await cache.put(client.client_id, client, START + 100);
    expect(await cache.get(client.client_id, START + 99)).toEqual(client);
    expect(await cache.get(client.client_id, START + 100)).toBeUndefined();
    expect(await cache.get(client.client_id, START + 1000)).toBeUndefined();
  });

  it('replaces an entry on a second put', async () => {
    const url = 'https://app.example.com/replaced.json';
    await cache.put(url, { ...client, client_id: url, client_name: 'Old' }, START + 100);
    await cache.put(url, { ...client, client_id: url, client_name: 'New' }, START + 200);
    expect((await cache.get(url, START + 150))?.client_name).toBe('New');
  });

  it('serves an entry only for the URL it was stored for', async () => {
    const url = 'https://app.example.com/mismatch.json';
    // An entry whose client names another URL (it cannot happen through put's callers) is ignored.
    await cache.put(url, client, START + 100);
    expect(await cache.get(url, START)).toBeUndefined();
  });
});
