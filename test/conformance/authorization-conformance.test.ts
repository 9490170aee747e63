/**
 * The MCP conformance suite (@modelcontextprotocol/conformance, its `authorization` command)
 * against the local server: the `authorization-server-metadata-endpoint` scenario, which fetches
 * the RFC 8414 metadata and checks status 200, a JSON Content-Type, issuer (equal to the URL the
 * suite was given), authorization_endpoint, token_endpoint, response_types_supported with "code"
 * and code_challenge_methods_supported with "S256". It also reports whether
 * client_id_metadata_document_supported is true, as a warning only.
 *
 * The suite needs Node.js 22 (it imports `fs.globSync`), while this project runs on Node.js 20.
 * So the suite and a Node.js 22 binary (the registry's `node` package) live in their own nested
 * package, test/conformance/runner/, with its own lockfile: `npm ci --prefix
 * test/conformance/runner` installs it when its node_modules is missing or out of date, and the
 * suite runs with that binary. Nothing here touches the `node` the rest of the project uses.
 *
 * If the npm registry cannot be reached for that install, the test is skipped with a message
 * saying so; any other install failure fails it.
 *
 * On failure the test prints the suite's output and each failed check with what the server served.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir } from '../support/local-server.js';
import { useLocalServer } from '../support/local-server-fixture.js';

const RUNNER_DIR = fileURLToPath(new URL('./runner/', import.meta.url));
const RUNNER_MODULES = join(RUNNER_DIR, 'node_modules');
const SCENARIO = 'authorization-server-metadata-endpoint';
const METADATA_CHECK = 'authorization-server-metadata';

const INSTALL_TIMEOUT_MS = 80_000;
const PING_TIMEOUT_MS = 10_000;
const SUITE_TIMEOUT_MS = 30_000;

/** Errors by which npm says it could not talk to the registry at all. */
const REGISTRY_UNREACHABLE =
  /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ESOCKETTIMEDOUT|ECONNRESET|ENETUNREACH|EHOSTUNREACH|ENETDOWN)\b|npm (?:error|ERR!) network|npm (?:error|ERR!) code E50[234]\b/;

interface Check {
  id: string;
  name: string;
  description: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED' | string;
  errorMessage?: string;
  details?: unknown;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
}

