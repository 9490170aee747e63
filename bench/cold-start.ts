/**
 * Cold start: time to import each bundled handler in a fresh Node.js process, with and
 * without runtime source maps, against bare Node.js. Medians of repeated runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLING } from '../lib/bundling.js';
import { FUNCTIONS } from '../lib/routes.js';

const OUT = '.bench';
const RUNS = Number(process.env.BENCH_RUNS ?? 21);

/** Environment a function gets from its template, with placeholder values. */
const FUNCTION_ENV = {
  TABLE_NAME: 'bench-clients',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_SERVICE_NAME: 'mcp-oauth-gateway',
  POWERTOOLS_METRICS_NAMESPACE: 'McpOAuthGateway',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export async function bundle(name: keyof typeof FUNCTIONS, sourcemap: boolean): Promise<string> {
  const outfile = join(OUT, sourcemap ? 'with-maps' : 'no-maps', `${name}.mjs`);
  await build({
    entryPoints: [join('lambda', FUNCTIONS[name].entry)],
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface ImportCase {
  file?: string;
  flags?: string[];
}

function importOnce({ file, flags = [] }: ImportCase): number {
  const script = file ? `await import(${JSON.stringify(`./${file}`)})` : '0';
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, [...flags, '--input-type=module', '-e', script], {
    env: { ...FUNCTION_ENV, PATH: process.env.PATH },
    stdio: 'ignore',
  });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Median wall time of a fresh `node` importing each case, in milliseconds. Cases run
 * interleaved, round after round, so background load falls on all of them alike.
 */
export function importTimes(cases: ImportCase[]): number[] {
  const samples = cases.map(() => [] as number[]);
  for (let round = 0; round < RUNS; round++) {
    cases.forEach((importCase, i) => {
      samples[i].push(importOnce(importCase));
    });
  }
  return samples.map(median);
}

export async function coldStartTable(): Promise<string[]> {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'package.json'), '{"type":"module"}');
  const rows = [
    `| function | bundle KiB | map KiB | import ms (no maps) | import ms (maps on) | bare Node.js ms |`,
    `|---|---:|---:|---:|---:|---:|`,
  ];
  for (const name of Object.keys(FUNCTIONS) as Array<keyof typeof FUNCTIONS>) {
    const plain = await bundle(name, false);
    const mapped = await bundle(name, true);
    const kib = (file: string) => (statSync(file).size / 1024).toFixed(1);
    const [bare, withoutMaps, withMaps] = importTimes([
      {},
      { file: plain },
      { file: mapped, flags: ['--enable-source-maps'] },
    ]).map((ms) => ms.toFixed(1));
    rows.push(`| ${name} | ${kib(plain)} | ${kib(`${mapped}.map`)} | ${withoutMaps} | ${withMaps} | ${bare} |`);
  }
  return rows;
}
