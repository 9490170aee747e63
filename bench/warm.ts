/**
 * Warm cost per request of the registration handler, the redirect-URI authorizer and the token
 * authorizer (its grant check cached, read, and absent): p50 and p99 of single invocations after
 * a warm-up, with the in-memory ClientStore adapter and against dynalite. Each mode runs in its own process (bench/warm-worker.ts), because Powertools reads
 * its logging and metrics settings when the handler module loads.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../lambda/contract/environment.js';
import { percentile, table } from './stats.js';
import type { WarmSeries } from './warm-worker.js';

/** The target: a warm invocation with the in-memory adapter takes under this at p99. */
export const WARM_P99_TARGET_US = 200;

const MODES = {
  'INFO logs + metrics': { POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' },
  'logs + metrics off': { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
} as const;

function runWorker(env: Record<string, string>, resultFile: string): Promise<WarmSeries[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', 'warm-worker.ts'), resultFile], {
      env: {
        ...process.env,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...env,
      },
      // Logs and EMF metrics are written, as in Lambda, but to /dev/null.
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`warm worker exited with ${code}:\n${stderr}`));
      const results = JSON.parse(readFileSync(resultFile, 'utf8')) as WarmSeries[];
      rmSync(resultFile, { force: true });
      resolve(results);
    });
  });
}

export async function warmTable(): Promise<string[]> {
  mkdirSync('.bench', { recursive: true });
  const rows: Array<Array<string | number>> = [];
  const warmups = new Map<string, number>();
  /** The token authorizer's p50 per series and mode, for the grant check's cost line. */
  const tokenAuthorizer = new Map<string, number>();
  for (const [mode, env] of Object.entries(MODES)) {
    const results = await runWorker(env, join('.bench', `warm-${process.pid}.json`));
    for (const series of results) {
      warmups.set(series.handler === 'tokenAuthorizer' ? 'tokenAuthorizer' : series.adapter, series.warmup);
      const p99 = percentile(series.samples, 99);
      if (series.handler === 'tokenAuthorizer') {
        tokenAuthorizer.set(`${mode}|${series.adapter}`, percentile(series.samples, 50));
      }
      const target =
        series.adapter === 'memory'
          ? p99 < WARM_P99_TARGET_US
            ? 'yes'
            : `no (+${(p99 - WARM_P99_TARGET_US).toFixed(0)} µs)`
          : '';
      rows.push([
        series.handler,
        series.adapter,
        mode,
        series.samples.length,
        percentile(series.samples, 50).toFixed(1),
        p99.toFixed(1),
        percentile(series.samples, 100).toFixed(0),
        percentile(series.cpu, 50).toFixed(0),
        percentile(series.cpu, 99).toFixed(0),
        series.unexpected,
        target,
      ]);
    }
  }
  const grantCheck = Object.keys(MODES).map((mode) => {
    const [cached, read, none] = ['dynalite, grant cached', 'dynalite, grant read', 'no grant check'].map(
      (adapter) => tokenAuthorizer.get(`${mode}|${adapter}`) ?? Number.NaN,
    );
    return `token authorizer's grant check (${mode}): p50 +${(cached - none).toFixed(0)} µs when cached (hit), +${(read - none).toFixed(0)} µs when it reads the grant (miss: one strongly consistent GetItem against dynalite on loopback; a DynamoDB read in-region is typically a few ms)`;
  });
  return [
    ...grantCheck,
    '',
    `target: in-memory p99 < ${WARM_P99_TARGET_US} µs (wall clock); each series after its own warm-up (${[...warmups].map(([adapter, n]) => `${adapter} ${n}`).join(', ')} invocations); ` +
      'CPU: user + system time of the process during the invocation (dynalite runs in the same process), which time spent descheduled does not inflate',
    '',
    ...table(
      [
        'handler',
        'adapter',
        'Powertools',
        'invocations',
        'p50 µs',
        'p99 µs',
        'max µs',
        'CPU p50 µs',
        'CPU p99 µs',
        'unexpected',
        'p99 < 200 µs?',
      ],
      rows,
    ),
  ];
}
