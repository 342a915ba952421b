import { CharterError } from '../errors.js';
import { decodeJwt, type Issuer } from '../credentials/index.js';
import type { DIDDocument } from '../did/types.js';
import type { AuditEntryRecord, AuditStore } from '../store/types.js';
import { MAX_AUDIT_JWS } from './jws.js';
import { presentedCredentials } from './presented.js';
import { decodeReceipt, type DecisionReceipt } from './receipt.js';
import { signCheckpoint } from './writer.js';

/**
 * Everything needed to re-check one decision with no network and without
 * the verifier's store: the receipt, the presentation and every credential
 * in it, the DID documents and status list credentials as used then, the
 * log entries from the receipt to a signed checkpoint (its place in the
 * chain), and the settlements of its spend.
 */
export interface EvidenceBundle {
  type: 'CharterEvidenceBundle';
  version: 1;
  exportedAt: string;
  receipt: string;
  settlements: string[];
  /**
   * Absent when none was sent, or when it was not kept: pruned, `evidence: false`, or what was sent did
   * not decode as a proof (only its hash is kept; its presenter may add it here, checked against that hash).
   */
  presentation?: string;
  credentials: string[];
  dids: Record<string, DIDDocument>;
  statusLists: Record<string, string>;
  log: {
    /** The receipt, then each following entry up to the checkpoint's seq. */
    entries: string[];
    checkpoint: string;
  };
}

export interface ExportEvidenceOptions {
  /**
   * The verifier's identity: when no checkpoint covers the receipt yet, one
   * is signed now (over the chain's current head) and stored.
   */
  signer?: Issuer;
}

const SETTLEMENT_LOOKAHEAD = 256;

/** The receipt id a reference names: an id, an entry hash, or a receipt JWS. */
function refOf(ref: string): string {
  if (ref.split('.').length === 3 && !ref.startsWith('urn:')) {
    const jti = decodeJwt(ref, { maxBytes: MAX_AUDIT_JWS }).payload.jti;
    if (typeof jti !== 'string') throw new CharterError('INVALID_ARGUMENT', 'that receipt has no id (jti)');
    return jti;
  }
  return ref;
}

/** Gathers the evidence bundle of one decision (by receipt id, entry hash or the receipt itself) from the store. */
export async function exportEvidence(store: AuditStore, ref: string, options: ExportEvidenceOptions = {}): Promise<EvidenceBundle> {
  if (typeof ref !== 'string' || ref.length === 0) throw new TypeError('exportEvidence needs a receipt id, hash or JWS');
  let entry = await store.findAudit(refOf(ref));
  if (!entry) throw new CharterError('NOT_FOUND', 'no such receipt in this audit log');
  let claims = decodeReceipt(entry.jws);
  if (claims.kind === 'settlement') {
    // A settlement's bundle is its decision's.
    entry = await store.findAudit(claims.receipt);
    if (!entry) throw new CharterError('NOT_FOUND', 'the decision this settlement belongs to is no longer in the log');
    claims = decodeReceipt(entry.jws);
  }
  const decision = claims as DecisionReceipt;

  const blobs = new Map((await store.getAuditEvidence(entry.receiptId)).map((b) => [b.hash, b.body]));
  const presentation = decision.vp ? blobs.get(decision.vp) : undefined;
  let credentials: string[] = [];
  if (presentation !== undefined) {
    try {
      credentials = presentedCredentials(decodeJwt(presentation, { maxBytes: 512 * 1024 }).payload);
    } catch {
      credentials = [];
    }
  }
  const dids: Record<string, DIDDocument> = {};
  for (const [did, h] of Object.entries(decision.evidence?.did ?? {})) {
    const body = blobs.get(h);
    if (body !== undefined) dids[did] = JSON.parse(body) as DIDDocument;
  }
  const statusLists: Record<string, string> = {};
  for (const [url, h] of Object.entries(decision.evidence?.status ?? {})) {
    const body = blobs.get(h);
    if (body !== undefined) statusLists[url] = body;
  }

  let checkpoint = (await store.listAuditCheckpoints(entry.chain)).find((c) => c.seq >= entry.seq);
  if (!checkpoint) {
    if (!options.signer || options.signer.did !== entry.issuer) {
      throw new CharterError('NOT_FOUND', 'no checkpoint covers this receipt yet: sign one as the verifier (charter audit checkpoint --as <verifier>, or pass its signer)');
    }
    const [head] = (await store.listAuditChains()).filter((c) => c.chain === entry.chain);
    checkpoint = await signCheckpoint(options.signer, entry.chain, head!.last, head!.head);
    await store.putAuditCheckpoint(checkpoint);
  }
  let segment: AuditEntryRecord[] = await store.listAudit({ chain: entry.chain, fromSeq: entry.seq, limit: checkpoint.seq - entry.seq + 1 + SETTLEMENT_LOOKAHEAD });
  const settled = segment.filter(
    (e) => e.kind === 'settlement' && decodeReceipt(e.jws).kind === 'settlement' && (decodeReceipt(e.jws) as { receipt: string }).receipt === decision.jti,
  );
  // The segment runs to a checkpoint covering the settlements too, when one does: a settlement beyond the
  // checkpoint is outside what the bundle's log fixes, so dropping it from the bundle would go unnoticed.
  const lastSettled = settled.reduce((m, e) => Math.max(m, e.seq), 0);
  if (lastSettled > checkpoint.seq) {
    const covering = (await store.listAuditCheckpoints(entry.chain)).find((c) => c.seq >= lastSettled);
    if (covering) {
      checkpoint = covering;
      segment = await store.listAudit({ chain: entry.chain, fromSeq: entry.seq, limit: checkpoint.seq - entry.seq + 1 });
    }
  }
  const entries = segment.filter((e) => e.seq <= checkpoint.seq).map((e) => e.jws);
  const settlements = settled.map((e) => e.jws);

  return {
    type: 'CharterEvidenceBundle',
    version: 1,
    exportedAt: new Date().toISOString(),
    receipt: entry.jws,
    settlements,
    ...(presentation !== undefined ? { presentation } : {}),
    credentials,
    dids,
    statusLists,
    log: { entries, checkpoint: checkpoint.jws },
  };
}
