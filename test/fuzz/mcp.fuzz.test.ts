/**
 * Property-based fuzzing of the MCP endpoint over real HTTP: arbitrary Authorization values and,
 * with a valid access token, arbitrary JSON-RPC messages and batches.
 *
 * The universal properties (no 5xx, JSON errors, no stack traces, the server stays up) are
 * test/fuzz/support/oracles.ts's; the seed and budget are test/fuzz/support/budget.ts's.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  anyBody,
  authorization,
  contentType,
  headersArb,
  METHODS,
  type Method,
  PROTO_NAMES,
  weird,
} from './support/arbitraries.js';
import { PROPERTY_TIMEOUT, runs } from './support/budget.js';
import { exchange, expectHealthy } from './support/oracles.js';
import {} from './support/server.js';
import { accessToken, expectClientsIntact, useFuzzSession } from './support/session.js';

useFuzzSession('mcp');

describe('HTTP fuzzing of /mcp', () => {
  it(
    '/mcp: arbitrary Authorization values, and with a valid token arbitrary JSON-RPC; no 5xx',
    async () => {
      const jsonRpc = fc.record(
        {
          jsonrpc: fc.oneof({ weight: 5, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: weird }),
          id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), weird),
          method: fc.oneof(
            fc.constantFrom(
              'initialize',
              'tools/list',
              'tools/call',
              'ping',
              'notifications/initialized',
              'resources/list',
              'prompts/get',
              'logging/setLevel',
              ...PROTO_NAMES,
            ),
            fc.string(),
          ),
          params: fc.oneof(
            fc.record({
              name: fc.constantFrom('echo', 'whoami', 'missing', '__proto__'),
              arguments: fc.oneof(
                fc.record({
                  text: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constant('y'.repeat(10_001))),
                }),
                weird,
              ),
            }),
            fc.record({
              protocolVersion: fc.constantFrom('2025-06-18', '2025-03-26', '1999-01-01', ''),
              capabilities: fc.oneof(fc.constant({}), weird),
              clientInfo: fc.oneof(fc.constant({ name: 'fuzz', version: '1' }), weird),
            }),
            weird,
          ),
        },
        { requiredKeys: ['method'] },
      );
      const request = fc.record({
        method: fc.oneof(
          { weight: 4, arbitrary: fc.constant('POST' as Method) },
          { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
        ),
        auth: fc.oneof(
          { weight: 3, arbitrary: fc.constant(`Bearer ${accessToken}`) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              `bearer   ${accessToken}  `,
              `Bearer ${accessToken}.`,
              `Bearer ${accessToken.slice(0, -2)}`,
            ),
          },
          { weight: 2, arbitrary: authorization() },
        ),
        body: fc.oneof(
          { weight: 4, arbitrary: jsonRpc.map((message) => Buffer.from(JSON.stringify(message))) },
          {
            weight: 1,
            arbitrary: fc.array(jsonRpc, { maxLength: 4 }).map((batch) => Buffer.from(JSON.stringify(batch))),
          },
          { weight: 2, arbitrary: anyBody.map((body) => body ?? Buffer.alloc(0)) },
        ),
        accept: fc.oneof(
          { weight: 4, arbitrary: fc.constant('application/json, text/event-stream') },
          { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/event-stream', '*/*', '') },
        ),
        type: fc.oneof(
          { weight: 4, arbitrary: fc.constant('application/json') },
          { weight: 1, arbitrary: contentType },
        ),
        headers: fc.option(headersArb(), { freq: 3 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async (value) => {
          const headers: Array<readonly [string, string]> = [
            ['authorization', value.auth],
            ['content-type', value.type],
          ];
          if (value.accept) headers.push(['accept', value.accept]);
          for (const [name, v] of value.headers ?? []) {
            if (!['authorization', 'content-type', 'accept'].includes(name)) headers.push([name, v]);
          }
          await exchange({ method: value.method, target: '/mcp', headers, body: value.body });
        }),
        runs(250),
      );
      await expectHealthy();
    },
    PROPERTY_TIMEOUT,
  );

  it('afterwards: the server is up and every fixture client reads back as it was stored', async () => {
    await expectClientsIntact({ registeredByProperties: false });
  });
});
