/**
 * The package as someone else's CDK app gets it: `npm pack` of the build (`npm run build`), the
 * tarball installed into a scratch app in a temporary directory, that app's own `app.ts` and
 * `backend.ts` type-checked strictly against the shipped declarations (no skipLibCheck) and
 * compiled, then run by plain node: the CDK app synthesizes with real bundling, so every function
 * is bundled by esbuild from the installed package and nothing reads this repository; the
 * backend calls requireScopes, the verifier and the library through their subpath exports.
 *
 * The install prefers npm's cache (`npm ci` filled it) but may reach the registry; it is the
 * slow part (tens of seconds), hence the generous timeouts.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../lib/routes.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MINUTE = 60_000;
const versionOf = (name: string): string =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** The environment of a child npm or node: none of the `npm test` run's own npm_* settings. */
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) || /^npm_config_(cache|userconfig)$/i.test(name)),
);

const exec = async (command: string, args: string[], cwd: string, timeout: number) => {
  try {
    return await run(command, args, { cwd, env: childEnv, timeout, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stderr ?? ''}\n${stdout ?? ''}`.slice(0, 8000));
  }
};

const USER_APP = `
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { McpResourceServer, type McpResourceServerProps, OAuthGateway } from 'mcp-oauth-gateway';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'UserStack', { env: { account: '123456789012', region: 'eu-west-1' } });
const gateway = new OAuthGateway(stack, 'Gateway');
const myServer = new lambda.Function(stack, 'MyMcpServer', {
  runtime: lambda.Runtime.NODEJS_24_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('export const handler = async () => ({ statusCode: 200, body: "{}" });'),
});
const props: McpResourceServerProps = { gateway, backend: { function: myServer } };
new McpResourceServer(stack, 'McpServer', props);
app.synth();
`;

/** A backend's own checks, with the runtime entry points; run by plain node once compiled. */
const USER_BACKEND = `
import { createGrantStatusCheck, DynamoDbClientStore, DynamoDbGrantStateReader } from 'mcp-oauth-gateway/library';
import { InsufficientScopeError, requireScopes } from 'mcp-oauth-gateway/require-scopes';
import { createAccessTokenVerifier, InvalidAccessTokenError } from 'mcp-oauth-gateway/verifier';

const resourceMetadata = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
requireScopes('files:read files:write', ['files:write'], { resourceMetadata });
let refusal: InsufficientScopeError | undefined;
try {
  requireScopes(['files:read'], ['files:read', 'files:write'], { resourceMetadata });
} catch (error) {
  if (!(error instanceof InsufficientScopeError)) throw error;
  refusal = error;
}
const verifier = createAccessTokenVerifier({
  issuer: 'https://auth.example.com',
  audience: 'https://mcp.example.com/mcp',
  jwks: async () => {
    throw new Error('a malformed token is refused before any key is fetched');
  },
  // Revoked grants refused within 30 s; never read here: a malformed token is refused first.
  grantStatus: createGrantStatusCheck({ reader: new DynamoDbGrantStateReader('grants-table'), ttlSeconds: 30 }),
});
const reason = await verifier.verify('not-a-jwt').then(
  () => 'accepted',
  (error: unknown) => (error instanceof InvalidAccessTokenError ? error.reason : String(error)),
);
console.log(JSON.stringify({
  statusCode: refusal?.statusCode,
  missing: refusal?.missing,
  wwwAuthenticate: refusal?.wwwAuthenticate,
  reason,
  store: typeof DynamoDbClientStore,
}));
`;

/** A strict user project: the shipped declarations must type-check without skipLibCheck. */
const USER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    types: ['node'],
  },
  files: ['app.ts', 'backend.ts'],
};

describe('the packed package in a user’s own CDK app', () => {
  const work = mkdtempSync(join(tmpdir(), 'mcp-oauth-gateway-pack-'));
  const stageDir = join(work, 'stage');
  const packDir = join(work, 'pack');
  const appDir = join(work, 'app');
  let packed: { filename: string; size: number; files: { path: string }[] };
  let template: Template;
  let assetsDir: string;

  beforeAll(async () => {
    for (const dir of [stageDir, packDir, appDir]) mkdirSync(dir);
    // What `npm pack` does here (prepack: npm run build), staged outside the working tree so that
    // no dist/ appears in it while other checks run: the same build, the same package.json.
    for (const file of ['package.json', 'README.md']) copyFileSync(join(ROOT, file), join(stageDir, file));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    await exec(
      process.execPath,
      [tsc, '-p', 'tsconfig.build.json', '--outDir', join(stageDir, 'dist')],
      ROOT,
      3 * MINUTE,
    );
    const pack = ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir];
    const { stdout } = await exec('npm', pack, stageDir, MINUTE);
    [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as (typeof packed)[];
    writeFileSync(
      join(appDir, 'package.json'),
      JSON.stringify({
        name: 'user-cdk-app',
        private: true,
        type: 'module',
        dependencies: {
          'mcp-oauth-gateway': `file:${join(packDir, packed.filename)}`,
          // The versions this repository is tested with, so the install is served from the cache.
          'aws-cdk-lib': versionOf('aws-cdk-lib'),
          constructs: versionOf('constructs'),
          '@types/node': versionOf('@types/node'),
        },
      }),
    );
    await exec('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], appDir, 5 * MINUTE);
    writeFileSync(join(appDir, 'app.ts'), USER_APP);
    writeFileSync(join(appDir, 'backend.ts'), USER_BACKEND);
    writeFileSync(join(appDir, 'tsconfig.json'), JSON.stringify(USER_TSCONFIG));
    // The user's TypeScript against the shipped declarations, compiled to the JavaScript node runs.
    await exec(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], appDir, 2 * MINUTE);
    await exec(process.execPath, ['app.js'], appDir, 3 * MINUTE);
    assetsDir = join(appDir, 'cdk.out');
    template = Template.fromJSON(JSON.parse(readFileSync(join(assetsDir, 'UserStack.template.json'), 'utf8')));
  }, 12 * MINUTE);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('ships compiled JavaScript with declarations, and no sources or tests', () => {
    const paths = packed.files.map((file) => file.path);
    expect(paths).toContain('dist/lib/index.js');
    expect(paths).toContain('dist/lib/index.d.ts');
    expect(paths).toContain('dist/lambda/token.js');
    expect(paths.filter((path) => /\.ts$/.test(path) && !path.endsWith('.d.ts'))).toEqual([]);
    expect(paths.filter((path) => /^(test|bin|bench|examples|lib\/local|dist\/lib\/local)\//.test(path))).toEqual([]);
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string>
    >;
    expect(scripts.prepack).toBe('npm run build');
    expect(scripts.build).toContain('tsc -p tsconfig.build.json');
  });

  it('bundles every gateway and resource function from the installed package', () => {
    const bundled = Object.entries(FUNCTIONS).filter(([name]) => name !== 'mcpServer');
    for (const [, spec] of bundled) {
      const functions = Object.values(
        template.findResources('AWS::Lambda::Function', { Properties: { Description: spec.description } }),
      );
      expect(functions, spec.description).toHaveLength(1);
      const key = (functions[0].Properties as { Code: { S3Key: string } }).Code.S3Key;
      expect(key).toMatch(/^[0-9a-f]{64}\.zip$/);
      const asset = join(assetsDir, `asset.${key.replace(/\.zip$/, '')}`);
      const code = join(asset, 'index.mjs');
      expect(statSync(code).size, spec.entry).toBeGreaterThan(10_000);
      const map = join(asset, 'index.mjs.map');
      if (existsSync(map)) {
        const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
        const entry = spec.entry.replace(/\.ts$/, '.js');
        expect(sources.some((source) => source.endsWith(`node_modules/mcp-oauth-gateway/dist/lambda/${entry}`))).toBe(
          true,
        );
      }
      expect(readFileSync(code, 'utf8')).not.toContain(ROOT);
    }
    // The sample server is the sample stack's only: this app named its own backend.
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Description: FUNCTIONS.mcpServer.description }, 0);
  });

  it('sends every MCP method of the resource API to the given backend, behind the token authorizer', () => {
    const [ownId] = Object.keys(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Handler: 'index.handler', Description: Match.absent() },
      }),
    );
    expect(ownId).toMatch(/^MyMcpServer/);
    const methods = Object.values(
      template.findResources('AWS::ApiGateway::Method', { Properties: { AuthorizationType: 'CUSTOM' } }),
    )
      .map((method) => method.Properties as { HttpMethod: string; Integration: { Type: string; Uri: unknown } })
      .filter((method) => JSON.stringify(method.Integration.Uri).includes(ownId));
    expect(methods.map((method) => method.HttpMethod).sort()).toEqual(['DELETE', 'GET', 'POST']);
    expect(methods.every((method) => method.Integration.Type === 'AWS_PROXY')).toBe(true);
  });

  it('serves requireScopes, the verifier and the library to plain node', async () => {
    const { stdout } = await exec(process.execPath, ['backend.js'], appDir, MINUTE);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ statusCode: 403, missing: ['files:write'], store: 'function' });
    expect(result.reason).toBe('malformed');
    expect(result.wwwAuthenticate).toContain('error="insufficient_scope"');
    expect(result.wwwAuthenticate).toContain('scope="files:read files:write"');
  });
});
