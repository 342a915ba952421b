import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { AuditCheckpointRecord, Store } from '../../src/store/types.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { verifyAuditLog } from '../../src/audit/index.js';
import { createResolver } from '../../src/did/index.js';
import { CharterError, isCharterError } from '../../src/errors.js';
import type { CharterResolver } from '../../src/did/types.js';
import { makeIssuer, tempDir } from '../helpers.js';
import { decisionClaims } from './claims.js';

const claims = decisionClaims;

async function logOf(n: number, o: { checkpointEvery?: number } = {}): Promise<{ file: string; chain: string }> {
  const file = join(tempDir(), 'log.db');
  const store = await openSqliteStore(file);
  const w = new AuditWriter(store, { signer: makeIssuer(), checkpointEvery: o.checkpointEvery ?? 1000, checkpointSeconds: 0 });
  for (let i = 0; i < n; i++) await w.append(claims() as never, []);
  await w.checkpoint();
  await store.close();
  return { file, chain: w.chain };
}

const resolver = createResolver();

describe('audit verify: a row edited behind the store, and a signer that cannot be resolved', () => {
  it('a stored time or checkpoint time that is no time is a break at that entry (exit 1), not a store fault for the whole log', async () => {
    for (const [table, seq] of [
      ['audit_entries', 2],
      ['audit_entries', 3],
      ['audit_checkpoints', 3],
    ] as const) {
      const { file } = await logOf(3);
      for (const bad of ['abc', 'NaN', '1e400', '']) {
        const db = new Database(file);
        db.prepare(`UPDATE ${table} SET at = ? WHERE seq = ?`).run(bad, seq);
        db.close();
        const store = await openSqliteStore(file);
        try {
          const v = await verifyAuditLog(store, { resolver });
          if (table === 'audit_entries') {
            expect([table, bad, v.ok, v.broken?.seq, v.broken?.code]).toEqual([table, bad, false, seq, 'AUDIT_CHAIN_BROKEN']);
            expect(v.broken?.message).toMatch(/stored time differs/);
            // Listing still works: the one row does not take the log down.
            expect((await store.listAudit({})).length).toBe(3);
          } else {
            // A checkpoint's own time is not what it proves: the signed checkpoint still matches.
            expect([table, bad, v.ok]).toEqual([table, bad, true]);
            expect((await store.listAuditCheckpoints(v.chains[0]!.chain)).length).toBe(1);
          }
        } finally {
          await store.close();
        }
      }
    }
  });

  it('a signer whose DID cannot be resolved is that fault (exit 3), never a break the log does not have', async () => {
    const { file } = await logOf(2);
    const down: CharterResolver = {
      ...resolver,
      resolve: () => Promise.reject(new CharterError('DID_RESOLUTION_FAILED', 'the DID document could not be fetched')),
      resolveKey: () => Promise.reject(new CharterError('DID_RESOLUTION_FAILED', 'the DID document could not be fetched')),
    };
    const store = await openSqliteStore(file);
    try {
      await expect(verifyAuditLog(store, { resolver: down })).rejects.toSatisfy((e) => isCharterError(e, 'DID_RESOLUTION_FAILED'));
      // With the DID reachable again, the same log verifies.
      expect((await verifyAuditLog(store, { resolver })).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('the writer checkpoints what it wrote within checkpointSeconds', () => {
  it('entries appended while a timed checkpoint is signed and stored are checkpointed by the next one', async () => {
    const file = join(tempDir(), 'log.db');
    const real = await openSqliteStore(file);
    let storing: (() => void) | undefined;
    const store: Store = {
      ...real,
      putAuditCheckpoint: async (cp: AuditCheckpointRecord) => {
        storing?.();
        await new Promise((r) => setTimeout(r, 150));
        return real.putAuditCheckpoint(cp);
      },
    };
    const w = new AuditWriter(store, { signer: makeIssuer(), checkpointEvery: 1000, checkpointSeconds: 0.3 });
    await w.append(claims() as never, []);
    await new Promise<void>((r) => (storing = r));
    storing = undefined;
    await w.append(claims() as never, []);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await real.listAuditCheckpoints(w.chain)).map((c) => c.seq)).toEqual([1, 2]);
    await real.close();
  });
});
