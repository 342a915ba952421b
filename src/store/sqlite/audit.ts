import type { Database } from 'better-sqlite3';
import type { AccessReceiptOutcome, AccessReceiptRecord, AccessReportStore, AuditBlob, AuditFilter, AuditStore } from '../types.js';
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
  type Row,
} from '../rows.js';
import { wrap } from './wrap.js';
import { accessRoomFrom, type VerifierHolding } from '../access-share.js';

const DEFAULT_LIMIT = 1000;

/** The audit log and access reports in SQLite: appends are group-committed with the replay cache's writes (group.ts). */
export function sqliteAudit(db: Database, commit: <T>(run: () => T) => Promise<T>): AuditStore & AccessReportStore {
  const insertEntry = db.prepare(
    'INSERT INTO audit_entries (chain, seq, hash, prev, receipt_id, kind, outcome, issuer, subject, at, jws, recorded_at, refs, presentation_hash, presentation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertBlob = db.prepare('INSERT INTO audit_blobs (hash, body) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING');
  const insertCheckpoint = db.prepare('INSERT INTO audit_checkpoints (chain, seq, head, issuer, at, jws) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chain, seq) DO NOTHING');
  const accessHas = db.prepare('SELECT 1 FROM access_receipts WHERE grant_id = ? AND verifier = ? AND receipt_id = ?').pluck();
  const accessCount = db.prepare('SELECT COUNT(*) FROM access_receipts WHERE grant_id = ?').pluck();
  const accessHoldings = db.prepare('SELECT verifier, COUNT(*) AS n, MIN(received_at) AS first FROM access_receipts WHERE grant_id = ? GROUP BY verifier');
  // The oldest use held by any of the verifiers given (a JSON array): one share's.
  const accessEvict = db.prepare(
    'DELETE FROM access_receipts WHERE rowid = (SELECT rowid FROM access_receipts WHERE grant_id = ? AND verifier IN (SELECT value FROM json_each(?)) ORDER BY at, receipt_id LIMIT 1)',
  );
  const accessInsert = db.prepare(
    'INSERT INTO access_receipts (grant_id, receipt_id, verifier, reporter, holder, outcome, at, received_at, jws) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const putAccess = db.transaction((recs: readonly AccessReceiptRecord[], max: number): AccessReceiptOutcome[] =>
    recs.map((r) => {
      if (accessHas.get(r.grantId, r.verifier, r.receiptId) !== undefined) return 'duplicate';
      if ((accessCount.get(r.grantId) as number) >= max) {
        // Full: room is made only from a share holding more than this one's would after (fair shares, access-share.ts).
        const from = accessRoomFrom(accessHoldings.all(r.grantId) as VerifierHolding[], r.verifier);
        if (from === undefined) return 'full';
        accessEvict.run(r.grantId, JSON.stringify(from));
      }
      accessInsert.run(r.grantId, r.receiptId, r.verifier, r.reporter, r.holder ?? null, r.outcome, Date.parse(r.at), Date.parse(r.receivedAt), r.jws);
      return 'added';
    }),
  );
  const append = db.transaction((b: Parameters<AuditStore['appendAudit']>[0], now: number) => {
    const refs = refsByEntry(b);
    const inline = new Map((b.inline ?? []).map((x) => [x.receiptId, x]));
    for (const e of b.entries) {
      const own = inline.get(e.receiptId);
      insertEntry.run(
        e.chain,
        e.seq,
        e.hash,
        e.prev,
        e.receiptId,
        e.kind,
        e.outcome,
        e.issuer,
        e.subject ?? null,
        Date.parse(e.at),
        e.jws,
        now,
        refs.get(e.receiptId) ?? null,
        own?.hash ?? null,
        own?.body ?? null,
      );
    }
    for (const x of b.blobs ?? []) insertBlob.run(x.hash, x.body);
    const cp = b.checkpoint;
    if (cp) insertCheckpoint.run(cp.chain, cp.seq, cp.head, checkpointIssuer(cp.jws), Date.parse(cp.at), cp.jws);
  });
  const prune = db.transaction((chain: string, through: number, evidenceBefore: number | undefined) => {
    const entries = db.prepare('DELETE FROM audit_entries WHERE chain = ? AND seq <= ?').run(chain, through).changes;
    const presentations =
      evidenceBefore !== undefined ? ((db.prepare('SELECT count(*) AS n FROM audit_entries WHERE at < ? AND presentation IS NOT NULL').get(evidenceBefore) as Row).n as number) : 0;
    if (evidenceBefore !== undefined) {
      db.prepare('UPDATE audit_entries SET refs = NULL, presentation_hash = NULL, presentation = NULL WHERE at < ? AND (refs IS NOT NULL OR presentation IS NOT NULL)').run(
        evidenceBefore,
      );
    }
    const blobs = db.prepare('DELETE FROM audit_blobs WHERE hash NOT IN (SELECT j.value FROM audit_entries e, json_each(e.refs) j WHERE e.refs IS NOT NULL)').run().changes;
    return { entries, blobs: blobs + presentations };
  });

  return {
    async appendAudit(batch) {
      checkAuditAppend(batch);
      await commit(() => append(batch, Date.now()));
    },
    async listAudit(given: AuditFilter = {}) {
      const f = checkAuditFilter(given);
      const where: string[] = [];
      const args: unknown[] = [];
      const add = (sql: string, v: unknown) => {
        where.push(sql);
        args.push(v);
      };
      if (f.chain !== undefined) add('chain = ?', f.chain);
      if (f.fromSeq !== undefined) add('seq >= ?', f.fromSeq);
      if (f.subject !== undefined) add('subject = ?', f.subject);
      if (f.outcome !== undefined) add('outcome = ?', f.outcome);
      if (f.kind !== undefined) add('kind = ?', f.kind);
      if (f.since !== undefined) add('at >= ?', f.since.getTime());
      if (f.until !== undefined) add('at < ?', f.until.getTime());
      const order = f.chain !== undefined ? 'chain, seq' : 'at, chain, seq';
      const sql = `SELECT ${COLUMNS} FROM audit_entries${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY ${order} LIMIT ?`;
      return wrap(() => (db.prepare(sql).all(...args, f.limit ?? DEFAULT_LIMIT) as Row[]).map(auditEntryRow));
    },
    async findAudit(ref) {
      // By receipt id (indexed); by entry hash, rarer, a scan.
      const r = wrap(
        () =>
          (db.prepare(`SELECT ${COLUMNS} FROM audit_entries WHERE receipt_id = ?`).get(ref) ??
            db.prepare(`SELECT ${COLUMNS} FROM audit_entries WHERE hash = ? LIMIT 1`).get(ref)) as Row | undefined,
      );
      return r ? auditEntryRow(r) : undefined;
    },
    async listAuditChains() {
      return wrap(() => {
        const rows = db
          .prepare(
            `SELECT e.chain, e.first, e.last, e.count, h.hash AS head, h.issuer FROM
               (SELECT chain, min(seq) AS first, max(seq) AS last, count(*) AS count FROM audit_entries GROUP BY chain) e
               JOIN audit_entries h ON h.chain = e.chain AND h.seq = e.last
             UNION ALL
             SELECT c.chain, c.seq + 1, c.seq, 0, c.head, c.issuer FROM audit_checkpoints c
               WHERE c.seq = (SELECT max(seq) FROM audit_checkpoints x WHERE x.chain = c.chain)
                 AND NOT EXISTS (SELECT 1 FROM audit_entries e WHERE e.chain = c.chain)
             ORDER BY 1`,
          )
          .all() as Row[];
        return rows.map(auditChainRow);
      });
    },
    async putAuditCheckpoint(cp) {
      wrap(() => insertCheckpoint.run(cp.chain, cp.seq, cp.head, checkpointIssuer(cp.jws), Date.parse(cp.at), cp.jws));
    },
    async listAuditCheckpoints(chain) {
      const rows = wrap(
        () =>
          (chain === undefined
            ? db.prepare('SELECT * FROM audit_checkpoints ORDER BY chain, seq').all()
            : db.prepare('SELECT * FROM audit_checkpoints WHERE chain = ? ORDER BY seq').all(chain)) as Row[],
      );
      return rows.map(auditCheckpointRow);
    },
    async getAuditBlobs(hashes) {
      if (hashes.length === 0) return [];
      const get = db.prepare('SELECT hash, body FROM audit_blobs WHERE hash = ?');
      return wrap(() => hashes.flatMap((h) => (get.get(h) as { hash: string; body: string } | undefined) ?? []));
    },
    async getAuditEvidence(receiptId) {
      const r = wrap(() => db.prepare('SELECT refs, presentation_hash, presentation FROM audit_entries WHERE receipt_id = ?').get(receiptId) as Row | undefined);
      if (!r) return [];
      const own = typeof r.presentation === 'string' ? [{ hash: r.presentation_hash as string, body: r.presentation }] : [];
      const get = db.prepare('SELECT hash, body FROM audit_blobs WHERE hash = ?');
      const shared = typeof r.refs === 'string' ? wrap(() => (JSON.parse(r.refs as string) as string[]).flatMap((h) => (get.get(h) as AuditBlob | undefined) ?? [])) : [];
      return [...own, ...shared];
    },
    async pruneAudit({ chain, throughSeq, evidenceBefore }) {
      return wrap(() => prune.immediate(chain, throughSeq, evidenceBefore?.getTime()));
    },
    async putAccessReceipts(recs, options = {}) {
      const max = options.maxPerGrant ?? Infinity;
      // One IMMEDIATE transaction: the counts the cap is decided on are the ones the writes land on.
      return wrap(() => putAccess.immediate(recs, max));
    },
    async listAccessReceipts(f = {}) {
      const sql = `SELECT * FROM access_receipts${f.grantId !== undefined ? ' WHERE grant_id = ?' : ''} ORDER BY at DESC, receipt_id, verifier LIMIT ?`;
      return wrap(() => (db.prepare(sql).all(...(f.grantId !== undefined ? [f.grantId] : []), f.limit ?? DEFAULT_LIMIT) as Row[]).map(accessReceiptRow));
    },
  };
}
