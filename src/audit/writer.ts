import { randomUUID } from 'node:crypto';
import { CharterError } from '../errors.js';
import { sha256Digest } from '../encoding/json.js';
import type { Issuer } from '../credentials/types.js';
import type { AuditAppend, AuditBlob, AuditCheckpointRecord, AuditEntryRecord, AuditStore } from '../store/types.js';
import { CHECKPOINT_TYP, RECEIPT_TYP, signCanonical, signPayload } from './jws.js';
import type { DecisionReceipt, LogPosition, ReceiptClaims, ReceiptSpend, SettlementReceipt } from './receipt.js';

type Unplaced<T> = T extends unknown ? Omit<T, 'log' | 'iss'> : never;

/** One receipt waiting for its place in the chain. */
interface Pending {
  claims: Unplaced<ReceiptClaims>;
  /** Evidence shared between entries (documents, lists). */
  blobs: AuditBlob[];
  /** Evidence of this entry alone (its presentation), kept in its row. */
  own?: AuditBlob;
  /** Settlements are retried until stored (onDefer is told at the first failure); a decision fails with the store (its caller answers 503). */
  retry: { onDefer: () => void } | undefined;
  resolve: (r: { jws: string; hash: string; seq: number }) => void;
  reject: (e: unknown) => void;
  deadline: number;
}

export interface WriterOptions {
  signer: Issuer;
  /** Sign a checkpoint after this many entries. Default 256. */
  checkpointEvery?: number;
  /** ... or this many seconds after the first entry not yet checkpointed. Default 300. */
  checkpointSeconds?: number;
  /**
   * 'before-reply' (default): a receipt is handed out once its entry is
   * committed, so nothing is allowed that the log does not hold. 'after-reply':
   * handed out once signed and placed in the chain; entries are stored in
   * order in the background (retried until stored), so a crash can lose the
   * newest entries, never reorder or fork the chain.
   */
  append?: 'before-reply' | 'after-reply';
}

const MAX_BATCH = 512;
/** After-reply mode: most entries signed but not yet stored before new decisions are refused. */
const MAX_UNSTORED = 10_000;
const RETRY_FOR_MS = 10 * 60_000;

/**
 * The log writer of one verifier instance: one hash chain of its own (a
 * random URN), so instances sharing a store never contend for a head.
 * Receipts queue; one batch at a time takes its place (seq, prev), is signed
 * and appended in one store transaction (the group commit: every receipt
 * queued meanwhile shares the next one). A receipt is handed out only once
 * its entry is committed. When an append fails, the decisions of that batch
 * fail (the guard answers 503) and settlements are queued again and re-signed
 * in their new place; since the append may still have been stored (a lost
 * COMMIT reply), the next batch first reads the chain's head back.
 */
export class AuditWriter {
  readonly chain = `urn:uuid:${randomUUID()}`;
  readonly signer: Issuer;
  #head: { seq: number; hash: string | null } = { seq: 0, hash: null };
  /** The last entry the store holds: behind #head while after-reply entries are being stored. */
  #stored: { seq: number; hash: string | null } = { seq: 0, hash: null };
  #queue: Pending[] = [];
  #running: Promise<void> | undefined;
  #sinceCheckpoint = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #store: AuditStore;
  readonly #every: number;
  readonly #seconds: number;
  readonly #afterReply: boolean;
  /** After-reply mode: signed batches being stored, in order. */
  #storing: Promise<void> = Promise.resolve();
  #unstored = 0;
  /** Set when an append failed without saying whether it was stored. */
  #headUncertain = false;

  constructor(store: AuditStore, options: WriterOptions) {
    this.#store = store;
    this.signer = options.signer;
    this.#every = options.checkpointEvery ?? 256;
    this.#seconds = options.checkpointSeconds ?? 300;
    this.#afterReply = options.append === 'after-reply';
  }

