import { randomUUID } from 'node:crypto';
import { canonicalJson, sha256Digest } from '../encoding/json.js';
import type { Reason } from '../errors.js';
import type { Issuer, StatusChecker } from '../credentials/types.js';
import type { CharterResolver, DIDDocument } from '../did/types.js';
import { TtlCache } from '../did/cache.js';
import type { AuditBlob, AuditCheckpointRecord, AuditStore } from '../store/types.js';
import { createCapture, type Capture, type TokenStatusCheck } from './capture.js';
import { describeCredential, presentedCredentials } from './presented.js';
import type { DecisionReceipt, ReceiptPolicy, ReceiptRequest, ReceiptSpend, ReceiptWindow } from './receipt.js';
import { AuditWriter } from './writer.js';

/** `createVerifier({ …, receipts: { signer } })`: the verifier signs a receipt of every decision and logs it. */
export interface ReceiptOptions {
  /** The verifier's signing identity (a Home gives it: `await home.issuer('api')`); receipts are signed with its assertion key. */
  signer: Issuer;
  /**
   * Keep what an evidence bundle needs to re-check a decision offline: the
   * presentation as sent, the DID documents and status list credentials as
   * used. Kept apart from the log (the log holds hashes and ids only) and
   * prunable on its own. Default true.
   */
  evidence?: boolean;
  /** A signed checkpoint after this many entries. Default 256. */
  checkpointEvery?: number;
  /** ... or at most this many seconds after an entry. Default 300. */
  checkpointSeconds?: number;
  /**
   * 'record' (default): every decision has a receipt, even a request with no
   * authentic presentation. 'skip': refusals of requests whose presentation
   * did not authenticate get none (a flood of junk then costs no signature
   * and no log row). A refusal after a proof authenticated (a presentation,
   * or a request signature on a signature-only route) always has one: a
   * replay, or a presentation signed for by someone else than its holder.
   */
  unauthenticated?: 'record' | 'skip';
  /**
   * 'before-reply' (default): the decision is returned once its entry is
   * committed to the log, so nothing is allowed that the log does not hold.
   * 'after-reply': returned once its receipt is signed and placed in the
   * chain; entries are stored in order in the background (retried until
   * stored), which takes the log's write off the request's path. A crash can
   * then lose the newest entries (their receipts exist, the log lacks them),
   * never reorder the chain.
   */
  append?: 'before-reply' | 'after-reply';
}

/** A NUL or a lone surrogate (a surrogate pair is one code point under the u flag, so it does not match). */
const UNSTORABLE = /[\0\ud800-\udfff]/u;

/** What the guard knows of one decision, as the receipt records it. */
export interface DecisionFacts {
  verifier: string;
  /** The decision time, ms. */
  time: number;
  ok: boolean;
  status: number;
  reasons: readonly Reason[];
  holder?: string;
  /** The presentation as sent (a string), if any. */
  presentation?: unknown;
  /**
   * Whether it decoded as the proof the route takes (a vp+jwt, an SD-JWT with its key binding JWT, a
   * mandate chain), or authenticated. Only then are its bytes kept as evidence: anything else a caller
   * sends (junk, a bearer token meant for another service) is kept as its hash.
   */
  recognised?: boolean;
  /** Its decoded payload, when it decoded. */
  payload?: Record<string, unknown>;
  request: ReceiptRequest;
  policy: ReceiptPolicy;
  chain: { id: string; iss: string }[];
  principal?: string;
  spend?: { reservation: string; amount?: { amount: string; currency: string } };
  capture?: Capture;
  /** The verifier's freshness rules (recorded so a re-check applies them exactly). */
  window?: ReceiptWindow;
}

