/**
 * The admin CLI's commands: who has access and how to end it, over the AccessAdminStore port
 * (domain/access-admin.ts). Each command states the tables it needs and answers with text for
 * people and a value for `--json`; a failure is an AdminError with a message and an exit code,
 * never a stack trace. Connecting to the tables is main.ts's job.
 */
import {
  type AccessAdminStore,
  type ClientSummary,
  clientStatus,
  type GrantSummary,
  grantStatus,
} from '../domain/access-admin.js';
import { fields, table, time } from './output.js';

/** A failure the operator can act on: printed as `error: <message>`, the process exits with `exitCode`. */
export class AdminError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

/** A command line the CLI cannot run: exit code 2, with a pointer to --help. */
export function usageError(message: string): AdminError {
  return new AdminError(`${message} (see --help)`, 2);
}

export interface Answer {
  text: string;
  json: unknown;
}

export interface CommandInput {
  /** The positional arguments after the command's two words. */
  args: string[];
  options: { limit?: string; next?: string; subject?: string; client?: string };
  store: AccessAdminStore;
  now: number;
}

export interface Command {
  usage: string;
  summary: string;
  tables: ReadonlyArray<'clients' | 'grants'>;
  run(input: CommandInput): Promise<Answer>;
}

const DEFAULT_LIMIT = 50;
/** DynamoDB's Scan takes any Limit; a page an operator can read is far smaller. */
const MAX_LIMIT = 1000;

function one(args: string[], what: string): string {
  if (args.length !== 1 || args[0] === '') throw usageError(`give exactly one ${what}`);
  return args[0];
}

function none(args: string[]): void {
  if (args.length > 0) throw usageError(`unexpected argument ${JSON.stringify(args[0])}`);
}

/** Exactly one of --subject and --client. */
function whose(options: CommandInput['options']): { subject: string } | { client: string } {
  const { subject, client } = options;
  if ((subject === undefined) === (client === undefined)) throw usageError('give either --subject or --client');
  if (subject !== undefined) {
    if (subject === '') throw usageError('--subject must not be empty');
    return { subject };
  }
  if (client === '') throw usageError('--client must not be empty');
  return { client: client as string };
}

function clientJson(client: ClientSummary) {
  return { ...client, status: clientStatus(client) };
}

function grantStatusText(grant: GrantSummary, now: number): string {
  const status = grantStatus(grant, now);
  if (status === 'revoked') return `revoked ${time(grant.revoked_at)}`;
  if (status === 'expired') return 'expired';
  return `active until ${time(Math.min(grant.expires_at, grant.grant_expires_at))}`;
}

function grantsTable(grants: GrantSummary[], now: number): string {
  return table(
    ['GRANT ID', 'SUBJECT', 'CLIENT ID', 'SCOPE', 'CREATED', 'LAST USED', 'STATUS'],
    grants.map((grant) => [
      grant.grant_id,
      grant.subject,
      grant.client_id,
      grant.scope || '-',
      time(grant.created_at),
      time(grant.last_used_at),
      grantStatusText(grant, now),
    ]),
  );
}

function grantsOf(store: AccessAdminStore, who: { subject: string } | { client: string }): Promise<GrantSummary[]> {
  return 'subject' in who ? store.grantsOfSubject(who.subject) : store.grantsOfClient(who.client);
}

function describe(who: { subject: string } | { client: string }): string {
  return 'subject' in who ? `subject ${who.subject}` : `client ${who.client}`;
}

/** Revokes every grant not revoked yet; those already revoked are left as they are. */
async function revokeAll(store: AccessAdminStore, grants: GrantSummary[], now: number) {
  const revoked: string[] = [];
  const alreadyRevoked: string[] = [];
  for (const grant of grants) {
    if (grant.revoked_at !== undefined) {
      alreadyRevoked.push(grant.grant_id);
      continue;
    }
    const outcome = await store.revokeGrant(grant.grant_id, now);
    // Missing: removed by TTL since it was listed; there is nothing left to end.
    if (outcome.outcome === 'revoked') revoked.push(grant.grant_id);
    else if (outcome.outcome === 'already-revoked') alreadyRevoked.push(grant.grant_id);
  }
  return { revoked, already_revoked: alreadyRevoked };
}

function countText(revoked: string[], alreadyRevoked: string[]): string {
  const plural = (n: number) => `${n} grant${n === 1 ? '' : 's'}`;
  return `revoked ${plural(revoked.length)}${alreadyRevoked.length ? ` (${alreadyRevoked.length} already revoked)` : ''}`;
}

