import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import type { Store } from '../../src/store/types.js';
import { signCheckpoint, AuditWriter } from '../../src/audit/writer.js';
import { verifyAuditLog } from '../../src/audit/index.js';
import { createResolver } from '../../src/did/index.js';
import { makeIssuer, tempDir } from '../helpers.js';
import { dropSchemas, freshSchema, PG_URL, sql } from '../store/fixtures/pg-env.js';
import { decisionClaims as claims } from './claims.js';

/**
 * The audit log verified while it is written: a verify running alongside
 * appends judges the log as it was when it began (never a false break), and
 * a checkpoint never covers entries the store does not hold yet (an
 * after-reply writer that crashes leaves a log that still verifies).
 */
const resolver = createResolver();
const signer = makeIssuer();

/** A fresh, empty store, and a way to change its tables behind it ({entries}, {checkpoints}), as a database writer would. */
interface Fresh {
  store: Store;
  exec(text: string): Promise<void>;
}

const schemas: string[] = [];
afterAll(async () => {
  if (PG_URL) await dropSchemas(PG_URL, schemas);
});

const backends: [string, () => Promise<Fresh>][] = [
  [
    'SQLite',
    async () => {
      const file = join(tempDir(), 'log.db');
      const store = await openSqliteStore(file);
      return {
        store,
        async exec(text) {
          const db = new Database(file);
          try {
            db.exec(text.replaceAll('{entries}', 'audit_entries').replaceAll('{checkpoints}', 'audit_checkpoints'));
          } finally {
            db.close();
          }
        },
      };
    },
  ],
];
if (PG_URL) {
  const url = PG_URL;
  backends.push([
    'PostgreSQL',
    async () => {
      const schema = freshSchema('live_verify');
      schemas.push(schema);
      const store = await openPostgresStore(url, { schema, poolSize: 3 });
      return {
        store,
        exec: async (text) => void (await sql(url, text.replaceAll('{entries}', `${schema}.audit_entries`).replaceAll('{checkpoints}', `${schema}.audit_checkpoints`))),
      };
    },
  ]);
} else {
  console.warn('[live verify] PostgreSQL SKIPPED: set CHARTER_TEST_PG_URL to run it too');
}

