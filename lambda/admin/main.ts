/**
 * The admin CLI: `npm run admin -- <command>` (bin/admin.ts) or, from the installed package,
 * `npx mcp-oauth-gateway admin <command>` (bin.ts). It reads the tables with the caller's own
 * AWS credentials (the SDK's default chain: profile, SSO, environment, instance role): IAM is the
 * admin's authentication, and no endpoint of the gateway serves any of this.
 *
 * Where the tables are: the deployed stack's (names from flags or TABLE_NAME / GRANTS_TABLE_NAME;
 * the stack outputs ClientsTableName and GrantsTableName), any DynamoDB-compatible endpoint
 * (--endpoint or DYNAMODB_ENDPOINT), or the running `npm start` (--local: the manifest its
 * embedded dynalite keeps in DATA_DIR, contract/local-storage.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../contract/environment.js';
import { LOCAL_STORAGE_FILE, type LocalStorageManifest } from '../contract/local-storage.js';
import { AdminInputError } from '../domain/access-admin.js';
import { DynamoDbAccessAdminStore } from '../store/dynamodb-access-admin-store.js';
import { AdminError, COMMANDS, type Command, usageError } from './commands.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  limit: { type: 'string' },
  next: { type: 'string' },
  subject: { type: 'string' },
  client: { type: 'string' },
  local: { type: 'boolean' },
  'data-dir': { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'clients-table': { type: 'string' },
  'grants-table': { type: 'string' },
} as const;

function help(program: string): string {
  return [
    `usage: ${program} <command> [options]`,
    '',
    'commands:',
    ...Object.values(COMMANDS).flatMap((command) => [`  ${command.usage}`, `      ${command.summary}`]),
    '',
    'where the tables are (your AWS credentials and region, as for the AWS CLI):',
    '  --clients-table NAME   the clients table (or TABLE_NAME; stack output ClientsTableName)',
    '  --grants-table NAME    the grants table (or GRANTS_TABLE_NAME; stack output GrantsTableName)',
    '  --region REGION        (or AWS_REGION, or your profile)',
    '  --endpoint URL         a DynamoDB-compatible endpoint (or DYNAMODB_ENDPOINT)',
    '  --local                the running `npm start`, found in its data directory',
    '  --data-dir DIR         that directory (or DATA_DIR; default .data)',
    '',
    'output:',
    '  --json                 JSON for scripts, instead of a table',
  ].join('\n');
}

interface Connection {
  endpoint?: string;
  region?: string;
  /** dynalite ignores credentials; the SDK needs some to sign with. */
  anyCredentials: boolean;
  tables: { clients?: string; grants?: string };
}

type Values = ReturnType<typeof parse>['values'];

/**
 * Client and grant ids are base64url and may start with '-': only `--name` (and -h) are options,
 * and an option's value is taken whatever its first character, so `clients show -8Mps3N` and
 * `--client -8Mps3N` mean what they say (parseArgs alone would refuse both).
 */
function separate(argv: string[]): string[] {
  const options: string[] = [];
  const positionals: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--') {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    const name = /^--([^=]+)$/.exec(arg)?.[1];
    const option = name !== undefined ? (OPTIONS as Record<string, { type: string }>)[name] : undefined;
    if (option?.type === 'string' && index + 1 < argv.length) options.push(`--${name}=${argv[++index]}`);
    else if (arg.startsWith('--') || arg === '-h') options.push(arg);
    else positionals.push(arg);
  }
  return [...options, '--', ...positionals];
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: separate(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError((error as Error).message);
  }
}

