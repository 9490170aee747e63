/**
 * How every function is bundled. NodejsFunction (deployed) and the benchmark (which measures
 * what is deployed) both read these settings, so the measured bundle is the shipped one.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BUNDLING = {
  format: 'esm',
  target: 'node22',
  platform: 'node',
  mainFields: ['module', 'main'],
  minify: true,
  // ESM bundles lack `require`; a few CommonJS dependencies still call it.
  banner: "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);",
} as const;

/** Where NodejsFunction finds one function's entry, and the project it bundles it in. */
export interface FunctionSource {
  /** Absolute path of the entry file. */
  readonly entry: string;
  /** Set only in a source checkout: its root and lock file, so `cdk synth` works from any directory. */
  readonly projectRoot?: string;
  readonly depsLockFilePath?: string;
}

/**
 * The entry of a route-table function (`token.ts`). `lambda/` is always the sibling of the
 * folder this module is in: `lib/` in a source checkout, where the TypeScript entries are
 * bundled as they are, and `dist/lib/` in the installed package, where `dist/lambda/` holds
 * the same modules compiled by `npm run build`. An installed package has no lock file of its
 * own, so NodejsFunction uses the user's app's (found from the working directory, as for any
 * NodejsFunction), whose node_modules also provide esbuild and the functions' dependencies.
 */
export function functionSource(entry: string): FunctionSource {
  const lambdaDir = new URL('../lambda/', import.meta.url);
  const source = fileURLToPath(new URL(entry, lambdaDir));
  if (existsSync(source)) {
    const root = fileURLToPath(new URL('../', lambdaDir));
    const lockFile = `${root}package-lock.json`;
    return existsSync(lockFile) ? { entry: source, projectRoot: root, depsLockFilePath: lockFile } : { entry: source };
  }
  const compiled = fileURLToPath(new URL(entry.replace(/\.ts$/, '.js'), lambdaDir));
  if (existsSync(compiled)) return { entry: compiled };
  throw new Error(`No entry for the function ${entry}: neither ${source} nor ${compiled} exists`);
}
