/**
 * DynamoDB requests per API request, counted (not timed) by the bench's counting proxy
 * (bench/dynamodb-requests.ts) on the real local server: one grant record per sign-in makes
 * each token grant the client read and one conditional write of the grant (issue 13), and a
 * revocation the client read and one conditional write.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { measureDynamoDbRequests, type Served } from '../../bench/dynamodb-requests.js';
import { ENDPOINTS } from '../../lambda/contract/endpoints.js';

let served: Served[];

beforeAll(async () => {
  served = await measureDynamoDbRequests();
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
});