/** A verifier's receipts: the hook the guard pipeline calls once per decision. */
export interface Receipts {
  readonly signer: string;
  readonly chain: string;
  readonly unauthenticated: 'record' | 'skip';
  /** A recording resolver and status checker for one decision, when evidence is kept. */
  capture(resolver: CharterResolver, status: StatusChecker, tokenStatus?: TokenStatusCheck): Capture | undefined;
  /** Signs and logs the decision; resolves once the entry is committed. Throws the store's fault. */
  recordDecision(facts: DecisionFacts): Promise<{ id: string; jws: string }>;
  /** Logs a settlement of a decision's spend; never throws (retried in the background while the store is down). */
  recordSettlement(receiptId: string, spend: ReceiptSpend, subject?: string): Promise<string | undefined>;
  /** Stores everything queued, then signs a checkpoint of the head. */
  checkpoint(): Promise<AuditCheckpointRecord | undefined>;
  flush(): Promise<void>;
}

/**
 * A time-ordered UUID (RFC 9562 §5.7, version 7: milliseconds first): receipt
 * ids of one moment sort together, so the log's index on them grows at one
 * end instead of taking writes all over (one page per batch, not one per
 * receipt).
 */
export function newReceiptId(now = Date.now()): string {
  // A version 4 UUID from Node's pooled entropy (0.7 us here; randomBytes(16) per receipt took 2.4-3.3) keeps its
  // 12 + 62 random bits and its variant; its first 48 bits become the time and its version nibble 7.
  const r = randomUUID();
  const t = now.toString(16).padStart(12, '0');
  return `urn:uuid:${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(15)}`;
}

const blob = (body: string, hash = sha256Digest(body)): AuditBlob => ({ hash, body });

// The resolver hands back the same cached document object on every decision, and the status
// checker the same list JWT: each is serialised and hashed once, not once per decision.
const docBlobs = new WeakMap<object, AuditBlob>();
const docBlob = (d: DIDDocument): AuditBlob => {
  let b = docBlobs.get(d);
  if (!b) docBlobs.set(d, (b = blob(canonicalJson(d))));
  return b;
};
const listBlobs = new TtlCache<string, AuditBlob>(600_000, 1024);
const listBlob = (jwt: string): AuditBlob => {
  let b = listBlobs.get(jwt);
  if (!b) listBlobs.set(jwt, (b = blob(jwt)));
  return b;
};

