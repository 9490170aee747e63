/**
 * A CDK App as `cdk synth` makes it: cdk.json's context (the feature flags), and asset bundling
 * skipped unless asked for (context aws:cdk:bundling-stacks = []), so most tests stay fast and
 * need no esbuild run.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';

export const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

export function newApp(bundle = false, context: Record<string, unknown> = {}): App {
  return new App({
    context: { ...CDK_JSON_CONTEXT, ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }), ...context },
  });
}
