/** The token authorizer's grant check, from the function environment. */
import { ENV, type EnvSource } from '../contract/environment.js';
import {
  createGrantStatusCheck,
  DEFAULT_GRANT_STATUS_CACHE_SECONDS,
  type GrantStatusCheck,
  MAX_GRANT_STATUS_CACHE_SECONDS,
} from '../domain/grant-status.js';
import { DynamoDbGrantStateReader } from '../store/dynamodb-grant-status-reader.js';
import { requireEnv } from './env.js';

/** GRANT_STATUS_CACHE_SECONDS: whole seconds, 0 (every request) allowed; unset or empty: 30. */
export function grantStatusCacheSeconds(env: EnvSource = process.env): number {
  const raw = env[ENV.grantStatusCacheSeconds];
  if (raw === undefined || raw.trim() === '') return DEFAULT_GRANT_STATUS_CACHE_SECONDS;
  const seconds = /^\d{1,4}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!(seconds <= MAX_GRANT_STATUS_CACHE_SECONDS)) {
    throw new Error(
      `${ENV.grantStatusCacheSeconds} must be a whole number of seconds from 0 (check every request) to ${MAX_GRANT_STATUS_CACHE_SECONDS}, not ${raw}`,
    );
  }
  return seconds;
}

/** One per execution environment: its cache is what warm invocations share. */
export function grantStatusFromEnv(env: EnvSource = process.env): GrantStatusCheck {
  return createGrantStatusCheck({
    reader: new DynamoDbGrantStateReader(requireEnv(ENV.grantsTableName)),
    ttlSeconds: grantStatusCacheSeconds(env),
  });
}
