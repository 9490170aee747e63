/**
 * The fuzz suites' seed and budget, from the environment: FUZZ_SEED=<seed> replays a run (every
 * suite prints its seed at the start, fast-check prints it with a failure); FUZZ_SCALE multiplies
 * the number of runs of every property (default 1).
 */
import type fc from 'fast-check';

export const SEED = (() => {
  const raw = process.env.FUZZ_SEED;
  if (raw === undefined || raw === '') return Math.floor(Math.random() * 0x7fffffff);
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, not ${raw}`);
  return seed;
})();
export const SCALE = Number(process.env.FUZZ_SCALE ?? 1) > 0 ? Number(process.env.FUZZ_SCALE ?? 1) : 1;
export const PROPERTY_TIMEOUT = 180_000;

export function runs<T = unknown>(numRuns: number): fc.Parameters<T> {
  // fast-check prints the seed and the shrink path of a failure; the same seed replays it.
  return { seed: SEED, numRuns: Math.max(1, Math.round(numRuns * SCALE)) };
}