  /** Appends a receipt; resolves with the signed receipt once its entry is committed. */
  append(claims: Unplaced<ReceiptClaims>, blobs: AuditBlob[], own?: AuditBlob, retry?: { onDefer: () => void }): Promise<{ jws: string; hash: string; seq: number }> {
    // After reply, a store that stays down must not grow the backlog for ever: refuse new decisions instead.
    if (this.#afterReply && this.#unstored > MAX_UNSTORED) return Promise.reject(new CharterError('STORE_UNAVAILABLE', 'the audit log cannot be written: try again'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ claims, blobs, ...(own ? { own } : {}), retry, resolve, reject, deadline: Date.now() + RETRY_FOR_MS });
      this.#kick();
    });
  }

  /** Waits until everything queued so far is stored (or has failed). */
  async flush(): Promise<void> {
    // The retry timers are unref'd, so a server is never kept up by a store that is down. A caller waiting
    // here (a script, a shutdown) is: without a referenced handle, a busy store would let the process exit
    // mid-wait, flush settling never, and the entries of receipts already handed out lost.
    // Only here and in checkpoint(): the writer's own checkpoint timer drains without it, so it never keeps a process up.
    await keepingAlive(() => this.#drain());
  }

  async #drain(): Promise<void> {
    while (this.#running || this.#queue.some((p) => !p.retry)) {
      this.#kick();
      await this.#running;
    }
    await this.#storing;
  }

  /** Signs and stores a checkpoint of the last stored entry (after flushing); undefined while none is stored. */
  async checkpoint(): Promise<AuditCheckpointRecord | undefined> {
    // Awaited by a caller (as flush is): the process stays up until it settles.
    return keepingAlive(() => this.#checkpoint());
  }

  async #checkpoint(): Promise<AuditCheckpointRecord | undefined> {
    await this.#drain();
    // Never the head: after reply, entries placed since the flush may not be stored yet, and a checkpoint
    // beyond what the store holds reads as entries removed for ever if they are lost in a crash.
    const { seq, hash } = this.#stored;
    if (hash === null) return undefined;
    const cp = await signCheckpoint(this.signer, this.chain, seq, hash);
    await this.#store.putAuditCheckpoint(cp);
    // Entries appended while it was signed and stored are not covered: they keep their count and timer.
    this.#checkpointed();
    if (this.#head.seq > seq) this.#uncheckpointed(this.#head.seq - seq);
    return cp;
  }

  #kick(): void {
    if (this.#running || this.#queue.length === 0) return;
    this.#running = new Promise<void>((r) => setImmediate(r))
      .then(() => this.#batch())
      .finally(() => {
        this.#running = undefined;
        if (this.#queue.length > 0) this.#kick();
      });
  }

  /**
   * After an append whose outcome is unknown (the connection lost before the
   * COMMIT's reply), the batch may be stored: the head is read back from the
   * store before anything else is placed, so the next batch follows what the
   * log holds instead of colliding with it for ever.
   */
  async #syncHead(): Promise<void> {
    if (!this.#headUncertain) return;
    for (;;) {
      const rows = await this.#store.listAudit({ chain: this.chain, fromSeq: this.#head.seq + 1, limit: MAX_BATCH });
      const last = rows[rows.length - 1];
      if (last === undefined) break;
      this.#head = this.#stored = { seq: last.seq, hash: last.hash };
      this.#uncheckpointed(rows.length);
      if (rows.length < MAX_BATCH) break;
    }
    this.#headUncertain = false;
  }

  async #batch(): Promise<void> {
    const items = this.#queue.splice(0, MAX_BATCH);
    if (items.length === 0) return;
    try {
      await this.#syncHead();
      let { seq, hash: prev } = this.#head;
      const placed = items.map((it) => {
        seq++;
        const log: LogPosition = { chain: this.chain, seq, prev };
        const claims = { ...it.claims, iss: this.signer.did, log } as ReceiptClaims;
        // The chain hashes the payload's bytes as signed (never a re-serialisation), so plain JSON does.
        const payload = JSON.stringify(claims);
        prev = sha256Digest(payload);
        return { it, claims, payload, seq, hash: prev };
      });
      // The hash of each entry is known before any signature, so the batch signs in parallel.
      const signed = await Promise.all(placed.map(async (p) => ({ jws: await signPayload(RECEIPT_TYP, p.payload, this.signer) })));
      const due = this.#sinceCheckpoint + items.length >= this.#every;
      const last = placed[placed.length - 1]!;
      const checkpoint = due ? await signCheckpoint(this.signer, this.chain, last.seq, last.hash) : undefined;
      const entries: AuditEntryRecord[] = placed.map((p, i) => entryOf(p.claims, signed[i]!.jws, p.hash));
      const blobs = new Map<string, AuditBlob>();
      const refs: { receiptId: string; hash: string }[] = [];
      for (const p of placed) {
        for (const b of p.it.blobs) {
          blobs.set(b.hash, b);
          refs.push({ receiptId: p.claims.jti, hash: b.hash });
        }
      }
      const inline = placed.flatMap((p) => (p.it.own ? [{ receiptId: p.claims.jti, ...p.it.own }] : []));
      const batch = { chain: this.chain, entries, blobs: [...blobs.values()], refs, inline, ...(checkpoint ? { checkpoint } : {}) };
      if (this.#afterReply) {
        // Placed and signed: the chain is committed to these entries, which are stored as signed, in order.
        this.#head = { seq: last.seq, hash: last.hash };
        if (checkpoint) this.#checkpointed();
        else this.#uncheckpointed(items.length);
        this.#unstored += entries.length;
        // Queued at once: in a group-committing store it shares the next commit with the replay cache's writes.
        this.#storing = this.#storing.then(() => this.#storeUntilStored(batch));
        placed.forEach((p, i) => p.it.resolve({ jws: signed[i]!.jws, hash: p.hash, seq: p.seq }));
        return;
      }
      await this.#store.appendAudit(batch);
      this.#head = this.#stored = { seq: last.seq, hash: last.hash };
      if (checkpoint) this.#checkpointed();
      else this.#uncheckpointed(items.length);
      placed.forEach((p, i) => p.it.resolve({ jws: signed[i]!.jws, hash: p.hash, seq: p.seq }));
    } catch (e) {
      // The append may have been stored (its reply lost): read the head back before the next batch.
      if (!this.#afterReply) this.#headUncertain = true;
      const again = items.filter((it) => it.retry && Date.now() < it.deadline);
      for (const it of items) if (!again.includes(it)) it.reject(e);
      for (const it of again) it.retry!.onDefer();
      if (again.length > 0) {
        // Back in front, in order; their place is taken afresh by the next batch.
        const t = setTimeout(() => {
          this.#queue.unshift(...again);
          this.#kick();
        }, 250);
        t.unref();
      }
    }
  }

  async #storeUntilStored(batch: AuditAppend): Promise<void> {
    const last = batch.entries[batch.entries.length - 1]!;
    const done = () => {
      this.#unstored -= batch.entries.length;
      // Batches are stored one after another, in order: this one is now the end of what the store holds.
      this.#stored = { seq: last.seq, hash: last.hash };
    };
    for (let delay = 100; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        await this.#store.appendAudit(batch);
        done();
        return;
      } catch {
        // A try whose COMMIT reply was lost may have stored it: then it is done, not retried into a collision.
        const stored = await this.#store.listAudit({ chain: this.chain, fromSeq: last.seq, limit: 1 }).catch(() => []);
        if (stored[0]?.seq === last.seq && stored[0].hash === last.hash) {
          done();
          return;
        }
        await new Promise<void>((r) => setTimeout(r, delay).unref());
      }
    }
  }

  #checkpointed(): void {
    this.#sinceCheckpoint = 0;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #uncheckpointed(n: number): void {
    this.#sinceCheckpoint += n;
    if (this.#timer || this.#seconds <= 0) return;
    // An idle verifier still checkpoints what it wrote, within checkpointSeconds.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#checkpoint().catch(() => undefined);
    }, this.#seconds * 1000);
    this.#timer.unref();
  }
}

