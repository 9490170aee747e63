/**
 * Property-based fuzzing of every route in lib/routes.ts (and of paths no route serves) over
 * real HTTP, against ONE local server (`npm start`'s entry point in a child process). Nothing is
 * injected here, so whatever is sent:
 *
 * - the server never answers 5xx and never dies (a health request still gets 200 afterwards);
 * - every 4xx with a JSON content type carries a string `error` (the MCP endpoint may answer
 *   with a JSON-RPC error object instead, as the MCP transport specification has it);
 * - no response carries a stack trace (`at ` followed by a path) or mentions node_modules;
 * - endpoint-specific safety properties hold (redirects only to registered redirect URIs, a
 *   200 from /token is a token response, consent only with form token + cookie + origin, ...);
 * - state survives: every client registered along the way can still be read through its
 *   registration_client_uri, with the redirect_uris that were sent.
 *
 * Reproduce a run with FUZZ_SEED=<seed> (printed at the start, and by fast-check on a failure);
 * FUZZ_SCALE multiplies the number of runs of every property (default 1); FUZZ_SKIP_KNOWN_BUGS=1
 * discards inputs that hit a bug already pinned at the end of this file. After each property the
 * statuses it saw are printed, to show what the generators reached.
 */
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import type * as oauth from 'oauth4webapi';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/routes.js';
import { CookieJar, followRedirects, parseForms } from '../support/browser-like.js';
import { useLocalServer } from '../support/local-server-fixture.js';
import {
  authorizationUrl,
  discover,
  obtainTokens,
  type RegisteredTestClient,
  registerTestClient,
  runBrowser,
} from '../support/oauth-flow.js';

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Seed, budget

