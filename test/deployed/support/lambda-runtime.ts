/**
 * Lambda's side of the Runtime API, so a bundle runs the way Lambda runs it: a process of the
 * runtime's Node.js version started in the asset directory, with Lambda's reserved variables and
 * the template's environment, running the real runtime interface client (aws-lambda-ric), which
 * imports the handler, reports init errors and polls for invocations. One invocation at a time
 * per process, as in a Lambda execution environment; a process that failed its init, timed out
 * or died is replaced on the next invocation (a new execution environment, a new cold start).
 * Timing is Lambda's: the function timeout runs from the moment the runtime receives the
 * invocation (its deadline header), and the init phase before it has a limit of its own (10 s),
 * so a slow cold start on a loaded machine is not counted against the handler.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const PROJECT_ROOT = new URL('../../../', import.meta.url).pathname;
const RIC = join(PROJECT_ROOT, 'node_modules/aws-lambda-ric/index.mjs');

/** The Node.js binary of a Lambda runtime identifier, from the lambda-node22/24 packages. */
export function nodeBinaryFor(runtime: string): string | undefined {
  const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1];
  const binary = major && join(PROJECT_ROOT, `test/deployed/runtimes/node_modules/lambda-node${major}/bin/node`);
  return binary && existsSync(binary) ? binary : undefined;
}

export function runtimeInterfaceClientInstalled(): boolean {
  return existsSync(RIC);
}

export interface FunctionError {
  errorType: string;
  errorMessage: string;
}

export class InvocationError extends Error {
  constructor(readonly error: FunctionError) {
    super(`${error.errorType}: ${error.errorMessage}`);
  }
}

export interface LambdaFunctionOptions {
  name: string;
  assetDir: string;
  handler: string;
  nodeBinary: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** The template's environment, resolved, and the role's credentials. */
  environment: Record<string, string>;
}

/** Lambda's limit on the init phase of an on-demand execution environment. */
const INIT_LIMIT_MS = 10_000;

interface Pending {
  id: string;
  event: unknown;
  /** Armed when the runtime receives the invocation: the function timeout starts then. */
  timer?: NodeJS.Timeout;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class LambdaFunction {
  /** Everything the function printed (its logs), across execution environments. */
  output = '';
  /** How many execution environments were started: cold starts. */
  coldStarts = 0;
  private server: Server | undefined;
  private child: ChildProcess | undefined;
  private initError: FunctionError | undefined;
  private waiting: ServerResponse | undefined;
  private queue: Pending[] = [];
  private current: Pending | undefined;
  private initTimer: NodeJS.Timeout | undefined;
  /** How long the last invocation ran, from the runtime receiving it to its answer. */
  lastDurationMs: number | undefined;

  constructor(private readonly options: LambdaFunctionOptions) {}

  private async runtimeApi(): Promise<string> {
    if (!this.server) {
      this.server = createServer((request, response) => this.route(request, response));
      await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    }
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private route(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = request.url ?? '';
      if (request.method === 'GET' && url.endsWith('/runtime/invocation/next')) {
        clearTimeout(this.initTimer);
        this.waiting = response;
        this.dispatch();
        return;
      }
      const result = /\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      if (request.method === 'POST' && result) {
        const pending = this.current;
        response.writeHead(202).end('{"status":"OK"}');
        if (!pending || pending.id !== result[1]) return;
        this.current = undefined;
        if (result[2] === 'response') pending.resolve(body === '' ? null : JSON.parse(body));
        else pending.reject(new InvocationError(JSON.parse(body) as FunctionError));
        return;
      }
      if (request.method === 'POST' && url.endsWith('/runtime/init/error')) {
        this.initError = JSON.parse(body) as FunctionError;
        response.writeHead(202).end('{"status":"OK"}');
        // Lambda ends an environment whose init failed; the next invocation starts a new one.
        this.child?.kill('SIGKILL');
        return;
      }
      response.writeHead(404).end();
    });
  }

