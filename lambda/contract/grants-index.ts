/**
 * The grants table's one secondary index, shared by the CDK construct and the local table set-up
 * that create it and the admin store that queries it. A leaf module: it imports nothing.
 *
 * Only one, by subject (who holds access; off-boarding a person is one Query): DynamoDB, and so
 * CloudFormation, creates at most one global secondary index per table update, so a stack update
 * that added two would fail on an existing table. Listing by client is a paged Scan with a filter
 * instead: admin operations are rare, and a second index can come in a later, separate deploy.
 */

/** Grant items only carry `created_at`, so the index is sparse: pending requests and cached documents stay out. */
export const GRANTS_BY_SUBJECT_INDEX = {
  name: 'by-subject',
  partitionKey: 'subject',
  /** Seconds since the epoch (a number): a person's grants come newest first with ScanIndexForward false. */
  sortKey: 'created_at',
  /** What a listing shows, besides the keys; never a code or refresh-token hash. */
  projected: [
    'grant_id',
    'client_id',
    'client_name',
    'redirect_uri',
    'scope',
    'resource',
    'last_used_at',
    'revoked_at',
    'expires_at',
    'grant_expires_at',
  ],
} as const;