const SEED = (() => {
  const raw = process.env.FUZZ_SEED;
  if (raw === undefined || raw === '') return Math.floor(Math.random() * 0x7fffffff);
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, not ${raw}`);
  return seed;
})();
const SCALE = Number(process.env.FUZZ_SCALE ?? 1) > 0 ? Number(process.env.FUZZ_SCALE ?? 1) : 1;
const PROPERTY_TIMEOUT = 180_000;
/**
 * FUZZ_SKIP_KNOWN_BUGS=1 discards generated requests that trigger a product bug already pinned
 * by an exact test below ("product bugs found by fuzzing"), so a run can explore past them. Off by default:
 * the properties fail for as long as those bugs exist.
 */
const SKIP_KNOWN_BUGS = process.env.FUZZ_SKIP_KNOWN_BUGS === '1';

function runs(numRuns: number): fc.Parameters<unknown> {
  // fast-check prints the seed and the shrink path of a failure; the same seed replays it.
  return { seed: SEED, numRuns: Math.max(1, Math.round(numRuns * SCALE)) };
}

// ---------------------------------------------------------------------------------------------
// Requests and the properties every response must have

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const;
type Method = (typeof METHODS)[number];

interface FuzzRequest {
  method: Method;
  /** Path and query, appended to the server's origin as they are (fetch normalizes dot segments). */
  target: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body?: Buffer;
}

interface Observed {
  status: number;
  headers: Headers;
  text: string;
}

const server = useLocalServer();
let as: oauth.AuthorizationServer;

async function send(req: FuzzRequest): Promise<Observed> {
  const headers = new Headers();
  for (const [name, value] of req.headers) headers.append(name, value);
  const hasBody = req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD';
  const res = await fetch(`${server.url}${req.target}`, {
    method: req.method,
    headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(20_000),
    ...(hasBody ? { body: req.body } : {}),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A description precise enough to replay the request by hand. */
function repro(req: FuzzRequest): string {
  const lines = [`${req.method} ${server.url}${req.target}`];
  for (const [name, value] of req.headers) lines.push(`  ${name}: ${JSON.stringify(value)}`);
  if (req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD') {
    const text = req.body.toString('utf8');
    const exact = Buffer.from(text, 'utf8').equals(req.body);
    const shown = exact ? JSON.stringify(text) : `base64:${req.body.toString('base64')}`;
    lines.push(
      `  body (${req.body.length} bytes${exact ? '' : ', not UTF-8'}): ${shown.length > 3000 ? `${shown.slice(0, 3000)}… (truncated)` : shown}`,
    );
  }
  return lines.join('\n');
}

const JSON_TYPE = /^\s*application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
/** A V8 stack frame: `at fn (/path…`, `at /path…`, `at file:///…`, `at node:internal…`. */
const STACK_FRAME = /\bat\s+(?:[^\s()]+\s+\()?(?:\/|file:\/\/|node:|[A-Za-z]:\\)/g;

/** Texts the server may legitimately echo: stored client metadata, from any earlier request. */
const echoable: string[] = [];

function sentText(req: FuzzRequest): string {
  let decodedTarget = req.target;
  try {
    decodedTarget = decodeURIComponent(req.target.replace(/\+/g, ' '));
  } catch {
    // Not decodable as a whole: the raw target is what can be echoed.
  }
  return [req.target, decodedTarget, ...req.headers.map(([, value]) => value), req.body?.toString('utf8') ?? ''].join(
    '\n',
  );
}

function stackTraceIn(text: string, req: FuzzRequest): string | undefined {
  const sent = sentText(req);
  const echoed = (fragment: string) => sent.includes(fragment) || echoable.some((item) => item.includes(fragment));
  if (text.includes('node_modules') && !echoed('node_modules')) return 'node_modules';
  for (const match of text.matchAll(STACK_FRAME)) if (!echoed(match[0])) return match[0];
  return undefined;
}

function pathOf(req: FuzzRequest): string {
  return new URL(`${server.url}${req.target}`).pathname;
}

function isJsonRpcError(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const { jsonrpc, error } = body as Json;
  return (
    jsonrpc === '2.0' &&
    typeof error === 'object' &&
    error !== null &&
    typeof (error as Json).code === 'number' &&
    typeof (error as Json).message === 'string'
  );
}

function serverAlive(): boolean {
  return server.process.child.exitCode === null && server.process.child.signalCode === null;
}

/** The properties every response has, whatever was sent. */
function universalProblems(req: FuzzRequest, obs: Observed): string[] {
  const problems: string[] = [];
  if (obs.status >= 500) problems.push(`answered ${obs.status}`);
  if (!serverAlive()) problems.push('the server process exited');
  const headerText = [...obs.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
  const trace = stackTraceIn(`${headerText}\n${obs.text}`, req);
  if (trace) problems.push(`the response contains a stack trace fragment ${JSON.stringify(trace)}`);
  const type = obs.headers.get('content-type') ?? '';
  if (req.method !== 'HEAD' && JSON_TYPE.test(type) && (obs.text !== '' || (obs.status >= 400 && obs.status < 500))) {
    let parsed: unknown;
    let parses = true;
    try {
      parsed = JSON.parse(obs.text);
    } catch {
      parses = false;
      problems.push(`content type ${type} but the body is not JSON`);
    }
    if (parses && obs.status >= 400 && obs.status < 500) {
      const error = typeof parsed === 'object' && parsed !== null ? (parsed as Json).error : undefined;
      const mcpError = pathOf(req) === '/mcp' && isJsonRpcError(parsed);
      if (typeof error !== 'string' && !mcpError) problems.push(`a ${obs.status} JSON body without a string error`);
    }
  }
  return problems;
}

type Extra = (obs: Observed) => string[] | Promise<string[]>;

/** Statuses answered during the current test, printed after it: what the generators reached. */
const statuses = new Map<number, number>();

/** Which already-pinned, still open product bug a request triggers, if any (see the pinned tests). */
function knownBug(req: FuzzRequest): string | undefined {
  const url = new URL(`${server.url}${req.target}`);
  const states = url.searchParams.getAll('state');
  if (url.pathname === '/callback' && states.some((state) => Buffer.byteLength(`pending#${state}`) > 2048)) {
    return 'a /callback state longer than a DynamoDB key';
  }
  return undefined;
}

async function exchange(req: FuzzRequest, extra?: Extra): Promise<Observed> {
  if (SKIP_KNOWN_BUGS) fc.pre(knownBug(req) === undefined);
  let obs: Observed;
  try {
    obs = await send(req);
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    throw new Error(
      `the request failed at the HTTP level (${(error as Error).message}${cause ? `: ${cause.message}` : ''}); server alive: ${serverAlive()}\n${repro(req)}`,
    );
  }
  statuses.set(obs.status, (statuses.get(obs.status) ?? 0) + 1);
  const problems = [...universalProblems(req, obs), ...((await extra?.(obs)) ?? [])];
  if (problems.length > 0) {
    throw new Error(
      `${problems.join('; ')}\n${repro(req)}\n→ ${obs.status} ${obs.headers.get('content-type') ?? ''} ${obs.text.slice(0, 600)}`,
    );
  }
  return obs;
}

/** node:http, for what fetch cannot send: repeated header lines, raw Latin-1 targets, odd target forms. */
function rawSend(method: string, target: string, headers: Record<string, string[]>, body?: Buffer): Promise<Observed> {
  return new Promise<Observed>((resolve, reject) => {
    const url = new URL(server.url);
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path: target, headers, timeout: 20_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const item of ([] as Array<string | undefined>).concat(value)) {
              if (item !== undefined) responseHeaders.append(name, item);
            }
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: responseHeaders,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

async function expectHealthy(): Promise<void> {
  expect(serverAlive(), server.process.output().slice(-2000)).toBe(true);
  const res = await fetch(`${server.url}/.well-known/oauth-authorization-server`, {
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect((JSON.parse(text) as Json).issuer).toBe(server.url);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries: text, encodings, query strings, headers, bodies

/** Characters fetch cannot put in a header (controls, above U+00FF) percent-encoded. */
function headerSafe(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]|[^\u0000-\u00ff]/gu, (char) => encodeAll(char));
}

/** Percent-encodes every byte of the UTF-8 form (a lone surrogate becomes U+FFFD, never a throw). */
function encodeAll(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16)}`,
    )
    .join('');
}

const PERCENT_EDGES = [
  '%00',
  '%ff',
  '%FF',
  '%',
  '%%',
  '%g0',
  '%2',
  '%ED%A0%80', // a lone high surrogate, UTF-8 encoded (CESU)
  '%ED%B0%80', // a lone low surrogate
  '%ED%A0%80%ED%B0%80',
  '%C0%AF', // overlong '/'
  '%C0%80', // overlong NUL
  '%F4%90%80%80', // beyond U+10FFFF
  '%EF%BB%BF', // BOM
  '%EF%BF%BF',
  '%0D%0A',
  '%0a',
  '%2F',
  '%5C',
  '%25',
  '%25ff',
  '+',
  '%2B',
  '%20',
  '%u0041',
  '%E2%80%AE', // right-to-left override
  '%7F',
  '%80',
  '%C3%28',
];
const RAW_EDGES = ['é', 'ÿ', '\ud800', '\udc00', '😀', ' ', '"', "'", '<script>', '\\', '&', '=', '?', '..', '/', '#x'];
const PROTO_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupGetter__',
];

/** A query value as it appears on the wire: well encoded, raw, or with percent-encoding edge cases. */
const wireValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }).map(encodeAll) },
  {
    weight: 4,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.constantFrom(...PERCENT_EDGES),
          fc.constantFrom(...RAW_EDGES),
          fc.string({ unit: 'binary', maxLength: 6 }).map(encodeAll),
          fc.string({ maxLength: 6 }),
        ),
        { maxLength: 6 },
      )
      .map((parts) => parts.join('')),
  },
  { weight: 1, arbitrary: fc.constantFrom(...PROTO_NAMES) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('a', '%ff', '%00', 'é', '%ED%A0%80', 'A-._~'), fc.integer({ min: 200, max: 2000 }))
      .map(([unit, count]) => unit.repeat(count)),
  },
);

const COMMON_PARAMS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'code_challenge',
  'code_challenge_method',
  'state',
  'scope',
  'resource',
  'code',
  'error',
  'iss',
  'grant_type',
  'code_verifier',
  'refresh_token',
  'token',
  'token_type_hint',
  'client_secret',
  'request',
  'csrf',
  'decision',
];

function queryString(names: readonly string[] = COMMON_PARAMS): fc.Arbitrary<string> {
  const name = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...names) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTO_NAMES) },
    { weight: 1, arbitrary: wireValue },
  );
  return fc
    .tuple(
      fc.array(fc.tuple(name, fc.option(wireValue, { freq: 6 })), { maxLength: 8 }),
      fc.constantFrom('', '', '', '&', '&&', '?'),
    )
    .map(([pairs, lead]) =>
      pairs.length === 0 && lead === ''
        ? ''
        : `?${lead}${pairs.map(([key, value]) => (value === null ? key : `${key}=${value}`)).join('&')}`,
    );
}

/** Header text fetch accepts: no controls, nothing above U+00FF (sent as Latin-1 bytes). */
const headerChar = fc
  .oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
    { weight: 1, arbitrary: fc.constant(0x09) },
  )
  .map((code) => String.fromCharCode(code));
const headerText = (maxLength: number) => fc.string({ unit: headerChar, maxLength });
/** Latin-1 text that is not ASCII, as fetch sends it: é, ÿ, NBSP, ... */
const latin1Text = fc.string({ unit: fc.integer({ min: 0xa0, max: 0xff }).map((c) => String.fromCharCode(c)) });

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'application/json; charset="utf-8"',
  'application/json; charset=utf-16',
  'application/json; charset=iso-8859-1',
  'application/json; charset=bogus',
  'APPLICATION/JSON',
  'Application/Json; Charset=UTF-8',
  'application/json;',
  'application/json ;charset=utf-8',
  'application/jsonp',
  'application/json-patch+json',
  'application/vnd.api+json',
  'application/json, text/plain',
  'application/json; charset=utf-8; charset=latin1',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=UTF-8',
  'application/x-www-form-urlencoded;charset=ISO-8859-1',
  'APPLICATION/X-WWW-FORM-URLENCODED',
  'application/x-www-form-urlencoded, application/json',
  'multipart/form-data; boundary=xyz',
  'text/plain',
  'text/plain; charset=utf-8',
  'text/html',
  'application/octet-stream',
  '*/*',
  'application/*',
  'json',
  ';',
  '',
];
const contentType = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: headerText(60) },
  { weight: 1, arbitrary: latin1Text.map((text) => `application/json; charset=${text}`) },
);

const SCHEMES = ['Bearer', 'bearer', 'BEARER', 'Basic', 'basic', 'Digest', 'DPoP', 'Negotiate', 'Token', 'Bearer,', ''];
const SEPARATORS = [' ', '  ', '\t', '', ' \t '];

/** Tokens known at run time (registration tokens, access and refresh tokens), for Authorization values. */
const knownTokens: string[] = [];

function mutateToken(token: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(token),
    fc.constant(token.toUpperCase()),
    fc.constant(`${token}=`),
    fc.constant(`${token}.`),
    fc.constant(token.slice(1)),
    fc.constant(`${token} ${token}`),
    fc.nat({ max: Math.max(0, token.length - 1) }).map((i) => `${token.slice(0, i)}é${token.slice(i + 1)}`),
  );
}

function credential(): fc.Arbitrary<string> {
  const basicPair = fc
    .tuple(
      fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom(...PERCENT_EDGES)),
      fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom(...PERCENT_EDGES)),
      fc.constantFrom(':', '', '::'),
    )
    .map(([id, secret, colon]) => Buffer.from(`${id}${colon}${secret}`, 'utf8').toString('base64'));
  const parts: Array<fc.Arbitrary<string>> = [
    headerText(80),
    latin1Text,
    fc.base64String({ maxLength: 120 }),
    basicPair,
    fc
      .tuple(fc.base64String({ maxLength: 40 }), fc.base64String({ maxLength: 80 }), fc.base64String({ maxLength: 40 }))
      .map(([a, b, c]) => `eyJ${a}.${b}.${c}`.replace(/=/g, '')),
  ];
  if (knownTokens.length > 0) parts.push(fc.constantFrom(...knownTokens).chain(mutateToken));
  return fc.oneof(...parts);
}

/** Built on use: the known tokens are only there once the fixtures exist. */
const authorization = (): fc.Arbitrary<string> =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .tuple(fc.constantFrom(...SCHEMES), fc.constantFrom(...SEPARATORS), fc.constant(null))
        .chain(([scheme, separator]) => credential().map((value) => `${scheme}${separator}${value}`)),
    },
    { weight: 1, arbitrary: headerText(200) },
    { weight: 1, arbitrary: latin1Text },
  );

const cookieValue = fc.oneof(
  fc.base64String({ maxLength: 60 }),
  fc.tuple(fc.base64String({ maxLength: 40 }), fc.base64String({ maxLength: 44 })).map(([a, b]) => `${a}.${b}`),
  headerText(60).map((text) => text.replace(/;/g, '')),
  fc.constantFrom('%', '%ff', '"', '""', '=', 'e30.AAAA', 'W10.x'),
);
const cookieHeader = fc
  .array(fc.tuple(fc.constantFrom('mcpgw_tx', 'mcpgw_consent', '__Host-mcpgw_tx', 'other', 'mcpgw_tx '), cookieValue), {
    minLength: 1,
    maxLength: 4,
  })
  .map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('; '));

const FORBIDDEN_HEADER_NAMES = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
]);

function headersArb(
  options: { contentTypes?: fc.Arbitrary<string> } = {},
): fc.Arbitrary<Array<readonly [string, string]>> {
  const record = fc.record(
    {
      'content-type': options.contentTypes ?? contentType,
      authorization: authorization(),
      cookie: cookieHeader,
      accept: fc.oneof(
        fc.constantFrom(
          'application/json, text/event-stream',
          'application/json',
          'text/event-stream',
          '*/*',
          'text/html',
        ),
        headerText(40),
      ),
      origin: fc.oneof(fc.constantFrom('null', 'https://evil.example', 'http://127.0.0.1'), headerText(40)),
      'content-encoding': fc.oneof(
        fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'gzip, gzip', 'zstd'),
        headerText(20),
      ),
      'mcp-protocol-version': fc.oneof(
        fc.constantFrom('2025-06-18', '2025-03-26', '2024-11-05', '2099-01-01'),
        headerText(20),
      ),
      'mcp-session-id': headerText(40),
      'user-agent': fc.oneof(latin1Text, headerText(80)),
      'x-forwarded-for': fc.constantFrom('1.2.3.4', '::1', 'unknown, 10.0.0.1', '999.999.999.999'),
      'accept-charset': fc.constantFrom('utf-8', 'iso-8859-1', 'utf-16, *;q=0.1'),
    },
    { requiredKeys: [] },
  );
  const extra = fc.array(
    fc.tuple(
      fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((name) => !FORBIDDEN_HEADER_NAMES.has(name)),
      headerText(100),
    ),
    { maxLength: 3 },
  );
  return fc
    .tuple(record, extra)
    .map(([fields, more]) => [
      ...Object.entries(fields).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      ...more,
    ]);
}

/** Text in several byte encodings: UTF-8, UTF-8 with a BOM, UTF-16 LE and BE, Latin-1. */
const ENCODINGS = ['utf8', 'utf8', 'utf8', 'utf8-bom', 'utf16le', 'utf16be', 'latin1'] as const;
type Encoding = (typeof ENCODINGS)[number];

function encode(text: string, encoding: Encoding): Buffer {
  switch (encoding) {
    case 'utf8':
      return Buffer.from(text, 'utf8');
    case 'utf8-bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'utf16le':
      return Buffer.from(text, 'utf16le');
    case 'utf16be':
      return Buffer.from(text, 'utf16le').swap16();
    case 'latin1':
      return Buffer.from(text, 'latin1');
  }
}

const encodedText = (text: fc.Arbitrary<string>) =>
  fc.tuple(text, fc.constantFrom(...ENCODINGS)).map(([value, encoding]) => encode(value, encoding));

/** Huge bodies: around the 64 KiB limit (in bytes, with multi-byte characters) and up to ~100 KB. */
const hugeBody: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.oneof(fc.constantFrom(65_535, 65_536, 65_537, 98_304, 102_400), fc.integer({ min: 60_000, max: 102_400 })),
    fc.constantFrom('x', 'é', '\u0000', '{', '😀', '%ff&'),
  )
  .map(([bytes, unit]) => {
    const unitBytes = Buffer.byteLength(unit);
    return Buffer.from(unit.repeat(Math.ceil(bytes / unitBytes)), 'utf8').subarray(0, bytes);
  });

/** A JSON object of exactly `bytes` bytes, padded with an unknown field. */
function paddedJson(body: Json, bytes: number, pad = 'é'): Buffer {
  const base = Buffer.byteLength(JSON.stringify({ ...body, x_pad: '' }));
  const room = Math.max(0, bytes - base);
  const units = Math.floor(room / Buffer.byteLength(pad));
  const text = pad.repeat(units) + 'a'.repeat(room - units * Buffer.byteLength(pad));
  return Buffer.from(JSON.stringify({ ...body, x_pad: text }));
}

function formBody(names: readonly string[] = COMMON_PARAMS): fc.Arbitrary<Buffer> {
  return fc
    .tuple(queryString(names), fc.constantFrom(...ENCODINGS))
    .map(([query, encoding]) => encode(query.replace(/^\?/, ''), encoding));
}

const anyBody: fc.Arbitrary<Buffer | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 3, arbitrary: encodedText(fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value))) },
  { weight: 2, arbitrary: formBody() },
  { weight: 1, arbitrary: encodedText(fc.string({ unit: 'binary', maxLength: 200 })) },
  { weight: 1, arbitrary: hugeBody },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '{}', '[]', 'null', '0', '"x"', '{"a":', '\u0000').map((s) => Buffer.from(s)),
  },
);

// ---------------------------------------------------------------------------------------------
// Registration bodies: valid ones, near-valid ones with mutated fields, and anything at all

const VALID_REDIRECTS = [
  'https://client.example/callback',
  'https://client.example/cb?x=1&y=%20',
  'http://127.0.0.1/cb',
  'http://localhost:6274/oauth/callback',
  'http://[::1]:33418/',
  'cursor://anysphere.cursor-retrieval/oauth/user-cursor/callback',
  'com.example.app:/oauth2redirect',
  'vscode://vscode.github-authentication/did-authenticate',
];
const SUSPECT_REDIRECTS = [
  'http://client.example/cb',
  'https://client.example/cb#frag',
  'javascript:alert(1)',
  'data:text/html,hi',
  'file:///etc/passwd',
  'https://*.example/cb',
  'https://user@client.example/cb',
  'https://client.example:99999/cb',
  'https://',
  'https:///cb',
  '//client.example/cb',
  '/cb',
  '',
  '  ',
  'https://client.example/%zz',
  'https://client.example/cb\n',
  'https://bücher.example/cb',
  'https://client.example/\u0000',
  'https://client.example/\ud800',
  'HTTPS://CLIENT.EXAMPLE/CB',
  'http://127.0.0.1:0/cb',
  'http://127.0.0.1.evil.example/cb',
  `https://client.example/${'a'.repeat(1977)}`,
  `https://client.example/${'a'.repeat(1978)}`,
  'x:',
  'com.example.app:',
];

const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, '', 0, -1, true, [], {}, [''], ['code'], 'none', '\u0000', '\ud800', 'a'.repeat(201)),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

const redirectUris: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.array(fc.constantFrom(...VALID_REDIRECTS), { minLength: 1, maxLength: 4 }) },
  {
    weight: 3,
    arbitrary: fc.array(
      fc.oneof(
        fc.constantFrom(...VALID_REDIRECTS, ...SUSPECT_REDIRECTS),
        fc.webUrl({ withQueryParameters: true }),
        weird,
      ),
      { maxLength: 22 },
    ),
  },
  { weight: 1, arbitrary: weird },
);

const httpsUri = fc.oneof(
  fc.webUrl(),
  fc.constantFrom('https://client.example/', 'http://client.example/', 'x'),
  weird,
);

const validRegistration: fc.Arbitrary<Json> = fc.record(
  {
    redirect_uris: fc.array(fc.constantFrom(...VALID_REDIRECTS), { minLength: 1, maxLength: 5 }),
    token_endpoint_auth_method: fc.constantFrom('none', 'client_secret_basic', 'client_secret_post'),
    grant_types: fc.constantFrom(
      ['authorization_code'],
      ['authorization_code', 'refresh_token'],
      ['refresh_token', 'authorization_code', 'client_credentials'],
    ),
    response_types: fc.constant(['code']),
    client_name: fc.string({ unit: 'binary', maxLength: 200 }),
    client_uri: fc.constant('https://client.example/'),
    contacts: fc.array(fc.emailAddress(), { maxLength: 3 }),
    scope: fc.constantFrom('', 'mcp', 'openid profile'),
    software_id: fc.uuid(),
    software_version: fc.constantFrom('1.0.0', ''),
    application_type: fc.constantFrom('web', 'native'),
  },
  { requiredKeys: ['redirect_uris'] },
);

const mutatedRegistration: fc.Arbitrary<Json> = fc
  .tuple(
    validRegistration,
    fc.record(
      {
        redirect_uris: redirectUris,
        token_endpoint_auth_method: fc.oneof(
          fc.constantFrom('private_key_jwt', 'NONE', 'client_secret_jwt', 'tls_client_auth'),
          weird,
        ),
        grant_types: fc.oneof(
          fc.subarray(['authorization_code', 'refresh_token', 'client_credentials', 'implicit', 'password']),
          weird,
        ),
        response_types: fc.oneof(fc.constantFrom(['token'], ['code', 'token'], [], ['CODE']), weird),
        client_name: fc.oneof(fc.string({ unit: 'binary', maxLength: 230 }), weird),
        client_uri: httpsUri,
        logo_uri: httpsUri,
        tos_uri: httpsUri,
        policy_uri: httpsUri,
        contacts: fc.oneof(fc.array(fc.emailAddress(), { maxLength: 12 }), weird),
        scope: fc.oneof(fc.string({ maxLength: 1100 }), weird),
        software_statement: fc.string(),
        jwks_uri: httpsUri,
        client_id: fc.oneof(fc.string(), weird),
        client_secret: weird,
        registration_access_token: weird,
        application_type: fc.oneof(fc.constantFrom('WEB', 'browser'), weird),
      },
      { requiredKeys: [] },
    ),
    fc.array(fc.constantFrom('redirect_uris', 'token_endpoint_auth_method', 'grant_types', 'client_name'), {
      maxLength: 2,
    }),
  )
  .map(([base, overrides, removed]) => {
    const body: Json = { ...base, ...overrides };
    for (const key of removed) delete body[key];
    return body;
  });

/** Keys that are prototype names, set as own properties (JSON.parse makes them own properties). */
const protoKeyed: fc.Arbitrary<string> = fc
  .tuple(validRegistration, fc.constantFrom(...PROTO_NAMES), weird)
  .map(([body, key, value]) => {
    const text = JSON.stringify(body);
    return `{${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'},${text.slice(1)}`;
  });

const registrationPayload: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: validRegistration.map((body) => Buffer.from(JSON.stringify(body))) },
  { weight: 6, arbitrary: mutatedRegistration.map((body) => Buffer.from(JSON.stringify(body))) },
  { weight: 1, arbitrary: protoKeyed.map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: encodedText(validRegistration.map((body) => JSON.stringify(body))) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        validRegistration,
        fc.constantFrom(65_535, 65_536, 65_537, 80_000, 100_000),
        fc.constantFrom('é', 'a', '😀'),
      )
      .map(([body, bytes, pad]) => paddedJson(body, bytes, pad)),
  },
  { weight: 1, arbitrary: fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
);

const JSON_CONTENT_TYPES = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON'),
  },
  { weight: 2, arbitrary: contentType },
);

