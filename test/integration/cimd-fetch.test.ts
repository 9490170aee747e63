/**
 * Fetching Client ID Metadata Documents from a real HTTP server on 127.0.0.1 (the loopback switch
 * on), and the SSRF guard's decisions on addresses, checked without connecting anywhere else.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  cacheControlMaxAge,
  checkAddress,
  createGuardedLookup,
  type FetchOptions,
  fetchMetadataDocument,
  guardedLookup,
  MetadataDocumentError,
  type ResolveHost,
} from '../../lambda/cimd/safe-fetch.js';
import { clientMetadataValidator } from '../../lambda/domain/client-metadata.js';
import { validateMetadataDocument } from '../../lambda/domain/metadata-document.js';
import { OAuthError } from '../../lambda/domain/oauth-error.js';

const validate = clientMetadataValidator();
const LOOPBACK_ON: FetchOptions = { allowLoopbackHttp: true, timeoutMs: 2000 };

let server: Server;
let base: string;
let requests: string[] = [];
let connections = 0;
/** Set by the slow oversized route: whether it got to write its whole body. */
let slowStreamFinished: boolean | undefined;
const timers = new Set<NodeJS.Timeout>();

function document(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: url,
    client_name: 'Example MCP Client',
    redirect_uris: ['http://127.0.0.1:33418/callback', 'https://app.example.com/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
}

function sendJson(res: ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function later(ms: number, action: () => void): void {
  const timer = setTimeout(() => {
    timers.delete(timer);
    action();
  }, ms);
  timers.add(timer);
}

function route(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  requests.push(path);
  const self = `${base}${path}`;
  switch (path) {
    case '/good':
      return sendJson(res, document(self), { 'cache-control': 'public, max-age=600' });
    case '/good-localhost':
      return sendJson(res, document(self.replace('127.0.0.1', 'localhost')));
    case '/vendor-json':
      res.writeHead(200, { 'content-type': 'application/client-metadata+json; charset=utf-8' });
      return void res.end(JSON.stringify(document(self)));
    case '/wrong-id':
      return sendJson(res, document(`${base}/someone-else`));
    case '/big': {
      // A document of exactly 6000 bytes, with an honest Content-Length.
      const body = JSON.stringify(document(self, { padding: '' }));
      const padded = body.replace('"padding":""', `"padding":"${'a'.repeat(6000 - body.length)}"`);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(padded.length) });
      return void res.end(padded);
    }
    case '/big-declared':
      // Declares 6000 bytes and then sends nothing: only the header check refuses it promptly.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '6000' });
      return void res.flushHeaders();
    case '/big-chunked': {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"client_id":"${self}","padding":"`);
      res.write('a'.repeat(6000));
      return void res.end('"}');
    }
    case '/slow-big': {
      // 20 chunks of 1000 bytes, one every 150 ms: 3 s to send it all, over the limit after 6.
      slowStreamFinished = false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"padding":"');
      let sent = 0;
      const next = () => {
        if (res.destroyed) return;
        if (sent === 20) {
          slowStreamFinished = true;
          return void res.end('"}');
        }
        sent += 1;
        res.write('a'.repeat(1000));
        later(150, next);
      };
      return next();
    }
    case '/slow-headers':
      return later(5000, () => sendJson(res, document(self)));
    case '/redirect':
      res.writeHead(302, { location: '/good' });
      return void res.end();
    case '/html':
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end(JSON.stringify(document(self)));
    case '/no-content-type':
      res.writeHead(200);
      return void res.end(JSON.stringify(document(self)));
    case '/gzip':
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      return void res.end(JSON.stringify(document(self)));
    case '/not-json':
      return sendJson(res, '{"client_id": "oops",');
    case '/javascript-redirect':
      return sendJson(res, document(self, { redirect_uris: ['javascript:alert(1)'] }));
    case '/secret-basic':
      return sendJson(res, document(self, { token_endpoint_auth_method: 'client_secret_basic' }));
    case '/with-secret':
      return sendJson(res, document(self, { client_secret: 'hunter2' }));
    case '/no-auth-method': {
      const { token_endpoint_auth_method: _method, ...rest } = document(self);
      return sendJson(res, rest, { 'cache-control': 'no-store' });
    }
    case '/array':
      return sendJson(res, [document(self)]);
    default:
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end('{"error":"not found"}');
  }
}

