/**
 * Secrets a function needs at start: given directly (local mode) or as a Secrets Manager ARN
 * (deployed), fetched once per container at module load, before the first request.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

let client: SecretsManagerClient | undefined;

export async function secretValue(valueVariable: string, arnVariable: string): Promise<string | undefined> {
  const direct = process.env[valueVariable];
  if (direct) return direct;
  const arn = process.env[arnVariable];
  if (!arn) return undefined;
  client ??= new SecretsManagerClient({});
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  if (!SecretString) throw new Error(`secret ${arnVariable} has no string value`);
  return SecretString;
}

export async function requireSecretValue(valueVariable: string, arnVariable: string): Promise<string> {
  const value = await secretValue(valueVariable, arnVariable);
  if (!value) throw new Error(`Missing ${valueVariable} or ${arnVariable}`);
  return value;
}