// ---------------------------------------------------------------------------------------------
// What the run keeps: registered clients and what they must still be

interface Tracked {
  clientId: string;
  uri: string;
  token: string;
  redirectUris: unknown;
  /** What a read must return: the registration (or last replacement) answer without its secrets. */
  expected: Json;
  /** Registered by a fuzz property (fixtures are never replaced, so later properties can use them). */
  disposable: boolean;
}

const tracked = new Map<string, Tracked>();

function withoutSecrets(body: Json): Json {
  const { client_secret: _secret, registration_access_token: _token, ...rest } = body;
  return rest;
}

function track(response: Json, sentRedirectUris: unknown, disposable: boolean): void {
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

interface Fixture extends RegisteredTestClient {
  redirectUris: string[];
  secret?: string;
}

/** Token lineage, shared by the /token properties: codes and refresh tokens answered with tokens once. */
const spentGrants = new Set<string>();
/** The grant (authorization) each code and refresh token belongs to, and grants whose family a replay ended. */
const familyOf = new Map<string, number>();
const revokedFamilies = new Set<number>();
let familyCount = 0;

/** Real authorization codes of the public fixture (valid for 60 s), each its own family. */
async function mintCodes(count: number): Promise<Array<{ code: string; verifier: string }>> {
  const jar = new CookieJar();
  const codes: Array<{ code: string; verifier: string }> = [];
  for (let i = 0; i < count; i++) {
    const attempt = await authorizationUrl(as, fixtures.public);
    const landing = await runBrowser(attempt.url, fixtures.public.redirectUri, jar);
    const code = landing.kind === 'stopped' ? landing.url.searchParams.get('code') : null;
    if (!code) throw new Error(`no authorization code: ${landing.url}`);
    codes.push({ code, verifier: attempt.codeVerifier });
    familyOf.set(code, ++familyCount);
  }
  return codes;
}

const fixtures: Record<'public' | 'basic' | 'post' | 'loopback' | 'native' | 'multi', Fixture> = {} as never;
let accessToken = '';
let refreshToken = '';

async function registerFixture(
  method: 'none' | 'client_secret_basic' | 'client_secret_post',
  redirectUris: string[],
): Promise<Fixture> {
  const registered = await registerTestClient(as, method, redirectUris[0], {
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

beforeAll(async () => {
  console.info(`http-fuzz: FUZZ_SEED=${SEED}${SCALE !== 1 ? ` FUZZ_SCALE=${SCALE}` : ''}`);
  as = await discover(server.url);
  fixtures.public = await registerFixture('none', ['https://client.example/callback']);
  fixtures.basic = await registerFixture('client_secret_basic', ['https://client.example/basic']);
  fixtures.post = await registerFixture('client_secret_post', ['https://client.example/post']);
  fixtures.loopback = await registerFixture('none', ['http://127.0.0.1/callback']);
  fixtures.native = await registerFixture('none', ['com.example.app:/oauth/callback']);
  fixtures.multi = await registerFixture('none', ['https://client.example/one', 'https://client.example/two']);
  const tokens = await obtainTokens(as, fixtures.public);
  accessToken = tokens.access_token;
  refreshToken = tokens.refresh_token as string;
  knownTokens.push(accessToken, refreshToken);
  familyOf.set(refreshToken, ++familyCount);
}, 90_000);

function fixtureList(): Fixture[] {
  return Object.values(fixtures);
}

// ---------------------------------------------------------------------------------------------
// The properties

const CLIENT_ID_ROUTE = /\{client_id\}/;
/** Every path of the route table, with `{client_id}` to be filled in. */
const ROUTE_PATHS = [...new Set(ROUTES.map((route) => route.path))];

const UNKNOWN_PATHS = [
  '/',
  '/register/',
  '/REGISTER',
  '/Token',
  '/token/',
  '//token',
  '/register/a/b',
  '/mcp/',
  '/mcp/x',
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-authorization-server/mcp',
  '/.well-known/openid-configuration/x',
  '/jwks.json',
  '/authorize/',
  '/%2e%2e/register',
  '/register%2F',
  '/%00',
  '/%ff',
  '/favicon.ico',
  '/local/register',
];

function clientIdSegment(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...[...tracked.keys()].map(encodeURIComponent)) },
    { weight: 3, arbitrary: wireValue.filter((value) => !value.includes('/') && !value.includes('?')) },
    { weight: 1, arbitrary: fc.constantFrom(...PERCENT_EDGES).filter((value) => value !== '%2F') },
    { weight: 1, arbitrary: fc.constantFrom(...PROTO_NAMES) },
  );
}

function targetFor(path: string, id: string, query: string): string {
  return `${path.replace(CLIENT_ID_ROUTE, id)}${query}`;
}

describe('HTTP fuzzing of every route (one local server)', () => {
  beforeEach(() => statuses.clear());
  afterEach((context) => {
    if (statuses.size === 0) return;
    const total = [...statuses.values()].reduce((sum, count) => sum + count, 0);
    const shown = [...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`);
    console.info(`${context.task.name}\n  ${total} checked responses: ${shown.join(' ')}`);
  });

  it('covers every path of the route table', () => {
    expect(ROUTE_PATHS).toEqual(
      expect.arrayContaining([
        '/.well-known/oauth-authorization-server',
        '/.well-known/openid-configuration',
        '/register',
        '/register/{client_id}',
        '/authorize',
        '/consent',
        '/callback',
        '/token',
        '/revoke',
        '/jwks',
        '/mcp',
        '/.well-known/oauth-protected-resource/mcp',
      ]),
    );
    expect(ROUTE_PATHS).toHaveLength(12);
  });

  it(
    'any method, path, query, headers and body: no 5xx, JSON errors, no stack traces',
    async () => {
      const request = fc
        .record({
          method: fc.constantFrom(...METHODS),
          path: fc.oneof(
            { weight: 6, arbitrary: fc.constantFrom(...ROUTE_PATHS) },
            { weight: 1, arbitrary: fc.constantFrom(...UNKNOWN_PATHS) },
            { weight: 1, arbitrary: fc.webPath() },
          ),
          id: clientIdSegment(),
          query: queryString(),
          headers: headersArb(),
          body: anyBody,
        })
        .map(
          (value): FuzzRequest => ({
            method: value.method,
            target: targetFor(value.path, value.id, value.query),
            headers: value.headers,
            ...(value.body !== undefined ? { body: value.body } : {}),
          }),
        );
      await fc.assert(
        fc.asyncProperty(request, async (req) => {
          await exchange(req);
        }),
        runs(300),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'POST /register: near-valid, mutated, huge and garbage bodies; a 201 stores exactly what was sent',
    async () => {
      let created = 0;
      const request = fc.record({
        body: registrationPayload,
        contentType: JSON_CONTENT_TYPES,
        headers: fc.option(headersArb({ contentTypes: JSON_CONTENT_TYPES }), { freq: 4 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async ({ body, contentType: type, headers }) => {
          const req: FuzzRequest = {
            method: 'POST',
            target: '/register',
            headers: headers ?? [['content-type', type]],
            body,
          };
          await exchange(req, (obs) => {
            if (obs.status !== 201) return [];
            const problems: string[] = [];
            const response = JSON.parse(obs.text) as Json;
            let sent: Json | undefined;
            try {
              sent = JSON.parse(body.toString('utf8')) as Json;
            } catch {
              return ['201 for a body that is not UTF-8 JSON'];
            }
            if (body.length > 64 * 1024) problems.push(`201 for a ${body.length}-byte body`);
            if (typeof response.client_id !== 'string') problems.push('201 without client_id');
            if (typeof response.registration_access_token !== 'string') problems.push('201 without a token');
            if (response.registration_client_uri !== `${server.url}/register/${response.client_id}`) {
              problems.push(`registration_client_uri is ${response.registration_client_uri}`);
            }
            if (JSON.stringify(response.redirect_uris) !== JSON.stringify(sent.redirect_uris)) {
              problems.push(
                `redirect_uris answered ${JSON.stringify(response.redirect_uris)}, sent ${JSON.stringify(sent.redirect_uris)}`,
              );
            }
            if (problems.length === 0) {
              created++;
              track(response, sent.redirect_uris, true);
            }
            return problems;
          });
        }),
        runs(250),
      );
      // The generators must reach the success path, or the state invariants below test nothing.
      expect(created).toBeGreaterThan(10);
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'GET, PUT, DELETE /register/{client_id}: wrong tokens change nothing; a good PUT stores what was sent',
    async () => {
      const clients = [...tracked.values()];
      const disposable = clients.filter((client) => client.disposable);
      expect(disposable.length).toBeGreaterThan(0);
      const request = fc.record({
        client: fc.constantFrom(...clients),
        other: fc.constantFrom(...clients),
        method: fc.constantFrom(...METHODS),
        token: fc.constantFrom('own', 'own', 'other', 'mutated', 'random', 'none'),
        mutated: fc.constantFrom('upper', 'suffix', 'prefix', 'truncate', 'basic', 'lowercase-scheme', 'spaces'),
        random: authorization(),
        body: fc.oneof(
          { weight: 3, arbitrary: mutatedRegistration },
          { weight: 3, arbitrary: validRegistration },
          { weight: 1, arbitrary: fc.jsonValue() },
        ),
        bodyShape: fc.constantFrom('own-id', 'own-id', 'no-id', 'other-id', 'raw'),
        raw: anyBody,
        contentType: JSON_CONTENT_TYPES,
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const { client } = value;
          // Only clients this run registered may be replaced; a right token never deletes.
          const ownTokenAllowed =
            value.method === 'GET' || (value.method === 'PUT' && client.disposable) || value.method === 'HEAD';
          const tokenKind = value.token === 'own' && !ownTokenAllowed ? 'mutated' : value.token;
          let auth: string | undefined;
          switch (tokenKind) {
            case 'own':
              auth = `Bearer ${client.token}`;
              break;
            case 'other':
              auth = `Bearer ${value.other.clientId === client.clientId ? `${client.token}x` : value.other.token}`;
              break;
            case 'mutated':
              auth = {
                upper: `Bearer ${client.token.toUpperCase()}`,
                suffix: `Bearer ${client.token}A`,
                prefix: `Bearer A${client.token}`,
                truncate: `Bearer ${client.token.slice(0, -1)}`,
                basic: `Basic ${client.token}`,
                'lowercase-scheme': `bearer ${client.token.slice(1)}`,
                spaces: `Bearer  ${client.token} x`,
              }[value.mutated];
              break;
            case 'random':
              auth = value.random;
              break;
            default:
              auth = undefined;
          }
          const isObject = typeof value.body === 'object' && value.body !== null && !Array.isArray(value.body);
          const sent: Json = isObject ? { ...(value.body as Json) } : {};
          if (value.bodyShape === 'own-id') sent.client_id = client.clientId;
          if (value.bodyShape === 'other-id') sent.client_id = value.other.clientId;
          const body =
            value.bodyShape === 'raw' ? value.raw : Buffer.from(JSON.stringify(isObject ? sent : value.body) ?? 'null');
          const headers: Array<readonly [string, string]> = [['content-type', value.contentType]];
          if (auth !== undefined) headers.push(['authorization', auth]);
          const req: FuzzRequest = {
            method: value.method,
            target: new URL(client.uri).pathname,
            headers,
            ...(body !== undefined ? { body } : {}),
          };
          await exchange(req, (obs) => {
            const problems: string[] = [];
            const rightToken = tokenKind === 'own';
            if (!rightToken && obs.status >= 200 && obs.status < 300 && value.method !== 'OPTIONS') {
              problems.push(`${value.method} succeeded (${obs.status}) without the client's registration token`);
            }
            if (value.method === 'PUT' && obs.status === 200) {
              const response = JSON.parse(obs.text) as Json;
              let sent: Json = {};
              try {
                sent = JSON.parse(body?.toString('utf8') ?? '') as Json;
              } catch {
                problems.push('PUT succeeded with a body that is not UTF-8 JSON');
              }
              if (JSON.stringify(response.redirect_uris) !== JSON.stringify(sent.redirect_uris)) {
                problems.push(
                  `PUT answered redirect_uris ${JSON.stringify(response.redirect_uris)}, sent ${JSON.stringify(sent.redirect_uris)}`,
                );
              }
              if (rightToken && problems.length === 0) {
                client.redirectUris = sent.redirect_uris;
                client.expected = withoutSecrets(response);
                echoable.push(obs.text);
              }
            }
            if (value.method === 'GET' && obs.status === 200 && rightToken) {
              const response = JSON.parse(obs.text) as Json;
              if (JSON.stringify(response.redirect_uris) !== JSON.stringify(client.redirectUris)) {
                problems.push(`GET shows redirect_uris ${JSON.stringify(response.redirect_uris)}`);
              }
            }
            if (value.method === 'DELETE' && obs.status === 204) problems.push('a client was deleted');
            return problems;
          });
        }),
        runs(250),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'GET /authorize: arbitrary and near-valid queries; it redirects only to a registered redirect URI',
    async () => {
      const byId = new Map(fixtureList().map((fixture) => [fixture.client.client_id, fixture]));
      const ids = [...byId.keys()];
      const allRedirects = fixtureList().flatMap((fixture) => fixture.redirectUris);
      const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
      const PARAMS = [
        'client_id',
        'redirect_uri',
        'response_type',
        'code_challenge',
        'code_challenge_method',
        'state',
        'scope',
        'resource',
      ] as const;
      type Param = (typeof PARAMS)[number];
      // Replacement values for the parameters a near-valid request mutates.
      const replacements: fc.Arbitrary<Record<Param, string>> = fc.record({
        client_id: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...ids) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              'https://127.0.0.1/client.json',
              'https://10.0.0.1/client.json',
              'https://[::1]/c',
              'http://127.0.0.1:1/client.json',
            ),
          },
          { weight: 1, arbitrary: fc.string() },
        ),
        redirect_uri: fc.constantFrom(
          ...allRedirects,
          'http://127.0.0.1:8080/callback',
          'http://127.0.0.1:65535/callback',
          'http://127.0.0.1:65536/callback',
          'http://127.0.0.1:/callback',
          'http://127.0.0.1:0/callback',
          'http://localhost/callback',
          'http://127.0.0.1/callback/',
          'http://127.0.0.1/callback#x',
          'http://[::1]/callback',
          'https://client.example/callback?x',
          'https://CLIENT.example/callback',
          'https://client.example/callback/../callback',
          'https://client.example/callback%20',
          'https://evil.example/callback',
          'com.example.app:/oauth/callback/',
        ),
        response_type: fc.constantFrom('token', 'code id_token', 'CODE', '', 'code '),
        code_challenge: fc.constantFrom(
          challenge.slice(1),
          `${challenge}${'A'.repeat(86)}`,
          `${challenge}=`,
          '',
          `${challenge}%`,
        ),
        code_challenge_method: fc.constantFrom('plain', 's256', '', 'S512'),
        state: fc.oneof(fc.string({ unit: 'binary' }), fc.constant('x'.repeat(6000)), wireValue),
        scope: fc.constantFrom('', 'mcp', 'openid', 'a b c', 'offline_access', ' '),
        resource: fc.constantFrom('', 'https://evil.example/mcp', 'mcp', `${server.url}/mcp/`, `${server.url}/MCP`),
      });
      const nearValid = fc
        .record({
          fixture: fc.constantFrom(...fixtureList()),
          redirectIndex: fc.nat({ max: 5 }),
          withRedirect: fc.boolean(),
          state: fc.option(fc.string({ unit: 'binary', maxLength: 40 }), { freq: 5 }),
          scope: fc.option(fc.constantFrom('mcp', ''), { freq: 2 }),
          withResource: fc.boolean(),
          mutated: fc.uniqueArray(fc.constantFrom(...PARAMS), { maxLength: 3 }),
          how: fc.constantFrom('encoded', 'encoded', 'encoded', 'raw', 'wire', 'drop', 'twice'),
          values: replacements,
          wire: wireValue,
          extra: fc.option(queryString(), { freq: 4 }),
        })
        .map((v) => {
          const base: Record<Param, string | undefined> = {
            client_id: v.fixture.client.client_id,
            redirect_uri:
              v.withRedirect || v.fixture.redirectUris.length > 1
                ? v.fixture.redirectUris[v.redirectIndex % v.fixture.redirectUris.length]
                : undefined,
            response_type: 'code',
            code_challenge: challenge,
            code_challenge_method: 'S256',
            state: v.state ?? undefined,
            scope: v.scope ?? undefined,
            resource: v.withResource ? `${server.url}/mcp` : undefined,
          };
          const rendered: string[] = [];
          for (const name of PARAMS) {
            if (!v.mutated.includes(name)) {
              if (base[name] !== undefined) rendered.push(`${name}=${encodeAll(base[name])}`);
              continue;
            }
            if (v.how === 'drop') continue;
            if (v.how === 'twice') {
              const same = encodeAll(base[name] ?? v.values[name]);
              rendered.push(`${name}=${same}`, `${name}=${same}`);
            } else if (v.how === 'wire') rendered.push(`${name}=${v.wire}`);
            else rendered.push(`${name}=${v.how === 'raw' ? v.values[name] : encodeAll(v.values[name])}`);
          }
          if (v.extra) rendered.push(v.extra.slice(1));
          return { query: `?${rendered.join('&')}`, valid: v.mutated.length === 0 && v.extra === null };
        });
      const request = fc.record({
        query: fc.oneof(
          { weight: 3, arbitrary: nearValid },
          { weight: 1, arbitrary: queryString().map((query) => ({ query, valid: false })) },
        ),
        headers: fc.option(headersArb(), { freq: 3 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async ({ query: { query, valid }, headers }) => {
          const req: FuzzRequest = { method: 'GET', target: `/authorize${query}`, headers: headers ?? [] };
          await exchange(req, (obs) => {
            // Liveness: an untouched request (and no odd headers) gets the consent page.
            if (valid && headers === null && obs.status !== 200) return [`a valid request answered ${obs.status}`];
            if (obs.status < 300 || obs.status >= 400) return [];
            const location = obs.headers.get('location') ?? '';
            const params = new URL(`${server.url}${req.target}`).searchParams;
            const clientIds = params.getAll('client_id');
            const fixture = clientIds.length === 1 ? byId.get(clientIds[0]) : undefined;
            if (!fixture)
              return [`redirected (${obs.status} to ${location}) for client_id ${JSON.stringify(clientIds)}`];
            const requested = params.getAll('redirect_uri');
            if (requested.length > 1) return [`redirected although redirect_uri was repeated`];
            const target = requested[0] ?? (fixture.redirectUris.length === 1 ? fixture.redirectUris[0] : undefined);
            const loopbackVariant =
              target !== undefined &&
              fixture.redirectUris.some((uri) => {
                const registered = /^http:\/\/127\.0\.0\.1(\/.*)$/.exec(uri);
                const asked = /^http:\/\/127\.0\.0\.1:(\d{1,5})(\/.*)$/.exec(target);
                return registered && asked && registered[1] === asked[2] && Number(asked[1]) <= 65535;
              });
            if (target === undefined || !(fixture.redirectUris.includes(target) || loopbackVariant)) {
              return [`redirected to ${location}, not to a registered redirect URI of ${fixture.client.client_id}`];
            }
            if (!location.startsWith(`${target}?`) && !location.startsWith(`${target}&`)) {
              return [`redirected to ${location}, expected ${target}?...`];
            }
            if (!new URL(location).searchParams.has('iss')) return [`the redirect to ${location} has no iss`];
            return [];
          });
        }),
        runs(250),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'POST /consent: mutated forms, cookies, origins and encodings; no consent without form token, cookie and origin',
    async () => {
      let consented = 0;
      const request = fc.record({
        genuine: fc.boolean(),
        request: fc.constantFrom('keep', 'keep', 'keep', 'drop', 'random', 'edge'),
        csrf: fc.constantFrom('keep', 'keep', 'keep', 'drop', 'random', 'flip'),
        cookie: fc.constantFrom('keep', 'keep', 'keep', 'drop', 'random', 'second'),
        origin: fc.constantFrom('none', 'self', 'self', 'null', 'evil', 'self-slash', 'random'),
        decision: fc.oneof(fc.constantFrom('allow', 'allow', 'deny', 'ALLOW', ''), wireValue),
        duplicate: fc.constantFrom('none', 'none', 'none', 'decision', 'csrf', 'request'),
        type: fc.oneof(
          { weight: 4, arbitrary: fc.constant('application/x-www-form-urlencoded') },
          { weight: 2, arbitrary: contentType },
        ),
        encoding: fc.constantFrom(...ENCODINGS),
        randomValue: wireValue,
        randomOrigin: headerText(40),
        extra: fc.option(queryString(), { freq: 3 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async (generated) => {
          // Half the submissions keep form token, request and cookie, so the allow and deny paths run.
          const value = generated.genuine
            ? {
                ...generated,
                request: 'keep',
                csrf: 'keep',
                cookie: 'keep',
                origin: ['none', 'self', 'null'].includes(generated.origin) ? generated.origin : 'self',
              }
            : generated;
          // A real consent page first: its form token and the transaction cookie.
          const jar = new CookieJar();
          const attempt = await authorizationUrl(as, fixtures.public);
          const landing = await followRedirects(attempt.url, jar, {
            stopAt: (url) => url.href.startsWith(fixtures.public.redirectUri),
          });
          if (landing.kind !== 'page') throw new Error(`no consent page: ${landing.url}`);
          const form = parseForms(landing.body, landing.url)[0];
          if (!form) throw new Error(`no consent form: ${landing.body.slice(0, 300)}`);
          const requestId = form.fields.request;
          const csrf = form.fields.csrf;
          const txCookie = jar.header(new URL(`${server.url}/consent`)) ?? '';

          const fields: Array<[string, string]> = [];
          const put = (name: string, v: string) => {
            fields.push([name, v]);
            if (value.duplicate === name) fields.push([name, v]);
          };
          if (value.request === 'keep') put('request', requestId);
          if (value.request === 'random') put('request', value.randomValue);
          if (value.request === 'edge') put('request', `${requestId}%00`);
          if (value.csrf === 'keep') put('csrf', csrf);
          if (value.csrf === 'random') put('csrf', value.randomValue);
          if (value.csrf === 'flip') put('csrf', `${csrf[0] === 'A' ? 'B' : 'A'}${csrf.slice(1)}`);
          put('decision', value.decision);
          let text = fields.map(([name, v]) => `${name}=${/%|\+/.test(v) ? v : encodeAll(v)}`).join('&');
          if (value.extra) text += `&${value.extra.slice(1)}`;

          const headers: Array<readonly [string, string]> = [['content-type', value.type]];
          if (value.cookie === 'keep') headers.push(['cookie', txCookie]);
          if (value.cookie === 'random')
            headers.push(['cookie', `mcpgw_tx=${headerSafe(value.randomValue).replace(/;/g, '')}`]);
          if (value.cookie === 'second') headers.push(['cookie', `mcpgw_tx=other; ${txCookie}`]);
          const origins: Record<string, string | undefined> = {
            none: undefined,
            self: server.url,
            null: 'null',
            evil: 'https://evil.example',
            'self-slash': `${server.url}/`,
            random: value.randomOrigin,
          };
          const origin = origins[value.origin];
          // fetch trims header values; an empty Origin is no Origin, which the server (like any
          // non-browser client's request) may accept.
          const originSent = origin?.trim() === '' ? undefined : origin?.trim();
          if (origin !== undefined) headers.push(['origin', origin]);
          const req: FuzzRequest = {
            method: 'POST',
            target: '/consent',
            headers,
            body: encode(text, value.encoding),
          };
          await exchange(req, (obs) => {
            if (obs.status < 300 || obs.status >= 400) return [];
            consented++;
            const location = obs.headers.get('location') ?? '';
            const genuine =
              value.request === 'keep' &&
              value.csrf === 'keep' &&
              value.cookie === 'keep' &&
              (originSent === undefined || originSent === 'null' || originSent === server.url);
            if (!genuine) return [`consent answered ${obs.status} to ${location} for a forged submission`];
            const toClient = location.startsWith(`${fixtures.public.redirectUri}?`);
            const toUpstream = location.startsWith('http://127.0.0.1:') || location.startsWith('http://localhost:');
            if (!toClient && !toUpstream) return [`consent redirected to ${location}`];
            if (toClient && new URL(location).searchParams.get('error') !== 'access_denied') {
              return [`consent redirected to the client without access_denied: ${location}`];
            }
            return [];
          });
        }),
        runs(120),
      );
      expect(consented).toBeGreaterThan(0);
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'GET /callback: arbitrary queries and cookies (state = cookie included); never a redirect',
    async () => {
      const request = fc.record({
        query: queryString(['state', 'code', 'error', 'error_description', 'iss', 'session_state']),
        sameState: fc.option(
          fc.oneof(
            fc.base64String({ minLength: 4, maxLength: 44 }),
            wireValue,
            // Around DynamoDB's 2048-byte key limit (the pending authorization is keyed by state).
            fc.integer({ min: 2000, max: 2100 }).map((length) => 's'.repeat(length)),
          ),
          { freq: 2 },
        ),
        headers: fc.option(headersArb(), { freq: 2 }),
        method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'HEAD', 'OPTIONS'),
        body: anyBody,
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          let target = `/callback${value.query}`;
          const headers = [...(value.headers ?? [])];
          if (value.sameState !== null) {
            const state = headerSafe(value.sameState).replace(/[;,\s]/g, '');
            target += `${target.includes('?') ? '&' : '?'}state=${state}`;
            headers.push(['cookie', `mcpgw_tx=${state}`]);
          }
          const req: FuzzRequest = {
            method: value.method as Method,
            target,
            headers,
            ...(value.body !== undefined ? { body: value.body } : {}),
          };
          await exchange(req, (obs) =>
            obs.status >= 300 && obs.status < 400
              ? [`callback redirected to ${obs.headers.get('location')} without a sign-in`]
              : [],
          );
        }),
        runs(200),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'GET /callback near-valid (a real sign-in, then a mutated return): a code only for the genuine return',
    async () => {
      let codesIssued = 0;
      const MUTATIONS = [
        'code',
        'drop-code',
        'error',
        'iss',
        'state',
        'duplicate',
        'cookie',
        'replay',
        'extra',
      ] as const;
      const request = fc.record({
        mutations: fc.uniqueArray(fc.constantFrom(...MUTATIONS), { maxLength: 2 }),
        text: fc.oneof(wireValue, fc.base64String({ maxLength: 60 })),
        // Non-empty: an empty error parameter is no error (the upstream client library ignores it).
        error: fc.constantFrom('access_denied', 'login_required', 'server_error', 'x'),
        extra: queryString(['session_state', 'error_description', 'error_uri', 'scope', 'code', 'iss']),
      });
      await fc.assert(
        fc.asyncProperty(request, async (v) => {
          const has = (mutation: (typeof MUTATIONS)[number]) => v.mutations.includes(mutation);
          // A real sign-in, stopped where the provider sends the browser back to /callback.
          const jar = new CookieJar();
          const attempt = await authorizationUrl(as, fixtures.public);
          const landing = await runBrowser(attempt.url, `${server.url}/callback`, jar);
          if (landing.kind !== 'stopped') throw new Error(`the sign-in did not return: ${landing.url}`);
          const genuine = new URL(landing.url);
          const params = [...genuine.searchParams];
          const rendered: string[] = [];
          for (const [name, value] of params) {
            if (name === 'code' && has('drop-code')) continue;
            let sent = encodeAll(value);
            if (name === 'code' && has('code')) sent = v.text;
            if (name === 'iss' && has('iss')) sent = encodeAll(`${value}/`);
            if (name === 'state' && has('state')) sent = `${sent}x`;
            rendered.push(`${name}=${sent}`);
            if (name === 'state' && has('duplicate')) rendered.push(`${name}=${sent}`);
          }
          if (has('error')) rendered.push(`error=${encodeAll(v.error)}`);
          if (has('extra')) rendered.push(v.extra.slice(1));
          const target = `/callback?${rendered.join('&')}`;
          const cookie = jar.header(new URL(`${server.url}/callback`)) ?? '';
          const headers: Array<readonly [string, string]> = has('cookie') ? [] : [['cookie', cookie]];
          const req: FuzzRequest = { method: 'GET', target, headers };
          if (has('replay')) await send(req);
          const untouched = v.mutations.every((mutation) => mutation === 'extra');
          await exchange(req, (obs) => {
            if (untouched && v.mutations.length === 0 && obs.status !== 302) {
              return [`the genuine return answered ${obs.status}`];
            }
            if (obs.status < 300 || obs.status >= 400) return [];
            const location = obs.headers.get('location') ?? '';
            if (!location.startsWith(`${fixtures.public.redirectUri}?`)) return [`callback redirected to ${location}`];
            const answer = new URL(location).searchParams;
            if (answer.get('state') !== attempt.state) return [`the redirect carries state ${answer.get('state')}`];
            if (answer.has('code')) {
              codesIssued++;
              if (!untouched) return [`a code for a mutated return (${v.mutations.join(', ')})`];
            } else if (!answer.has('error')) return [`a redirect with neither code nor error: ${location}`];
            return [];
          });
        }),
        runs(60),
      );
      expect(codesIssued).toBeGreaterThan(0);
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'POST /token: near-valid grants, client authentication and prototype-named fields; a 200 is a token response',
    async () => {
      const clients = fixtureList();
      // Real authorization codes, so the fuzz reaches PKCE, client and replay checks.
      const codes = await mintCodes(10);
      const grantType = fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom('authorization_code', 'refresh_token') },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            'client_credentials',
            'password',
            'implicit',
            'urn:ietf:params:oauth:grant-type:device_code',
            'AUTHORIZATION_CODE',
            '',
          ),
        },
        { weight: 2, arbitrary: fc.constantFrom(...PROTO_NAMES) },
        { weight: 1, arbitrary: fc.string() },
      );
      const request = fc.record({
        client: fc.oneof(fc.constant(fixtures.public), fc.constantFrom(...clients)),
        clientId: fc.constantFrom('own', 'own', 'own', 'other', 'random', 'missing'),
        realCode: fc.option(fc.nat({ max: 9 }), { freq: 2 }),
        realVerifier: fc.constantFrom('right', 'right', 'other', 'none'),
        auth: fc.constantFrom('right', 'right', 'wrong-secret', 'basic-for-post', 'post-for-basic', 'none', 'both'),
        grantType,
        code: fc.option(fc.oneof(fc.base64String({ maxLength: 60 }), wireValue), { freq: 3 }),
        verifier: fc.option(fc.oneof(fc.stringMatching(/^[A-Za-z0-9._~-]{43,128}$/), wireValue), { freq: 3 }),
        refresh: fc.option(fc.oneof(fc.constant('known'), fc.base64String({ maxLength: 60 }), wireValue), {
          freq: 3,
        }),
        redirect: fc.option(fc.oneof(fc.constant('own'), wireValue), { freq: 2 }),
        scope: fc.option(fc.constantFrom('', 'mcp', 'openid', 'a b'), { freq: 2 }),
        resource: fc.option(fc.constantFrom('own', '', 'https://evil.example/mcp'), { freq: 2 }),
        duplicate: fc.constantFrom('none', 'none', 'none', 'grant_type', 'client_id', 'code'),
        extra: fc.option(queryString(), { freq: 4 }),
        type: fc.oneof(
          { weight: 5, arbitrary: fc.constant('application/x-www-form-urlencoded') },
          { weight: 1, arbitrary: contentType },
        ),
        encoding: fc.constantFrom('utf8', 'utf8', 'utf8', 'utf8', 'latin1', 'utf16le', 'utf8-bom'),
        otherHeaders: fc.option(headersArb(), { freq: 4 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const { client } = value;
          const fields: Array<[string, string]> = [];
          const put = (name: string, v: string, raw = false) => {
            const rendered = raw ? v : encodeAll(v);
            fields.push([name, rendered]);
            if (value.duplicate === name) fields.push([name, rendered]);
          };
          put('grant_type', value.grantType);
          const ownId = client.client.client_id;
          const otherId = clients.find((other) => other !== client)?.client.client_id ?? ownId;
          const idValue = { own: ownId, other: otherId, random: 'Zm9vYmFy', missing: undefined }[value.clientId];
          const headers: Array<readonly [string, string]> = [['content-type', value.type]];
          const secret = client.secret ?? '';
          const basic = (id: string, s: string) =>
            `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(s)}`).toString('base64')}`;
          const method = client.client.token_endpoint_auth_method;
          if (value.auth === 'right' || value.auth === 'both') {
            if (method === 'client_secret_basic') headers.push(['authorization', basic(idValue ?? ownId, secret)]);
            if (method === 'client_secret_post') put('client_secret', secret);
          }
          if (value.auth === 'wrong-secret') {
            if (method === 'client_secret_basic') headers.push(['authorization', basic(ownId, `${secret}x`)]);
            else put('client_secret', `${secret}x`);
          }
          if (value.auth === 'basic-for-post') headers.push(['authorization', basic(ownId, secret || 'x')]);
          if (value.auth === 'post-for-basic') put('client_secret', secret || 'x');
          if (value.auth === 'both') put('client_secret', secret || 'x');
          if (idValue !== undefined) put('client_id', idValue);
          const real = value.realCode === null ? undefined : codes[value.realCode];
          const sentCode = real?.code ?? value.code;
          if (sentCode !== null) put('code', sentCode, true);
          const verifier =
            real === undefined || value.realVerifier === 'none'
              ? value.verifier
              : value.realVerifier === 'right'
                ? real.verifier
                : codes[(codes.indexOf(real) + 1) % codes.length].verifier;
          if (verifier !== null) put('code_verifier', verifier, true);
          if (value.refresh !== null)
            put('refresh_token', value.refresh === 'known' ? refreshToken : value.refresh, true);
          if (value.redirect !== null) {
            put(
              'redirect_uri',
              value.redirect === 'own' ? client.redirectUri : value.redirect,
              value.redirect !== 'own',
            );
          }
          if (value.scope !== null) put('scope', value.scope);
          if (value.resource !== null) put('resource', value.resource === 'own' ? `${server.url}/mcp` : value.resource);
          let text = fields.map(([name, v]) => `${name}=${v}`).join('&');
          if (value.extra) text += `&${value.extra.slice(1)}`;
          for (const [name, v] of value.otherHeaders ?? []) {
            if (name !== 'content-type' && name !== 'authorization') headers.push([name, v]);
          }
          const req: FuzzRequest = {
            method: 'POST',
            target: '/token',
            headers,
            body: encode(text, value.encoding as Encoding),
          };
          await exchange(req, (obs) => {
            if (obs.status !== 200) return [];
            const body = JSON.parse(obs.text) as unknown;
            const problems: string[] = [];
            if (value.grantType !== 'authorization_code' && value.grantType !== 'refresh_token') {
              problems.push(`200 for grant_type ${JSON.stringify(value.grantType)}`);
            }
            const token = typeof body === 'object' && body !== null ? (body as Json) : {};
            if (typeof token.access_token !== 'string' || String(token.token_type).toLowerCase() !== 'bearer') {
              problems.push(`200 whose body is not a token response: ${obs.text.slice(0, 200)}`);
            }
            if (value.grantType === 'authorization_code') {
              if (!real) problems.push('tokens for a code this server never issued');
              else if (verifier !== real.verifier) problems.push('tokens for a code with the wrong code_verifier');
              if (client !== fixtures.public) problems.push('tokens for a code issued to another client');
              if (sentCode !== null && spentGrants.has(sentCode))
                problems.push('tokens twice for one authorization code');
              if (sentCode !== null) spentGrants.add(sentCode);
            }
            if (value.grantType === 'refresh_token') {
              const sentRefresh = value.refresh === 'known' ? refreshToken : value.refresh;
              if (sentRefresh !== refreshToken) problems.push('tokens for a refresh token this server never issued');
              if (sentRefresh !== null && spentGrants.has(sentRefresh))
                problems.push('tokens twice for one refresh token');
              if (sentRefresh !== null) spentGrants.add(sentRefresh);
            }
            return problems;
          });
        }),
        runs(250),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'POST /token near-valid (a real code or refresh token, one or two mutations): tokens only for a genuine, unspent grant',
    async () => {
      const publicId = fixtures.public.client.client_id;
      const codes = await mintCodes(12);
      const verifierOf = new Map(codes.map(({ code, verifier }) => [code, verifier]));
      const refreshTokens: string[] = [];
      let issued = 0;
      const MUTATIONS = [
        'grant_type',
        'client_id',
        'client_auth',
        'code',
        'code_verifier',
        'redirect_uri',
        'resource',
        'scope',
        'refresh_token',
        'duplicate',
        'drop',
        'extra',
        'content_type',
        'encoding',
        'replay',
      ] as const;
      const request = fc.record({
        grant: fc.constantFrom('authorization_code', 'refresh_token', 'refresh_token'),
        pick: fc.nat({ max: 1000 }),
        mutations: fc.uniqueArray(fc.constantFrom(...MUTATIONS), { maxLength: 2 }),
        dropOrDuplicate: fc.constantFrom(
          'grant_type',
          'client_id',
          'code',
          'code_verifier',
          'refresh_token',
          'redirect_uri',
        ),
        grantType: fc.oneof(
          fc.constantFrom('client_credentials', 'AUTHORIZATION_CODE', 'refresh_token ', ''),
          fc.constantFrom('authorization_code', 'refresh_token'),
          wireValue,
        ),
        clientId: fc.oneof(
          fc.constantFrom(...fixtureList().map((fixture) => fixture.client.client_id)),
          fc.constantFrom('', `${publicId} `, publicId.toUpperCase(), `${publicId}%00`),
          wireValue,
        ),
        auth: fc.constantFrom('basic-public', 'basic-garbage', 'post-secret', 'basic-other'),
        text: fc.oneof(wireValue, fc.base64String({ maxLength: 60 }), fc.stringMatching(/^[A-Za-z0-9._~-]{43,128}$/)),
        redirect: fc.constantFrom(
          'https://client.example/callback/',
          'https://client.example/basic',
          'https://CLIENT.example/callback',
          '',
        ),
        resource: fc.constantFrom(`${server.url}/mcp`, '', 'https://evil.example/mcp', `${server.url}/mcp/`),
        scope: fc.constantFrom('', ' ', 'mcp', 'openid', 'a b'),
        extra: queryString(),
        contentType,
        encoding: fc.constantFrom(...ENCODINGS),
      });
      await fc.assert(
        fc.asyncProperty(request, async (v) => {
          const has = (mutation: (typeof MUTATIONS)[number]) => v.mutations.includes(mutation);
          const spentOfKind = [...spentGrants].filter((grant) =>
            v.grant === 'authorization_code' ? verifierOf.has(grant) : !verifierOf.has(grant),
          );
          const grant = v.grant === 'refresh_token' && refreshTokens.length === 0 ? 'authorization_code' : v.grant;
          const code = codes[v.pick % codes.length];
          let presented = grant === 'authorization_code' ? code.code : refreshTokens[v.pick % refreshTokens.length];
          if (has('replay') && spentOfKind.length > 0) presented = spentOfKind[v.pick % spentOfKind.length];
          const fields: Array<[string, string]> = [['grant_type', has('grant_type') ? v.grantType : grant]];
          fields.push(['client_id', has('client_id') ? v.clientId : publicId]);
          if (grant === 'authorization_code') {
            fields.push(['code', has('code') ? v.text : presented]);
            fields.push([
              'code_verifier',
              has('code_verifier') ? v.text : (verifierOf.get(presented) ?? code.verifier),
            ]);
            fields.push(['redirect_uri', has('redirect_uri') ? v.redirect : fixtures.public.redirectUri]);
          } else {
            fields.push(['refresh_token', has('refresh_token') ? v.text : presented]);
          }
          if (has('resource')) fields.push(['resource', v.resource]);
          if (has('scope')) fields.push(['scope', v.scope]);
          const headers: Array<readonly [string, string]> = [
            ['content-type', has('content_type') ? v.contentType : 'application/x-www-form-urlencoded'],
          ];
          if (has('client_auth')) {
            const other = fixtures.basic;
            if (v.auth === 'post-secret') fields.push(['client_secret', 'x']);
            else {
              const pair = {
                'basic-public': `${publicId}:`,
                'basic-garbage': 'a:b:c',
                'basic-other': `${other.client.client_id}:${other.secret ?? ''}`,
              }[v.auth];
              headers.push(['authorization', `Basic ${Buffer.from(pair).toString('base64')}`]);
            }
          }
          const target = v.dropOrDuplicate;
          const rendered: string[] = [];
          for (const [name, value] of fields) {
            if (has('drop') && name === target) continue;
            const pair = `${name}=${encodeAll(value)}`;
            rendered.push(pair);
            if (has('duplicate') && name === target) rendered.push(pair);
          }
          if (has('extra')) rendered.push(v.extra.slice(1));
          const body = encode(rendered.join('&'), has('encoding') ? v.encoding : 'utf8');
          const req: FuzzRequest = { method: 'POST', target: '/token', headers, body };

          // What the server reads (UTF-8, then form decoding), to judge an answer of tokens.
          const form = new URLSearchParams(body.toString('utf8'));
          const one = (name: string) => (form.getAll(name).length === 1 ? form.get(name) : null);
          // The credential the server reads for the grant type sent: a refresh_token field in a code
          // exchange (or a code in a refresh) is noise it ignores, not the grant.
          const sentGrantType = one('grant_type');
          const sentGrant =
            sentGrantType === 'authorization_code'
              ? one('code')
              : sentGrantType === 'refresh_token'
                ? one('refresh_token')
                : (one('refresh_token') ?? one('code'));
          await exchange(req, (obs) => {
            if (obs.status === 400 && sentGrant !== null && familyOf.has(sentGrant)) {
              const error = JSON.parse(obs.text) as Json;
              if (error.error === 'invalid_grant' && /already used/.test(String(error.error_description))) {
                revokedFamilies.add(familyOf.get(sentGrant) as number);
              }
            }
            if (obs.status !== 200) return [];
            issued++;
            const problems: string[] = [];
            const keys = [...form.keys()];
            const repeated = keys.find((key, index) => keys.indexOf(key) !== index);
            if (repeated) problems.push(`tokens although ${repeated} was repeated`);
            const grantType = one('grant_type');
            if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
              problems.push(`tokens for grant_type ${JSON.stringify(grantType)}`);
            }
            if (one('client_id') !== publicId)
              problems.push(`tokens for client_id ${JSON.stringify(one('client_id'))}`);
            if (headers.some(([name]) => name === 'authorization') || form.has('client_secret')) {
              problems.push('tokens for a public client that presented a secret');
            }
            if (sentGrant === null || !familyOf.has(sentGrant))
              problems.push('tokens for a grant this server never issued');
            else {
              if (spentGrants.has(sentGrant)) problems.push('tokens twice for one code or refresh token');
              if (revokedFamilies.has(familyOf.get(sentGrant) as number)) {
                problems.push('tokens for a grant whose family a replay revoked');
              }
            }
            if (grantType === 'authorization_code') {
              if (sentGrant !== null && one('code_verifier') !== verifierOf.get(sentGrant)) {
                problems.push('tokens for a wrong code_verifier');
              }
              if (one('redirect_uri') !== fixtures.public.redirectUri) problems.push('tokens for another redirect_uri');
            }
            const resource = form.get('resource');
            if (resource !== null && resource !== `${server.url}/mcp`) problems.push(`tokens for resource ${resource}`);
            // The grant had no scope: a refresh may narrow it to nothing, never widen it (a code
            // exchange takes no scope parameter, RFC 6749 4.1.3).
            if (grantType === 'refresh_token' && (form.get('scope') ?? '').split(' ').some(Boolean)) {
              problems.push('tokens for a wider scope');
            }
            if (sentGrant !== null && familyOf.has(sentGrant)) {
              spentGrants.add(sentGrant);
              const next = (JSON.parse(obs.text) as Json).refresh_token;
              if (typeof next === 'string') {
                familyOf.set(next, familyOf.get(sentGrant) as number);
                refreshTokens.push(next);
              }
            }
            return problems;
          });
        }),
        runs(250),
      );
      // The generators must reach issuance, or the properties above check nothing.
      expect(issued).toBeGreaterThanOrEqual(5);
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'POST /revoke: arbitrary forms and client authentication; a 200 has an empty body',
    async () => {
      const clients = fixtureList();
      const request = fc.record({
        client: fc.constantFrom(...clients),
        withId: fc.boolean(),
        withSecret: fc.constantFrom('none', 'post', 'basic', 'wrong'),
        token: fc.option(fc.oneof(fc.constantFrom(...knownTokens), fc.base64String({ maxLength: 60 }), wireValue), {
          freq: 5,
        }),
        hint: fc.option(fc.constantFrom('refresh_token', 'access_token', 'bogus', ...PROTO_NAMES), { freq: 2 }),
        extra: fc.option(queryString(), { freq: 3 }),
        type: fc.oneof(
          { weight: 5, arbitrary: fc.constant('application/x-www-form-urlencoded') },
          { weight: 1, arbitrary: contentType },
        ),
        raw: fc.option(anyBody, { freq: 5 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const fields: string[] = [];
          const headers: Array<readonly [string, string]> = [['content-type', value.type]];
          if (value.withId) fields.push(`client_id=${encodeAll(value.client.client.client_id)}`);
          if (value.withSecret === 'post') fields.push(`client_secret=${encodeAll(value.client.secret ?? 'x')}`);
          if (value.withSecret === 'wrong') fields.push('client_secret=wrong');
          if (value.withSecret === 'basic') {
            const pair = `${value.client.client.client_id}:${value.client.secret ?? ''}`;
            headers.push(['authorization', `Basic ${Buffer.from(pair).toString('base64')}`]);
          }
          // Never the fixtures' live refresh token: revoking it would end the /token property's family.
          const token = value.token === refreshToken ? `${refreshToken}x` : value.token;
          if (token !== null) fields.push(`token=${/%/.test(token) ? token : encodeAll(token)}`);
          if (value.hint !== null) fields.push(`token_type_hint=${value.hint}`);
          if (value.extra) fields.push(value.extra.slice(1));
          const body = value.raw ?? Buffer.from(fields.join('&'));
          const req: FuzzRequest = { method: 'POST', target: '/revoke', headers, ...(body ? { body } : {}) };
          await exchange(req, (obs) => (obs.status === 200 && obs.text !== '' ? [`200 with a body: ${obs.text}`] : []));
        }),
        runs(200),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'discovery documents and /jwks: the same 200 JSON whatever the query and headers; other methods refused',
    async () => {
      const documents = [
        '/.well-known/oauth-authorization-server',
        '/.well-known/openid-configuration',
        '/.well-known/oauth-protected-resource/mcp',
        '/jwks',
      ];
      const baseline = new Map<string, string>();
      for (const path of documents) baseline.set(path, await (await fetch(`${server.url}${path}`)).text());
      const request = fc.record({
        path: fc.constantFrom(...documents),
        method: fc.oneof(
          { weight: 3, arbitrary: fc.constant('GET' as Method) },
          { weight: 2, arbitrary: fc.constantFrom(...METHODS) },
        ),
        query: queryString(),
        headers: headersArb(),
        body: anyBody,
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const req: FuzzRequest = {
            method: value.method,
            target: `${value.path}${value.query}`,
            headers: value.headers,
            ...(value.body !== undefined ? { body: value.body } : {}),
          };
          await exchange(req, (obs) => {
            // Node refuses request heads over 16 KiB itself (431) before any route runs.
            if (obs.status === 431) return [];
            if (value.method === 'GET') {
              if (obs.status !== 200) return [`GET answered ${obs.status}`];
              if (obs.text !== baseline.get(value.path)) return ['GET answered another document'];
              return [];
            }
            if (value.method === 'OPTIONS') return obs.status === 204 ? [] : [`preflight answered ${obs.status}`];
            return obs.status >= 400 && obs.status < 500 ? [] : [`${value.method} answered ${obs.status}`];
          });
        }),
        runs(200),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    '/mcp: arbitrary Authorization values, and with a valid token arbitrary JSON-RPC; no 5xx',
    async () => {
      const jsonRpc = fc.record(
        {
          jsonrpc: fc.oneof({ weight: 5, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: weird }),
          id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), weird),
          method: fc.oneof(
            fc.constantFrom(
              'initialize',
              'tools/list',
              'tools/call',
              'ping',
              'notifications/initialized',
              'resources/list',
              'prompts/get',
              'logging/setLevel',
              ...PROTO_NAMES,
            ),
            fc.string(),
          ),
          params: fc.oneof(
            fc.record({
              name: fc.constantFrom('echo', 'whoami', 'missing', '__proto__'),
              arguments: fc.oneof(
                fc.record({
                  text: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constant('y'.repeat(10_001))),
                }),
                weird,
              ),
            }),
            fc.record({
              protocolVersion: fc.constantFrom('2025-06-18', '2025-03-26', '1999-01-01', ''),
              capabilities: fc.oneof(fc.constant({}), weird),
              clientInfo: fc.oneof(fc.constant({ name: 'fuzz', version: '1' }), weird),
            }),
            weird,
          ),
        },
        { requiredKeys: ['method'] },
      );
      const request = fc.record({
        method: fc.oneof(
          { weight: 4, arbitrary: fc.constant('POST' as Method) },
          { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
        ),
        auth: fc.oneof(
          { weight: 3, arbitrary: fc.constant(`Bearer ${accessToken}`) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              `bearer   ${accessToken}  `,
              `Bearer ${accessToken}.`,
              `Bearer ${accessToken.slice(0, -2)}`,
            ),
          },
          { weight: 2, arbitrary: authorization() },
        ),
        body: fc.oneof(
          { weight: 4, arbitrary: jsonRpc.map((message) => Buffer.from(JSON.stringify(message))) },
          {
            weight: 1,
            arbitrary: fc.array(jsonRpc, { maxLength: 4 }).map((batch) => Buffer.from(JSON.stringify(batch))),
          },
          { weight: 2, arbitrary: anyBody.map((body) => body ?? Buffer.alloc(0)) },
        ),
        accept: fc.oneof(
          { weight: 4, arbitrary: fc.constant('application/json, text/event-stream') },
          { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/event-stream', '*/*', '') },
        ),
        type: fc.oneof(
          { weight: 4, arbitrary: fc.constant('application/json') },
          { weight: 1, arbitrary: contentType },
        ),
        headers: fc.option(headersArb(), { freq: 3 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const headers: Array<readonly [string, string]> = [
            ['authorization', value.auth],
            ['content-type', value.type],
          ];
          if (value.accept) headers.push(['accept', value.accept]);
          for (const [name, v] of value.headers ?? []) {
            if (!['authorization', 'content-type', 'accept'].includes(name)) headers.push([name, v]);
          }
          await exchange({ method: value.method, target: '/mcp', headers, body: value.body });
        }),
        runs(250),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'unknown paths: a 404 OAuth error (or a Node-level 4xx), never a 5xx',
    async () => {
      const known = new Set(ROUTE_PATHS);
      const request = fc.record({
        path: fc.oneof(
          fc.constantFrom(...UNKNOWN_PATHS),
          fc.webPath(),
          fc
            .array(
              wireValue.filter((v) => !/[?#]/.test(v)),
              { minLength: 1, maxLength: 4 },
            )
            .map((s) => `/${s.join('/')}`),
        ),
        method: fc.constantFrom(...METHODS),
        query: queryString(),
        headers: headersArb(),
        body: anyBody,
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const path = value.path.startsWith('/') ? value.path : `/${value.path}`;
          const req: FuzzRequest = {
            method: value.method,
            target: `${path}${value.query}`,
            headers: value.headers,
            ...(value.body !== undefined ? { body: value.body } : {}),
          };
          await exchange(req, (obs) => {
            const resolved = pathOf(req);
            if (known.has(resolved) || /^\/register\/[^/]+$/.test(resolved)) return [];
            if (obs.status === 404 || obs.status === 400 || obs.status === 431 || obs.status === 413) return [];
            return [`unknown path ${resolved} answered ${obs.status}`];
          });
        }),
        runs(200),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'raw HTTP: repeated headers and request targets fetch cannot send; no 5xx',
    async () => {
      const request = fc.record({
        method: fc.constantFrom(...METHODS),
        target: fc.oneof(
          fc.constantFrom(...ROUTE_PATHS).map((path) => path.replace(CLIENT_ID_ROUTE, 'x')),
          fc.constantFrom(
            '*',
            'register',
            'http://evil.example/register',
            '//evil.example/token',
            '/register/\u00ff',
            '/authorize?client_id=\u00e9',
            '/mcp?\u00ff=\u00ff',
            '/token?a=%ff&a=%00',
          ),
        ),
        authorization: fc.array(authorization(), { maxLength: 3 }),
        contentTypes: fc.array(contentType, { maxLength: 3 }),
        cookies: fc.array(cookieHeader, { maxLength: 2 }),
        body: anyBody,
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const headers: Record<string, string[]> = {};
          if (value.authorization.length) headers.authorization = value.authorization;
          if (value.contentTypes.length) headers['content-type'] = value.contentTypes;
          if (value.cookies.length) headers.cookie = value.cookies;
          const body = value.method === 'GET' || value.method === 'HEAD' ? undefined : value.body;
          // Node's client frames GET-like bodies only with an explicit length; without one the
          // body bytes would reach the server as a second, malformed request.
          if (body !== undefined) headers['content-length'] = [String(body.length)];
          let result: Observed;
          try {
            result = await rawSend(value.method, value.target, headers, body);
          } catch (error) {
            const code = (error as NodeJS.ErrnoException).code;
            if (body === undefined || (code !== 'ECONNRESET' && code !== 'EPIPE')) throw error;
            // Node's parser refused the request head (its own 400) and closed the connection while
            // the body was still on its way: look at the answer to the same head without a body.
            const { 'content-length': _length, ...bodiless } = headers;
            result = await rawSend(value.method, value.target, bodiless, undefined);
          }
          const described: FuzzRequest = {
            method: value.method,
            target: value.target.startsWith('/') ? value.target : `/${value.target}`,
            headers: Object.entries(headers).flatMap(([name, values]) => values.map((v) => [name, v] as const)),
            ...(body !== undefined ? { body } : {}),
          };
          const problems = universalProblems(described, result);
          if (problems.length > 0) {
            throw new Error(
              `${problems.join('; ')}\nraw target ${JSON.stringify(value.target)}\n${repro(described)}\n→ ${result.status} ${result.text.slice(0, 600)}`,
            );
          }
        }),
        runs(150),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it('afterwards: the server is up and every registered client reads back as it was stored', async () => {
    await expectHealthy();
    expect(tracked.size).toBeGreaterThan(fixtureList().length);
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
  });
});

/**
 * Product bugs the fuzzing found, each pinned with an exact input and the answer it should get.
 * The first three are fixed and stay as regression tests; the /callback one fails until the product
 * is fixed (FUZZ_SKIP_KNOWN_BUGS=1 lets the properties above explore past it meanwhile).
 */
describe('product bugs found by fuzzing, pinned with exact inputs', () => {
  async function answer(
    method: string,
    target: string,
    init: { headers?: Record<string, string>; body?: string } = {},
  ) {
    const res = await fetch(`${server.url}${target}`, { method, redirect: 'manual', ...init });
    return { status: res.status, text: await res.text() };
  }

  // lib/local/api-gateway-events.ts queryMaps: `multi[name] ?? []` reads the inherited member
  // (Object.prototype.constructor, ...) and spreads it: TypeError, answered 500 by the local server.
  it.each([
    ['GET', '/.well-known/oauth-authorization-server?__proto__'],
    ['GET', '/jwks?constructor=1'],
    ['GET', '/authorize?toString&client_id=x'],
    ['POST', '/token?hasOwnProperty='],
    ['GET', '/no-such-path?valueOf'],
  ])('%s %s: a query parameter named like an Object.prototype member is not a 500', async (method, target) => {
    const { status, text } = await answer(method, target);
    expect(status, text).toBeLessThan(500);
  });

  // lib/local/gateway.ts match: decodeURIComponent on the {client_id} segment throws URIError.
  it.each([
    ['GET', '/register/%ff'],
    ['PUT', '/register/%'],
    ['DELETE', '/register/%E0%A4%A'],
  ])('%s %s: malformed percent-encoding in the client_id segment is a 4xx, not a 500', async (method, target) => {
    const { status, text } = await answer(method, target, { headers: { Authorization: 'Bearer x' } });
    expect(status, text).toBeGreaterThanOrEqual(400);
    expect(status, text).toBeLessThan(500);
  });

  // lambda/token.ts: GRANTS[params.grant_type] finds inherited members, so an authenticated client
  // gets a 500 (Object called as a grant, then JSON.stringify of the dependencies fails; or "not a
  // function") or, for toString, a 200 whose body is "[object Undefined]".
  it.each(['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty'])(
    'POST /token grant_type=%s by a registered client: 400 unsupported_grant_type',
    async (grantType) => {
      const { status, text } = await answer('POST', '/token', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `grant_type=${grantType}&client_id=${fixtures.public.client.client_id}`,
      });
      expect(status, text).toBe(400);
      expect((JSON.parse(text) as Json).error).toBe('unsupported_grant_type');
    },
  );

  // lambda/store/dynamodb-grant-store.ts: the pending key `pending#<state>` exceeds DynamoDB's
  // 2048-byte key limit from 2041 characters on; the ValidationException becomes a 503
  // temporarily_unavailable, where a state of 2040 characters gets the 400 page.
  it.each([2040, 2041, 5000])(
    'GET /callback with a %i-character state equal to the cookie: 400, not 5xx',
    async (length) => {
      const state = 'a'.repeat(length);
      const { status, text } = await answer('GET', `/callback?state=${state}`, {
        headers: { Cookie: `mcpgw_tx=${state}` },
      });
      expect(status, text.slice(0, 300)).toBe(400);
    },
  );
});