  private dispatch(): void {
    if (!this.waiting || this.current || this.queue.length === 0) return;
    const pending = this.queue.shift() as Pending;
    this.current = pending;
    const response = this.waiting;
    this.waiting = undefined;
    const received = Date.now();
    const settle = { resolve: pending.resolve, reject: pending.reject };
    pending.resolve = (value) => {
      this.lastDurationMs = Date.now() - received;
      settle.resolve(value);
    };
    pending.reject = (error) => {
      this.lastDurationMs = Date.now() - received;
      settle.reject(error);
    };
    pending.timer = setTimeout(() => {
      // Lambda ends an environment whose invocation timed out.
      if (this.current !== pending) return;
      this.current = undefined;
      const child = this.child;
      this.child = undefined;
      this.waiting = undefined;
      child?.kill('SIGKILL');
      pending.reject(new InvocationError({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out' }));
      // Invocations queued behind it go to a new execution environment.
      if (this.queue.length > 0) void this.start();
    }, this.options.timeoutSeconds * 1000);
    response
      .writeHead(200, {
        'Content-Type': 'application/json',
        'Lambda-Runtime-Aws-Request-Id': pending.id,
        'Lambda-Runtime-Deadline-Ms': String(Date.now() + this.options.timeoutSeconds * 1000),
        'Lambda-Runtime-Invoked-Function-Arn': `arn:aws:lambda:us-east-1:123456789012:function:${this.options.name}`,
        'Lambda-Runtime-Trace-Id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)};Sampled=0`,
      })
      .end(JSON.stringify(pending.event));
  }

  private async start(): Promise<void> {
    const runtimeApi = await this.runtimeApi();
    this.initError = undefined;
    this.coldStarts++;
    const { options } = this;
    const child = spawn(options.nodeBinary, [RIC, options.handler], {
      cwd: options.assetDir,
      env: {
        // What Lambda sets in every Node.js execution environment (reserved variables).
        PATH: '/usr/local/bin:/usr/bin/:/bin',
        LANG: 'en_US.UTF-8',
        TZ: ':UTC',
        LAMBDA_TASK_ROOT: options.assetDir,
        LAMBDA_RUNTIME_DIR: join(PROJECT_ROOT, 'node_modules/aws-lambda-ric'),
        _HANDLER: options.handler,
        AWS_LAMBDA_RUNTIME_API: runtimeApi,
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${/node(\d+)/.exec(options.nodeBinary)?.[1] ?? ''}.x`,
        AWS_LAMBDA_FUNCTION_NAME: options.name,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: `2026/12/03/[$LATEST]${randomUUID().replace(/-/g, '')}`,
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        NODE_PATH: '/opt/nodejs/node_modules',
        ...options.environment,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.initTimer = setTimeout(() => {
      if (this.child !== child) return;
      this.initError = { errorType: 'Runtime.InitTimeout', errorMessage: 'INIT phase timed out' };
      child.kill('SIGKILL');
    }, INIT_LIMIT_MS);
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', () => {
      clearTimeout(this.initTimer);
      if (this.child !== child) return;
      this.child = undefined;
      this.waiting = undefined;
      const failed = this.current;
      this.current = undefined;
      failed?.reject(
        new InvocationError(
          this.initError ?? { errorType: 'Runtime.ExitError', errorMessage: 'The execution environment exited.' },
        ),
      );
      // Invocations queued behind a failed init fail the same way, as Lambda's do.
      for (const queued of this.queue.splice(0)) {
        queued.reject(
          new InvocationError(this.initError ?? { errorType: 'Runtime.ExitError', errorMessage: 'exited' }),
        );
      }
    });
  }

  /** Invokes the function with an event, as Lambda's synchronous Invoke does. */
  async invoke(event: unknown): Promise<unknown> {
    if (!this.child) await this.start();
    const id = randomUUID();
    return new Promise<unknown>((resolve, reject) => {
      const pending: Pending = {
        id,
        event,
        resolve: (value) => {
          clearTimeout(pending.timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(pending.timer);
          reject(error);
        },
      };
      this.queue.push(pending);
      this.dispatch();
    });
  }

  /** Ends the execution environment; the next invocation starts a new one. */
  async recycle(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    this.waiting = undefined;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async close(): Promise<void> {
    await this.recycle();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }
}