beforeAll(async () => {
  server = createServer(route);
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const timer of timers) clearTimeout(timer);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  requests = [];
  connections = 0;
});

async function refusal(promise: Promise<unknown>): Promise<MetadataDocumentError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(MetadataDocumentError);
  return error as MetadataDocumentError;
}

async function fetchAndValidate(path: string) {
  const url = `${base}${path}`;
  const { body } = await fetchMetadataDocument(url, LOOPBACK_ON);
  return validateMetadataDocument(url, body, validate);
}

function invalidClient(action: () => Promise<unknown>): Promise<OAuthError> {
  return action().then(
    () => {
      throw new Error('expected an invalid_client refusal');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(OAuthError);
      expect((error as OAuthError).code).toBe('invalid_client');
      return error as OAuthError;
    },
  );
}

describe('fetchMetadataDocument with the loopback switch on', () => {
  it('fetches a good document, reads Cache-Control, and it validates into a public client', async () => {
    const url = `${base}/good`;
    const fetched = await fetchMetadataDocument(url, LOOPBACK_ON);
    expect(fetched.cacheControlMaxAge).toBe(600);
    const client = validateMetadataDocument(url, fetched.body, validate);
    expect(client).toEqual({
      client_id: url,
      client_id_issued_at: 0,
      client_name: 'Example MCP Client',
      redirect_uris: ['http://127.0.0.1:33418/callback', 'https://app.example.com/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    expect(client.client_secret_hash).toBeUndefined();
    expect(requests).toEqual(['/good']);
  });

  it('accepts an application/<something>+json media type', async () => {
    const client = await fetchAndValidate('/vendor-json');
    expect(client.client_id).toBe(`${base}/vendor-json`);
  });

  it('defaults a missing token_endpoint_auth_method to none, and reads no-store as 0', async () => {
    const url = `${base}/no-auth-method`;
    const fetched = await fetchMetadataDocument(url, LOOPBACK_ON);
    expect(fetched.cacheControlMaxAge).toBe(0);
    expect(validateMetadataDocument(url, fetched.body, validate).token_endpoint_auth_method).toBe('none');
  });

  it('connects through the guarded lookup for a host name, resolving it exactly once', async () => {
    const port = new URL(base).port;
    const resolved: string[] = [];
    const resolveHost: ResolveHost = async (hostname) => {
      resolved.push(hostname);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const url = `http://localhost:${port}/good-localhost`;
    const { body } = await fetchMetadataDocument(url, { ...LOOPBACK_ON, resolveHost });
    expect(validateMetadataDocument(url, body, validate).client_id).toBe(url);
    expect(resolved).toEqual(['localhost']);
  });

  it('refuses a document whose client_id is not its URL', async () => {
    const error = await invalidClient(() => fetchAndValidate('/wrong-id'));
    expect(error.description).toBe("the metadata document's client_id does not equal its URL");
  });

  it('refuses a 6000-byte document (declared by Content-Length)', async () => {
    const error = await refusal(fetchMetadataDocument(`${base}/big`, LOOPBACK_ON));
    expect(error.message).toBe('the document is larger than 5120 bytes');
  });

  it('refuses a declared Content-Length over the limit without waiting for the body', async () => {
    const started = Date.now();
    const error = await refusal(fetchMetadataDocument(`${base}/big-declared`, LOOPBACK_ON));
    expect(error.message).toBe('the document is larger than 5120 bytes');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a 6000-byte document sent without Content-Length, counting while streaming', async () => {
    const error = await refusal(fetchMetadataDocument(`${base}/big-chunked`, LOOPBACK_ON));
    expect(error.message).toBe('the document is larger than 5120 bytes');
  });

  it('drops a slowly streamed oversized document as soon as it passes the limit', async () => {
    const started = Date.now();
    const error = await refusal(
      fetchMetadataDocument(`${base}/slow-big`, { allowLoopbackHttp: true, timeoutMs: 10_000 }),
    );
    const elapsed = Date.now() - started;
    expect(error.message).toBe('the document is larger than 5120 bytes');
    // Over the limit after the 6th chunk (~750 ms); the whole stream would take 3 s.
    expect(elapsed).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slowStreamFinished).toBe(false);
  });

  it('honours a smaller maxBytes', async () => {
    const error = await refusal(fetchMetadataDocument(`${base}/good`, { ...LOOPBACK_ON, maxBytes: 100 }));
    expect(error.message).toBe('the document is larger than 100 bytes');
  });

  it('gives up on a server that sends headers after 5 s, at the 500 ms deadline', async () => {
    const started = Date.now();
    const error = await refusal(
      fetchMetadataDocument(`${base}/slow-headers`, { allowLoopbackHttp: true, timeoutMs: 500 }),
    );
    expect(error.message).toBe('the document did not arrive within 500 ms');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('refuses a slowly streamed document that stays under the size limit, at the deadline', async () => {
    const started = Date.now();
    const error = await refusal(
      fetchMetadataDocument(`${base}/slow-big`, { allowLoopbackHttp: true, timeoutMs: 400, maxBytes: 100_000 }),
    );
    expect(error.message).toBe('the document did not arrive within 400 ms');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('does not follow a 302 redirect', async () => {
    const error = await refusal(fetchMetadataDocument(`${base}/redirect`, LOOPBACK_ON));
    expect(error.message).toBe('redirects are not followed');
    expect(requests).toEqual(['/redirect']);
  });

  it('refuses a status other than 200', async () => {
    const error = await refusal(fetchMetadataDocument(`${base}/missing`, LOOPBACK_ON));
    expect(error.message).toBe('the server answered with status 404, not 200');
  });

  it.each(['/html', '/no-content-type'])('refuses a document not served as JSON (%s)', async (path) => {
    const error = await refusal(fetchMetadataDocument(`${base}${path}`, LOOPBACK_ON));
    expect(error.message).toBe('the document is not served as JSON (application/json)');
  });

  it('refuses a compressed response', async () => {
    const error = await refusal(fetchMetadataDocument(`${base}/gzip`, LOOPBACK_ON));
    expect(error.message).toBe('the document must not be compressed');
  });

  it('refuses a body that is not JSON, without quoting it', async () => {
    const error = await refusal(fetchMetadataDocument(`${base}/not-json`, LOOPBACK_ON));
    expect(error.message).toBe('the document is not valid JSON');
  });

  it('refuses a document with a javascript: redirect URI', async () => {
    const error = await invalidClient(() => fetchAndValidate('/javascript-redirect'));
    expect(error.description).toMatch(/redirect_uris\[0\] must not use the javascript: scheme/);
  });

  it('refuses token_endpoint_auth_method client_secret_basic', async () => {
    const error = await invalidClient(() => fetchAndValidate('/secret-basic'));
    expect(error.description).toMatch(/token_endpoint_auth_method must be "none"/);
  });

  it('refuses a document carrying a client_secret', async () => {
    const error = await invalidClient(() => fetchAndValidate('/with-secret'));
    expect(error.description).toMatch(/must not contain client_secret/);
  });

  it('refuses a JSON array', async () => {
    const error = await invalidClient(() => fetchAndValidate('/array'));
    expect(error.description).toBe('the metadata document is not a JSON object');
  });

  it('refuses http on a host name that does not resolve to loopback', async () => {
    const port = new URL(base).port;
    const resolveHost: ResolveHost = async () => [{ address: '93.184.216.34', family: 4 }];
    const error = await refusal(
      fetchMetadataDocument(`http://localhost:${port}/good-localhost`, { ...LOOPBACK_ON, resolveHost }),
    );
    expect(error.message).toBe('the host of an http URL must resolve to a loopback address');
    expect(connections).toBe(0);
  });

  it('still refuses private addresses with the switch on', async () => {
    const resolveHost: ResolveHost = async () => [{ address: '10.0.0.1', family: 4 }];
    const error = await refusal(
      fetchMetadataDocument('https://intranet.example/client', { ...LOOPBACK_ON, resolveHost }),
    );
    expect(error.message).toBe('the host resolves to a private address');
  });
});

describe('fetchMetadataDocument with the loopback switch off', () => {
  const OFF: FetchOptions = { allowLoopbackHttp: false, timeoutMs: 2000 };

  it('refuses http://127.0.0.1 (not https) without connecting', async () => {
    const error = await refusal(fetchMetadataDocument(`${base}/good`, OFF));
    expect(error.message).toBe('only https URLs are fetched');
    expect(connections).toBe(0);
  });

  it.each([
    ['https://127.0.0.1:1/client', 'a loopback address'],
    ['https://10.0.0.1/client', 'a private address'],
    ['https://169.254.169.254/latest/meta-data', 'a link-local address'],
    ['https://[::1]/client', 'a loopback address'],
    ['https://[::ffff:10.0.0.1]/client', 'a private address'],
    ['https://[fd00::1]/client', 'a unique local address'],
  ])('refuses the IP literal in %s before connecting', async (url, kind) => {
    const error = await refusal(fetchMetadataDocument(url, OFF));
    expect(error.message).toBe(`the host resolves to ${kind}`);
  });

  it('refuses a host name that resolves to loopback (localhost)', async () => {
    const port = new URL(base).port;
    const error = await refusal(fetchMetadataDocument(`https://localhost:${port}/good`, OFF));
    expect(error.message).toBe('the host resolves to a loopback address');
    expect(connections).toBe(0);
  });

  it('refuses a host name that resolves to a private address (injected resolver: no DNS)', async () => {
    let calls = 0;
    const resolveHost: ResolveHost = async () => {
      calls += 1;
      return [{ address: '192.168.1.1', family: 4 }];
    };
    const error = await refusal(fetchMetadataDocument('https://rebind.example/client', { ...OFF, resolveHost }));
    expect(error.message).toBe('the host resolves to a private address');
    expect(calls).toBe(1);
  });

  it('refuses a host name that does not resolve, saying so', async () => {
    const started = Date.now();
    const error = await refusal(
      fetchMetadataDocument('https://localhost.example.invalid/client.json', {
        allowLoopbackHttp: false,
        timeoutMs: 1500,
      }),
    );
    // Offline resolvers either fail fast (ENOTFOUND) or hang until the deadline; both are refusals.
    expect(error.message).toMatch(/^(the host name could not be resolved|the document did not arrive within 1500 ms)$/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it.each([
    ['ftp://app.example.com/client', 'only https URLs are fetched'],
    ['not a url', 'the URL is not valid'],
    ['https://user:pw@app.example.com/client', 'the URL must not contain user information'],
  ])('refuses %s', async (url, reason) => {
    const error = await refusal(fetchMetadataDocument(url, OFF));
    expect(error.message).toBe(reason);
  });
});

describe('checkAddress: only public unicast passes', () => {
  it.each([
    ['10.0.0.1', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['169.254.169.254', 'a link-local address'],
    ['127.0.0.1', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['fe80::1', 'a link-local address'],
    ['fc00::1', 'a unique local address'],
    ['::ffff:10.0.0.1', 'a private address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['100.64.0.1', 'a carrier-grade NAT address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['255.255.255.255', 'a broadcast address'],
    ['224.0.0.1', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['192.0.2.1', 'a reserved address'],
    ['240.0.0.1', 'a reserved address'],
    ['64:ff9b::a00:1', 'a special-use address'],
    ['2002:a00:1::', 'a special-use address'],
  ])('refuses %s (%s)', (address, kind) => {
    expect(checkAddress(address)).toBe(`the host resolves to ${kind}`);
  });

  it.each(['93.184.216.34', '2606:4700::1111', '8.8.8.8', '::ffff:93.184.216.34'])('allows %s', (address) => {
    expect(checkAddress(address)).toBeUndefined();
  });

  it('refuses what is not an address', () => {
    expect(checkAddress('example.com')).toBe('the host resolves to an address that cannot be checked');
  });

  it('with the switch on, allows loopback and nothing else that was refused', () => {
    const policy = { allowLoopback: true };
    expect(checkAddress('127.0.0.1', policy)).toBeUndefined();
    expect(checkAddress('::1', policy)).toBeUndefined();
    expect(checkAddress('93.184.216.34', policy)).toBeUndefined();
    for (const address of ['10.0.0.1', '169.254.169.254', 'fe80::1', 'fc00::1', '0.0.0.0', '100.64.0.1']) {
      expect(checkAddress(address, policy)).toMatch(/^the host resolves to /);
    }
  });

  it('for plain http on the switch, allows loopback only', () => {
    const policy = { loopbackOnly: true };
    expect(checkAddress('127.0.0.1', policy)).toBeUndefined();
    expect(checkAddress('93.184.216.34', policy)).toMatch(/loopback/);
    expect(checkAddress('10.0.0.1', policy)).toMatch(/loopback/);
  });
});

describe('the guarded lookup', () => {
  function lookupWith(
    lookup: ReturnType<typeof createGuardedLookup>,
    hostname: string,
    options: { all?: boolean; family?: number },
  ): Promise<{ error: Error | null; address: unknown; family?: number }> {
    return new Promise((resolve) => {
      lookup(hostname, options, (error, address, family) => resolve({ error, address, family }));
    });
  }

  it('refuses a name whose answers mix public and private addresses', async () => {
    const lookup = createGuardedLookup({}, async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.1', family: 4 },
    ]);
    const { error } = await lookupWith(lookup, 'mixed.example', { all: true });
    expect(error).toBeInstanceOf(MetadataDocumentError);
    expect(error?.message).toBe('the host resolves to a private address');
  });

  it('answers in the form asked for: all addresses, or one of the requested family', async () => {
    const lookup = createGuardedLookup({}, async () => [
      { address: '2606:4700::1111', family: 6 },
      { address: '93.184.216.34', family: 4 },
    ]);
    expect((await lookupWith(lookup, 'public.example', { all: true })).address).toEqual([
      { address: '2606:4700::1111', family: 6 },
      { address: '93.184.216.34', family: 4 },
    ]);
    expect(await lookupWith(lookup, 'public.example', { family: 4 })).toEqual({
      error: null,
      address: '93.184.216.34',
      family: 4,
    });
  });

  it('refuses when no address of the requested family exists', async () => {
    const lookup = createGuardedLookup({}, async () => [{ address: '2606:4700::1111', family: 6 }]);
    const { error } = await lookupWith(lookup, 'v6only.example', { family: 4 });
    expect(error?.message).toBe('the host name could not be resolved');
  });

  it('turns a resolution failure into a clear refusal', async () => {
    const lookup = createGuardedLookup({}, async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' });
    });
    const { error } = await lookupWith(lookup, 'nowhere.example', { all: true });
    expect(error?.message).toBe('the host name could not be resolved');
  });

  it('the default guardedLookup refuses localhost (system resolver, /etc/hosts)', async () => {
    const { error } = await lookupWith(guardedLookup, 'localhost', { all: true });
    expect(error?.message).toBe('the host resolves to a loopback address');
  });
});

describe('cacheControlMaxAge', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['public', undefined],
    ['max-age=600', 600],
    ['public, max-age=120, must-revalidate', 120],
    ['Max-Age="90"', 90],
    ['max-age=abc', undefined],
    ['max-age=-5', undefined],
    ['no-store', 0],
    ['max-age=600, no-cache', 0],
    ['no-store, max-age=600', 0],
    ['s-maxage=600', undefined],
  ])('reads %j as %j', (header, expected) => {
    expect(cacheControlMaxAge(header)).toBe(expected);
  });
});
