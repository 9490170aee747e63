/**
 * End to end over real HTTP (the local server in a child process): the text a person reads is safe,
 * and `application_type` (MCP SEP-837) is stored, returned and enforced, at POST /register, at the
 * RFC 7592 registration_client_uri (GET, PUT) and for Client ID Metadata Documents served by a
 * test server on loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLocalServer } from '../support/local-server-fixture.js';

type Json = Record<string, unknown>;

const HTTPS_URI = 'https://app.example/callback';
const LOOPBACK_URI = 'http://127.0.0.1/callback';
const PRIVATE_USE_URI = 'cursor://anysphere.cursor-mcp/oauth/callback';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const TEXT_RULE = 'must not contain control or bidirectional-formatting characters';

let documents: Server;
let base: string;

/** Documents by path: each is served with its own URL as client_id. */
const DOCUMENTS: Record<string, Json> = {
  '/clients/bidi-name.json': { client_name: 'Good App\u202Elive', redirect_uris: [HTTPS_URI] },
  '/clients/zero-width-uri.json': { client_uri: 'https://app.example/\u200Bhome', redirect_uris: [HTTPS_URI] },
  '/clients/web-loopback.json': { application_type: 'web', redirect_uris: [HTTPS_URI, LOOPBACK_URI] },
  '/clients/native-loopback.json': { application_type: 'native', redirect_uris: [LOOPBACK_URI] },
  '/clients/web-https.json': { application_type: 'web', redirect_uris: [HTTPS_URI] },
};

