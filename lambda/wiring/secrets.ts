/**
 * Secrets a function needs: given directly (local mode) or as a Secrets Manager ARN (deployed).
 * A deployed secret is fetched on first use, not at module load: a Secrets Manager fault at
 * init would be a Lambda init error, which API Gateway answers with a bare 502 and which kills
 * the container. Here it is an UnavailableError (503 temporarily_unavailable, in the OAuth JSON
 * shape), the value is kept once read, and a failed read is retried by the next request.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BOUNDED_SDK_OPTIONS } from '../aws/sdk-options.js';
import { UnavailableError } from '../domain/oauth-error.js';

let client: SecretsManagerClient | undefined;

/** Reads the secret's value; `undefined` when neither variable is set. */
export type SecretReader = () => Promise<string | undefined>;

async function fetchSecret(arn: string, arnVariable: string): Promise<string> {
  client ??= new SecretsManagerClient(BOUNDED_SDK_OPTIONS);
  let value: string | undefined;
  try {
    ({ SecretString: value } = await client.send(new GetSecretValueCommand({ SecretId: arn })));
  } catch (error) {
    const unavailable = new UnavailableError('A secret this endpoint needs could not be read; try again.');
    unavailable.cause = error;
    throw unavailable;
  }
  // A secret without a string value is a deployment error, not an outage.
  if (!value) throw new Error(`secret ${arnVariable} has no string value`);
  return value;
}

/** A reader for the secret named by these variables; concurrent first reads share one request. */
export function secretReader(valueVariable: string, arnVariable: string): SecretReader {
  const direct = process.env[valueVariable];
  if (direct) return () => Promise.resolve(direct);
  const arn = process.env[arnVariable];
  if (!arn) return () => Promise.resolve(undefined);
  return onFirstUse(() => fetchSecret(arn, arnVariable));
}

/** The same, for a secret the function cannot work without: a missing setting fails at load. */
export function requiredSecretReader(valueVariable: string, arnVariable: string): () => Promise<string> {
  if (!process.env[valueVariable] && !process.env[arnVariable]) {
    throw new Error(`Missing ${valueVariable} or ${arnVariable}`);
  }
  const read = secretReader(valueVariable, arnVariable);
  return async () => (await read()) as string;
}

/**
 * A value built once from secrets on first use and kept; if building fails (a secret could not
 * be read), the next call tries again.
 */
export function onFirstUse<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      const attempt = build();
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return pending;
  };
}
