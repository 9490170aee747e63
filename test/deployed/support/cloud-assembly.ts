/**
 * The app as `cdk synth` builds it: bin/app.ts run the way the CDK CLI runs it (CDK_OUTDIR,
 * cdk.json's context in CDK_CONTEXT_JSON), with real esbuild bundles, then read back: each
 * AWS::Lambda::Function with its asset directory, handler, runtime and environment.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUNCTIONS, type FunctionName } from '../../../lib/routes.js';

export type CfnValue = unknown;

export interface CfnResource {
  Type: string;
  Properties?: Record<string, CfnValue>;
}

export interface Template {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: CfnValue }>;
}

export interface TemplateFunction {
  logicalId: string;
  /** The route-table function it was built from. */
  name: FunctionName;
  /** `index.handler` */
  handler: string;
  /** `nodejs24.x` */
  runtime: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** Directory of the bundled asset (index.mjs). */
  assetDir: string;
  /** Environment variables, intrinsics unresolved. */
  environment: Record<string, CfnValue>;
  /** Logical id of its IAM role. */
  roleLogicalId: string;
  loggingFormat?: string;
}

export interface SynthesizedApp {
  dir: string;
  stackName: string;
  template: Template;
  functions: TemplateFunction[];
  remove(): void;
}

const PROJECT_ROOT = new URL('../../../', import.meta.url).pathname;

/** Synthesizes bin/app.ts with the given GATEWAY_* settings (see lib/app-config.ts). */
export async function synthesizeApp(settings: Record<string, string> = {}): Promise<SynthesizedApp> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-gw-deployed-'));
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: object };
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      ...settings,
      CDK_OUTDIR: dir,
      CDK_CONTEXT_JSON: JSON.stringify(cdkJson.context ?? {}),
      CDK_DISABLE_CLI_TELEMETRY: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`bin/app.ts failed to synthesize (exit ${code}):\n${output}`);
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const [stackName, stack] = Object.entries(manifest.artifacts).find(
    ([, artifact]) => artifact.type === 'aws:cloudformation:stack',
  ) as [string, { properties: { templateFile: string } }];
  const template = JSON.parse(readFileSync(join(dir, stack.properties.templateFile), 'utf8')) as Template;
  const assets = JSON.parse(readFileSync(join(dir, `${stackName}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string; packaging: string } }>;
  };
  const functions = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]): TemplateFunction => {
      const p = resource.Properties as Record<string, any>;
      const name = (Object.keys(FUNCTIONS) as FunctionName[]).find(
        (candidate) => FUNCTIONS[candidate].description === p.Description,
      );
      if (!name) throw new Error(`${logicalId} is not a route-table function (description ${p.Description})`);
      const hash = String(p.Code.S3Key).replace(/\.zip$/, '');
      const asset = assets.files[hash];
      if (!asset || asset.source.packaging !== 'zip') throw new Error(`${logicalId}: no directory asset ${hash}`);
      return {
        logicalId,
        name,
        handler: p.Handler,
        runtime: p.Runtime,
        timeoutSeconds: p.Timeout ?? 3,
        memoryMb: p.MemorySize ?? 128,
        assetDir: join(dir, asset.source.path),
        environment: p.Environment?.Variables ?? {},
        roleLogicalId: p.Role?.['Fn::GetAtt']?.[0],
        loggingFormat: p.LoggingConfig?.LogFormat,
      };
    });
  return { dir, stackName, template, functions, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
