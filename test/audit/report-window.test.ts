import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeReceipt, receiptsForGrant } from '../../src/audit/index.js';
import { newReceiptId } from '../../src/audit/receipts.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * An access report carries the newest uses of a grant in the window, however
 * many decisions the log holds before them: the log lists oldest first, so
 * reading one page would report the oldest uses and never the latest.
 */
describe('receiptsForGrant: the newest uses, read through the whole window', () => {
  it('pages through every decision (several in one millisecond) and keeps the newest 100 of the grant, oldest first', async () => {
    const store = await openSqliteStore(join(tempDir(), 'report.db'));
    const api = makeIssuer();
    const writer = new AuditWriter(store, { signer: api });
    const base = Date.now() - 3_600_000;
    const grants = ['urn:uuid:grant-a', 'urn:uuid:grant-b'];
    const mine: string[] = [];
    // 180 decisions; three share each millisecond; every sixth is about the other grant.
    for (let i = 0; i < 180; i++) {
      const t = base + Math.floor(i / 3) * 1000;
      const grant = i % 6 === 5 ? grants[1]! : grants[0]!;
      const claims = {
        jti: newReceiptId(t),
        iat: Math.floor(t / 1000),
        time: new Date(t).toISOString(),
        kind: 'decision' as const,
        verifier: api.did,
        decision: 'allow' as const,
        status: 200,
        reasons: [],
        request: { htm: 'GET', htu: `https://api.example/photos/${i}` },
        policy: { kind: 'grant' as const, resource: 'photos/*', action: 'read', anyOwner: true as const },
        credentials: [],
        chain: [{ id: grant, iss: 'did:key:z6MkgrantorXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' }],
      };
      const { jws } = await writer.append(claims, []);
      if (grant === grants[0]) mine.push(jws);
    }
    expect(mine.length).toBe(150);
    for (const pageSize of [7, 3, 1, 10_000]) {
      const got = await receiptsForGrant(store, grants[0]!, { since: new Date(base - 1000), pageSize });
      expect([pageSize, got.length]).toEqual([pageSize, 100]);
      expect(got).toEqual(mine.slice(-100));
    }
    const other = await receiptsForGrant(store, grants[1]!, { since: new Date(base - 1000), pageSize: 4 });
    expect(other.length).toBe(30);
    expect(other.every((j) => decodeReceipt(j).kind === 'decision')).toBe(true);
    await store.close();
  });

  it('with the default page size: 10,050 decisions, the newest uses are the ones reported', async () => {
    const store = await openSqliteStore(join(tempDir(), 'busy.db'));
    const api = makeIssuer();
    const writer = new AuditWriter(store, { signer: api });
    const base = Date.now() - 3_600_000;
    const at = (i: number) => base + i * 10;
    const claims = (i: number, grant: string) => ({
      jti: newReceiptId(at(i)),
      iat: Math.floor(at(i) / 1000),
      time: new Date(at(i)).toISOString(),
      kind: 'decision' as const,
      verifier: api.did,
      decision: 'allow' as const,
      status: 200,
      reasons: [],
      request: { htm: 'GET', htu: `https://api.example/photos/${i}` },
      policy: { kind: 'grant' as const, resource: 'photos/*', action: 'read', anyOwner: true as const },
      credentials: [],
      chain: [{ id: grant, iss: 'did:key:z6MkgrantorXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' }],
    });
    // Uses of the grant early on, then 10,000 decisions about others, then its newest uses.
    const jws = await Promise.all(Array.from({ length: 10_050 }, (_, i) => writer.append(claims(i, i < 20 || i >= 10_020 ? 'urn:uuid:g' : 'urn:uuid:other'), [])));
    const got = await receiptsForGrant(store, 'urn:uuid:g', { since: new Date(base - 1000) });
    expect(got.length).toBe(50);
    expect(got.slice(-30)).toEqual(jws.slice(10_020).map((j) => j.jws));
    await store.close();
  }, 60_000);
});
