/**
 * Child process of bench/warm.ts: the registration handler and the redirect-URI authorizer,
 * warm, invoked in a loop as Lambda would invoke them (API Gateway events, a Lambda context),
 * first with the in-memory ClientStore adapter, then with the DynamoDB adapter against dynalite
 * (started in this process). Then the token authorizer against dynalite: its grant check
 * answered from the cache (a busy client within GRANT_STATUS_CACHE_SECONDS), missing it (every
 * request reads the grant, as with 0), and without a grant check, the cost before it existed. Its stdout takes the functions' logs and metrics (the parent sends
 * it to /dev/null); the timings go as JSON to the file named by its one argument.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { createLocalJWKSet } from 'jose';
import { createDocumentClient } from '../lambda/aws/dynamodb.js';
import { ENV } from '../lambda/contract/environment.js';
import { createAccessTokenVerifier } from '../lambda/domain/access-token-verifier.js';
import type { RegisteredClient } from '../lambda/domain/clients.js';
import { createGrantStatusCheck } from '../lambda/domain/grant-status.js';
import { LocalSigningKey } from '../lambda/keys/local-signing-key.js';
import { DynamoDbGrantStateReader } from '../lambda/store/dynamodb-grant-status-reader.js';
import { DynamoDbGrantStore } from '../lambda/store/dynamodb-grant-store.js';
import { MemoryClientStore } from '../lambda/store/memory-client-store.js';
import { ClientDirectory } from '../lambda/wiring/clients.js';
import { authorizerEvent, lambdaContext, proxyEvent, type RawRequest } from '../lib/local/api-gateway-events.js';
import { ensureClientsTable, ensureGrantsTable, startDynalite } from '../lib/local/dynamodb.js';

export interface WarmSeries {
  handler: 'register' | 'redirectUriAuthorizer' | 'tokenAuthorizer';
  adapter: 'memory' | 'dynalite' | 'dynalite, grant cached' | 'dynalite, grant read' | 'no grant check';
  warmup: number;
  /** Wall-clock microseconds per invocation, in order. */
  samples: number[];
  /** CPU microseconds (user + system, this process) per invocation: unaffected by time spent descheduled. */
  cpu: number[];
  /** Invocations whose answer was not the expected one (201 / Allow). */
  unexpected: number;
}

const ISSUER = 'https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1';
const TABLE = 'bench-clients';
const GRANTS_TABLE = 'bench-grants';
const REDIRECT_URI = 'https://claude.ai/api/mcp/auth_callback';
/** A registration as an MCP client sends it (test/fixtures/registrations/claude-ai-2026.json, public). */
const REGISTRATION = JSON.stringify({
  client_name: 'Claude',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  redirect_uris: [REDIRECT_URI],
});
/** Warm-ups long enough for V8 to have optimized the handler's code (1,000 left the JIT still settling). */
const MEMORY = { warmup: 5000, runs: Number(process.env.BENCH_WARM_RUNS ?? 5000) };
const DYNALITE = { warmup: 500, runs: Number(process.env.BENCH_WARM_DYNALITE_RUNS ?? 1000) };

const resultFile = process.argv[2];
if (!resultFile) throw new Error('usage: warm-worker.ts <result file>');

const dynamo = await startDynalite(':memory:');
await ensureClientsTable(dynamo.endpoint, TABLE);
await ensureGrantsTable(dynamo.endpoint, GRANTS_TABLE);
// The two functions' template environment (lib/function-environment.ts), pointed at dynalite.
Object.assign(process.env, {
  [ENV.tableName]: TABLE,
  [ENV.grantsTableName]: GRANTS_TABLE,
  [ENV.issuerUrl]: ISSUER,
  [ENV.protectedResources]: `${ISSUER}/mcp`,
  [ENV.allowPrivateUseSchemes]: 'true',
  [ENV.dynamodbEndpoint]: dynamo.endpoint,
});
const registration = await import('../lambda/register.js');
const authorizer = await import('../lambda/redirect-uri-authorizer.js');

function raw(method: string, path: string, headers: Record<string, string>, body = ''): RawRequest {
  return {
    method,
    url: new URL(`${ISSUER}${path}`),
    headers: Object.fromEntries(
      Object.entries({ host: 'abcdef1234.execute-api.us-east-1.amazonaws.com', 'user-agent': 'bench', ...headers }).map(
        ([name, value]) => [name, [value]],
      ),
    ),
    body: Buffer.from(body),
    sourceIp: '192.0.2.1',
  };
}

function registrationEvent(): APIGatewayProxyEvent {
  return proxyEvent(
    raw('POST', '/register', { 'content-type': 'application/json' }, REGISTRATION),
    '/register',
    '/register',
    null,
  );
}

function authorizeEventFor(clientId: string): () => APIGatewayRequestAuthorizerEvent {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 'af0ifjsldkj',
    scope: 'openid',
  });
  return () => authorizerEvent(proxyEvent(raw('GET', `/authorize?${query}`, {}), '/authorize', '/authorize', null));
}

type Invoke<E> = (event: E, context: Context) => Promise<unknown>;

/** Times each invocation alone: the event and context are built before the clock starts. */
async function series<E>(
  handler: WarmSeries['handler'],
  adapter: WarmSeries['adapter'],
  invoke: Invoke<E>,
  makeEvent: () => E,
  expected: (result: unknown) => boolean,
  { warmup, runs }: { warmup: number; runs: number },
): Promise<WarmSeries> {
  const samples: number[] = [];
  const cpu: number[] = [];
  let unexpected = 0;
  for (let i = 0; i < warmup + runs; i++) {
    const event = makeEvent();
    const context = lambdaContext(handler, randomUUID());
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    const result = await invoke(event, context);
    const elapsed = Number(process.hrtime.bigint() - start) / 1000;
    const cpuUsed = process.cpuUsage(cpuStart);
    if (i < warmup) continue;
    samples.push(elapsed);
    cpu.push(cpuUsed.user + cpuUsed.system);
    if (!expected(result)) unexpected++;
  }
  return { handler, adapter, warmup, samples, cpu, unexpected };
}

