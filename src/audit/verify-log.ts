import { identifierSet } from '../encoding/lists.js';
import { readOptions } from '../encoding/options.js';
import { CharterError, EXIT, EXIT_CODE, type Reason } from '../errors.js';
import type { CharterResolver } from '../did/types.js';
import type { AuditCheckpointRecord, AuditEntryRecord, AuditStore } from '../store/types.js';
import { CHECKPOINT_TYP, checkAuditJws, RECEIPT_TYP, recordTimeReasons, type CheckedJws } from './jws.js';
import { documentResolver } from '../did/document-resolver.js';
import { parseDateTime } from '../encoding/time.js';
import { receiptReasons, type ReceiptClaims } from './receipt.js';

/** The first place a chain does not hold, and why. */
export interface AuditBreak {
  chain: string;
  /** The entry (or checkpoint position) where the break is found. */
  seq: number;
  receiptId?: string;
  code: Reason['code'];
  message: string;
}

export interface ChainSummary {
  chain: string;
  issuer: string;
  /** Entries walked and checked. */
  entries: number;
  first: number;
  last: number;
  head: string;
  /** Checkpoints that matched the chain (stored and given). */
  checkpoints: number;
  /** Set when the chain starts after seq 1: the checkpoint it was pruned to. */
  anchor?: number;
  /**
   * Given checkpoints older than the anchor (with `acceptPruned` only): the
   * entries they cover were removed, so they were not matched against anything.
   */
  predating?: number[];
}

export interface AuditVerification {
  ok: boolean;
  chains: ChainSummary[];
  broken?: AuditBreak;
}

export interface VerifyAuditOptions {
  resolver: CharterResolver;
  /** Checkpoints a third party holds (compact JWS): each must match the chain it names, which must still be there. */
  checkpoints?: readonly string[];
  /** Only this chain. */
  chain?: string;
  /**
   * The verifiers whose chains are expected (DIDs): a chain signed by anyone
   * else (one a database writer added with a key of its own) is a break.
   * Default: any signer, each chain checked against itself.
   */
  issuers?: readonly string[];
  /**
   * A given checkpoint older than a pruned chain's anchor covers entries
   * that are gone: by default a break (the holder cannot tell retention from
   * a database writer deleting the start of the log). True when that
   * retention was expected: the checkpoint is then reported in the chain's
   * `predating`, still required to be the chain's verifier's, never counted
   * as matched.
   */
  acceptPruned?: boolean;
}

const PAGE = 500;

interface CheckedCheckpoint {
  chain: string;
  seq: number;
  head: string;
  iss: string;
  external: boolean;
}

/**
 * A signature that could not be checked (the signer's DID unreachable, a store fault) says nothing about
 * the log: it is thrown as that fault (exit 3), never reported as a break the log does not have.
 */
function throwIfFault(reasons: readonly Reason[]): void {
  const r = reasons[0];
  if (r !== undefined && EXIT_CODE[r.code] === EXIT.FAULT) throw new CharterError(r.code, `the audit log could not be checked: ${r.message}`);
}

/**
 * A record of the log, checked with its signer's document as it is now. A verifier retires a key by
 * marking it `expires` (Controlled Identifiers 1.0), and the log is history: an entry signed before
 * that date was signed by a key in force, so a key refused only for its `expires` is judged again at the
 * time the record says it was signed, as an evidence bundle judges it (bundle-verify.ts). A key removed
 * from the document, or marked `revoked`, still verifies nothing.
 */
async function checkRecord(jws: string, typ: string, resolver: CharterResolver): Promise<CheckedJws> {
  const c = await checkAuditJws(jws, typ, resolver, 'AUDIT_CHAIN_BROKEN');
  const signed = parseDateTime(c.decoded?.payload.time);
  if (c.reasons.length !== 1 || c.reasons[0]!.code !== 'VERIFICATION_METHOD_NOT_AUTHORIZED' || signed === undefined) return c;
  // The document as the caller's resolver has it (its cache), read by Charter's rules; nothing cached here.
  const check = (now: () => number) =>
    checkAuditJws(
      jws,
      typ,
      documentResolver((did) => resolver.resolve(did), { cacheTtlMs: 0, now }),
      'AUDIT_CHAIN_BROKEN',
    );
  // Only a refusal those rules make now is the document's clock: one they would not make is the caller's
  // resolver's own (a key it denies, whatever the document says), and it stands.
  if ((await check(() => resolver.now?.() ?? Date.now())).reasons.length === 0) return c;
  return check(() => signed);
}

