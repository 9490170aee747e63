/**
 * What the fuzz suites generate: methods, text in odd encodings, query strings, headers, cookies
 * and bodies (huge ones among them), and registration bodies from valid to anything at all. The
 * Authorization values draw on tokens the run learns (knownTokens), so they are built on use.
 */
import fc from 'fast-check';

export type Json = Record<string, unknown>;

export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const;
export type Method = (typeof METHODS)[number];

// ---------------------------------------------------------------------------------------------
// Text, encodings, query strings, headers, bodies

/** Characters fetch cannot put in a header (controls, above U+00FF) percent-encoded. */
export function headerSafe(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]|[^\u0000-\u00ff]/gu, (char) => encodeAll(char));
}

/** Percent-encodes every byte of the UTF-8 form (a lone surrogate becomes U+FFFD, never a throw). */
export function encodeAll(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16)}`,
    )
    .join('');
}

export const PERCENT_EDGES = [
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
export const PROTO_NAMES = [
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
export const wireValue: fc.Arbitrary<string> = fc.oneof(
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

export function queryString(names: readonly string[] = COMMON_PARAMS): fc.Arbitrary<string> {
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
export const headerText = (maxLength: number) => fc.string({ unit: headerChar, maxLength });
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
export const contentType = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: headerText(60) },
  { weight: 1, arbitrary: latin1Text.map((text) => `application/json; charset=${text}`) },
);

const SCHEMES = ['Bearer', 'bearer', 'BEARER', 'Basic', 'basic', 'Digest', 'DPoP', 'Negotiate', 'Token', 'Bearer,', ''];
const SEPARATORS = [' ', '  ', '\t', '', ' \t '];

/** Tokens known at run time (registration tokens, access and refresh tokens), for Authorization values. */
export const knownTokens: string[] = [];

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

export function credential(): fc.Arbitrary<string> {
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
export const authorization = (): fc.Arbitrary<string> =>
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
export const cookieHeader = fc
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

export function headersArb(
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
export const ENCODINGS = ['utf8', 'utf8', 'utf8', 'utf8-bom', 'utf16le', 'utf16be', 'latin1'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export function encode(text: string, encoding: Encoding): Buffer {
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

export const anyBody: fc.Arbitrary<Buffer | undefined> = fc.oneof(
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

export const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, '', 0, -1, true, [], {}, [''], ['code'], 'none', '\u0000', '\ud800', 'a'.repeat(201)),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

export const redirectUris: fc.Arbitrary<unknown> = fc.oneof(
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

export const validRegistration: fc.Arbitrary<Json> = fc.record(
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

export const mutatedRegistration: fc.Arbitrary<Json> = fc
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

export const registrationPayload: fc.Arbitrary<Buffer> = fc.oneof(
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

export const JSON_CONTENT_TYPES = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON'),
  },
  { weight: 2, arbitrary: contentType },
);
