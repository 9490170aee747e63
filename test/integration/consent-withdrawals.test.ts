/**
 * Consent withdrawals (store/dynamodb-consent-withdrawals.ts) on dynalite: one item per person
 * and client under a digest key (neither appears in it), kept as long as a remembered approval
 * lives, a later withdrawal replacing an earlier one; and the admin store's revocation of a
 * grant writes the withdrawal of the consent that grant came from.
 */
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIFETIMES } from '../../lambda/contract/environment.js';
import { DynamoDbAccessAdminStore } from '../../lambda/store/dynamodb-access-admin-store.js';
import { DynamoDbConsentWithdrawals } from '../../lambda/store/dynamodb-consent-withdrawals.js';
import { useDynalite } from '../support/dynalite.js';

const db = useDynalite('consent-withdrawals');
const NOW = 1_800_000_000;

async function withdrawalItems() {
  const { Items } = await db.documents.send(new ScanCommand({ TableName: db.grantsTable, ConsistentRead: true }));
  return (Items ?? []).filter((item) => String(item.pk).startsWith('consent#'));
}

describe('DynamoDbConsentWithdrawals', () => {
  it('records a withdrawal under a digest of person and client, until a remembered approval would have ended', async () => {
    const withdrawals = new DynamoDbConsentWithdrawals(db.grantsTable, db.documents);
    await withdrawals.withdraw('alice@example.com', 'https://notes.example/client.json', NOW);
    expect(await withdrawals.withdrawnAt('alice@example.com', 'https://notes.example/client.json')).toBe(NOW);
    const [item] = await withdrawalItems();
    expect(item.pk).toMatch(/^consent#[\w-]{43}$/);
    expect(JSON.stringify(item)).not.toContain('alice');
    expect(JSON.stringify(item)).not.toContain('notes.example');
    expect(item.expires_at).toBe(NOW + DEFAULT_LIFETIMES.consentMemory);
  });

  it('tells people and clients apart, and a later withdrawal replaces the earlier one', async () => {
    const withdrawals = new DynamoDbConsentWithdrawals(db.grantsTable, db.documents);
    await withdrawals.withdraw('bob', 'client-1', NOW);
    await withdrawals.withdraw('bob', 'client-1', NOW + 5);
    expect(await withdrawals.withdrawnAt('bob', 'client-1')).toBe(NOW + 5);
    expect(await withdrawals.withdrawnAt('bob', 'client-2')).toBeUndefined();
    expect(await withdrawals.withdrawnAt('carol', 'client-1')).toBeUndefined();
    // The separator keeps "a" + "b\u0000c" apart from "a\u0000b" + "c".
    expect(await withdrawals.withdrawnAt('bob\u0000client', '1')).toBeUndefined();
  });

  it('an unreadable table is temporarily_unavailable, never "not withdrawn"', async () => {
    const withdrawals = new DynamoDbConsentWithdrawals('no-such-table', db.documents);
    await expect(withdrawals.withdrawnAt('alice', 'client-1')).rejects.toMatchObject({
      code: 'temporarily_unavailable',
    });
  });
});

describe('DynamoDbAccessAdminStore.revokeGrant', () => {
  it("withdraws the consent of the grant's person to its client, and nothing for a missing grant", async () => {
    await db.documents.send(
      new PutCommand({
        TableName: db.grantsTable,
        Item: {
          pk: 'grant#g-withdraw',
          grant_id: 'g-withdraw',
          subject: 'dave',
          client_id: 'client-9',
          created_at: NOW - 100,
          expires_at: NOW + 100,
          grant_expires_at: NOW + 1000,
        },
      }),
    );
    const store = new DynamoDbAccessAdminStore({ clients: '', grants: db.grantsTable }, db.documents);
    const withdrawals = new DynamoDbConsentWithdrawals(db.grantsTable, db.documents);
    const before = (await withdrawalItems()).length;
    expect(await store.revokeGrant('no-such-grant', NOW)).toEqual({ outcome: 'missing' });
    expect((await withdrawalItems()).length).toBe(before);
    expect(await store.revokeGrant('g-withdraw', NOW)).toEqual({ outcome: 'revoked' });
    expect(await withdrawals.withdrawnAt('dave', 'client-9')).toBe(NOW);
  });
});
