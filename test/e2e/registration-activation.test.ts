/**
 * End to end: registration activation on the local server (`npm start`'s entry point in a child
 * process) over real HTTP, on a dynalite this suite runs and reads (DYNAMODB_ENDPOINT). A client
 * registered with REGISTRATION_ACTIVATION_HOURS works within its window without a token; its
 * first token removes the stored deadline; a registration whose deadline has passed is refused
 * by /authorize, /token, /revoke and RFC 7592 management although the table still holds it (TTL
 * deletion is lazy). The server's clock cannot be moved, so the window is passed by moving the
 * stored deadline into the past, which is what the clock passing it would look like to a read;
 * the clock itself is injected at the handler level in test/integration/abuse-controls.test.ts.
 * With 0 no deadline is stored; a value that is not a whole number stops the server at start.
 */
import { createHash } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type * as oauth from 'oauth4webapi';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS_TABLE_TTL_ATTRIBUTE } from '../../lambda/contract/tables.js';
import { useDynalite } from '../support/dynalite.js';
import { removeDir, startLocalServerProcess, tempDataDir } from '../support/local-server.js';
import { useLocalServers } from '../support/local-server-fixture.js';
import { discover, obtainTokens, registerTestClient } from '../support/oauth-flow.js';

type Json = Record<string, unknown>;

const REDIRECT_URI = 'https://client.example/callback';
const CODE_CHALLENGE = createHash('sha256').update('e2e-registration-activation-verifier').digest('base64url');
const OFF_TABLES = { TABLE_NAME: 'activation-off-clients', GRANTS_TABLE_NAME: 'activation-off-grants' };

const db = useDynalite('activation-e2e');
const [server, off] = useLocalServers([
  () => ({ ...db.env(), REGISTRATION_ACTIVATION_HOURS: '24' }),
  () => ({ ...db.env(), ...OFF_TABLES, REGISTRATION_ACTIVATION_HOURS: '0' }),
]);

interface Registered {
  clientId: string;
  issuedAt: number;
  uri: string;
  token: string;
}

async function register(base: string): Promise<Registered> {
  const res = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      client_name: 'Activation E2E Client',
    }),
  });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  const json = JSON.parse(text) as Json;
  expect(json).not.toHaveProperty(CLIENTS_TABLE_TTL_ATTRIBUTE);
  return {
    clientId: json.client_id as string,
    issuedAt: json.client_id_issued_at as number,
    uri: json.registration_client_uri as string,
    token: json.registration_access_token as string,
  };
}

async function rawItem(clientId: string, table = db.clientsTable): Promise<Json | undefined> {
  const { Item } = await db.documents.send(
    new GetCommand({ TableName: table, Key: { client_id: clientId }, ConsistentRead: true }),
  );
  return Item;
}

/** What each read path answers over HTTP, as status (and OAuth error). */
async function answers(client: Registered) {
  const query = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    code_challenge: CODE_CHALLENGE,
    code_challenge_method: 'S256',
    state: 'activation',
  });
  const form = (body: Record<string, string>) => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
  });
  const outcome = async (res: Response) => {
    const text = await res.text();
    const error = text.startsWith('{') ? (JSON.parse(text) as Json).error : undefined;
    return error ? `${res.status} ${error}` : String(res.status);
  };
  return {
    authorize: await outcome(await fetch(`${server.url}/authorize?${query}`, { redirect: 'manual' })),
    token: await outcome(
      await fetch(
        `${server.url}/token`,
        form({
          grant_type: 'authorization_code',
          client_id: client.clientId,
          code: 'nobody-issued-this',
          redirect_uri: REDIRECT_URI,
        }),
      ),
    ),
    revoke: await outcome(await fetch(`${server.url}/revoke`, form({ client_id: client.clientId, token: 'unknown' }))),
    manage: await outcome(await fetch(client.uri, { headers: { Authorization: `Bearer ${client.token}` } })),
  };
}

const WITHIN_WINDOW = { authorize: '200', token: '400 invalid_grant', revoke: '200', manage: '200' };
const EXPIRED = {
  authorize: '403 invalid_client',
  token: '401 invalid_client',
  revoke: '401 invalid_client',
  manage: '401 invalid_token',
};

describe('REGISTRATION_ACTIVATION_HOURS=24', () => {
  let as: oauth.AuthorizationServer;
  beforeAll(async () => {
    as = await discover(server.url);
  });

  it('stores a new registration with a deadline 24 hours on, and it works within the window without a token', async () => {
    const client = await register(server.url);
    expect((await rawItem(client.clientId))?.[CLIENTS_TABLE_TTL_ATTRIBUTE]).toBe(client.issuedAt + 24 * 3600);
    expect(await answers(client)).toEqual(WITHIN_WINDOW);
  });

  it('the first token removes the deadline: the client is kept', async () => {
    const registered = await registerTestClient(as, 'none', REDIRECT_URI);
    const clientId = registered.client.client_id;
    expect(await rawItem(clientId)).toHaveProperty(CLIENTS_TABLE_TTL_ATTRIBUTE);
    const tokens = await obtainTokens(as, registered);
    expect(tokens.access_token).toBeTruthy();
    const item = await rawItem(clientId);
    expect(item).not.toHaveProperty(CLIENTS_TABLE_TTL_ATTRIBUTE);
    expect(typeof item?.last_used_at).toBe('number');
  });

  it('a registration past its deadline is refused by every read path, though the table still holds it', async () => {
    const client = await register(server.url);
    // What the clock passing the deadline looks like to a read: a deadline not after now.
    await db.documents.send(
      new UpdateCommand({
        TableName: db.clientsTable,
        Key: { client_id: client.clientId },
        UpdateExpression: 'SET #ttl = :past',
        ExpressionAttributeNames: { '#ttl': CLIENTS_TABLE_TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 },
      }),
    );
    expect(await answers(client)).toEqual(EXPIRED);
    expect(await rawItem(client.clientId)).toBeDefined();
  });
});

describe('REGISTRATION_ACTIVATION_HOURS=0', () => {
  it('stores no deadline', async () => {
    const client = await register(off.url);
    const item = await rawItem(client.clientId, OFF_TABLES.TABLE_NAME);
    expect(item?.client_id).toBe(client.clientId);
    expect(item).not.toHaveProperty(CLIENTS_TABLE_TTL_ATTRIBUTE);
  });
});

describe('a value that is not a whole number of hours', () => {
  it('stops the server at start, naming the variable', async () => {
    const dataDir = tempDataDir();
    try {
      const started = startLocalServerProcess({ ...db.env(), DATA_DIR: dataDir, REGISTRATION_ACTIVATION_HOURS: '1.5' });
      await expect(started).rejects.toThrow(/REGISTRATION_ACTIVATION_HOURS must be a whole number of hours/);
    } finally {
      removeDir(dataDir);
    }
  });
});
