/**
 * How every function is bundled. NodejsFunction (deployed) and the benchmark (which measures
 * what is deployed) both read these settings, so the measured bundle is the shipped one.
 */
export const BUNDLING = {
  format: 'esm',
  target: 'node22',
  platform: 'node',
  mainFields: ['module', 'main'],
  minify: true,
  // ESM bundles lack `require`; a few CommonJS dependencies still call it.
  banner: "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);",
} as const;
