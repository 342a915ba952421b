import { CharterError } from '../errors.js';
import type { Issuer } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import type { AuditCheckpointRecord, AuditStore } from '../store/types.js';
import { CHECKPOINT_TYP, checkAuditJws, recordTimeReasons } from './jws.js';
import { signCheckpoint } from './writer.js';

/**
 * Signs a checkpoint of the head of every chain `signer` writes (or of one
 * chain): what a third party keeps to detect any later rewriting of the log
 * up to that point. A chain signed by another identity is left alone.
 */
export async function checkpointAudit(store: AuditStore, signer: Issuer, options: { chain?: string } = {}): Promise<AuditCheckpointRecord[]> {
  const out: AuditCheckpointRecord[] = [];
  for (const c of await store.listAuditChains()) {
    if (options.chain !== undefined && c.chain !== options.chain) continue;
    if (c.issuer !== signer.did || c.count === 0) continue;
    const cp = await signCheckpoint(signer, c.chain, c.last, c.head);
    await store.putAuditCheckpoint(cp);
    out.push(cp);
  }
  if (options.chain !== undefined && out.length === 0)
    throw new CharterError('NOT_FOUND', `no chain ${options.chain.slice(0, 80)} with entries signed by ${signer.did.slice(0, 80)}`);
  return out;
}

export interface PruneOptions {
  /** Drop entries recorded before this time, down to the last checkpoint before it (the chain's new anchor). */
  before: Date;
  /** Also drop the evidence (presentations, documents, lists) of entries older than this; their hashes stay in the log. */
  evidenceBefore?: Date;
  resolver: CharterResolver;
}

export interface PruneResult {
  chains: { chain: string; anchor: number; entries: number }[];
  blobs: number;
}

/**
 * Retention: removes old entries while every chain stays verifiable. For
 * each chain, the newest checkpoint whose entry is older than `before`
 * (checked: signed by the chain's verifier, naming the stored entry's hash)
 * becomes the anchor; entries up to it are deleted, and the evidence no
 * remaining entry references. `verifyAuditLog` then starts the chain from
 * the anchor, and a third party's later checkpoint still catches rewriting.
 */
export async function pruneAuditLog(store: AuditStore, options: PruneOptions): Promise<PruneResult> {
  if (!(options?.before instanceof Date) || !Number.isFinite(options.before.getTime())) throw new TypeError('pruneAuditLog needs { before: Date, resolver }');
  const result: PruneResult = { chains: [], blobs: 0 };
  for (const c of await store.listAuditChains()) {
    const checkpoints = (await store.listAuditCheckpoints(c.chain)).filter((cp) => cp.seq >= c.first && cp.seq <= c.last).sort((a, b) => b.seq - a.seq);
    for (const cp of checkpoints) {
      const [entry] = await store.listAudit({ chain: c.chain, fromSeq: cp.seq, limit: 1 });
      if (!entry || entry.seq !== cp.seq || Date.parse(entry.at) >= options.before.getTime()) continue;
      const v = await checkAuditJws(cp.jws, CHECKPOINT_TYP, options.resolver, 'AUDIT_CHAIN_BROKEN');
      const p = v.decoded?.payload;
      if (
        v.reasons.length > 0 ||
        !p ||
        recordTimeReasons(p, 'AUDIT_CHAIN_BROKEN').length > 0 ||
        p.head !== entry.hash ||
        p.seq !== cp.seq ||
        p.chain !== c.chain ||
        p.iss !== entry.issuer
      ) {
        throw new CharterError('AUDIT_CHAIN_BROKEN', `the checkpoint at seq ${cp.seq} of ${c.chain} does not match the log: run \`charter audit verify\` before pruning`);
      }
      const r = await store.pruneAudit({ chain: c.chain, throughSeq: cp.seq });
      result.chains.push({ chain: c.chain, anchor: cp.seq, entries: r.entries });
      result.blobs += r.blobs;
      break;
    }
  }
  // The evidence cut-off applies to every chain at once (no entry has seq 0, so none is deleted).
  if (options.evidenceBefore) result.blobs += (await store.pruneAudit({ chain: '', throughSeq: 0, evidenceBefore: options.evidenceBefore })).blobs;
  return result;
}
