/**
 * The private_key_jwt jti store (store/dynamodb-assertion-store.ts) on dynalite: one conditional
 * write per assertion, a replay refused, two concurrent uses of one assertion with exactly one
 * winner, and a retried write that met its own first attempt still counted as the first use.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { assertionKey, DynamoDbAssertionStore } from '../../lambda/store/dynamodb-assertion-store.js';
import { useDynalite } from '../support/dynalite.js';

const db = useDynalite('assertion-store');
const EXP = 1_900_000_000;

/** The document client, counting what it is sent. */
function counting(): { client: DynamoDBDocumentClient; sent: string[] } {
  const sent: string[] = [];
  const client = {
    send: (command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      return db.documents.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, sent };
}

describe('DynamoDbAssertionStore', () => {
  it('spends a jti with one conditional PutItem, stored until the assertion expires', async () => {
    const { client, sent } = counting();
    const store = new DynamoDbAssertionStore(db.grantsTable, client);
    expect(await store.spend('client-a', 'jti-1', EXP)).toBe(true);
    expect(sent).toEqual(['PutCommand']);
    const { Item } = await db.documents.send(
      new GetCommand({
        TableName: db.grantsTable,
        Key: { pk: assertionKey('client-a', 'jti-1') },
        ConsistentRead: true,
      }),
    );
    expect(Item?.pk).toMatch(/^jti#sha256:/);
    expect(Item?.expires_at).toBe(EXP);
  });

  it('refuses the same jti again, and keeps jtis apart per client', async () => {
    const store = new DynamoDbAssertionStore(db.grantsTable, db.documents);
    expect(await store.spend('client-b', 'jti-1', EXP)).toBe(true);
    expect(await store.spend('client-b', 'jti-1', EXP)).toBe(false);
    expect(await store.spend('client-c', 'jti-1', EXP)).toBe(true);
  });

  it('lets exactly one of two concurrent uses of one assertion win', async () => {
    for (let round = 0; round < 5; round++) {
      const one = new DynamoDbAssertionStore(db.grantsTable, db.documents);
      const two = new DynamoDbAssertionStore(db.grantsTable, db.documents);
      const outcomes = await Promise.all([
        one.spend('client-d', `jti-${round}`, EXP),
        two.spend('client-d', `jti-${round}`, EXP),
      ]);
      expect(outcomes.filter(Boolean)).toHaveLength(1);
    }
  });

  it('counts a retried write that met its own first attempt as the first use', async () => {
    // A put whose answer was lost and that the SDK sent again: the first attempt is written, the
    // retry fails its condition on that very item.
    const retrying = {
      send: async (command: unknown) => {
        if (command instanceof PutCommand) await db.documents.send(command);
        return db.documents.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new DynamoDbAssertionStore(db.grantsTable, retrying);
    expect(await store.spend('client-e', 'jti-1', EXP)).toBe(true);
    expect(await new DynamoDbAssertionStore(db.grantsTable, db.documents).spend('client-e', 'jti-1', EXP)).toBe(false);
  });
});
