/**
 * The import rules of docs/ARCHITECTURE.md, checked by `npm test` (npm run check): every
 * dependency points down, entries and wiring -> adapters -> domain -> contract, and lib/
 * shares only the contract with the runtime side.
 */

module.exports = {
  forbidden: [
    {
      name: 'contract-is-a-leaf',
      comment: 'lambda/contract holds facts lib/ and lambda/ share; it imports nothing of the project.',
      severity: 'error',
      from: { path: '^lambda/contract/' },
      to: { path: '^(lambda|lib|bin|test|bench)/', pathNot: '^lambda/contract/' },
    },
    {
      name: 'domain-imports-only-domain-and-contract',
      comment: 'lambda/domain is pure rules, entities and the ports it needs: no adapter, no wiring, no environment.',
      severity: 'error',
      from: { path: '^lambda/domain/' },
      to: { path: '^(lambda|lib|bin|test|bench)/', pathNot: '^lambda/(domain|contract)/' },
    },
    {
      name: 'adapters-implement-ports-and-share-only-aws-plumbing',
      comment:
        'An adapter imports the domain, the contract and lambda/aws; never another adapter, the wiring or an entry.',
      severity: 'error',
      from: { path: '^lambda/(store|keys|upstream|cimd|http|aws|mcp)/' },
      to: { path: '^(lambda|lib|bin|test|bench)/', pathNot: ['^lambda/(domain|contract|aws)/', '^lambda/$1/'] },
    },
    {
      name: 'wiring-builds-from-below',
      comment: 'lambda/wiring reads the environment and builds adapters; it never imports an entry.',
      severity: 'error',
      from: { path: '^lambda/wiring/' },
      to: { path: '^(lambda/[^/]+\\.ts$|lib/|bin/|test/|bench/)' },
    },
    {
      name: 'runtime-never-imports-infrastructure',
      severity: 'error',
      from: { path: '^lambda/' },
      to: { path: '^(lib|bin|test|bench)/' },
    },
    {
      name: 'lib-shares-only-the-contract',
      comment: 'lib/ (infrastructure and the local gateway) knows the runtime side only through lambda/contract.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lambda/', pathNot: '^lambda/contract/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^(lambda|lib|bin)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
