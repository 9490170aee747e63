/**
 * Bundle size and cold start: time for a fresh Node.js process to import each bundled handler,
 * against bare Node.js and against the floor the function cannot avoid, the AWS SDK clients it
 * uses bundled alone with the same settings. No network: secrets are given by value, KMS keys
 * by placeholder ARN (KMS is only called on a request), credentials are dummies.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLING } from '../lib/bundling.js';
import { functionEnvironment, type GatewaySettings } from '../lib/function-environment.js';
import { FUNCTIONS, type FunctionName, type FunctionSpec } from '../lib/routes.js';
import { median, table } from './stats.js';

const OUT = '.bench';
const RUNS = Number(process.env.BENCH_RUNS ?? 21);
/** The target: a function's import may add at most this much to its SDK floor. */
export const COLD_START_TARGET = 1.15;
/** The token authorizer (in every MCP request's path) against bare Node.js, with its grant check's DynamoDB client. */
export const TOKEN_AUTHORIZER_BARE_TARGET = 1.3;

/** What a Lambda runtime adds to every function's environment, with placeholder credentials. */
const RUNTIME_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

const ISSUER = 'https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1';
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000';

/**
 * A deployment's settings as the construct derives them (lib/oauth-gateway.ts), with placeholder
 * values. The cookie key is given by value: fetching it from Secrets Manager is a network call.
 */
