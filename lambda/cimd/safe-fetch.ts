/**
 * Fetching a Client ID Metadata Document without becoming an SSRF proxy (draft-ietf-oauth-client-
 * id-metadata-document, "Server Side Request Forgery (SSRF) Attacks" and "Maximum Response Size").
 *
 * - The host is resolved once, by a guarded `lookup` handed to `node:https`/`node:http`: every
 *   address the name resolves to must be public unicast (ipaddr.js `range()` === 'unicast', after
 *   unwrapping IPv4-mapped IPv6), or the request is refused. The socket connects to the address the
 *   guard returned, so a DNS answer that changes between check and connect (rebinding) cannot
 *   redirect it. IP-literal hosts, which Node connects to without any lookup, are checked directly.
 * - `https` only. With `allowLoopbackHttp` (local development only) loopback addresses are also
 *   allowed, and `http` is allowed for the hosts 127.0.0.1 and localhost, which must then resolve
 *   to loopback addresses only. Private, link-local and other special-use addresses never pass.
 * - No redirects (any 3xx is refused), status 200 only, a JSON media type only, no content coding.
 * - At most `maxBytes` of body, counted while streaming: the connection is dropped as soon as the
 *   count is exceeded. One deadline, `timeoutMs`, covers resolution, connection, headers and body.
 *
 * Every refusal is a MetadataDocumentError whose message is a short reason safe to show a client:
 * it never carries response bodies, headers or low-level error text.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { LOOPBACK_HTTP_HOSTS } from '../domain/client-id-url.js';

export const FETCH_DEFAULTS = { timeoutMs: 3000, maxBytes: 5120 } as const;

export class MetadataDocumentError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'MetadataDocumentError';
  }
}

/** Which addresses a fetch may connect to. */
export interface AddressPolicy {
  /** Also allow loopback addresses (the development switch). */
  allowLoopback?: boolean;
  /** Allow loopback addresses and nothing else (plain-http fetches on the development switch). */
  loopbackOnly?: boolean;
}

const RANGE_NAMES: Record<string, string> = {
  private: 'a private address',
  loopback: 'a loopback address',
  linkLocal: 'a link-local address',
  uniqueLocal: 'a unique local address',
  unspecified: 'an unspecified address',
  broadcast: 'a broadcast address',
  multicast: 'a multicast address',
  carrierGradeNat: 'a carrier-grade NAT address',
  reserved: 'a reserved address',
};

/**
 * Why a connection to `address` is refused, or undefined when it is allowed. Only public unicast
 * passes (plus loopback under the policy); every other ipaddr.js range (private, loopback,
 * link-local, unique local, unspecified, broadcast, multicast, carrier-grade NAT, reserved,
 * 6to4, Teredo, NAT64, ...) is refused. IPv4-mapped IPv6 addresses are judged as the IPv4 address.
 */
export function checkAddress(address: string, policy: AddressPolicy = {}): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return 'the host resolves to an address that cannot be checked';
  }
  const range = parsed.range();
  if (policy.loopbackOnly) {
    return range === 'loopback' ? undefined : 'the host of an http URL must resolve to a loopback address';
  }
  if (range === 'unicast') return undefined;
  if (range === 'loopback' && policy.allowLoopback) return undefined;
  return `the host resolves to ${RANGE_NAMES[range] ?? 'a special-use address'}`;
}

/** Resolves a host name to all its addresses; injectable so tests never need real DNS. */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

const systemResolve: ResolveHost = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    );
  });

function familyOf(options: LookupOptions): number {
  if (options.family === 'IPv4') return 4;
  if (options.family === 'IPv6') return 6;
  return options.family ?? 0;
}

/**
 * A `lookup` for `net.connect` that resolves once and refuses the connection unless EVERY address
 * the name resolves to passes checkAddress (a name that mixes public and private addresses is
 * refused whole). It answers in whichever form Node asks for (`all: true` for Happy Eyeballs).
 */
export function createGuardedLookup(policy: AddressPolicy = {}, resolve: ResolveHost = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    const decide = (addresses: LookupAddress[]): LookupAddress[] => {
      for (const { address } of addresses) {
        const problem = checkAddress(address, policy);
        if (problem) throw new MetadataDocumentError(problem);
      }
      const family = familyOf(options);
      const usable = family === 0 ? addresses : addresses.filter((entry) => entry.family === family);
      if (usable.length === 0) throw new MetadataDocumentError('the host name could not be resolved');
      return usable;
    };
    resolve(hostname).then(
      (addresses) => {
        let usable: LookupAddress[];
        try {
          usable = decide(addresses);
        } catch (error) {
          callback(error as MetadataDocumentError, '');
          return;
        }
        if (options.all) callback(null, usable);
        else callback(null, usable[0].address, usable[0].family);
      },
      () => callback(new MetadataDocumentError('the host name could not be resolved'), ''),
    );
  };
}

/** The lookup used when nothing else is asked for: public unicast only. */
export const guardedLookup: LookupFunction = createGuardedLookup();

/**
 * Seconds a response may be cached for, from its Cache-Control header: `no-store` or `no-cache`
 * give 0, otherwise `max-age` (the first valid one); undefined when there is neither.
 * `s-maxage` and `Expires` are ignored.
 */
export function cacheControlMaxAge(header: string | undefined): number | undefined {
  if (!header) return undefined;
  let maxAge: number | undefined;
  for (const directive of header.split(',')) {
    const equals = directive.indexOf('=');
    const name = (equals < 0 ? directive : directive.slice(0, equals)).trim().toLowerCase();
    const value = equals < 0 ? '' : directive.slice(equals + 1).trim();
    if (name === 'no-store' || name === 'no-cache') return 0;
    if (name === 'max-age' && maxAge === undefined) {
      const digits = /^"?(\d+)"?$/.exec(value)?.[1];
      if (digits !== undefined) maxAge = Math.min(Number(digits), 2 ** 31);
    }
  }
  return maxAge;
}

