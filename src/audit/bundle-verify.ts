import { identifierSet } from '../encoding/lists.js';
import { readOptions } from '../encoding/options.js';
import { CharterError, type Reason } from '../errors.js';
import { canonicalJson, sha256Digest } from '../encoding/json.js';
import { decodeJwt } from '../credentials/index.js';
import { assertVerifyUse, importVerificationKey } from '../keys/index.js';
import type { PublicJwk, VerificationKey } from '../keys/types.js';
import { jwkThumbprint } from '../httpsig/thumbprint.js';
import { documentResolver, resolveDidJwk, resolveDidKey } from '../did/index.js';
import type { CharterResolver, DIDDocument } from '../did/types.js';
import { createTokenStatusChecker, statusListSignerDid } from '../status/token-checker.js';
import { createStatusChecker } from '../status/index.js';
import type { EvidenceBundle } from './bundle.js';
import { recordTimeReasons } from './jws.js';
import { checkBundleCheckpoint, derived } from './bundle-checkpoint.js';
import { presentedCredentials } from './presented.js';
import { checkReceipt, decodeReceipt, type DecisionReceipt, type ReceiptClaims } from './receipt.js';
import { disagreement, recheckDecision, WIDEST_SKEW } from './recheck.js';

/** One part of a bundle and what checking it found. */
export interface EvidencePart {
  /** `receipt`, `presentation`, `credential 0`, `did <did>`, `status <url>`, `decision`, `log`, `checkpoint`, `settlement 0`. */
  part: string;
  ok: boolean;
  reasons: Reason[];
}

export interface EvidenceVerification {
  ok: boolean;
  parts: EvidencePart[];
  receipt?: DecisionReceipt;
  /** The time the decision was re-checked at. */
  at?: string;
  /** How the verifier's key was known: derived from its DID (did:key, did:jwk), or the document the bundle recorded. */
  verifierKey?: 'derived' | 'recorded';
  /**
   * Whether the decision was re-run on the evidence (`rechecked`) or, for a
   * proof a bundle cannot re-run (a request signature, a payment mandate
   * chain), taken as the signed receipt records it (`recorded`, with `recordedWhy`).
   */
  decision?: 'rechecked' | 'recorded';
  recordedWhy?: string;
}