/** Runs `work` with a referenced handle open, so the process waits for it although the writer's timers are unref'd. */
async function keepingAlive<T>(work: () => Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    return await work();
  } finally {
    clearInterval(keepAlive);
  }
}

function entryOf(c: ReceiptClaims, jws: string, hash: string): AuditEntryRecord {
  return {
    chain: c.log.chain,
    seq: c.log.seq,
    hash,
    prev: c.log.prev,
    receiptId: c.jti,
    kind: c.kind,
    outcome: c.kind === 'decision' ? c.decision : c.spend.state === 'committed' ? 'committed' : 'released',
    issuer: c.iss,
    ...(c.sub !== undefined ? { subject: c.sub } : {}),
    at: c.time,
    jws,
  };
}

/** A signed checkpoint: this chain held `seq` entries ending in `head` (`typ: charter-checkpoint+jwt`). */
export async function signCheckpoint(signer: Issuer, chain: string, seq: number, head: string): Promise<AuditCheckpointRecord> {
  const at = new Date();
  const { jws } = await signCanonical(CHECKPOINT_TYP, { iss: signer.did, iat: Math.floor(at.getTime() / 1000), time: at.toISOString(), chain, seq, head }, signer);
  return { chain, seq, head, at: at.toISOString(), jws };
}

export type { DecisionReceipt, SettlementReceipt, ReceiptSpend };
