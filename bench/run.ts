/** `npm run bench`: prints the benchmark tables. Benchmarks assert nothing; they report. */
import { cpus } from 'node:os';
import { coldStartTable } from './cold-start.js';

console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node.js ${process.version}\n`);
console.log('Cold start (fresh process, import of the bundled handler)\n');
for (const row of await coldStartTable()) console.log(row);