/** Runs a command to completion (or kills its whole process group after timeoutMs). */
function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<RunResult> {
  return new Promise((done) => {
    const posix = process.platform !== 'win32';
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: posix, // its own process group, so a timeout kills npm's children too
        shell: !posix && command === 'npm',
      });
    } catch (error) {
      done({ code: null, signal: null, timedOut: false, output: String(error) });
      return;
    }
    let output = '';
    let timedOut = false;
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (posix && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      done({ code: null, signal: null, timedOut, output: `${output}\n${error}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, timedOut, output });
    });
  });
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function binPath(packageDir: string, name: string): string | undefined {
  const manifestPath = join(packageDir, 'package.json');
  if (!existsSync(manifestPath)) return undefined;
  const bin = readJson(manifestPath).bin as string | Record<string, string> | undefined;
  const relative = typeof bin === 'string' ? bin : bin?.[name];
  return relative ? join(packageDir, relative) : undefined;
}

/**
 * The Node.js binary of the nested `node` package: its preinstall script installs
 * node-<platform>-<arch> inside it and links that package's binary to node/bin/node (the `bin`
 * its package.json names, rewritten to bin/node.exe on Windows). Falls back to the
 * platform package's own binary.
 */
function nestedNodeBinary(): string | undefined {
  const nodePackage = join(RUNNER_MODULES, 'node');
  const candidates = [binPath(nodePackage, 'node')];
  const platformPackages = join(nodePackage, 'node_modules');
  if (existsSync(platformPackages)) {
    for (const entry of readdirSync(platformPackages)) {
      if (/^node(-bin)?-[a-z0-9]+-[a-z0-9]+$/.test(entry))
        candidates.push(binPath(join(platformPackages, entry), 'node'));
    }
  }
  return candidates.find((candidate): candidate is string => !!candidate && existsSync(candidate));
}

function conformanceCli(): string | undefined {
  const cli = binPath(join(RUNNER_MODULES, '@modelcontextprotocol', 'conformance'), 'conformance');
  return cli && existsSync(cli) ? cli : undefined;
}

/** True when node_modules holds exactly what runner/package.json pins. */
function runnerInstalled(): boolean {
  const pinned = readJson(join(RUNNER_DIR, 'package.json')).dependencies as Record<string, string>;
  for (const [name, version] of Object.entries(pinned)) {
    const manifest = join(RUNNER_MODULES, name, 'package.json');
    if (!existsSync(manifest) || readJson(manifest).version !== version) return false;
  }
  return !!nestedNodeBinary() && !!conformanceCli();
}

function nodeMajor(binary: string): number {
  const version = execFileSync(binary, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 10_000 });
  return Number.parseInt(version, 10);
}

const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

/** Installs test/conformance/runner; returns why the test must be skipped, if it must. */
async function installRunner(): Promise<string | undefined> {
  if (runnerInstalled()) return undefined;
  const started = Date.now();
  const install = await run('npm', ['ci', '--prefix', RUNNER_DIR, '--no-audit', '--no-fund'], {
    timeoutMs: INSTALL_TIMEOUT_MS,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (install.code === 0 && !install.timedOut) {
    if (!runnerInstalled()) {
      throw new Error(`npm ci --prefix ${RUNNER_DIR} succeeded but left no Node.js 22 binary or conformance CLI`);
    }
    console.info(`[test/conformance] installed ${RUNNER_DIR} in ${seconds} s`);
    return undefined;
  }
  let unreachable = REGISTRY_UNREACHABLE.test(install.output);
  if (!unreachable && install.timedOut) {
    // A black-holed registry shows up as a hang; tell it apart from a slow or stuck install.
    const ping = await run('npm', ['ping', '--prefix', RUNNER_DIR], { timeoutMs: PING_TIMEOUT_MS });
    unreachable = ping.code !== 0 || ping.timedOut;
  }
  const what = install.timedOut
    ? `did not finish within ${INSTALL_TIMEOUT_MS / 1000} s`
    : `failed (exit ${install.code ?? install.signal})`;
  if (unreachable) {
    return `npm ci --prefix ${RUNNER_DIR} ${what}: the npm registry is unreachable, so the MCP conformance suite and Node.js 22 cannot be installed.`;
  }
  throw new Error(`npm ci --prefix ${RUNNER_DIR} ${what}:\n${install.output}`);
}

let skipReason: string | undefined;
let node22: string;
let cli: string;
let resultsDir: string | undefined;

beforeAll(async () => {
  skipReason = await installRunner();
  if (skipReason) {
    console.warn(`[test/conformance] SKIPPING the MCP conformance test: ${skipReason}`);
    return;
  }
  node22 = nestedNodeBinary() as string;
  cli = conformanceCli() as string;
  const major = nodeMajor(node22);
  if (major < 22) throw new Error(`${node22} is Node.js ${major}; the conformance suite needs 22 or later`);
}, 130_000);

afterAll(() => {
  if (resultsDir) removeDir(resultsDir);
});

const server = useLocalServer({}, { when: () => skipReason === undefined });

describe('MCP conformance suite: authorization server', () => {
  it(`passes the ${SCENARIO} scenario`, async ({ skip, onTestFailed }) => {
    if (skipReason) skip(skipReason);

    resultsDir = mkdtempSync(join(tmpdir(), 'mcp-gw-conformance-'));
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // vitest's or tsx's loader flags are not for Node.js 22 running the suite
    const args = [cli, 'authorization', '--url', server.url, '--scenario', SCENARIO, '--output-dir', resultsDir];
    const result = await run(node22, args, { cwd: RUNNER_DIR, env, timeoutMs: SUITE_TIMEOUT_MS });
    const output = stripAnsi(result.output);

    const resultDir = readdirSync(resultsDir).find((entry) => entry.startsWith(`authorization-server-${SCENARIO}-`));
    const checksFile = resultDir ? join(resultsDir, resultDir, 'checks.json') : undefined;
    const checks: Check[] = checksFile && existsSync(checksFile) ? JSON.parse(readFileSync(checksFile, 'utf8')) : [];

    const report = [
      `$ ${[node22, ...args].join(' ')}`,
      `exit ${result.code ?? result.signal}${result.timedOut ? ` (killed after ${SUITE_TIMEOUT_MS / 1000} s)` : ''}`,
      output.trim(),
      ...checks
        .filter((check) => check.status === 'FAILURE')
        .map(
          (check) =>
            `FAILED ${check.id}: ${check.errorMessage ?? check.description}\n` +
            `  details: ${JSON.stringify(check.details ?? null, null, 2).replace(/\n/g, '\n  ')}`,
        ),
      ...(checksFile ? [] : ['the suite wrote no checks.json']),
    ].join('\n');
    onTestFailed(() => {
      console.error(`[test/conformance] MCP conformance suite output:\n${report}`);
    });

    for (const check of checks.filter((c) => c.status === 'WARNING')) {
      console.warn(`[test/conformance] ${SCENARIO} warning: ${check.id}: ${check.errorMessage ?? check.description}`);
    }

    const seeAbove = 'the suite output is printed above';
    expect(checks.length, `the suite reported no checks; ${seeAbove}`).toBeGreaterThan(0);
    expect(
      checks.filter((check) => check.status === 'FAILURE').map((check) => `${check.id}: ${check.errorMessage}`),
      `failed conformance checks; ${seeAbove}`,
    ).toEqual([]);
    expect(checks.find((check) => check.id === METADATA_CHECK)?.status, `${METADATA_CHECK}; ${seeAbove}`).toBe(
      'SUCCESS',
    );
    expect(result.code, `the suite's exit code; ${seeAbove}`).toBe(0);
  });
});