beforeAll(async () => {
  documents = createServer((req, res) => {
    const path = req.url ?? '';
    const fields = DOCUMENTS[path];
    if (!fields) return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(
      JSON.stringify({
        client_id: `${base}${path}`,
        client_name: 'Document Client',
        token_endpoint_auth_method: 'none',
        ...fields,
      }),
    );
  });
  await new Promise<void>((resolve) => documents.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(documents.address() as AddressInfo).port}`;
});

afterAll(async () => {
  documents?.closeAllConnections();
  await new Promise<void>((resolve) => (documents ? documents.close(() => resolve()) : resolve()));
});

const server = useLocalServer({ CIMD_ALLOW_LOOPBACK_HTTP: 'true' });

interface Reply {
  status: number;
  text: string;
  json: Json;
}

async function send(method: string, url: string, body?: unknown, token?: string): Promise<Reply> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? (JSON.parse(text) as Json) : {} };
}

function register(body: Json): Promise<Reply> {
  return send('POST', `${server.url}/register`, body);
}

async function registered(body: Json): Promise<Json> {
  const reply = await register(body);
  expect(reply.status, reply.text).toBe(201);
  return reply.json;
}

function expectRefused(reply: Reply, error: string, description: RegExp | string): void {
  expect(reply.status, reply.text).toBe(400);
  expect(reply.json.error, reply.text).toBe(error);
  if (typeof description === 'string') expect(reply.json.error_description, reply.text).toBe(description);
  else expect(reply.json.error_description, reply.text).toMatch(description);
}

function publicBody(fields: Json = {}): Json {
  return { redirect_uris: [HTTPS_URI], token_endpoint_auth_method: 'none', client_name: 'Plain App', ...fields };
}

function authorize(clientId: string, redirectUri: string): Promise<Response> {
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    state: 'text-and-type',
  });
  return fetch(`${server.url}/authorize?${query}`, { redirect: 'manual' });
}

describe('POST /register refuses control and formatting characters in text a person reads', () => {
  it.each([
    // [field, the character (never printed raw in a title), value, the field named]
    ['client_name', 'U+202E', 'Good App\u202Elive', 'client_name'],
    ['client_name', 'U+2066', 'Good\u2066 App', 'client_name'],
    ['client_name', 'U+200B', 'Cl\u200Baude', 'client_name'],
    ['client_name', 'U+000A', 'line\nbreak', 'client_name'],
    ['client_name', 'U+0000', 'nul\u0000', 'client_name'],
    ['client_name', 'U+009B', 'c1\u009b', 'client_name'],
    ['client_name', 'U+D800', 'lone \ud800 surrogate', 'client_name'],
    ['client_uri', 'U+202E', 'https://app.example/\u202Egnp.exe', 'client_uri'],
    ['logo_uri', 'U+200F', 'https://app.example/logo\u200F.png', 'logo_uri'],
    ['tos_uri', 'U+0009', 'https://app.example/\tterms', 'tos_uri'],
    ['policy_uri', 'U+061C', 'https://app.example/\u061Cprivacy', 'policy_uri'],
    ['software_id', 'U+200E', 'id\u200E', 'software_id'],
    ['software_version', 'U+2060', '1.0\u2060', 'software_version'],
    ['contacts', 'U+202D', ['ops@app.example', 'sec\u202D@app.example'], 'contacts[1]'],
    ['scope', 'U+202A', 'read\u202Awrite', 'scope'],
  ])('%s containing %s: invalid_client_metadata naming the field', async (field, found, value, named) => {
    const reply = await register(publicBody({ [field]: value }));
    expectRefused(
      reply,
      'invalid_client_metadata',
      `${named} ${TEXT_RULE}, nor other invisible formatting characters (found ${found})`,
    );
  });

  it('still registers names in any script, with the joiners scripts and emoji need', async () => {
    for (const name of ['Café', '日本語', 'العربية', 'می\u200Cخواهم', '👩\u200D💻 Dev']) {
      const body = await registered(publicBody({ client_name: name }));
      expect(body.client_name).toBe(name);
    }
  });
});

describe('RFC 7592 PUT refuses the same characters and keeps the stored client', () => {
  it('refuses a bidi override in client_name, naming it, and GET still shows the old name', async () => {
    const client = await registered(publicBody());
    const uri = client.registration_client_uri as string;
    const token = client.registration_access_token as string;

    const put = await send(
      'PUT',
      uri,
      { ...publicBody({ client_name: 'Good App\u202Elive' }), client_id: client.client_id },
      token,
    );
    expectRefused(put, 'invalid_client_metadata', new RegExp(`^client_name ${TEXT_RULE}`));

    const read = await send('GET', uri, undefined, token);
    expect(read.status, read.text).toBe(200);
    expect(read.json.client_name).toBe('Plain App');
  });
});

describe('application_type at /register and the registration_client_uri', () => {
  it('stores and returns native, which may register https, loopback and private-use URIs', async () => {
    const uris = [HTTPS_URI, LOOPBACK_URI, PRIVATE_USE_URI];
    const client = await registered(publicBody({ application_type: 'native', redirect_uris: uris }));
    expect(client.application_type).toBe('native');
    expect(client.redirect_uris).toStrictEqual(uris);

    const read = await send(
      'GET',
      client.registration_client_uri as string,
      undefined,
      client.registration_access_token as string,
    );
    expect(read.status, read.text).toBe(200);
    expect(read.json.application_type).toBe('native');

    // A native loopback URI is admitted on any port (RFC 8252 section 7.3).
    const admitted = await authorize(client.client_id as string, 'http://127.0.0.1:49152/callback');
    expect(admitted.status, await admitted.text()).toBe(200);
  });

  it.each([
    // [redirect_uris, index refused, rule]
    [[LOOPBACK_URI], 0, /is a loopback URI, which a web client \(application_type web\) may not register/],
    [[HTTPS_URI, 'http://localhost:6274/oauth/callback'], 1, /is a loopback URI/],
    [[HTTPS_URI, 'http://[::1]:8080/cb'], 1, /is a loopback URI/],
    [['https://localhost:8443/cb'], 0, /is a loopback URI/],
    [[PRIVATE_USE_URI], 0, /uses the private-use scheme cursor:, which a web client \(application_type web\) may not/],
  ])(
    'refuses a web client registering %j: invalid_redirect_uri naming the URI and the rule',
    async (uris, index, rule) => {
      const reply = await register(publicBody({ application_type: 'web', redirect_uris: uris }));
      expectRefused(reply, 'invalid_redirect_uri', rule);
      expect((reply.json.error_description as string).startsWith(`redirect_uris[${index}] ${uris[index]} `)).toBe(true);
    },
  );

  it('stores and returns web for https URIs', async () => {
    const client = await registered(publicBody({ application_type: 'web' }));
    expect(client.application_type).toBe('web');
  });

  it('omitted keeps the rules of before: loopback and private-use URIs register, and no type is invented', async () => {
    const client = await registered(publicBody({ redirect_uris: [HTTPS_URI, LOOPBACK_URI, PRIVATE_USE_URI] }));
    expect(client).not.toHaveProperty('application_type');
  });

  it('PUT may not turn a loopback client into a web one, but may move it to web with https only', async () => {
    const client = await registered(publicBody({ application_type: 'native', redirect_uris: [LOOPBACK_URI] }));
    const uri = client.registration_client_uri as string;
    const token = client.registration_access_token as string;
    const id = client.client_id;

    const refused = await send(
      'PUT',
      uri,
      { ...publicBody({ application_type: 'web', redirect_uris: [LOOPBACK_URI] }), client_id: id },
      token,
    );
    expectRefused(
      refused,
      'invalid_redirect_uri',
      `redirect_uris[0] ${LOOPBACK_URI} is a loopback URI, which a web client (application_type web) may not register: its codes would reach whatever listens on the user's own machine; a native client may`,
    );
    expect((await send('GET', uri, undefined, token)).json.application_type).toBe('native');

    const replaced = await send('PUT', uri, { ...publicBody({ application_type: 'web' }), client_id: id }, token);
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.json.application_type).toBe('web');
    const read = await send('GET', uri, undefined, token);
    expect(read.json.application_type).toBe('web');
    expect(read.json.redirect_uris).toStrictEqual([HTTPS_URI]);
  });
});

describe('Client ID Metadata Documents obey the same rules', () => {
  it.each([
    [
      '/clients/bidi-name.json',
      /^the metadata document is invalid: client_name must not contain control or bidirectional-formatting characters.*U\+202E/,
    ],
    ['/clients/zero-width-uri.json', /^the metadata document is invalid: client_uri must not contain .*U\+200B/],
    [
      '/clients/web-loopback.json',
      /^the metadata document is invalid: redirect_uris\[1\] http:\/\/127\.0\.0\.1\/callback is a loopback URI, which a web client/,
    ],
  ])('refuses %s with invalid_client naming the field, and no redirect', async (path, description) => {
    const response = await authorize(`${base}${path}`, HTTPS_URI);
    expect(response.status).toBe(403);
    expect(response.headers.get('location')).toBeNull();
    const body = (await response.json()) as Json;
    expect(body.error).toBe('invalid_client');
    expect(body.error_description).toMatch(description);
  });

  it('admits a native document with a loopback URI, on any port', async () => {
    const response = await authorize(`${base}/clients/native-loopback.json`, 'http://127.0.0.1:50123/callback');
    expect(response.status, await response.text()).toBe(200);
  });

  it('admits a web document with an https URI', async () => {
    const response = await authorize(`${base}/clients/web-https.json`, HTTPS_URI);
    expect(response.status, await response.text()).toBe(200);
  });
});
