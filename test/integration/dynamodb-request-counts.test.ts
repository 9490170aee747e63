/**
 * DynamoDB requests per API request, counted (not timed) by the bench's counting proxy
 * (bench/dynamodb-requests.ts) on the real local server: one grant record per sign-in makes
 * each token grant the client read and one conditional write of the grant (issue 13), and a
 * revocation the client read and one conditional write; and the token authorizer reads a busy
 * client's grant once per cache period, not once per MCP request (issue 15).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BUSY_CLIENT_STEP, measureDynamoDbRequests, type Served } from '../../bench/dynamodb-requests.js';
import { ENDPOINTS, RESOURCE_ENDPOINTS } from '../../lambda/contract/endpoints.js';

/** Enough MCP requests to show the cache; a period no run of them can outlast. */
const MCP_REQUESTS = 200;

let served: Served[];

beforeAll(async () => {
  served = await measureDynamoDbRequests({ mcpRequests: MCP_REQUESTS, grantStatusCacheSeconds: 3600 });
}, 120_000);

function cost(request: string, stepPrefix: string): Served {
  const entry = served.find((candidate) => candidate.request === request && candidate.step.startsWith(stepPrefix));
  expect(entry, `${request} during ${stepPrefix}`).toBeDefined();
  return entry as Served;
}

describe('DynamoDB requests per API request', () => {
  it('POST /token authorization_code: the client read and one conditional write of the grant', () => {
    const again = cost(`POST ${ENDPOINTS.token}`, 'authorization code flow again');
    expect(again.status).toBe(200);
    expect(again.counts).toEqual({ 'GetItem clients': 1, 'UpdateItem grants': 1 });
  });

  it('… and on a client’s first token of the day one more write, which records its use', () => {
    const first = cost(`POST ${ENDPOINTS.token}`, 'authorization code flow, first');
    expect(first.counts).toEqual({ 'GetItem clients': 1, 'UpdateItem grants': 1, 'UpdateItem clients': 1 });
  });

  it('POST /token refresh_token: the client read and one conditional write of the grant', () => {
    const refresh = cost(`POST ${ENDPOINTS.token}`, 'refresh');
    expect(refresh.status).toBe(200);
    expect(refresh.counts).toEqual({ 'GetItem clients': 1, 'UpdateItem grants': 1 });
  });

  it('POST /revoke: the client read and one conditional write', () => {
    const revoke = cost(`POST ${ENDPOINTS.revocation}`, 'revocation');
    expect(revoke.status).toBe(200);
    expect(revoke.counts).toEqual({ 'GetItem clients': 1, 'UpdateItem grants': 1 });
  });

  it(`${MCP_REQUESTS} MCP requests of one busy client within the cache period: its grant and its client's deletion read once, nothing else`, () => {
    const busy = cost(`POST ${RESOURCE_ENDPOINTS.mcp} ×${MCP_REQUESTS}`, BUSY_CLIENT_STEP);
    expect(busy.status).toBe(200);
    // Two GetItems side by side (grant#<sid>, deleted#<client digest>), once per cache period.
    expect(busy.counts).toEqual({ 'GetItem grants': 2 });
  });
});