const SETTINGS: GatewaySettings = {
  clientsTable: 'bench-clients',
  grantsTable: 'bench-grants',
  issuer: ISSUER,
  resources: [`${ISSUER}/mcp`],
  scopes: [],
  lifetimes: {},
  redirectUriPolicy: { allowPrivateUseSchemes: true },
  cookieSecret: { value: 'bench-cookie-key-bench-cookie-key-0000000000' },
  cookieSecure: true,
  upstream: { issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench', clientId: 'bench' },
  signing: { kmsKeyIds: [KEY_ARN] },
  resourceServer: {
    resourceUrl: `${ISSUER}/mcp`,
    metadataUrl: `${ISSUER}/.well-known/oauth-protected-resource/mcp`,
    jwksUrl: `${ISSUER}/jwks`,
  },
};

/** The AWS SDK clients a function instantiates, from what the route table says it touches. */
type SdkClient = 'dynamodb' | 'kms' | 'secretsManager';

export function sdkClientsOf(spec: FunctionSpec): SdkClient[] {
  const clients: SdkClient[] = [];
  if (spec.clients.length > 0 || spec.grants.length > 0) clients.push('dynamodb');
  if (spec.signingKey) clients.push('kms');
  if (spec.secrets || spec.registration) clients.push('secretsManager');
  return clients;
}

const SDK_SOURCE: Record<SdkClient, { imports: string; instance: string }> = {
  dynamodb: {
    imports:
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nimport { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
    instance: 'DynamoDBDocumentClient.from(new DynamoDBClient({}))',
  },
  kms: { imports: "import { KMSClient } from '@aws-sdk/client-kms';", instance: 'new KMSClient({})' },
  secretsManager: {
    imports: "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';",
    instance: 'new SecretsManagerClient({})',
  },
};

function floorName(clients: SdkClient[]): string {
  return clients.length > 0 ? clients.join('+') : 'none';
}

/** A tiny entry that imports and instantiates exactly these SDK clients, and nothing else. */
function floorEntry(clients: SdkClient[]): string {
  const file = join(OUT, 'floors', `${floorName(clients)}.mjs`);
  const source = [
    ...clients.map((client) => SDK_SOURCE[client].imports),
    `export const clients = [${clients.map((client) => SDK_SOURCE[client].instance).join(', ')}];`,
    '',
  ].join('\n');
  writeFileSync(file, source);
  return file;
}

/** Bundles an entry with the deployed settings (lib/bundling.ts), with or without a source map. */
async function bundle(entry: string, name: string, sourcemap: boolean): Promise<string> {
  const outfile = join(OUT, sourcemap ? 'with-maps' : 'no-maps', `${name}.mjs`);
  await build({
    entryPoints: [entry],
    bundle: true,
    outfile,
    format: BUNDLING.format,
    target: BUNDLING.target,
    platform: BUNDLING.platform,
    mainFields: [...BUNDLING.mainFields],
    minify: BUNDLING.minify,
    banner: { js: BUNDLING.banner },
    sourcemap,
    sourcesContent: false,
    logLevel: 'silent',
  });
  return outfile;
}

interface ImportCase {
  file?: string;
  maps?: boolean;
  env?: Record<string, string>;
}

function nodeArgs({ file, maps }: ImportCase): string[] {
  const script = file ? `await import(${JSON.stringify(`./${file}`)})` : '0';
  return [...(maps ? ['--enable-source-maps'] : []), '--input-type=module', '-e', script];
}

function childEnv(importCase: ImportCase): NodeJS.ProcessEnv {
  return { ...RUNTIME_ENV, ...importCase.env, PATH: process.env.PATH };
}

/** Wall time of one fresh `node` importing the case and exiting, in milliseconds. */
function importOnce(importCase: ImportCase): number {
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, nodeArgs(importCase), { env: childEnv(importCase), stdio: 'ignore', timeout: 30_000 });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Undefined when the case imports cleanly, else the first lines of what it printed. */
function importProblem(importCase: ImportCase): string | undefined {
  const result = spawnSync(process.execPath, nodeArgs(importCase), {
    env: childEnv(importCase),
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status === 0) return undefined;
  return `${result.stderr}${result.error?.message ?? ''}`.split('\n').slice(0, 3).join(' ').slice(0, 200);
}

/**
 * Median wall time of each case, in milliseconds. All cases run interleaved, one of each per
 * round, so background load and CPU frequency drift fall on all of them alike.
 */
function importTimes(cases: ImportCase[]): number[] {
  const samples = cases.map(() => [] as number[]);
  for (let round = 0; round < RUNS; round++) {
    cases.forEach((importCase, i) => {
      samples[i].push(importOnce(importCase));
    });
  }
  return samples.map(median);
}

const kib = (file: string) => (statSync(file).size / 1024).toFixed(1);

export async function coldStartTable(): Promise<string[]> {
  mkdirSync(join(OUT, 'floors'), { recursive: true });
  writeFileSync(join(OUT, 'package.json'), '{"type":"module"}');
  const names = Object.keys(FUNCTIONS) as FunctionName[];

  // One floor per distinct set of SDK clients; functions using the same clients share it.
  const floors = new Map<string, { plain: string; mapped: string }>();
  for (const name of names) {
    const clients = sdkClientsOf(FUNCTIONS[name]);
    const key = floorName(clients);
    if (floors.has(key)) continue;
    const entry = floorEntry(clients);
    floors.set(key, {
      plain: await bundle(entry, `floor-${key}`, false),
      mapped: await bundle(entry, `floor-${key}`, true),
    });
  }

  const functions = [];
  for (const name of names) {
    const entry = join('lambda', FUNCTIONS[name].entry);
    const env = functionEnvironment(FUNCTIONS[name], SETTINGS);
    const plain = await bundle(entry, name, false);
    const mapped = await bundle(entry, name, true);
    const problem = importProblem({ file: plain, env });
    functions.push({ name, env, plain, mapped, problem, floor: floorName(sdkClientsOf(FUNCTIONS[name])) });
  }

  // Every case of every function in one interleaved series: bare Node.js, each floor, each bundle.
  const cases: ImportCase[] = [{}];
  const floorIndex = new Map<string, { plain: number; mapped: number }>();
  for (const [key, floor] of floors) {
    floorIndex.set(key, { plain: cases.length, mapped: cases.length + 1 });
    cases.push({ file: floor.plain }, { file: floor.mapped, maps: true });
  }
  const functionIndex = new Map<string, { plain: number; mapped: number }>();
  for (const fn of functions) {
    if (fn.problem) continue;
    functionIndex.set(fn.name, { plain: cases.length, mapped: cases.length + 1 });
    cases.push({ file: fn.plain, env: fn.env }, { file: fn.mapped, env: fn.env, maps: true });
  }
  const times = importTimes(cases);
  const ms = (index: number) => times[index].toFixed(1);

  /** Whether the import is within the target, and what it adds to the floor. */
  const verdict = (ratio: number) => {
    const added = ((ratio - 1) * 100).toFixed(1);
    return `${ratio <= COLD_START_TARGET ? 'yes' : 'no'} (${ratio >= 1 ? '+' : ''}${added}%)`;
  };
  const rows = functions.map((fn) => {
    const floor = floorIndex.get(fn.floor) as { plain: number; mapped: number };
    const floorFiles = floors.get(fn.floor) as { plain: string; mapped: string };
    const at = functionIndex.get(fn.name);
    const sizes = [fn.floor, kib(fn.plain), kib(`${fn.mapped}.map`), kib(floorFiles.plain)];
    if (!at) return [fn.name, ...sizes, `import failed: ${fn.problem}`, '', '', '', '', '', '', ''];
    const ratio = times[at.plain] / times[floor.plain];
    const ratioMapped = times[at.mapped] / times[floor.mapped];
    return [
      fn.name,
      ...sizes,
      ms(at.plain),
      ms(floor.plain),
      ratio.toFixed(2),
      verdict(ratio),
      ms(at.mapped),
      ms(floor.mapped),
      ratioMapped.toFixed(2),
      verdict(ratioMapped),
    ];
  });
  const authorizerAt = functionIndex.get('tokenAuthorizer');
  const authorizerLine = authorizerAt
    ? (() => {
        const ratio = times[authorizerAt.plain] / times[0];
        const ratioMapped = times[authorizerAt.mapped] / times[0];
        const ok = (value: number) => (value <= TOKEN_AUTHORIZER_BARE_TARGET ? 'yes' : 'no');
        return `token authorizer (with its grant check's DynamoDB client) against bare Node.js: ${ratio.toFixed(2)}× (${ok(ratio)}), maps on ${ratioMapped.toFixed(2)}× (${ok(ratioMapped)}); target ≤ ${TOKEN_AUTHORIZER_BARE_TARGET}×`;
      })()
    : 'token authorizer: import failed';
  return [
    authorizerLine,
    `bare Node.js (no import): ${ms(0)} ms; ${RUNS} interleaved rounds of ${cases.length} fresh processes; medians; target: import ≤ ${COLD_START_TARGET} × SDK floor`,
    '',
    ...table(
      [
        'function',
        'SDK clients',
        'bundle KiB',
        'map KiB',
        'floor KiB',
        'import ms',
        'floor ms',
        'import/floor',
        '≤ +15%?',
        'import ms (maps on)',
        'floor ms (maps on)',
        'import/floor (maps on)',
        '≤ +15%? (maps on)',
      ],
      rows,
    ),
  ];
}
