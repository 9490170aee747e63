/**
 * `npm run bench`: prints the benchmark tables, measured side by side in one run. Benchmarks
 * assert nothing; they report, against the targets they name.
 */
import { arch, cpus, loadavg, release, totalmem } from 'node:os';
import { coldStartTable } from './cold-start.js';
import { dynamodbRequestsTable } from './dynamodb-requests.js';
import { loadTable } from './load.js';
import { warmTable } from './warm.js';

const started = Date.now();
const cpu = cpus();
console.log(
  `machine: ${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `Linux ${release()} ${arch()}, Node.js ${process.version}; ${new Date().toISOString().slice(0, 10)}; ` +
    `load average at start ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
);

const sections: Array<[string, () => Promise<string[]>]> = [
  ['Bundle size and cold start (fresh process importing the bundled handler)', coldStartTable],
  ['Warm cost per invocation (handler called in a loop, as Lambda calls it)', warmTable],
  ['DynamoDB requests per API request (local server, whole OAuth flow, counting proxy)', dynamodbRequestsTable],
  ['Local API throughput and latency (autocannon)', loadTable],
];
for (const [title, section] of sections) {
  console.log(`\n## ${title}\n`);
  for (const row of await section()) console.log(row);
}
console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
