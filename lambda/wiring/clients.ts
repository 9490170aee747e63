/**
 * Where a client_id is looked up: Client ID Metadata Documents for client ids that are https
 * URLs with a path (fetched, checked and cached), the clients table for everything else. The
 * authorizer, the token endpoint and revocation all ask this, so a CIMD client is treated like a
 * registered public client everywhere. A registration past its activation deadline is hidden by
 * the store itself (store/dynamodb-client-store.ts), so RFC 7592 management, which reads the store
 * without this directory, refuses it too.
 */

import { DynamoDbMetadataDocumentCache, resolveMetadataClient } from '../cimd/document-cache.js';
import { fetchMetadataDocument } from '../cimd/safe-fetch.js';
import { ENV } from '../contract/environment.js';
import { isIdleExpired } from '../domain/client-activity.js';
import { isClientIdMetadataUrl } from '../domain/client-id-url.js';
import { clientMetadataValidator } from '../domain/client-metadata.js';
import type { ClientStore, RegisteredClient } from '../domain/clients.js';
import { DynamoDbClientStore } from '../store/dynamodb-client-store.js';
import { redirectUriPolicyFromEnv, requireEnv } from './env.js';

export interface MetadataDocuments {
  allowLoopbackHttp: boolean;
  /** The client the document at this URL describes; throws OAuthError invalid_client when it cannot be used. */
  resolve(url: string): Promise<RegisteredClient>;
}

export class ClientDirectory implements ClientStore {
  constructor(
    private readonly registered: ClientStore,
    private readonly documents: MetadataDocuments,
    /** Registered clients idle longer than this are treated as unknown; 0: never. */
    private readonly idleExpiryDays = 0,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  create(client: RegisteredClient): Promise<void> {
    return this.registered.create(client);
  }

  getById(clientId: string): Promise<RegisteredClient | undefined> {
    if (isClientIdMetadataUrl(clientId, { allowLoopbackHttp: this.documents.allowLoopbackHttp })) {
      return this.documents.resolve(clientId);
    }
    return this.registered
      .getById(clientId)
      .then((client) => (client && isIdleExpired(client, this.now(), this.idleExpiryDays) ? undefined : client));
  }
}

/** The directory a function uses, from its environment (clients table, grants table for the cache). */
export function clientDirectoryFromEnv(): ClientDirectory {
  const allowLoopbackHttp = process.env[ENV.cimdAllowLoopbackHttp] === 'true';
  const cache = new DynamoDbMetadataDocumentCache(requireEnv(ENV.grantsTableName));
  const validate = clientMetadataValidator(redirectUriPolicyFromEnv());
  return new ClientDirectory(
    new DynamoDbClientStore(requireEnv(ENV.tableName)),
    {
      allowLoopbackHttp,
      resolve: (url) =>
        resolveMetadataClient(url, {
          cache,
          fetch: fetchMetadataDocument,
          validate,
          now: () => Math.floor(Date.now() / 1000),
          allowLoopbackHttp,
        }),
    },
    Number(process.env[ENV.clientIdleExpiryDays] ?? 0),
  );
}