async function readCheckpoint(jws: string, resolver: CharterResolver, external: boolean, row?: AuditCheckpointRecord): Promise<CheckedCheckpoint | Reason> {
  const c = await checkRecord(jws, CHECKPOINT_TYP, resolver);
  throwIfFault(c.reasons);
  if (c.reasons.length > 0 || !c.decoded) return { code: 'AUDIT_CHAIN_BROKEN', message: `a checkpoint does not verify (${c.reasons[0]?.code ?? 'MALFORMED_JWT'})` };
  const p = c.decoded.payload;
  const time = recordTimeReasons(p, 'AUDIT_CHAIN_BROKEN');
  if (time.length > 0) return { code: 'AUDIT_CHAIN_BROKEN', message: `a checkpoint is malformed: ${time[0]!.message}` };
  if (typeof p.chain !== 'string' || !Number.isSafeInteger(p.seq) || (p.seq as number) < 1 || typeof p.head !== 'string')
    return { code: 'AUDIT_CHAIN_BROKEN', message: 'a checkpoint lacks chain, seq or head' };
  if (row && (row.chain !== p.chain || row.seq !== p.seq || row.head !== p.head))
    return { code: 'AUDIT_CHAIN_BROKEN', message: `the stored checkpoint at seq ${row.seq} differs from what it signs` };
  return { chain: p.chain, seq: p.seq as number, head: p.head, iss: p.iss as string, external };
}

/** Checks one stored entry against its own receipt and its predecessor; returns why not, or its claims. */
async function checkEntry(
  e: AuditEntryRecord,
  expect: { seq: number; prev: string | null; issuer: string | undefined; kid: unknown },
  resolver: CharterResolver,
): Promise<{ claims: ReceiptClaims; kid: unknown } | string> {
  if (e.seq !== expect.seq) return `entry ${expect.seq} is missing (the next one stored is ${e.seq})`;
  const c = await checkRecord(e.jws, RECEIPT_TYP, resolver);
  throwIfFault(c.reasons);
  if (!c.decoded) return `the receipt cannot be read (${c.reasons[0]?.code ?? 'MALFORMED_JWT'})`;
  if (c.reasons.length > 0) return `the receipt does not verify: ${c.reasons[0]!.message} (${c.reasons[0]!.code})`;
  const shape = receiptReasons(c.decoded.payload);
  if (shape.length > 0) return `the receipt is malformed: ${shape[0]!.message}`;
  const claims = c.decoded.payload as unknown as ReceiptClaims;
  if (c.hash !== e.hash) return 'the stored hash is not the hash of the receipt';
  if (claims.log.chain !== e.chain || claims.log.seq !== e.seq) return 'the receipt names another place in the log';
  if (claims.log.prev !== expect.prev) return `the receipt does not follow entry ${e.seq - 1} (its prev hash differs)`;
  if (e.prev !== claims.log.prev) return 'the stored prev hash differs from the receipt';
  if (expect.issuer !== undefined && claims.iss !== expect.issuer) return 'the receipt is signed by another verifier than the rest of the chain';
  // One writer, one signer: every entry of a chain is signed with the key its first one was (a verifier that
  // changes its key starts a new chain). Entries re-signed with another key of the same DID, spliced in after
  // the ones the old key signed, are a break, though the document lists both keys.
  if (expect.kid !== undefined && c.decoded.header.kid !== expect.kid) return "the receipt is signed with another key than the chain's earlier entries";
  const outcome = claims.kind === 'decision' ? claims.decision : claims.spend.state;
  const cols: [string, unknown, unknown][] = [
    ['receipt id', e.receiptId, claims.jti],
    ['signer', e.issuer, claims.iss],
    ['kind', e.kind, claims.kind],
    ['outcome', e.outcome, outcome],
    ['subject', e.subject, claims.sub],
    ['time', Date.parse(e.at), Date.parse(claims.time)],
  ];
  for (const [name, stored, signed] of cols) if (stored !== signed) return `the stored ${name} differs from the signed receipt`;
  return { claims, kid: c.decoded.header.kid };
}