/** The running local server's storage, from the manifest it keeps while it runs. */
function localConnection(values: Values, env: NodeJS.ProcessEnv): Connection {
  const dataDir = resolve(values['data-dir'] ?? env.DATA_DIR ?? '.data');
  const file = join(dataDir, LOCAL_STORAGE_FILE);
  if (!existsSync(file))
    throw new AdminError(
      `no running local server keeps its data in ${dataDir} (start it with npm start, or name its DATA_DIR with --data-dir)`,
    );
  let manifest: LocalStorageManifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8')) as LocalStorageManifest;
  } catch {
    throw new AdminError(`${file} is not a local storage manifest`);
  }
  if (!isRunning(manifest.pid))
    throw new AdminError(`the local server that wrote ${file} is no longer running (start it with npm start)`);
  return {
    endpoint: manifest.endpoint,
    region: 'us-east-1',
    anyCredentials: true,
    tables: {
      clients: values['clients-table'] ?? manifest.tables.clients,
      grants: values['grants-table'] ?? manifest.tables.grants,
    },
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function connection(values: Values, env: NodeJS.ProcessEnv): Connection {
  if (values.local) {
    if (values.endpoint) throw usageError('give --local or --endpoint, not both');
    return localConnection(values, env);
  }
  const endpoint = values.endpoint ?? (env[ENV.dynamodbEndpoint] || undefined);
  const region = values.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
  return {
    ...(endpoint ? { endpoint } : {}),
    // A local endpoint needs a region only for signing.
    ...(region ? { region } : endpoint ? { region: 'us-east-1' } : {}),
    anyCredentials: false,
    tables: {
      clients: values['clients-table'] ?? (env[ENV.tableName] || undefined),
      grants: values['grants-table'] ?? (env[ENV.grantsTableName] || undefined),
    },
  };
}

const TABLE_FLAGS = {
  clients: '--clients-table (or TABLE_NAME; the stack output ClientsTableName)',
  grants: '--grants-table (or GRANTS_TABLE_NAME; the stack output GrantsTableName)',
} as const;

function documentClient(connection: Connection): DynamoDBDocumentClient {
  const config: DynamoDBClientConfig = {
    ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
    ...(connection.region ? { region: connection.region } : {}),
    ...(connection.anyCredentials ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: 3,
  };
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } });
}

/** What an SDK or network failure means to the operator; the SDK's own words where they are clear. */
function explain(error: unknown, connection: Connection | undefined): string {
  const { name, message, code } = error as { name?: string; message?: string; code?: string };
  const where = connection?.endpoint ?? 'DynamoDB';
  if (name === 'ResourceNotFoundException')
    return `a table was not found at ${where}${connection?.region ? ` in ${connection.region}` : ''}: check the table names and the region`;
  if (name === 'CredentialsProviderError' || /Could not load credentials/.test(message ?? ''))
    return 'no AWS credentials: sign in as for the AWS CLI (aws sso login, AWS_PROFILE, or environment variables)';
  if (/Region is missing/i.test(message ?? '')) return 'no AWS region: give --region, or set AWS_REGION';
  if (
    name === 'AccessDeniedException' ||
    name === 'UnrecognizedClientException' ||
    name === 'ExpiredTokenException' ||
    name === 'InvalidSignatureException'
  )
    return `AWS refused the request (${name}): ${message}`;
  if (code === 'ECONNREFUSED' || name === 'TimeoutError' || code === 'ENOTFOUND')
    return `cannot reach ${where}${connection?.anyCredentials ? ': is npm start still running?' : ''}`;
  return message || String(error);
}

/** Runs one command line; resolves the process's exit code. Never throws. */
export async function runAdmin(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: Io,
  program = 'npm run admin --',
): Promise<number> {
  let resolved: Connection | undefined;
  let client: DynamoDBDocumentClient | undefined;
  let json = false;
  try {
    const { values, positionals } = parse(argv);
    json = values.json ?? false;
    if (values.help || positionals.length === 0) {
      io.out(help(program));
      return values.help ? 0 : 2;
    }
    const name = positionals.slice(0, 2).join(' ');
    const command: Command | undefined = COMMANDS[name];
    if (!command) throw usageError(`unknown command ${JSON.stringify(name)}`);
    resolved = connection(values, env);
    for (const table of command.tables)
      if (!resolved.tables[table]) throw usageError(`name the ${table} table: ${TABLE_FLAGS[table]}, or use --local`);
    client = documentClient(resolved);
    const store = new DynamoDbAccessAdminStore(
      { clients: resolved.tables.clients ?? '', grants: resolved.tables.grants ?? '' },
      client,
    );
    const answer = await command.run({
      args: positionals.slice(2),
      options: values,
      store,
      now: Math.floor(Date.now() / 1000),
    });
    io.out(json ? JSON.stringify(answer.json, null, 2) : answer.text);
    return 0;
  } catch (error) {
    const message =
      error instanceof AdminError || error instanceof AdminInputError ? error.message : explain(error, resolved);
    const exitCode = error instanceof AdminError ? error.exitCode : error instanceof AdminInputError ? 2 : 1;
    if (json) io.err(JSON.stringify({ error: message }));
    else io.err(`error: ${message}`);
    return exitCode;
  } finally {
    client?.destroy();
  }
}

/** Runs the command line of this process and exits with its code. */
export async function main(argv: string[], program?: string): Promise<void> {
  // The SDK's notice about future Node versions is not the operator's business here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const io: Io = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  };
  process.exitCode = await runAdmin(argv, process.env, io, program);
}
