import { afterAll, afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { AuditWriter } from '../../src/audit/writer.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import { makeIssuer } from '../helpers.js';
import { dropSchemas, freshSchema, pgUrlOrReport, sql } from './fixtures/pg-env.js';
import { decisionClaims } from '../audit/claims.js';

const url = pgUrlOrReport('postgres audit prune');

const claims = decisionClaims;

/** A DID document every decision shares: stored once, referenced by each entry. */
const DID_DOC = { hash: 'sha256-shared-did-document', body: '{"id":"did:web:x"}' };

type Query = (this: pg.Client, ...a: unknown[]) => unknown;
const originalQuery = pg.Client.prototype.query as unknown as Query;

/**
 * Holds the next append of `schema` open right after its blob insert (as a verifier
 * mid-transaction under traffic): `reached` gives the backend pid holding it, `release` lets it commit.
 */
function holdNextBlobInsert(schema: string) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let onReached!: (pid: number) => void;
  const reached = new Promise<number>((r) => (onReached = r));
  let armed = true;
  (pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, ...a: unknown[]) {
    const text = typeof a[0] === 'string' ? a[0] : ((a[0] as { text?: string } | undefined)?.text ?? '');
    const p = originalQuery.apply(this, a);
    if (armed && text.includes(schema) && /INSERT INTO \S*audit_blobs/.test(text) && p instanceof Promise) {
      armed = false;
      const pid = (this as unknown as { processID: number }).processID;
      return p.then(async (r: unknown) => {
        onReached(pid);
        await gate;
        return r;
      });
    }
    return p;
  };
  return { reached, release };
}

/** Resolves when `p` settles or some backend waits on a lock `holder` holds, whichever is first. */
async function settledOrBlockedBy<T>(p: Promise<T>, holder: number): Promise<'settled' | 'blocked'> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 500; i++) {
    if (settled) return 'settled';
    const waiting = await sql(url!, 'SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [holder]);
    if (waiting.length > 0) return 'blocked';
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('neither settled nor blocked in 10s');
}

const receiptId = (jws: string) => (JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;

if (url) {
  const schemas = new Set<string>();
  const open = (schema = freshSchema()) => {
    schemas.add(schema);
    return { schema, store: openPostgresStore(url, { schema, poolSize: 4 }) };
  };
  afterEach(() => {
    (pg.Client.prototype as unknown as { query: Query }).query = originalQuery;
  });
  afterAll(() => dropSchemas(url, schemas));

  describe('postgres audit prune under traffic', () => {
    it('a prune racing an append that refers to a stored blob waits for it and keeps the blob the new entry needs', async () => {
      const { schema, store: opening } = open();
      const store = await opening;
      let release = () => undefined as void;
      try {
        const w = new AuditWriter(store, { signer: makeIssuer(), checkpointEvery: 1000 });
        await w.append(claims(), [DID_DOC]);
        await w.checkpoint();
        // The next append stores (ON CONFLICT: finds) the shared blob, then stays open before COMMIT.
        const hold = holdNextBlobInsert(schema);
        release = hold.release;
        const second = w.append(claims(), [DID_DOC]);
        const holder = await hold.reached;
        const prune = store.pruneAudit({ chain: w.chain, throughSeq: 1 });
        // The prune must not finish while the append is in flight: it waits on that transaction.
        const state = await settledOrBlockedBy(prune, holder);
        hold.release();
        const placed = await second;
        expect(await prune).toEqual({ entries: 1, blobs: 0 });
        expect(state).toBe('blocked');
        expect(placed.seq).toBe(2);
        expect((await store.listAudit({ chain: w.chain })).map((e) => e.seq)).toEqual([2]);
        expect(await store.getAuditEvidence(receiptId(placed.jws))).toEqual([DID_DOC]);
        // Once nothing refers to it, the next prune removes it.
        expect(await store.pruneAudit({ chain: w.chain, throughSeq: 2 })).toEqual({ entries: 1, blobs: 1 });
        expect(await store.getAuditBlobs([DID_DOC.hash])).toEqual([]);
      } finally {
        release();
        await store.close();
      }
    });

    it('appends storing blobs stay concurrent with each other (one held open does not block another)', async () => {
      const { schema, store: opening } = open();
      const store = await opening;
      let release = () => undefined as void;
      try {
        const a = new AuditWriter(store, { signer: makeIssuer(), checkpointEvery: 1000 });
        const b = new AuditWriter(store, { signer: makeIssuer(), checkpointEvery: 1000 });
        await a.append(claims(), [DID_DOC]);
        const hold = holdNextBlobInsert(schema);
        release = hold.release;
        const first = a.append(claims(), [DID_DOC]);
        await hold.reached;
        // Another writer's append of the same blob commits while the first is still open.
        const other = await b.append(claims(), [DID_DOC, { hash: 'sha256-other', body: '{}' }]);
        expect(other.seq).toBe(1);
        hold.release();
        expect((await first).seq).toBe(2);
        expect(await store.getAuditEvidence(receiptId(other.jws))).toHaveLength(2);
      } finally {
        release();
        await store.close();
      }
    });
  });
}
