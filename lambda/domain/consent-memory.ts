/**
 * What a browser remembers having approved, so that a person is asked once, not on every
 * connection, and never for more than they saw. An approval covers one client *as it was
 * described* (its version: a digest of its whole registered metadata or metadata document), one
 * redirect URI, one resource, and the scopes shown. A changed registration (RFC 7592 PUT) or
 * metadata document, another redirect URI, another resource or any scope not approved is not
 * covered: the consent page is shown again.
 *
 * The memory lives in the browser (a cookie signed by the HTTP layer's caller), as digests only,
 * newest first, at most MAX_APPROVALS. Digests keep the cookie small whatever the length of a
 * URL client_id or redirect URI; a forged list cannot pass the signature.
 */
import { createHash } from 'node:crypto';
import type { RegisteredClient } from './clients.js';

export const MAX_APPROVALS = 20;

/** What the person approved on the consent page. */
export interface Approval {
  clientId: string;
  clientVersion: string;
  redirectUri: string;
  resource: string;
  /** Space-separated, as the pending request holds it. */
  scope: string;
}

/**
 * One remembered approval: [client+version+redirect URI, resource, scopes, client] as digests,
 * then when it was given (seconds). The client digest lets the connected apps page forget a
 * client whatever its version; the time lets a withdrawal elsewhere (another browser, the admin
 * CLI) outrank an approval given before it (ConsentWithdrawals).
 */
type Entry = [string, string, string[], string, number];

const digest = (length: number, ...parts: string[]) =>
  createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, length);

const clientKey = (clientId: string, clientVersion: string, redirectUri: string) =>
  digest(22, 'client', clientId, clientVersion, redirectUri);
const resourceKey = (resource: string) => digest(11, 'resource', resource);
const scopeKey = (scope: string) => digest(11, 'scope', scope);
const clientIdKey = (clientId: string) => digest(11, 'client_id', clientId);
const scopesOf = (scope: string) => scope.split(' ').filter(Boolean);

/** Fields that change on every use or hold secrets: not part of what the person was shown. */
const VOLATILE = new Set(['last_used_at', 'client_secret_hash', 'registration_token_hash', 'expires_at']);

/**
 * A digest of everything the client registered (or its metadata document says), with keys in a
 * fixed order: any change to it, by RFC 7592 or a new document, is a new version.
 */
export function clientVersion(client: RegisteredClient): string {
  const fields = Object.entries(client)
    .filter(([key, value]) => !VOLATILE.has(key) && value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return digest(22, 'version', JSON.stringify(fields));
}

export class ConsentMemory {
  private constructor(private readonly entries: readonly Entry[]) {}

  static empty(): ConsentMemory {
    return new ConsentMemory([]);
  }

  /** From a verified cookie value; anything unexpected counts as nothing remembered. */
  static parse(value: string | undefined): ConsentMemory {
    if (!value) return ConsentMemory.empty();
    try {
      const parsed: unknown = JSON.parse(value);
      if (!Array.isArray(parsed)) return ConsentMemory.empty();
      const entries = parsed.filter(
        (entry): entry is Entry =>
          Array.isArray(entry) &&
          entry.length === 5 &&
          typeof entry[0] === 'string' &&
          typeof entry[1] === 'string' &&
          Array.isArray(entry[2]) &&
          entry[2].every((item: unknown) => typeof item === 'string') &&
          typeof entry[3] === 'string' &&
          Number.isSafeInteger(entry[4]),
      );
      return new ConsentMemory(entries.slice(0, MAX_APPROVALS));
    } catch {
      return ConsentMemory.empty();
    }
  }

  serialize(): string {
    return JSON.stringify(this.entries);
  }

  /** Whether this approval, or a wider one, was given in this browser. */
  covers(request: Approval): boolean {
    return this.approvedAt(request) !== undefined;
  }

  /** When this browser gave an approval covering this one (its latest), if it did. */
  approvedAt(request: Approval): number | undefined {
    const key = clientKey(request.clientId, request.clientVersion, request.redirectUri);
    const resource = resourceKey(request.resource);
    let latest: number | undefined;
    for (const [client, approvedResource, scopes, , at] of this.entries) {
      if (
        client === key &&
        approvedResource === resource &&
        scopesOf(request.scope).every((scope) => scopes.includes(scopeKey(scope)))
      ) {
        latest = Math.max(latest ?? at, at);
      }
    }
    return latest;
  }

  /**
   * Whether this browser approved this client, as it is now, to return to this redirect URI
   * (for any resource or scope): then errors may go back to it by redirect.
   */
  trusts(clientId: string, version: string, redirectUri: string): boolean {
    const key = clientKey(clientId, version, redirectUri);
    return this.entries.some(([client]) => client === key);
  }

  /** With this approval, given at `approvedAt`, first (replacing an older one for the same client, URI and resource). */
  remember(approval: Approval, approvedAt: number): ConsentMemory {
    const entry: Entry = [
      clientKey(approval.clientId, approval.clientVersion, approval.redirectUri),
      resourceKey(approval.resource),
      scopesOf(approval.scope).map(scopeKey),
      clientIdKey(approval.clientId),
      approvedAt,
    ];
    const others = this.entries.filter(([client, resource]) => client !== entry[0] || resource !== entry[1]);
    return new ConsentMemory([entry, ...others].slice(0, MAX_APPROVALS));
  }

  /** Without any approval of this client (every version, redirect URI, resource and scope). */
  forget(clientId: string): ConsentMemory {
    const key = clientIdKey(clientId);
    return new ConsentMemory(this.entries.filter((entry) => entry[3] !== key));
  }

  get size(): number {
    return this.entries.length;
  }
}

/**
 * A person's withdrawal of a client's access (the connected apps page, the admin CLI), kept on
 * the server so that it reaches every browser: an approval remembered before it no longer skips
 * the consent page, whichever browser remembers it. Keyed by person and client; kept as long as
 * a remembered approval can live.
 */
export interface ConsentWithdrawals {
  /** When this person last withdrew this client's access, if they did within the memory's lifetime. */
  withdrawnAt(subject: string, clientId: string): Promise<number | undefined>;
}