export interface VerifyEvidenceOptions {
  /**
   * Re-check the decision as of this time instead of the one the receipt records (every party's keys,
   * credentials and lists judged then). The verifier's own records (receipt, log, checkpoint, settlements)
   * are still judged at the times they were signed: `at` asks what would have been decided, not whether
   * the verifier signed them.
   */
  at?: Date;
  /**
   * The DIDs whose receipts you accept (the verifier's signing identity): a bundle whose receipt another
   * key signed fails its `receipt` part (UNTRUSTED_ISSUER). Without it, the bundle proves what its signer
   * (`receipt.iss`, which the result carries) recorded, whoever that is.
   */
  issuers?: readonly string[];
  /**
   * The verifier's public keys you trust (kept from its DID document, past keys too). With `issuers`, a
   * receipt whose signer's key the bundle's own copy of its DID document gives (did:web: not derived from
   * the DID itself) must be signed with one of these, matched by RFC 7638 thumbprint; without them such a
   * receipt fails its `receipt` part (UNTRUSTED_ISSUER): whoever can edit the bundle can edit that copy
   * too, and sign a receipt saying anything under its own key.
   */
  verifierKeys?: readonly PublicJwk[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const mismatch = (message: string): Reason[] => [{ code: 'EVIDENCE_MISMATCH', message }];

/**
 * The only sources an offline re-check has: did:key and did:jwk documents
 * derived from the DID itself (never taken from the bundle), any other DID
 * from the documents the bundle recorded. Nothing is fetched.
 */
export function bundleResolver(dids: Record<string, DIDDocument>, at?: Date): CharterResolver {
  return documentResolver(
    async (did) => {
      if (did.startsWith('did:key:')) return resolveDidKey(did);
      if (did.startsWith('did:jwk:')) return resolveDidJwk(did);
      const doc = Object.hasOwn(dids, did) ? dids[did] : undefined;
      if (!doc) throw new CharterError('DID_NOT_FOUND', `the bundle holds no document for ${did.slice(0, 80)}`);
      return doc;
    },
    // A method's `expires` is judged at the decision's time: a key that expired since still signed then.
    { cacheTtlMs: 0, ...(at !== undefined ? { now: () => at.getTime() } : {}) },
  );
}

/** The time a signed record (receipt, settlement, checkpoint) says it was made, unverified (undefined when it cannot be read). */
function signedTime(jws: unknown): Date | undefined {
  try {
    const t = typeof jws === 'string' ? new Date(decodeReceipt(jws).time) : undefined;
    return t !== undefined && Number.isFinite(t.getTime()) ? t : undefined;
  } catch {
    return undefined;
  }
}

function checkShape(b: unknown): asserts b is EvidenceBundle {
  const ok =
    isObj(b) &&
    b.type === 'CharterEvidenceBundle' &&
    b.version === 1 &&
    typeof b.receipt === 'string' &&
    Array.isArray(b.settlements) &&
    Array.isArray(b.credentials) &&
    isObj(b.dids) &&
    isObj(b.statusLists) &&
    isObj(b.log) &&
    Array.isArray(b.log.entries) &&
    typeof b.log.checkpoint === 'string' &&
    (b.presentation === undefined || typeof b.presentation === 'string');
  if (!ok) throw new CharterError('INVALID_ARGUMENT', 'not a Charter evidence bundle (type CharterEvidenceBundle, version 1)');
}

/**
 * Re-checks an evidence bundle with no network and no store: the receipt's
 * signature; every part against the hash the signed receipt records for it
 * (the presentation, each credential, each DID document, each status list);
 * the decision itself, re-run on that evidence at the recorded time (or
 * `at`); the receipt's place in the verifier's hash chain up to a signed
 * checkpoint; and the settlements. Reports each part, so an alteration is
 * named where it is. Throws only for input that is not a bundle.
 */
export async function verifyEvidence(bundle: unknown, given: VerifyEvidenceOptions = {}): Promise<EvidenceVerification> {
  // A misspelt `issuers` would verify the bundle against anyone's receipt: a TypeError instead.
  const options = readOptions('verifyEvidence', given, { at: true, issuers: true, verifierKeys: true });
  if (typeof options !== 'object' || options === null) throw new TypeError('verifyEvidence: options must be an object');
  checkShape(bundle);
  if (options.at !== undefined && (!(options.at instanceof Date) || !Number.isFinite(options.at.getTime()))) {
    throw new CharterError('INVALID_ARGUMENT', 'verifyEvidence: at must be a valid Date');
  }
  const issuers = identifierSet('verifyEvidence: issuers', options.issuers);
  if (issuers?.size === 0) throw new TypeError('verifyEvidence: issuers, when given, names at least one DID');
  const trusted = pinnedKeys(options.verifierKeys);
  const parts: EvidencePart[] = [];
  const add = (part: string, reasons: Reason[]) => parts.push({ part, ok: reasons.length === 0, reasons });
  // Each record's signature is judged with its signer's document as the bundle recorded it, at the time the
  // record says it was signed (read before it is verified; an altered time fails the signature): a key that
  // expired since still signed then, and one that had expired by then signed nothing. Never at `at`, which
  // asks what the decision would have been then, not whether the verifier signed its records; never at the
  // wall clock (a record whose time cannot be read fails on its own, so the start of time is as good as any).
  const decided = signedTime(bundle.receipt) ?? new Date(0);
  const signedBy = (jws: unknown) => bundleResolver(bundle.dids, signedTime(jws) ?? decided);
  const receiptResolver = signedBy(bundle.receipt);

  const rv = await checkReceipt(bundle.receipt, receiptResolver);
  const receipt = rv.claims;
  const checkDocuments = (recordedDids: Record<string, unknown>) => {
    for (const did of new Set([...Object.keys(recordedDids), ...Object.keys(bundle.dids)])) {
      const doc = bundle.dids[did];
      const want = recordedDids[did];
      if (want === undefined) add(`did ${did}`, mismatch('a DID document the receipt does not record'));
      else if (doc === undefined) add(`did ${did}`, derived(did) ? [] : mismatch('the DID document the receipt records is missing'));
      else {
        let h: string | undefined;
        try {
          h = sha256Digest(canonicalJson(doc));
        } catch {
          h = undefined;
        }
        add(`did ${did}`, h === want ? [] : mismatch('the DID document is not the one resolved at decision time'));
      }
    }
  };
  if (!receipt || rv.reasons.length > 0 || receipt.kind !== 'decision') {
    add('receipt', rv.reasons.length ? rv.reasons : mismatch('the bundle must carry a decision receipt'));
    // Nothing can be relied on without the receipt; but an altered document of the verifier is the
    // likely cause of a signature that fails, so the documents are compared with what it claims.
    const claimed = (receipt as { evidence?: { did?: unknown } } | undefined)?.evidence?.did;
    if (isObj(claimed)) checkDocuments(claimed);
    return { ok: false, parts };
  }
  add(
    'receipt',
    issuers && !issuers.has(receipt.iss)
      ? [{ code: 'UNTRUSTED_ISSUER', message: `the receipt is signed by ${receipt.iss.slice(0, 200)}, not by an issuer you accept` }]
      : issuers && !derived(receipt.iss)
        ? await pinnedKeyReasons(bundle.receipt, receipt.iss, receiptResolver, trusted?.thumbprints)
        : [],
  );
  const at = options.at ?? new Date(receipt.time);
  // The decision re-run: every party's keys as the bundle recorded them, judged at the time asked.
  const resolver = bundleResolver(bundle.dids, at);
  const recorded = receipt.evidence ?? { did: {}, status: {} };

  // The presentation and the credentials in it.
  const vp = bundle.presentation;
  if (receipt.vp === undefined) add('presentation', vp === undefined ? [] : mismatch('the receipt records no presentation'));
  else if (vp === undefined)
    add('presentation', mismatch('the presentation was not kept (pruned, evidence off, or not a proof): the decision cannot be re-checked unless its presenter adds it'));
  else add('presentation', sha256Digest(vp) === receipt.vp ? [] : mismatch('the presentation is not the one the receipt records'));
  let carried: string[];
  try {
    carried = vp !== undefined ? presentedCredentials(decodeJwt(vp, { maxBytes: 512 * 1024 }).payload) : [];
  } catch {
    carried = [];
  }
  const n = Math.max(bundle.credentials.length, receipt.credentials.length);
  for (let i = 0; i < n; i++) {
    const c = bundle.credentials[i];
    const want = receipt.credentials[i];
    if (typeof c !== 'string' || want === undefined)
      add(`credential ${i}`, mismatch(want === undefined ? 'a credential the receipt does not record' : 'a credential the receipt records is missing'));
    else if (sha256Digest(c) !== want.h) add(`credential ${i}`, mismatch('the credential is not the one the receipt records'));
    else add(`credential ${i}`, carried[i] === c ? [] : mismatch('the credential is not the one the presentation carries'));
  }

  // The DID documents and status lists as used then.
  checkDocuments(recorded.did);
  for (const url of new Set([...Object.keys(recorded.status), ...Object.keys(bundle.statusLists)])) {
    const jwt = bundle.statusLists[url];
    const want = recorded.status[url];
    if (want === undefined) add(`status ${url}`, mismatch('a status list the receipt does not record'));
    else if (typeof jwt !== 'string') add(`status ${url}`, mismatch('the status list the receipt records is missing'));
    else add(`status ${url}`, sha256Digest(jwt) === want ? [] : mismatch('the status list is not the one fetched at decision time'));
  }

  // The decision, re-run on the evidence alone.
  const source = async (url: string) => {
    const jwt = Object.hasOwn(bundle.statusLists, url) ? bundle.statusLists[url] : undefined;
    if (typeof jwt !== 'string') throw new CharterError('STATUS_UNAVAILABLE', 'the bundle holds no such status list');
    return jwt;
  };
  // Both kinds of list, each read only as its own kind: a Bitstring Status List credential (vc+jwt grants)
  // and a Token Status List (statuslist+jwt, SD-JWT grants).
  // A list is judged with the widest skew, not the receipt's window: a status checker's skew is its own
  // configuration, and a list fetched (or re-signed) moments after the decision read its clock can be
  // dated after the decision's time.
  const status = createStatusChecker({ resolver, source, now: () => at.getTime(), skewSeconds: WIDEST_SKEW });
  // Which status providers a verifier trusts is its configuration (trustedListSigners): a Token Status List the
  // receipt records (by hash, so the very list it read) counts for its DID signer, whose document the
  // bundle must still hold. A list signed by a plain key of a provider cannot be re-checked.
  // (A refusal for STATUS_INVALID may be the verifier not trusting the signer: then none is trusted here either.)
  const listSigners = (receipt.reasons.includes('STATUS_INVALID') ? [] : Object.values(bundle.statusLists)).flatMap((jwt) => {
    const did = typeof jwt === 'string' ? statusListSignerDid(jwt) : undefined;
    return did !== undefined ? [did] : [];
  });
  const tokenStatus = createTokenStatusChecker({ resolver, source, now: () => at.getTime(), skewSeconds: WIDEST_SKEW, trustedListSigners: listSigners });
  const re = await recheckDecision(receipt, vp, { resolver, status, tokenStatus }, at);
  const why = disagreement(receipt, re);
  add('decision', why === undefined ? [] : mismatch(why));

  // The receipt's place in the chain, up to a signed checkpoint.
  add('log', await logReasons(bundle, receipt, rv.hash, signedBy));
  const cp = await checkBundleCheckpoint(
    bundle.log.checkpoint,
    signedBy(bundle.log.checkpoint),
    { did: receipt.iss, recorded: Object.hasOwn(bundle.dids, receipt.iss) ? bundle.dids[receipt.iss] : undefined },
    issuers?.has(receipt.iss) === true ? trusted?.keys : undefined,
  );
  const cpp = cp.decoded?.payload;
  const cpTime = cpp ? recordTimeReasons(cpp, 'EVIDENCE_MISMATCH') : [];
  const cpOther = cpp?.iss !== receipt.iss || cpp?.chain !== receipt.log.chain;
  add('checkpoint', cp.reasons.length > 0 ? cp.reasons : cpTime.length > 0 ? cpTime : cpOther ? mismatch('the checkpoint is of another chain or verifier') : []);

  // A settlement must settle what this decision reserved, one way only; one the log segment covers (its chain,
  // a seq up to the checkpoint's) must be that very entry: a verifier's key signing one later cannot slip a
  // settlement into a stretch of the log the checkpoint already fixed.
  const finalState = new Map<string, number>();
  const reserved = receipt.spend?.reservation;
  const segment = new Set(bundle.log.entries.filter((e): e is string => typeof e === 'string'));
  const cpSeq = typeof cpp?.seq === 'number' ? cpp.seq : undefined;
  for (const [i, s] of bundle.settlements.entries()) {
    const v = typeof s === 'string' ? await checkReceipt(s, signedBy(s)) : undefined;
    const c = v?.claims;
    const why = (): string | undefined => {
      if (c?.kind !== 'settlement' || c.receipt !== receipt.jti || c.iss !== receipt.iss) return 'the settlement is of another decision or verifier';
      if (reserved === undefined) return 'the decision reserved no spend to settle';
      if (c.spend.reservation !== reserved) return 'the settlement names another reservation than the decision reserved';
      if (c.spend.state !== 'committed' && c.spend.state !== 'released') return 'a settlement commits or releases';
      const other = c.spend.state === 'committed' ? 'released' : 'committed';
      if (finalState.has(other)) return `the spend is settled both ways (settlement ${finalState.get(other)} ${other} it)`;
      finalState.set(c.spend.state, i);
      if (c.log.chain === receipt.log.chain && cpSeq !== undefined && c.log.seq <= cpSeq && !segment.has(s as string))
        return `the settlement claims seq ${c.log.seq} of the chain, which the log segment holds otherwise`;
      return undefined;
    };
    if (!v || !c) add(`settlement ${i}`, mismatch('not a receipt'));
    else if (v.reasons.length > 0) add(`settlement ${i}`, v.reasons);
    else if (bundle.settlements.indexOf(s) !== i) add(`settlement ${i}`, mismatch('the same settlement is listed twice'));
    else {
      const w = why();
      add(`settlement ${i}`, w === undefined ? [] : mismatch(w));
    }
  }
  // A settlement of this decision inside the log segment must be listed: leaving one out would show a
  // committed spend as only reserved (one logged after the checkpoint is beyond what the bundle proves).
  for (const jws of bundle.log.entries.slice(1)) {
    let c: ReceiptClaims | undefined;
    try {
      c = typeof jws === 'string' ? decodeReceipt(jws) : undefined;
    } catch {
      c = undefined; // named by the log part
    }
    if (c?.kind === 'settlement' && c.receipt === receipt.jti && !bundle.settlements.includes(jws)) {
      add('settlements', mismatch(`the log segment holds a settlement of this decision (seq ${String(c.log?.seq)}) that the bundle does not list`));
    }
  }

  return {
    ok: parts.every((p) => p.ok),
    parts,
    receipt,
    at: at.toISOString(),
    verifierKey: derived(receipt.iss) ? 'derived' : 'recorded',
    decision: re.recorded !== undefined ? 'recorded' : 'rechecked',
    ...(re.recorded !== undefined ? { recordedWhy: re.recorded } : {}),
  };
}

/** The keys a caller trusts for the verifier, and their RFC 7638 thumbprints (TypeError for anything not a public JWK). */
function pinnedKeys(keys: readonly PublicJwk[] | undefined): { keys: VerificationKey[]; thumbprints: Set<string> } | undefined {
  if (keys === undefined) return undefined;
  if (!Array.isArray(keys) || keys.length === 0) throw new TypeError('verifyEvidence: verifierKeys, when given, is a non-empty list of public JWKs');
  // RFC 7517 §4.2-4.3: a key marked for encryption verifies no receipt or checkpoint (keys/jwk.ts assertVerifyUse).
  const imported = keys.map((k) => {
    assertVerifyUse(k, 'a key of verifierKeys');
    return importVerificationKey(k);
  });
  return { keys: imported, thumbprints: new Set(imported.map((k) => jwkThumbprint(k.publicJwk))) };
}

/**
 * A receipt signed under a DID whose document the bundle supplies: its signing key (as that document
 * gives it) must be one the caller pinned, or the bundle vouches for itself.
 */
async function pinnedKeyReasons(jws: string, iss: string, resolver: CharterResolver, trusted: Set<string> | undefined): Promise<Reason[]> {
  if (trusted === undefined) {
    return [
      {
        code: 'UNTRUSTED_ISSUER',
        message: `the key of ${iss.slice(0, 200)} comes only from the bundle's own copy of its DID document: pass the verifier's keys you trust (verifierKeys, --verifier-key)`,
      },
    ];
  }
  let thumbprint: string | undefined;
  try {
    const key = await resolver.resolveKey(iss, decodeJwt(jws).header.kid, 'assertionMethod');
    thumbprint = jwkThumbprint(key.publicJwk);
  } catch {
    thumbprint = undefined;
  }
  return thumbprint !== undefined && trusted.has(thumbprint)
    ? []
    : [{ code: 'UNTRUSTED_ISSUER', message: `the receipt is signed with a key of ${iss.slice(0, 200)} that is not one of the verifier keys you trust` }];
}

/** The log segment: the receipt first, each entry linked to the previous, the last one the checkpoint's head. */
async function logReasons(bundle: EvidenceBundle, receipt: ReceiptClaims, receiptHash: string | undefined, signedBy: (jws: string) => CharterResolver): Promise<Reason[]> {
  const [first, ...rest] = bundle.log.entries;
  if (first !== bundle.receipt) return mismatch('the log segment does not start with the receipt');
  let prev = receiptHash;
  let seq = receipt.log.seq;
  for (const jws of rest) {
    if (typeof jws !== 'string') return mismatch('a log entry is not a receipt');
    const v = await checkReceipt(jws, signedBy(jws));
    const c = v.claims;
    if (!c || v.reasons.length > 0) return mismatch(`the log entry after seq ${seq} does not verify (${v.reasons[0]?.code ?? 'MALFORMED_JWT'})`);
    if (c.iss !== receipt.iss || c.log.chain !== receipt.log.chain || c.log.seq !== seq + 1 || c.log.prev !== prev)
      return mismatch(`the log entry after seq ${seq} does not follow it`);
    // One writer, one signer (verify-log.ts): the chain goes on with the key the receipt was signed with.
    if (decodeJwt(jws).header.kid !== decodeJwt(bundle.receipt).header.kid) return mismatch(`the log entry after seq ${seq} is signed with another key than the receipt`);
    prev = v.hash;
    seq++;
  }
  let cp: Record<string, unknown>;
  try {
    cp = decodeJwt(bundle.log.checkpoint).payload;
  } catch {
    return mismatch('the checkpoint cannot be read');
  }
  if (cp.seq !== seq || cp.head !== prev) return mismatch(`the log segment ends at seq ${seq}, but the checkpoint names seq ${String(cp.seq)} and another head`);
  return [];
}