/**
 * Walks every chain of the audit log: each entry's signature, its hash, its
 * link to the previous entry, its seq without gaps, its stored columns
 * against the signed receipt, and every checkpoint (stored, and those a
 * third party holds) against the entry at its seq. A chain pruned to a
 * checkpoint starts from it; a given checkpoint older than that anchor is a
 * break unless `acceptPruned`. With `issuers`, a chain signed by anyone else
 * is a break. Stops at the first break, naming the entry and
 * why (AUDIT_CHAIN_BROKEN). A live log verifies: each chain is walked as far
 * as it was listed (and its checkpoints reach), entries appended since are
 * the next run's.
 */
export async function verifyAuditLog(store: AuditStore, given: VerifyAuditOptions): Promise<AuditVerification> {
  // A misspelt `issuers` would accept a chain anyone signed, and acceptPruned: "false" is not off: TypeErrors.
  const options = readOptions('verifyAuditLog', given, { resolver: true, checkpoints: true, chain: true, issuers: true, acceptPruned: 'boolean' });
  if (!options?.resolver) throw new TypeError('verifyAuditLog needs { resolver }');
  if (typeof (store as Partial<AuditStore> | null)?.listAuditChains !== 'function') throw new TypeError('verifyAuditLog needs the store holding the audit log');
  const issuers = identifierSet('verifyAuditLog: issuers', options.issuers);
  const chains: ChainSummary[] = [];
  const broken = (chain: string, seq: number, message: string, receiptId?: string): AuditVerification => ({
    ok: false,
    chains,
    broken: { chain, seq, code: 'AUDIT_CHAIN_BROKEN', message, ...(receiptId !== undefined ? { receiptId } : {}) },
  });
  const short = (did: string) => (did.length > 80 ? `${did.slice(0, 80)}…` : did);
  const unexpected = (chain: string, seq: number, signer: string) =>
    broken(chain, seq, `the chain is signed by ${short(signer)}, which is not one of the expected verifiers: entries were added by someone else`);

  const external: CheckedCheckpoint[] = [];
  for (const jws of options.checkpoints ?? []) {
    const cp = await readCheckpoint(jws, options.resolver, true);
    if ('code' in cp) return broken('(given checkpoint)', 0, cp.message);
    external.push(cp);
  }
  const records = (await store.listAuditChains()).filter((c) => options.chain === undefined || c.chain === options.chain);
  for (const cp of external) {
    if ((options.chain === undefined || cp.chain === options.chain) && !records.some((r) => r.chain === cp.chain)) {
      return broken(cp.chain, cp.seq, 'a checkpoint names a chain the log no longer holds');
    }
  }

  for (const rec of records) {
    // A chain whose signer is not expected is refused before any of it is read as the log's.
    if (issuers && !issuers.has(rec.issuer)) return unexpected(rec.chain, rec.first, rec.issuer);
    const checkpoints: CheckedCheckpoint[] = [...external.filter((c) => c.chain === rec.chain)];
    for (const row of await store.listAuditCheckpoints(rec.chain)) {
      const cp = await readCheckpoint(row.jws, options.resolver, false, row);
      if ('code' in cp) return broken(rec.chain, row.seq, cp.message);
      checkpoints.push(cp);
    }
    const atSeq = new Map<number, CheckedCheckpoint[]>();
    for (const cp of checkpoints) atSeq.set(cp.seq, [...(atSeq.get(cp.seq) ?? []), cp]);

    let prev: string | null = null;
    let anchor: number | undefined;
    if (rec.first > 1) {
      // Pruned: the rest must hang from a checkpoint at the seq just before it.
      const a = (atSeq.get(rec.first - 1) ?? []).find((c) => !c.external);
      if (!a) {
        // The first entry nothing accounts for: just after the last checkpoint below the gap, or entry 1.
        const below = checkpoints.filter((c) => !c.external && c.seq < rec.first).reduce((m, c) => Math.max(m, c.seq), 0);
        return broken(rec.chain, below + 1, `entries ${below + 1} to ${rec.first - 1} are missing and no checkpoint anchors the rest`);
      }
      // The anchor vouches for everything pruned below it, so it must be the chain's own verifier's: a
      // checkpoint anyone signed would let a database writer drop the start of the log.
      if (a.iss !== rec.issuer) return broken(rec.chain, a.seq, `the checkpoint anchoring the pruned chain at seq ${a.seq} is signed by another verifier than the chain's`);
      prev = a.head;
      anchor = a.seq;
    }
    // A checkpoint a third party holds from before the anchor, or at it, covers entries that are no longer
    // there (one at the anchor covers every entry up to it, all pruned): the log cannot show whether
    // retention or someone with database access removed them, so it is never taken as matched; it is a
    // break unless the caller expected that pruning. (One at the anchor must still name its head, below.)
    const predating: number[] = [];
    for (const cp of anchor !== undefined ? checkpoints.filter((c) => c.external && c.seq <= anchor).sort((a, b) => a.seq - b.seq) : []) {
      if (cp.iss !== rec.issuer) return broken(rec.chain, cp.seq, `the given checkpoint at seq ${cp.seq} is signed by another verifier than the chain`);
      // One at the anchor names its head, or the start was rewritten and re-anchored: that first.
      if (cp.seq === anchor && cp.head !== prev)
        return broken(rec.chain, cp.seq, `the given checkpoint at seq ${cp.seq} names another head: entries up to ${cp.seq} were rewritten`);
      if (!options.acceptPruned)
        return broken(
          rec.chain,
          cp.seq,
          `the given checkpoint at seq ${cp.seq} ${cp.seq < anchor! ? 'predates' : 'is at'} the anchor ${anchor}: the entries it covers were removed (if that retention was expected: acceptPruned, or --accept-pruned)`,
        );
      predating.push(cp.seq);
    }
    // With an anchor, every entry must be signed by the anchor's verifier (checkEntry compares each with this).
    let issuer: string | undefined = anchor !== undefined ? rec.issuer : undefined;
    let kid: unknown;
    let seq = rec.first;
    let matched = 0;
    const matchCheckpoints = (s: number, hash: string | null): string | undefined => {
      for (const cp of atSeq.get(s) ?? []) {
        if (cp.head !== hash) return `the ${cp.external ? 'given' : 'stored'} checkpoint at seq ${s} names another head: entries up to ${s} were rewritten`;
        if (issuer !== undefined && cp.iss !== issuer) return `the checkpoint at seq ${s} is signed by another verifier than the chain`;
        // A given checkpoint at the anchor vouches for entries no longer here: counted as predating, not matched.
        if (!(cp.external && s === anchor)) matched++;
      }
      return undefined;
    };
    // Every checkpoint at the anchor's seq (a third party's too) must name the anchor's head and be the
    // chain's verifier's: one a third party holds is exactly what catches a rewritten, re-anchored start.
    if (anchor !== undefined) {
      const m = matchCheckpoints(anchor, prev);
      if (m) return broken(rec.chain, anchor, m);
    }
    // The chain as it was listed (appends since are not this run's), and as far as the highest checkpoint:
    // one stored after the listing covers entries stored before it, so they must be there too.
    const end = checkpoints.reduce((m, c) => Math.max(m, c.seq), rec.last);
    while (seq <= end) {
      const limit = Math.min(PAGE, end - seq + 1);
      const page = await store.listAudit({ chain: rec.chain, fromSeq: seq, limit });
      if (page.length === 0) break;
      for (const e of page) {
        const r = await checkEntry(e, { seq, prev, issuer, kid }, options.resolver);
        if (typeof r === 'string') return broken(rec.chain, seq, r, e.seq === seq ? e.receiptId : undefined);
        issuer ??= r.claims.iss;
        kid ??= r.kid;
        const m = matchCheckpoints(seq, e.hash);
        if (m) return broken(rec.chain, seq, m, e.receiptId);
        prev = e.hash;
        seq++;
      }
      if (page.length < limit) break;
    }
    const last = seq - 1;
    if (issuers && !issuers.has(issuer ?? rec.issuer)) return unexpected(rec.chain, rec.first, issuer ?? rec.issuer);
    if (last < rec.last) return broken(rec.chain, last + 1, `the chain's entries stop at ${last}, but it claims ${rec.last}`);
    const beyond = checkpoints.filter((c) => c.seq > last).sort((a, b) => a.seq - b.seq)[0];
    if (beyond) return broken(rec.chain, last + 1, `a checkpoint holds ${beyond.seq} entries but the chain ends at ${last}: entries were removed`);
    chains.push({
      chain: rec.chain,
      issuer: issuer ?? rec.issuer,
      entries: last - rec.first + 1,
      first: rec.first,
      last,
      head: prev ?? rec.head,
      checkpoints: matched,
      ...(anchor !== undefined ? { anchor } : {}),
      ...(predating.length > 0 ? { predating } : {}),
    });
  }
  return { ok: true, chains };
}