const created = (result: unknown) => (result as { statusCode?: number }).statusCode === 201;
const allowed = (result: unknown) =>
  (result as { policyDocument?: { Statement: Array<{ Effect: string }> } }).policyDocument?.Statement[0]?.Effect ===
  'Allow';

/** The client the authorizer is asked about, registered through the handler under test. */
async function registerOne(invoke: Invoke<APIGatewayProxyEvent>): Promise<string> {
  const result = (await invoke(registrationEvent(), lambdaContext('register', randomUUID()))) as { body: string };
  return (JSON.parse(result.body) as RegisteredClient).client_id;
}

const results: WarmSeries[] = [];

// In memory: the same handlers, built by their factories with the in-memory adapter.
const memory = new MemoryClientStore();
const memoryRegister = registration.createHandler({
  ...(await registration.depsFromEnv()),
  store: memory,
});
const memoryAuthorizer = authorizer.createHandler({
  // The directory the deployed authorizer uses (idle expiry, metadata-document ids), over the memory store.
  clients: new ClientDirectory(memory, {
    allowLoopbackHttp: false,
    resolve: () => Promise.reject(new Error('no client metadata documents in this benchmark')),
  }),
});
results.push(await series('register', 'memory', memoryRegister, registrationEvent, created, MEMORY));
const memoryClient = await registerOne(memoryRegister);
results.push(
  await series('redirectUriAuthorizer', 'memory', memoryAuthorizer, authorizeEventFor(memoryClient), allowed, MEMORY),
);

// Against dynalite: the modules' own handlers, as deployed (DynamoDB adapter from the environment).
results.push(await series('register', 'dynalite', registration.handler, registrationEvent, created, DYNALITE));
const storedClient = await registerOne(registration.handler);
results.push(
  await series(
    'redirectUriAuthorizer',
    'dynalite',
    authorizer.handler,
    authorizeEventFor(storedClient),
    allowed,
    DYNALITE,
  ),
);

// The token authorizer: its handler with a verifier over the same signing key's JWKS (as the
// remote JWKS is once fetched), and the grant check as deployed (strongly consistent GetItem).
const keyDir = mkdtempSync(join(tmpdir(), 'bench-key-'));
const key = await LocalSigningKey.loadOrCreate(join(keyDir, 'signing-key.json'));
const jwks = createLocalJWKSet(await key.jwks());
const RESOURCE = `${ISSUER}/mcp`;
const GRANT_ID = 'BenchGrantBenchGrant00';
const now = Math.floor(Date.now() / 1000);
await new DynamoDbGrantStore(GRANTS_TABLE, createDocumentClient(dynamo.endpoint)).createGrant({
  grant_id: GRANT_ID,
  client_id: 'bench-client',
  subject: 'bench-user',
  scope: 'mcp:read',
  resource: RESOURCE,
  created_at: now,
  grant_expires_at: now + 86_400,
  expires_at: now + 86_400,
  code_hash: 'h'.repeat(43),
  code_challenge: 'c'.repeat(43),
  redirect_uri: REDIRECT_URI,
  redirect_uri_in_request: true,
  code_expires_at: now + 60,
  code_redeemed_at: now,
});
const accessToken = await key.sign(
  {
    iss: ISSUER,
    sub: 'bench-user',
    aud: RESOURCE,
    client_id: 'bench-client',
    scope: 'mcp:read',
    sid: GRANT_ID,
    iat: now,
    exp: now + 3600,
    jti: randomUUID(),
  },
  'at+jwt',
);
Object.assign(process.env, {
  [ENV.resourceUrl]: RESOURCE,
  [ENV.jwksUrl]: `${ISSUER}/jwks`,
  [ENV.resourceMetadataUrl]: `${ISSUER}/.well-known/oauth-protected-resource/mcp`,
});
const tokenAuthorizer = await import('../lambda/token-authorizer.js');
const reader = new DynamoDbGrantStateReader(GRANTS_TABLE);
function tokenAuthorizerWith(ttlSeconds: number | undefined) {
  return tokenAuthorizer.createHandler({
    verifier: createAccessTokenVerifier({
      issuer: ISSUER,
      audience: RESOURCE,
      jwks,
      ...(ttlSeconds === undefined ? {} : { grantStatus: createGrantStatusCheck({ reader, ttlSeconds }) }),
    }),
    resourceMetadata: `${ISSUER}/.well-known/oauth-protected-resource/mcp`,
  });
}
const mcpEvent = () =>
  authorizerEvent(
    proxyEvent(raw('POST', '/mcp', { authorization: `Bearer ${accessToken}` }, '{}'), '/mcp', '/mcp', null),
  );
for (const [adapter, ttl] of [
  ['dynalite, grant cached', 30],
  ['dynalite, grant read', 0],
  ['no grant check', undefined],
] as const) {
  results.push(await series('tokenAuthorizer', adapter, tokenAuthorizerWith(ttl), mcpEvent, allowed, DYNALITE));
}
rmSync(keyDir, { recursive: true, force: true });

await dynamo.close();
writeFileSync(resultFile, JSON.stringify(results));
process.exit(0);
