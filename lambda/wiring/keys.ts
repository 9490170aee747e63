/**
 * The signing key a function uses, chosen by configuration: a local JWK file (local mode) or
 * KMS keys (deployed). Clients are built once per container, with bounded retries and timeouts.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { BOUNDED_SDK_OPTIONS } from '../aws/sdk-options.js';
import { ENV } from '../contract/environment.js';
import type { AccessTokenSigner, PublicKeySource } from '../domain/signing.js';
import { KmsPublicKeys, KmsSigner } from '../keys/kms-signing-key.js';
import { LocalSigningKey } from '../keys/local-signing-key.js';
import { listEnv } from './env.js';

function kmsClient(): KMSClient {
  return new KMSClient(BOUNDED_SDK_OPTIONS);
}

function kmsKeyIds(): string[] {
  const ids = listEnv(ENV.signingKeyIds);
  if (ids.length === 0) throw new Error(`Set ${ENV.signingKeyFile} (local) or ${ENV.signingKeyIds} (KMS)`);
  return ids;
}

export async function signerFromEnv(): Promise<AccessTokenSigner> {
  const file = process.env[ENV.signingKeyFile];
  if (file) return LocalSigningKey.loadOrCreate(file);
  return new KmsSigner(kmsKeyIds()[0], kmsClient());
}

export async function publicKeysFromEnv(): Promise<PublicKeySource> {
  const file = process.env[ENV.signingKeyFile];
  if (file) return LocalSigningKey.loadOrCreate(file);
  return new KmsPublicKeys(kmsKeyIds(), kmsClient());
}