const until = async (done: () => boolean | Promise<boolean>) => {
  for (let i = 0; !(await done()); i++) {
    if (i > 1000) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** A log of 10 entries, checkpointed at 4, 8 and 10. */
async function logOf10(store: Store): Promise<AuditWriter> {
  const w = new AuditWriter(store, { signer, checkpointEvery: 4, checkpointSeconds: 0 });
  for (let i = 0; i < 10; i++) await w.append(claims(), []);
  await w.checkpoint();
  return w;
}

/** The store, with `hook` run as each of its calls returns (the verify's reads interleaved with other work). */
function interleaved(store: Store, hook: { afterChains?: () => Promise<void>; afterPage?: () => Promise<void> }): Store {
  return {
    ...store,
    listAuditChains: async () => {
      const r = await store.listAuditChains();
      await hook.afterChains?.();
      return r;
    },
    listAudit: async (f) => {
      const r = await store.listAudit(f);
      await hook.afterPage?.();
      return r;
    },
  };
}

/** The store, with every audit append held until released (in order); one never released is lost, as in a crash. */
function held(store: Store): { store: Store; waiting: (() => void)[] } {
  const waiting: (() => void)[] = [];
  return {
    waiting,
    store: {
      ...store,
      appendAudit: async (batch) => {
        await new Promise<void>((r) => waiting.push(r));
        await store.appendAudit(batch);
      },
    },
  };
}

const storedSeq = async (store: Store, chain: string) => (await store.listAudit({ chain, limit: 1000 })).reduce((m, e) => Math.max(m, e.seq), 0);

for (const [name, fresh] of backends) {
  describe(`audit verify on a live log (${name})`, () => {
    it('entries and checkpoints appended after the chains are listed, and during the walk, are no break', async () => {
      const { store } = await fresh();
      try {
        const w = await logOf10(store);
        const live = interleaved(store, {
          // Entries 11 to 15, with a checkpoint at 12 (checkpointEvery) and at 15, stored once the verify has listed the chain at 10.
          afterChains: async () => {
            for (let i = 0; i < 5; i++) await w.append(claims(), []);
            await w.checkpoint();
          },
          afterPage: async () => void (await w.append(claims(), [])),
        });
        const log = await verifyAuditLog(live, { resolver });
        expect(log.broken).toBeUndefined();
        // Walked as listed, and on to the checkpoints read later: the entries they cover are there and match.
        expect(log.chains).toMatchObject([{ chain: w.chain, first: 1, last: 15, checkpoints: 5 }]);
        expect((await verifyAuditLog(store, { resolver })).chains[0]!.last).toBeGreaterThan(15);
      } finally {
        await store.close();
      }
    });

    it('two writers appending while verifies run: every run ok', async () => {
      const { store } = await fresh();
      try {
        const writers = [0, 1].map(() => new AuditWriter(store, { signer, checkpointEvery: 5, checkpointSeconds: 0 }));
        await Promise.all(writers.map((w) => w.append(claims(), [])));
        let stop = false;
        const traffic = Promise.all(
          writers.map(async (w) => {
            for (let i = 0; i < 150 && !stop; i++) await w.append(claims(), []);
          }),
        );
        const runs = [];
        for (let i = 0; i < 10; i++) runs.push(await verifyAuditLog(store, { resolver }));
        stop = true;
        await traffic;
        expect(runs.map((r) => r.broken?.message)).toEqual(Array(10).fill(undefined));
      } finally {
        await store.close();
      }
    });

    it('still a break: an entry removed, an entry edited, the tail removed (before the verify or during it), a checkpoint claiming more', async () => {
      const cases: [string, (f: Fresh, chain: string) => Promise<Store>, number, RegExp][] = [
        ['removed', async (f) => (await f.exec(`DELETE FROM {entries} WHERE seq = 6`), f.store), 6, /entry 6 is missing/],
        ['edited', async (f) => (await f.exec(`UPDATE {entries} SET outcome = 'deny' WHERE seq = 5`), f.store), 5, /stored outcome differs/],
        // The listing then ends at 8: only the checkpoint at 10 shows what was there.
        ['tail removed', async (f) => (await f.exec(`DELETE FROM {entries} WHERE seq >= 9`), f.store), 9, /checkpoint holds 10 entries but the chain ends at 8/],
        [
          'tail and its checkpoints removed during the verify',
          async (f) => interleaved(f.store, { afterChains: () => f.exec(`DELETE FROM {entries} WHERE seq >= 9; DELETE FROM {checkpoints} WHERE seq >= 9`) }),
          9,
          /entries stop at 8, but it claims 10/,
        ],
        ['a given checkpoint beyond the chain', async (f) => f.store, 11, /checkpoint holds 12 entries but the chain ends at 10/],
      ];
      for (const [what, tamper, seq, message] of cases) {
        const f = await fresh();
        try {
          const w = await logOf10(f.store);
          const given = what.startsWith('a given') ? [(await signCheckpoint(signer, w.chain, 12, 'sha-256:nothing')).jws] : [];
          const store = await tamper(f, w.chain);
          const log = await verifyAuditLog(store, { resolver, checkpoints: given });
          expect([what, log.ok, log.broken?.seq, log.broken?.message]).toEqual([what, false, seq, expect.stringMatching(message)]);
        } finally {
          await f.store.close();
        }
      }
    });
  });

  describe(`after-reply checkpoints never ahead of the store (${name})`, () => {
    it('checkpoint() while entries placed after it was asked are still being stored: it covers only stored ones, and the log verifies after a crash', async () => {
      const { store: real } = await fresh();
      try {
        const { store, waiting } = held(real);
        const w = new AuditWriter(store, { signer, append: 'after-reply', checkpointEvery: 1000, checkpointSeconds: 0 });
        await w.append(claims(), []);
        await until(() => waiting.length === 1);
        const asked = w.checkpoint();
        // Placed (and answered) after the checkpoint was asked; never stored: the process dies before.
        await w.append(claims(), []);
        waiting[0]!();
        const cp = await asked;
        expect(cp?.seq).toBe(1);
        expect(await storedSeq(real, w.chain)).toBe(1);
        const log = await verifyAuditLog(real, { resolver });
        expect([log.ok, log.broken?.message]).toEqual([true, undefined]);
        expect(log.chains).toMatchObject([{ chain: w.chain, last: 1, checkpoints: 1 }]);
      } finally {
        await real.close();
      }
    });

    it('entries placed while checkpoint() waits still count toward the next checkpoint (checkpointEvery)', async () => {
      const { store: real } = await fresh();
      try {
        const { store, waiting } = held(real);
        const w = new AuditWriter(store, { signer, append: 'after-reply', checkpointEvery: 3, checkpointSeconds: 0 });
        await w.append(claims(), []);
        await until(() => waiting.length === 1);
        const asked = w.checkpoint();
        // Entry 2, placed while the checkpoint waits for entry 1 to be stored: the checkpoint covers 1 only.
        await w.append(claims(), []);
        waiting[0]!();
        expect((await asked)?.seq).toBe(1);
        // From here on the store answers at once. Entries 2, 3 and 4 follow the checkpoint at 1: 4 is the third.
        const flow = setInterval(() => waiting.splice(0).forEach((r) => r()), 2);
        try {
          await w.append(claims(), []);
          await w.append(claims(), []);
          await w.flush();
        } finally {
          clearInterval(flow);
        }
        expect((await real.listAuditCheckpoints(w.chain)).map((c) => c.seq)).toEqual([1, 4]);
      } finally {
        await real.close();
      }
    });

    it('the idle checkpoint timer, firing while entries are being stored: the same', async () => {
      const { store: real } = await fresh();
      try {
        const { store, waiting } = held(real);
        const w = new AuditWriter(store, { signer, append: 'after-reply', checkpointEvery: 1000, checkpointSeconds: 0.05 });
        await w.append(claims(), []);
        await until(() => waiting.length === 1);
        // The timer has fired: its checkpoint waits for entry 1 to be stored.
        await new Promise((r) => setTimeout(r, 150));
        await w.append(claims(), []);
        waiting[0]!();
        await until(async () => (await real.listAuditCheckpoints(w.chain)).length > 0);
        expect((await real.listAuditCheckpoints(w.chain)).map((c) => c.seq)).toEqual([1]);
        // Crashed with entry 2 unstored.
        const log = await verifyAuditLog(real, { resolver });
        expect([log.ok, log.broken?.message]).toEqual([true, undefined]);
      } finally {
        await real.close();
      }
    });
  });
}
