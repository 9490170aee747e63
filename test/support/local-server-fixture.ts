/**
 * The local server as a suite fixture: started in a beforeAll, stopped and its data removed in
 * an afterAll, so that each suite states only what is particular to it (its environment, how
 * many servers). Apart from local-server.ts because bench/ starts servers too, outside Vitest.
 */
import { afterAll, beforeAll } from 'vitest';
import { type LocalServerProcess, removeDir, startLocalServerProcess } from './local-server.js';

/** Environment for one server: fixed, or computed when it starts (from what earlier hooks set up). */
export type ServerEnv = Record<string, string> | (() => Record<string, string>);

/** A server started for a suite; read it only from tests and hooks that run after its beforeAll. */
export interface LocalServer {
  /** Its origin, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly process: LocalServerProcess;
}

export interface UseLocalServerOptions {
  /** Evaluated when the suite starts: false leaves the server unstarted (a suite that skips itself). */
  when?: () => boolean;
}

/**
 * Starts a local server before the suite's tests (its beforeAll, in the order hooks are
 * registered) and stops it and removes its data directory after them.
 */
export function useLocalServer(env: ServerEnv = {}, options: UseLocalServerOptions = {}): LocalServer {
  return useLocalServers([env], options)[0];
}

/** Several servers, started side by side in one beforeAll; all that started are stopped, even if one failed. */
export function useLocalServers(envs: ServerEnv[], options: UseLocalServerOptions = {}): LocalServer[] {
  const started: Array<Started | undefined> = envs.map(() => undefined);
  beforeAll(async () => {
    if (options.when && !options.when()) return;
    const outcomes = await Promise.allSettled(envs.map((env) => start(typeof env === 'function' ? env() : env)));
    outcomes.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') started[index] = outcome.value;
    });
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  });
  afterAll(async () => {
    await Promise.all(started.map((entry) => entry?.server.stop()));
    for (const entry of started) if (entry) cleanUp(entry);
  });
  return started.map((_, index) => {
    const running = (): LocalServerProcess => {
      const entry = started[index];
      if (!entry) throw new Error('the local server is not running: it did not start, or was not asked to');
      return entry.server;
    };
    return {
      get url() {
        return running().url;
      },
      get process() {
        return running();
      },
    };
  });
}

/**
 * For tests that start (and restart) servers of their own, on a DATA_DIR they choose: returns
 * the start function. Whatever a test left running (it failed before stopping it) is killed
 * after all tests, and the data directories the starts created are removed.
 */
export function useOwnServers(): (env?: Record<string, string>) => Promise<LocalServerProcess> {
  const own: Started[] = [];
  afterAll(async () => {
    for (const entry of own) await entry.server.stop('SIGKILL');
    for (const entry of own) cleanUp(entry);
  });
  return async (env = {}) => {
    const entry = await start(env);
    own.push(entry);
    return entry.server;
  };
}

interface Started {
  server: LocalServerProcess;
  /** Whether the start made the data directory (no DATA_DIR given), so that it is ours to remove. */
  createdDataDir: boolean;
}

async function start(env: Record<string, string>): Promise<Started> {
  return { server: await startLocalServerProcess(env), createdDataDir: env.DATA_DIR === undefined };
}

function cleanUp(entry: Started): void {
  if (entry.createdDataDir) removeDir(entry.server.dataDir);
}