export function createReceipts(store: AuditStore, options: ReceiptOptions, resolver: CharterResolver): Receipts {
  if (!options || typeof options !== 'object' || !options.signer?.signer || typeof options.signer.did !== 'string') {
    throw new TypeError('createVerifier: receipts needs { signer } (an Issuer: DID, kid and signer)');
  }
  if (!store || typeof store.appendAudit !== 'function') throw new TypeError('createVerifier: receipts need a store with an audit log (any Charter store)');
  for (const k of ['checkpointEvery', 'checkpointSeconds'] as const) {
    const v = options[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 1_000_000)) throw new TypeError(`createVerifier: receipts.${k} must be a whole number`);
  }
  const unauthenticated = options.unauthenticated ?? 'record';
  if (options.append !== undefined && options.append !== 'before-reply' && options.append !== 'after-reply')
    throw new TypeError("createVerifier: receipts.append must be 'before-reply' or 'after-reply'");
  if (unauthenticated !== 'record' && unauthenticated !== 'skip') throw new TypeError("createVerifier: receipts.unauthenticated must be 'record' or 'skip'");
  const evidence = options.evidence !== false;
  const writer = new AuditWriter(store, {
    signer: options.signer,
    ...(options.checkpointEvery !== undefined ? { checkpointEvery: options.checkpointEvery } : {}),
    ...(options.checkpointSeconds !== undefined ? { checkpointSeconds: options.checkpointSeconds } : {}),
    ...(options.append !== undefined ? { append: options.append } : {}),
  });
  const signerDid = options.signer.did;
  // The verifier's own document as it stands at each decision (the resolver's cache makes that a lookup), so a
  // bundle checks the receipt's signature years later against the document of its time: one read once at
  // start-up and kept would vouch, months on, for a key its document has since marked revoked or expired.
  // When it cannot be had, the last one read (a receipt without it could never be re-checked).
  let lastOwn: DIDDocument | undefined;
  const ownDocument = () =>
    resolver.resolve(signerDid).then(
      (doc) => (lastOwn = doc),
      () => lastOwn,
    );

  return {
    signer: signerDid,
    chain: writer.chain,
    unauthenticated,
    capture: (r, s, t) => (evidence ? createCapture(r, s, t) : undefined),
    async recordDecision(f) {
      const id = newReceiptId(f.time);
      const vp = typeof f.presentation === 'string' && f.presentation.length > 0 ? f.presentation : undefined;
      const blobs: AuditBlob[] = [];
      let ev: DecisionReceipt['evidence'];
      if (f.capture) {
        const { dids, lists } = await f.capture.settle();
        const doc = await ownDocument();
        if (doc && !dids.has(signerDid)) dids.set(signerDid, doc);
        ev = { did: {}, status: {} };
        for (const [did, d] of [...dids].sort(([a], [b]) => (a < b ? -1 : 1))) {
          const b = docBlob(d);
          ev.did[did] = b.hash;
          blobs.push(b);
        }
        for (const [url, s] of [...lists].sort(([a], [b]) => (a < b ? -1 : 1))) {
          const b = listBlob(s.jwt);
          ev.status[url] = b.hash;
          blobs.push(b);
        }
      }
      const vpHash = vp !== undefined ? sha256Digest(vp) : undefined;
      // The bytes are kept only for what decoded as a proof, and only as text every store keeps as it is (no
      // NUL, which PostgreSQL's TEXT refuses, no lone surrogate, which UTF-8 cannot hold): a caller's junk, or
      // a bearer token meant for another service, is no evidence to keep, and one entry a store refused
      // would fail every decision logged in its batch.
      const keep = vp !== undefined && f.capture !== undefined && f.recognised === true && !UNSTORABLE.test(vp);
      const own = keep ? blob(vp, vpHash) : undefined;
      const at = new Date(f.time);
      const claims: Omit<DecisionReceipt, 'log' | 'iss'> = {
        jti: id,
        iat: Math.floor(f.time / 1000),
        time: at.toISOString(),
        kind: 'decision',
        verifier: f.verifier,
        decision: f.ok ? 'allow' : 'deny',
        status: f.status,
        reasons: f.reasons.map((r) => r.code),
        ...(f.holder !== undefined ? { sub: f.holder } : {}),
        request: f.request,
        policy: f.policy,
        ...(vpHash !== undefined ? { vp: vpHash } : {}),
        credentials: presentedCredentials(f.payload).map(describeCredential),
        chain: f.chain,
        ...(f.principal !== undefined ? { principal: f.principal } : {}),
        ...(f.spend ? { spend: { reservation: f.spend.reservation, state: 'reserved' as const, ...(f.spend.amount ? { amount: f.spend.amount } : {}) } } : {}),
        ...(ev ? { evidence: ev } : {}),
        ...(f.window ? { window: f.window } : {}),
      };
      const { jws } = await writer.append(claims, blobs, own);
      return { id, jws };
    },
    recordSettlement(receiptId, spend, subject) {
      const now = new Date();
      const claims = {
        jti: newReceiptId(now.getTime()),
        iat: Math.floor(now.getTime() / 1000),
        time: now.toISOString(),
        kind: 'settlement' as const,
        ...(subject !== undefined ? { sub: subject } : {}),
        receipt: receiptId,
        spend,
      };
      // Resolves at the first attempt: stored (the receipt), or not yet (undefined; it stays queued and is
      // retried in the background while the store is down). The spend itself is settled either way.
      return new Promise<string | undefined>((resolve) => {
        writer.append(claims, [], undefined, { onDefer: () => resolve(undefined) }).then(
          (r) => resolve(r.jws),
          () => resolve(undefined),
        );
      });
    },
    checkpoint: () => writer.checkpoint(),
    flush: () => writer.flush(),
  };
}
