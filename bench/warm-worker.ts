/**
 * Child process of bench/warm.ts: the registration handler and the redirect-URI authorizer,
 * warm, invoked in a loop as Lambda would invoke them (API Gateway events, a Lambda context),
 * first with the in-memory ClientStore adapter, then with the DynamoDB adapter against dynalite
 * (started in this process). Its stdout takes the functions' logs and metrics (the parent sends
 * it to /dev/null); the timings go as JSON to the file named by its one argument.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { ENV } from '../lambda/contract/environment.js';
import type { RegisteredClient } from '../lambda/domain/clients.js';
import { MemoryClientStore } from '../lambda/store/memory-client-store.js';
import { ClientDirectory } from '../lambda/wiring/clients.js';
import { authorizerEvent, lambdaContext, proxyEvent, type RawRequest } from '../lib/local/api-gateway-events.js';
import { ensureClientsTable, ensureGrantsTable, startDynalite } from '../lib/local/dynamodb.js';

export interface WarmSeries {
  handler: 'register' | 'redirectUriAuthorizer';
  adapter: 'memory' | 'dynalite';
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

await dynamo.close();
writeFileSync(resultFile, JSON.stringify(results));
process.exit(0);