function isJsonMediaType(header: string | undefined): boolean {
  const type = (header ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[!#$&^_.+\-a-z0-9]+\+json$/.test(type);
}

const TLS_ERROR = /CERT|TLS|SSL|SIGNATURE|ALTNAME/;

/** A short reason for a transport error, never its message (which can quote hosts or bytes). */
function describeFailure(error: unknown, timeoutMs: number): MetadataDocumentError {
  if (error instanceof MetadataDocumentError) return error;
  const code = String((error as NodeJS.ErrnoException | undefined)?.code ?? '');
  if (code === 'ENOTFOUND' || code.startsWith('EAI_')) {
    return new MetadataDocumentError('the host name could not be resolved');
  }
  if (code === 'ECONNREFUSED') return new MetadataDocumentError('the connection was refused');
  if (code === 'ETIMEDOUT') return new MetadataDocumentError(`the document did not arrive within ${timeoutMs} ms`);
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new MetadataDocumentError('the connection closed before the document arrived');
  }
  if (code.startsWith('HPE_')) return new MetadataDocumentError('the server sent a malformed HTTP response');
  if (TLS_ERROR.test(code)) return new MetadataDocumentError("the server's TLS certificate was not accepted");
  return new MetadataDocumentError('the document could not be fetched');
}

export interface FetchOptions {
  /** Development switch: loopback addresses, and http on 127.0.0.1/localhost. Never in production. */
  allowLoopbackHttp: boolean;
  /** Deadline for the whole exchange; default 3000. */
  timeoutMs?: number;
  /** Largest body accepted, in bytes; default 5120 (the draft's recommended 5 kilobytes). */
  maxBytes?: number;
  /** Replaces system DNS resolution (tests). The guard applies to its answers all the same. */
  resolveHost?: ResolveHost;
}

export interface FetchedDocument {
  /** The parsed JSON, not yet validated. */
  body: unknown;
  /** From Cache-Control: max-age, or 0 for no-store/no-cache; absent when the header says neither. */
  cacheControlMaxAge?: number;
}

/** Fetches and parses the JSON document at `url`, or throws a MetadataDocumentError saying why not. */
export function fetchMetadataDocument(url: string, options: FetchOptions): Promise<FetchedDocument> {
  const timeoutMs = options.timeoutMs ?? FETCH_DEFAULTS.timeoutMs;
  const maxBytes = options.maxBytes ?? FETCH_DEFAULTS.maxBytes;
  if (!URL.canParse(url)) return Promise.reject(new MetadataDocumentError('the URL is not valid'));
  const target = new URL(url);
  if (target.username !== '' || target.password !== '') {
    return Promise.reject(new MetadataDocumentError('the URL must not contain user information'));
  }
  let policy: AddressPolicy;
  if (target.protocol === 'https:') {
    policy = { allowLoopback: options.allowLoopbackHttp };
  } else if (
    target.protocol === 'http:' &&
    options.allowLoopbackHttp &&
    LOOPBACK_HTTP_HOSTS.includes(target.hostname)
  ) {
    policy = { loopbackOnly: true };
  } else {
    return Promise.reject(new MetadataDocumentError('only https URLs are fetched'));
  }
  const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  // Node connects to an IP literal without calling `lookup`: check it here instead.
  if (isIP(host) !== 0) {
    const problem = checkAddress(host, policy);
    if (problem) return Promise.reject(new MetadataDocumentError(problem));
  }

  return new Promise<FetchedDocument>((resolve, reject) => {
    let settled = false;
    let req: ClientRequest | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req?.destroy();
      outcome();
    };
    const fail = (error: unknown) => finish(() => reject(describeFailure(error, timeoutMs)));
    const refuse = (reason: string) => fail(new MetadataDocumentError(reason));

    deadline = setTimeout(() => refuse(`the document did not arrive within ${timeoutMs} ms`), timeoutMs);
    try {
      req = (target.protocol === 'https:' ? httpsRequest : httpRequest)({
        method: 'GET',
        hostname: host,
        port: target.port === '' ? undefined : Number(target.port),
        path: `${target.pathname}${target.search}`,
        headers: { accept: 'application/json', 'accept-encoding': 'identity' },
        lookup: createGuardedLookup(policy, options.resolveHost),
        // A fresh connection per fetch: nothing pooled, nothing reused from an earlier resolution.
        agent: false,
        maxHeaderSize: 8192,
      });
    } catch (error) {
      fail(error);
      return;
    }

    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      res.on('error', fail);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) return refuse('redirects are not followed');
      if (status !== 200) return refuse(`the server answered with status ${status}, not 200`);
      if (!isJsonMediaType(res.headers['content-type'])) {
        return refuse('the document is not served as JSON (application/json)');
      }
      const coding = res.headers['content-encoding'];
      if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') {
        return refuse('the document must not be compressed');
      }
      const tooLarge = `the document is larger than ${maxBytes} bytes`;
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) return refuse(tooLarge);

      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        size += chunk.length;
        if (size > maxBytes) return refuse(tooLarge);
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
        } catch {
          return refuse('the document is not valid UTF-8');
        }
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return refuse('the document is not valid JSON');
        }
        const maxAge = cacheControlMaxAge(res.headers['cache-control']);
        finish(() => resolve(maxAge === undefined ? { body } : { body, cacheControlMaxAge: maxAge }));
      });
    });
    req.end();
  });
}
