/**
 * The one local server a fuzz suite runs against (`npm start`'s entry point in a child process),
 * started by useFuzzSession; `server` reads whichever the running suite started.
 */
import { type LocalServer, useLocalServer } from '../../support/local-server-fixture.js';

let current: LocalServer | undefined;

function started(): LocalServer {
  if (!current) throw new Error('no fuzz server: the suite must call useFuzzSession()');
  return current;
}

export const server: LocalServer = {
  get url() {
    return started().url;
  },
  get process() {
    return started().process;
  },
};

/** Registers the suite's server (its beforeAll and afterAll); once per suite. */
export function useFuzzServer(): void {
  if (current) throw new Error('useFuzzServer: one server per suite');
  // Strict refresh-token reuse: the oracles check that a code or refresh token yields tokens once
  // (the grace window, which lets a replaced token refresh again briefly, is the token-service
  // suite's and test/e2e/concurrency.test.ts's).
  current = useLocalServer({ REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' });
}