export const COMMANDS: Record<string, Command> = {
  'clients list': {
    usage: 'clients list [--limit N] [--next TOKEN]',
    summary: 'registered clients, a page at a time (default 50), with created and last-used times',
    tables: ['clients'],
    async run({ args, options, store }) {
      none(args);
      const limit = options.limit === undefined ? DEFAULT_LIMIT : Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
        throw usageError(`--limit must be a whole number from 1 to ${MAX_LIMIT}`);
      const page = await store.listClients(limit, options.next);
      const rows = page.items.map((client) => [
        client.client_id,
        client.client_name ?? '-',
        time(client.client_id_issued_at),
        time(client.last_used_at),
        clientStatus(client),
      ]);
      const text = [
        page.items.length ? table(['CLIENT ID', 'NAME', 'CREATED', 'LAST USED', 'STATUS'], rows) : 'no clients',
        ...(page.next ? [`more: clients list --limit ${limit} --next ${page.next}`] : []),
      ].join('\n');
      return { text, json: { clients: page.items.map(clientJson), ...(page.next ? { next: page.next } : {}) } };
    },
  },

  'clients show': {
    usage: 'clients show <client_id>',
    summary: 'one registered client',
    tables: ['clients'],
    async run({ args, store }) {
      const clientId = one(args, 'client_id');
      const client = await store.getClient(clientId);
      if (!client) throw new AdminError(`no client ${clientId}`);
      const text = fields([
        ['client_id', client.client_id],
        ['name', client.client_name ?? '-'],
        ['auth method', client.token_endpoint_auth_method ?? '-'],
        ['redirect URIs', client.redirect_uris?.join(' ') ?? '-'],
        ['created', time(client.client_id_issued_at)],
        ['last used', time(client.last_used_at)],
        ['status', clientStatus(client)],
        ...(client.activation_deadline !== undefined
          ? ([['activation deadline', time(client.activation_deadline)]] as Array<[string, string]>)
          : []),
      ]);
      return { text, json: clientJson(client) };
    },
  },

  'clients delete': {
    usage: 'clients delete <client_id>',
    summary: 'delete a client and revoke every grant it was given',
    tables: ['clients', 'grants'],
    async run({ args, store, now }) {
      const clientId = one(args, 'client_id');
      // Grants first: should this stop half-way, the client is still there to delete again.
      const { revoked, already_revoked } = await revokeAll(store, await store.grantsOfClient(clientId), now);
      const deleted = await store.deleteClient(clientId);
      // Without a record (a metadata-document client, or one already deleted) its grants are still ended.
      if (!deleted && revoked.length === 0) throw new AdminError(`no client ${clientId}`);
      const text = `${deleted ? `deleted client ${clientId}` : `no client ${clientId} to delete`}; ${countText(revoked, already_revoked)}`;
      return { text, json: { client_id: clientId, deleted, revoked, already_revoked } };
    },
  },

  'grants list': {
    usage: 'grants list --subject <sub> | --client <client_id>',
    summary: "a person's grants (newest first), or a client's",
    tables: ['grants'],
    async run({ args, options, store, now }) {
      none(args);
      const who = whose(options);
      const grants = await grantsOf(store, who);
      return {
        text: grants.length ? grantsTable(grants, now) : `no grants for ${describe(who)}`,
        json: { grants: grants.map((grant) => ({ ...grant, status: grantStatus(grant, now) })) },
      };
    },
  },

  'grants revoke': {
    usage: 'grants revoke <grant_id> | --subject <sub> | --client <client_id>',
    summary: 'end one grant, every grant of a person (off-boarding), or every grant of a client',
    tables: ['grants'],
    async run({ args, options, store, now }) {
      if (args.length > 0) {
        if (options.subject !== undefined || options.client !== undefined)
          throw usageError('give a grant_id, or --subject, or --client: one of them');
        const grantId = one(args, 'grant_id');
        const outcome = await store.revokeGrant(grantId, now);
        if (outcome.outcome === 'missing') throw new AdminError(`no grant ${grantId}`);
        const already = outcome.outcome === 'already-revoked';
        return {
          text: already
            ? `grant ${grantId} was already revoked ${time(outcome.revokedAt)}`
            : `revoked grant ${grantId}`,
          json: { revoked: already ? [] : [grantId], already_revoked: already ? [grantId] : [] },
        };
      }
      const who = whose(options);
      const result = await revokeAll(store, await grantsOf(store, who), now);
      return { text: `${countText(result.revoked, result.already_revoked)} of ${describe(who)}`, json: result };
    },
  },
};
