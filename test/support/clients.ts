/**
 * Registered-client records for tests that put a client in a store (or hand one to a use case)
 * without going through registration: a valid public client, with what the test cares about
 * given as overrides.
 */
import { randomBytes } from 'node:crypto';
import type { RegisteredClient } from '../../lambda/domain/clients.js';

/**
 * A public client (`none`) with one https redirect URI and both grant types, issued at a fixed
 * time, under a fresh client_id unless one is given.
 */
export function registeredClient(overrides: Partial<RegisteredClient> = {}): RegisteredClient {
  return {
    client_id: `client-${randomBytes(12).toString('base64url')}`,
    client_id_issued_at: 1_700_000_000,
    redirect_uris: ['https://client.example/callback'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...overrides,
  };
}
