/**
 * How the local server (`npm start`) tells the admin CLI (`--local`) where its storage is: while
 * it runs its embedded dynalite, a JSON file in its data directory names the endpoint and the
 * tables in it, and is removed when the server stops. A leaf module: it imports nothing.
 */

/** The file's name inside DATA_DIR. */
export const LOCAL_STORAGE_FILE = 'dynamodb-endpoint.json';

export interface LocalStorageManifest {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  /** The process serving it. */
  pid: number;
  /** Table names by role, as they were created. */
  tables: { clients?: string; grants?: string };
}
