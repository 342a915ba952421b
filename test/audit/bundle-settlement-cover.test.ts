import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { createReceipts } from '../../src/audit/receipts.js';
import { exportEvidence, verifyEvidence } from '../../src/audit/index.js';
import { createResolver } from '../../src/did/index.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * A bundle's log segment runs to a checkpoint that covers the decision's
 * settlements too: a routine checkpoint between a reservation and its
 * commit must not leave the commit outside what the bundle fixes, where
 * dropping it from the bundle (a spend "never committed") went unnoticed.
 */
const resolver = createResolver({});

describe('settlements inside the bundle’s checkpoint', () => {
  it('a commit after a routine checkpoint: the bundle reaches the next checkpoint, and dropping the commit is caught', async () => {
    const store = await openSqliteStore(join(tempDir('charter-settle-cover-'), 'a.db'));
    try {
      const signer = makeIssuer();
      const r = createReceipts(store, { signer, checkpointEvery: 1000, checkpointSeconds: 0 }, resolver);
      const d = await r.recordDecision({
        verifier: 'did:web:api.example',
        time: Date.now(),
        ok: true,
        status: 200,
        reasons: [],
        holder: makeIssuer().did,
        request: { htm: 'POST', htu: 'https://api.example/buy' },
        policy: { kind: 'signature' },
        chain: [],
        spend: { reservation: 'res-1', amount: { amount: '25', currency: 'USD' } },
      } as never);
      await r.checkpoint(); // a routine checkpoint lands between the reservation and its settlement
      await r.recordSettlement(d.id, { reservation: 'res-1', state: 'committed' });
      await r.checkpoint();
      const b = await exportEvidence(store, d.id);
      expect(b.settlements).toHaveLength(1);
      expect(b.log.entries.length).toBe(2);
      expect((await verifyEvidence(b, { issuers: [signer.did] })).ok).toBe(true);
      const dropped = await verifyEvidence({ ...b, settlements: [] }, { issuers: [signer.did] });
      expect([dropped.ok, dropped.parts.filter((p) => !p.ok).map((p) => p.part)]).toEqual([false, ['settlements']]);
    } finally {
      await store.close();
    }
  });
});
