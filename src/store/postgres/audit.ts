import type { PoolClient } from 'pg';
import { accessRoomFrom } from '../access-share.js';
import type { AccessReceiptOutcome, AccessReceiptRecord, AccessReportStore, AuditAppend, AuditFilter, AuditStore } from '../types.js';
import {
  accessReceiptRow,
  AUDIT_COLUMNS as COLUMNS,
  auditChainRow,
  auditCheckpointRow,
  auditEntryRow,
  checkAuditAppend,
  checkAuditFilter,
  checkpointIssuer,
  refsByEntry,
} from '../rows.js';
import type { Access } from './access.js';

const DEFAULT_LIMIT = 1000;

/**
 * The audit log and access reports in PostgreSQL. Each append is one
 * transaction of multi-row inserts; the primary key (chain, seq) refuses a
 * second writer on one chain (each verifier instance writes its own chain,
 * so instances sharing a database never contend). A COMMIT whose outcome is
 * unknown is confirmed by reading the batch's first entry back.
 */
export function postgresAudit({ run, read, rows, t }: Access): AuditStore & AccessReportStore {
  // The shared evidence blobs of this schema: an append storing or referencing blobs holds this lock shared
  // (appends stay concurrent with each other), the prune's cleanup holds it exclusive. Without it, a
  // prune whose snapshot cannot see an uncommitted entry's refs deletes the blob that entry needs (the
  // append's ON CONFLICT DO NOTHING takes no lock on an existing blob row). Both take it as their
  // transaction's first statement, before any row lock, so it cannot close a cycle with row locks.
  const blobsLock = `charter.audit-blobs:${t.auditBlobs}`;
  async function insertBatch(q: PoolClient, b: AuditAppend, now: number): Promise<void> {
    if ((b.blobs?.length ?? 0) > 0 || (b.refs?.length ?? 0) > 0) await q.query('SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))', [blobsLock]);
    const e = b.entries;
    const refs = refsByEntry(b);
    const inline = new Map((b.inline ?? []).map((x) => [x.receiptId, x]));
    if (e.length > 0) {
      await q.query(
        `INSERT INTO ${t.auditEntries} (chain, seq, hash, prev, receipt_id, kind, outcome, issuer, subject, at, jws, recorded_at, refs, presentation_hash, presentation)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[])`,
        [
          e.map((x) => x.chain),
          e.map((x) => x.seq),
          e.map((x) => x.hash),
          e.map((x) => x.prev),
          e.map((x) => x.receiptId),
          e.map((x) => x.kind),
          e.map((x) => x.outcome),
          e.map((x) => x.issuer),
          e.map((x) => x.subject ?? null),
          e.map((x) => Date.parse(x.at)),
          e.map((x) => x.jws),
          e.map(() => now),
          e.map((x) => refs.get(x.receiptId) ?? null),
          e.map((x) => inline.get(x.receiptId)?.hash ?? null),
          e.map((x) => inline.get(x.receiptId)?.body ?? null),
        ],
      );
    }
    const blobs = b.blobs ?? [];
    if (blobs.length > 0) {
      await q.query(`INSERT INTO ${t.auditBlobs} (hash, body) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (hash) DO NOTHING`, [
        blobs.map((x) => x.hash),
        blobs.map((x) => x.body),
      ]);
    }
    if (b.checkpoint) await putCheckpoint(q, b.checkpoint);
  }

  const putCheckpoint = (q: PoolClient, cp: AuditAppend['checkpoint'] & object) =>
    q.query(`INSERT INTO ${t.auditCheckpoints} (chain, seq, head, issuer, at, jws) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain, seq) DO NOTHING`, [
      cp.chain,
      cp.seq,
      cp.head,
      checkpointIssuer(cp.jws),
      Date.parse(cp.at),
      cp.jws,
    ]);

  async function putOne(q: PoolClient, r: AccessReceiptRecord, max: number): Promise<AccessReceiptOutcome> {
    const count = async (sql: string, args: unknown[]) => Number((await q.query<{ n: string }>(sql, args)).rows[0]!.n);
    if ((await q.query(`SELECT 1 FROM ${t.accessReceipts} WHERE grant_id = $1 AND verifier = $2 AND receipt_id = $3`, [r.grantId, r.verifier, r.receiptId])).rowCount) {
      return 'duplicate';
    }
    if ((await count(`SELECT COUNT(*) AS n FROM ${t.accessReceipts} WHERE grant_id = $1`, [r.grantId])) >= max) {
      // Full: room is made only from a share holding more than this one's would after (fair shares, access-share.ts).
      const holdings = (
        await q.query<{ verifier: string; n: string; first: string }>(
          `SELECT verifier, COUNT(*) AS n, MIN(received_at) AS first FROM ${t.accessReceipts} WHERE grant_id = $1 GROUP BY verifier`,
          [r.grantId],
        )
      ).rows.map((x) => ({ verifier: x.verifier, n: Number(x.n), first: Number(x.first) }));
      const from = accessRoomFrom(holdings, r.verifier);
      if (from === undefined) return 'full';
      await q.query(
        `DELETE FROM ${t.accessReceipts} WHERE (grant_id, verifier, receipt_id) = (SELECT grant_id, verifier, receipt_id FROM ${t.accessReceipts} WHERE grant_id = $1 AND verifier = ANY($2::text[]) ORDER BY at, receipt_id LIMIT 1)`,
        [r.grantId, from],
      );
    }
    await q.query(`INSERT INTO ${t.accessReceipts} (grant_id, receipt_id, verifier, reporter, holder, outcome, at, received_at, jws) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
      r.grantId,
      r.receiptId,
      r.verifier,
      r.reporter,
      r.holder ?? null,
      r.outcome,
      Date.parse(r.at),
      Date.parse(r.receivedAt),
      r.jws,
    ]);
    return 'added';
  }

  const store: AuditStore & AccessReportStore = {
    async appendAudit(batch) {
      checkAuditAppend(batch);
      const first = batch.entries[0];
      const confirm = async (q: PoolClient) =>
        first === undefined || (await q.query(`SELECT 1 FROM ${t.auditEntries} WHERE chain = $1 AND seq = $2 AND hash = $3`, [first.chain, first.seq, first.hash])).rowCount === 1;
      const now = Date.now();
      await run({ tx: true, confirm }, (q) => insertBatch(q, batch, now));
    },
    async listAudit(given: AuditFilter = {}) {
      const f = checkAuditFilter(given);
      const where: string[] = [];
      const args: unknown[] = [];
      const add = (sql: string, v: unknown) => {
        args.push(v);
        where.push(sql.replace('?', `$${args.length}`));
      };
      if (f.chain !== undefined) add('chain = ?', f.chain);
      if (f.fromSeq !== undefined) add('seq >= ?', f.fromSeq);
      if (f.subject !== undefined) add('subject = ?', f.subject);
      if (f.outcome !== undefined) add('outcome = ?', f.outcome);
      if (f.kind !== undefined) add('kind = ?', f.kind);
      if (f.since !== undefined) add('at >= ?', f.since.getTime());
      if (f.until !== undefined) add('at < ?', f.until.getTime());
      args.push(f.limit ?? DEFAULT_LIMIT);
      const order = f.chain !== undefined ? 'chain, seq' : 'at, chain, seq';
      return (await rows(`SELECT ${COLUMNS} FROM ${t.auditEntries}${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY ${order} LIMIT $${args.length}`, args)).map(
        auditEntryRow,
      );
    },
    async findAudit(ref) {
      // By receipt id (indexed); by entry hash, rarer, a scan.
      const r =
        (await rows(`SELECT ${COLUMNS} FROM ${t.auditEntries} WHERE receipt_id = $1`, [ref]))[0] ??
        (await rows(`SELECT ${COLUMNS} FROM ${t.auditEntries} WHERE hash = $1 LIMIT 1`, [ref]))[0];
      return r ? auditEntryRow(r) : undefined;
    },
    async listAuditChains() {
      const r = await rows(
        `SELECT e.chain, e.first, e.last, e.count, h.hash AS head, h.issuer FROM
           (SELECT chain, min(seq) AS first, max(seq) AS last, count(*) AS count FROM ${t.auditEntries} GROUP BY chain) e
           JOIN ${t.auditEntries} h ON h.chain = e.chain AND h.seq = e.last
         UNION ALL
         SELECT c.chain, c.seq + 1, c.seq, 0, c.head, c.issuer FROM ${t.auditCheckpoints} c
           WHERE c.seq = (SELECT max(seq) FROM ${t.auditCheckpoints} x WHERE x.chain = c.chain)
             AND NOT EXISTS (SELECT 1 FROM ${t.auditEntries} e WHERE e.chain = c.chain)
         ORDER BY 1`,
        [],
      );
      return r.map(auditChainRow);
    },
    async putAuditCheckpoint(cp) {
      await read((q) => putCheckpoint(q, cp));
    },
    async listAuditCheckpoints(chain) {
      const r =
        chain === undefined
          ? await rows(`SELECT * FROM ${t.auditCheckpoints} ORDER BY chain, seq`, [])
          : await rows(`SELECT * FROM ${t.auditCheckpoints} WHERE chain = $1 ORDER BY seq`, [chain]);
      return r.map(auditCheckpointRow);
    },
    async getAuditBlobs(hashes) {
      if (hashes.length === 0) return [];
      const r = await rows(`SELECT hash, body FROM ${t.auditBlobs} WHERE hash = ANY($1::text[])`, [[...hashes]]);
      const by = new Map(r.map((x) => [x.hash as string, x.body as string]));
      // In the order asked, as the SQLite store answers.
      return hashes.flatMap((h) => (by.has(h) ? [{ hash: h, body: by.get(h)! }] : []));
    },
    async getAuditEvidence(receiptId) {
      const r = (await rows(`SELECT refs, presentation_hash, presentation FROM ${t.auditEntries} WHERE receipt_id = $1`, [receiptId]))[0];
      if (!r) return [];
      const own = typeof r.presentation === 'string' ? [{ hash: r.presentation_hash as string, body: r.presentation }] : [];
      const shared = typeof r.refs === 'string' ? await store.getAuditBlobs(JSON.parse(r.refs) as string[]) : [];
      return [...own, ...shared];
    },
    async pruneAudit({ chain, throughSeq, evidenceBefore }) {
      return run({ tx: true, idempotent: true }, async (q) => {
        // Waits for appends in flight and holds new ones off; each statement after it (READ COMMITTED)
        // sees every entry committed before, so the cleanup below keeps every blob an entry refers to.
        await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [blobsLock]);
        const entries = (await q.query(`DELETE FROM ${t.auditEntries} WHERE chain = $1 AND seq <= $2`, [chain, throughSeq])).rowCount ?? 0;
        let presentations = 0;
        if (evidenceBefore !== undefined) {
          // Counted before the UPDATE (as the SQLite store does): RETURNING sees each row as updated, its presentation already NULL.
          presentations = Number((await q.query(`SELECT count(*) AS n FROM ${t.auditEntries} WHERE at < $1 AND presentation IS NOT NULL`, [evidenceBefore.getTime()])).rows[0].n);
          await q.query(
            `UPDATE ${t.auditEntries} SET refs = NULL, presentation_hash = NULL, presentation = NULL WHERE at < $1 AND (refs IS NOT NULL OR presentation IS NOT NULL)`,
            [evidenceBefore.getTime()],
          );
        }
        const blobs =
          (await q.query(`DELETE FROM ${t.auditBlobs} WHERE hash NOT IN (SELECT jsonb_array_elements_text(refs::jsonb) FROM ${t.auditEntries} WHERE refs IS NOT NULL)`)).rowCount ??
          0;
        return { entries, blobs: blobs + presentations };
      });
    },
    async putAccessReceipts(recs, options = {}) {
      if (recs.length === 0) return [];
      const max = options.maxPerGrant ?? Infinity;
      // A COMMIT whose reply was lost is confirmed by reading back what was added: run again, the same
      // call would find its own receipts and report them as duplicates, the reporter told none was accepted.
      const confirm = async (q: PoolClient, out: AccessReceiptOutcome[]) => {
        const added = recs.filter((_, i) => out[i] === 'added');
        if (added.length === 0) return true;
        const r = await q.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${t.accessReceipts} a JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS k(g, v, r, j)
           ON a.grant_id = k.g AND a.verifier = k.v AND a.receipt_id = k.r AND a.jws = k.j`,
          [added.map((x) => x.grantId), added.map((x) => x.verifier), added.map((x) => x.receiptId), added.map((x) => x.jws)],
        );
        return r.rows[0]!.n === added.length;
      };
      return run({ tx: true, confirm }, async (q) => {
        // One writer per grant at a time (a transaction-scoped lock, in a fixed order): the counts the cap is
        // decided on are the ones the writes land on, however many reports arrive at once.
        for (const g of [...new Set(recs.map((r) => r.grantId))].sort()) await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`charter.access:${g}`]);
        const out: AccessReceiptOutcome[] = [];
        for (const r of recs) out.push(await putOne(q, r, max));
        return out;
      });
    },
    async listAccessReceipts(f = {}) {
      const r =
        f.grantId !== undefined
          ? await rows(`SELECT * FROM ${t.accessReceipts} WHERE grant_id = $1 ORDER BY at DESC, receipt_id, verifier LIMIT $2`, [f.grantId, f.limit ?? DEFAULT_LIMIT])
          : await rows(`SELECT * FROM ${t.accessReceipts} ORDER BY at DESC, receipt_id, verifier LIMIT $1`, [f.limit ?? DEFAULT_LIMIT]);
      return r.map(accessReceiptRow);
    },
  };
  return store;
}
