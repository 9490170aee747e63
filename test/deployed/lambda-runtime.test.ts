/**
 * The Lambda stand-in's own timing, on the points where the deployed suite relies on it being
 * Lambda's: the function timeout runs from the moment the runtime receives an invocation (so a
 * slow init is not counted against the handler), an invocation over it is ended and its
 * environment replaced, and an init that runs past Lambda's init limit fails the invocation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvocationError, LambdaFunction, nodeBinaryFor } from './support/lambda-runtime.js';

const nodeBinary = nodeBinaryFor('nodejs22.x');
const LAMBDA_LIKE_HOST = process.platform === 'linux' && process.arch === 'x64' && nodeBinary !== undefined;

describe.runIf(LAMBDA_LIKE_HOST)('the Lambda runtime stand-in', () => {
  let assetDir: string;
  const functions: LambdaFunction[] = [];

  beforeAll(() => {
    assetDir = mkdtempSync(join(tmpdir(), 'lambda-runtime-'));
    // An init that takes 1.5 s, then a handler that waits as long as the event asks.
    writeFileSync(
      join(assetDir, 'slow-init.mjs'),
      [
        'await new Promise((resolve) => setTimeout(resolve, 1500));',
        'export const handler = async (event) => {',
        '  await new Promise((resolve) => setTimeout(resolve, event.waitMs));',
        '  return { waited: event.waitMs };',
        '};',
      ].join('\n'),
    );
    writeFileSync(join(assetDir, 'stuck-init.mjs'), 'await new Promise(() => setInterval(() => {}, 1000));\n');
  });

  afterAll(async () => {
    await Promise.all(functions.map((fn) => fn.close()));
    rmSync(assetDir, { recursive: true, force: true });
  });

  function lambda(handler: string, timeoutSeconds: number): LambdaFunction {
    const fn = new LambdaFunction({
      name: handler,
      assetDir,
      handler: `${handler}.handler`,
      nodeBinary: nodeBinary as string,
      timeoutSeconds,
      memoryMb: 128,
      environment: {},
    });
    functions.push(fn);
    return fn;
  }

  it('does not count a slow init against the function timeout', async () => {
    const fn = lambda('slow-init', 1);
    await expect(fn.invoke({ waitMs: 100 })).resolves.toEqual({ waited: 100 });
    expect(fn.lastDurationMs).toBeLessThan(1000);
  }, 20_000);

  it('ends an invocation that runs past the timeout, and the next one gets a new environment', async () => {
    const fn = lambda('slow-init', 1);
    await expect(fn.invoke({ waitMs: 1 })).resolves.toEqual({ waited: 1 });
    const timedOut = await fn.invoke({ waitMs: 5000 }).catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(InvocationError);
    expect((timedOut as InvocationError).error.errorType).toBe('Sandbox.Timedout');
    await expect(fn.invoke({ waitMs: 1 })).resolves.toEqual({ waited: 1 });
    expect(fn.coldStarts).toBe(2);
  }, 20_000);

  it('fails an invocation whose init runs past Lambda’s init limit', async () => {
    const fn = lambda('stuck-init', 30);
    const failed = await fn.invoke({}).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(InvocationError);
    expect((failed as InvocationError).error.errorType).toBe('Runtime.InitTimeout');
  }, 20_000);
});
