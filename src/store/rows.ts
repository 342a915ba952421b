import { CharterError, shown } from '../errors.js';
import type {
  AccessReceiptRecord,
  AuditAppend,
  AuditChainRecord,
  AuditCheckpointRecord,
  AuditEntryRecord,
  AuditFilter,
  CredentialRecord,
  IdentityRecord,
  NewRating,
  RatingRecord,
  ReservationRecord,
  ReservationState,
  StatusListRecord,
} from './types.js';

/** Database rows -> store records, shared by the SQLite and PostgreSQL stores (absent, not null). */
export type Row = Record<string, unknown>;

const parse = <T>(v: unknown): T | undefined => (typeof v === 'string' ? (JSON.parse(v) as T) : undefined);
const opt = <K extends string, V>(k: K, v: V | null | undefined): { [P in K]?: V } => (v === null || v === undefined ? {} : ({ [k]: v } as { [P in K]?: V }));

export function identityRow(r: Row): IdentityRecord {
  return {
    alias: r.alias as string,
    did: r.did as string,
    kid: r.kid as string,
    keyType: r.key_type as IdentityRecord['keyType'],
    method: r.method as IdentityRecord['method'],
    publicJwk: JSON.parse(r.public_jwk as string) as IdentityRecord['publicJwk'],
    sealedPrivateKey: r.sealed as string,
    ...opt('document', parse<Record<string, unknown>>(r.document)),
    ...opt('meta', parse<Record<string, unknown>>(r.meta)),
    createdAt: r.created_at as string,
  };
}

/** `types` decoded by the caller: a JSON text column in SQLite, a TEXT[] in PostgreSQL. */
export function credentialRow(r: Row, types: string[]): CredentialRecord {
  return {
    id: r.id as string,
    jwt: r.jwt as string,
    direction: r.direction as CredentialRecord['direction'],
    issuer: r.issuer as string,
    ...opt('subject', r.subject as string | null),
    types,
    ...opt('validFrom', r.valid_from as string | null),
    ...opt('validUntil', r.valid_until as string | null),
    ...opt('parentId', r.parent_id as string | null),
    createdAt: r.created_at as string,
  };
}

/** Clearing a set bit of a revocation list: revocation is not reversible (Bitstring Status List §2.1), in both stores. */
export const revokedForGood = (): CharterError =>
  new CharterError('INVALID_ARGUMENT', 'that credential is revoked for good: a revocation cannot be undone (issue a new credential instead)');

export function statusListRow(r: Row): StatusListRecord {
  return {
    id: r.id as string,
    issuerDid: r.issuer_did as string,
    purpose: r.purpose as StatusListRecord['purpose'],
    size: r.size as number,
    ttlSeconds: r.ttl_seconds as number,
    url: r.url as string,
    bits: new Uint8Array(r.bits as Buffer),
    version: r.version as number,
    ...opt('signedJwt', r.signed_jwt as string | null),
    ...opt('signedVersion', r.signed_version as number | null),
    allocated: r.allocated as number,
    createdAt: r.created_at as string,
  };
}

/** Ledger rows (one per reservation and link, newest first) -> reservations, for both stores. */
export function reservationRows(rows: Row[], scale: (amount: unknown) => string): ReservationRecord[] {
  const out = new Map<string, ReservationRecord>();
  for (const r of rows) {
    const id = r.reservation_id as string;
    let rec = out.get(id);
    if (!rec) {
      rec = {
        reservationId: id,
        at: new Date(Number(r.at)).toISOString(),
        state: r.state as ReservationState,
        entries: [],
        ...opt('holdUntil', r.hold_until === null || r.hold_until === undefined ? undefined : new Date(Number(r.hold_until)).toISOString()),
        ...opt('settledAt', r.settled_at === null || r.settled_at === undefined ? undefined : new Date(Number(r.settled_at)).toISOString()),
        ...opt('settledBy', r.settled_by as ReservationRecord['settledBy'] | null),
      };
      out.set(id, rec);
    }
    rec.entries.push({ mandateId: r.mandate_id as string, amount: scale(r.amount), currency: r.currency as string });
  }
  return [...out.values()];
}

/**
 * A stored time (ms) as RFC 3339. A value that is no time (a row edited behind the store's back) is
 * handed on as text naming it, for the audit walk to report as a stored time that differs from the
 * signed one, instead of failing every listing of the log.
 */
const ms = (v: unknown) => {
  const n = Number(v);
  return Number.isFinite(n) && Math.abs(n) <= 8.64e15 ? new Date(n).toISOString() : `not a time: ${shown(v, 40)}`;
};

/** An audit entry's columns, without the evidence kept in its row. */
export const AUDIT_COLUMNS = 'chain, seq, hash, prev, receipt_id, kind, outcome, issuer, subject, at, jws';

/** PostgreSQL returns BIGINT as a string; both stores hand back numbers and RFC 3339 times. */
export function auditEntryRow(r: Row): AuditEntryRecord {
  return {
    chain: r.chain as string,
    seq: Number(r.seq),
    hash: r.hash as string,
    prev: (r.prev as string | null) ?? null,
    receiptId: r.receipt_id as string,
    kind: r.kind as AuditEntryRecord['kind'],
    outcome: r.outcome as AuditEntryRecord['outcome'],
    issuer: r.issuer as string,
    ...opt('subject', r.subject as string | null),
    at: ms(r.at),
    jws: r.jws as string,
  };
}

export function auditCheckpointRow(r: Row): AuditCheckpointRecord {
  return { chain: r.chain as string, seq: Number(r.seq), head: r.head as string, at: ms(r.at), jws: r.jws as string };
}

/** One chain's summary row (first and last seq, count, head hash, signer), from either store's listAuditChains query. */
export function auditChainRow(r: Row): AuditChainRecord {
  return { chain: r.chain as string, issuer: r.issuer as string, first: Number(r.first), last: Number(r.last), count: Number(r.count), head: r.head as string };
}

export function accessReceiptRow(r: Row): AccessReceiptRecord {
  return {
    grantId: r.grant_id as string,
    receiptId: r.receipt_id as string,
    verifier: r.verifier as string,
    reporter: r.reporter as string,
    ...opt('holder', r.holder as string | null),
    outcome: r.outcome as AccessReceiptRecord['outcome'],
    at: ms(r.at),
    receivedAt: ms(r.received_at),
    jws: r.jws as string,
  };
}

/** Checks a batch before any write, the same way in both stores. */
export function checkAuditAppend(b: AuditAppend): void {
  const bad = (m: string) => new CharterError('INVALID_ARGUMENT', `appendAudit: ${m}`);
  if (!b || typeof b.chain !== 'string' || b.chain.length === 0 || !Array.isArray(b.entries)) throw bad('needs a chain and entries');
  let seq: number | undefined;
  for (const e of b.entries) {
    if (e.chain !== b.chain) throw bad('every entry must be of the batch chain');
    if (!Number.isSafeInteger(e.seq) || e.seq < 1 || (seq !== undefined && e.seq !== seq + 1)) throw bad('seqs must be consecutive positive integers');
    if (!Number.isFinite(Date.parse(e.at))) throw bad('an entry needs a valid time');
    seq = e.seq;
  }
  const ids = new Set(b.entries.map((e) => e.receiptId));
  if ((b.refs ?? []).some((r) => !ids.has(r.receiptId)) || (b.inline ?? []).some((r) => !ids.has(r.receiptId))) throw bad('evidence belongs to entries of the same batch only');
  if (b.checkpoint && (b.checkpoint.chain !== b.chain || !Number.isFinite(Date.parse(b.checkpoint.at)))) throw bad('the checkpoint must be of the batch chain, with a valid time');
}

/** The issuer of a checkpoint, read from its JWS payload (kept in a column for chains whose entries were pruned). */
export function checkpointIssuer(jws: string): string {
  try {
    const iss = (JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown }).iss;
    return typeof iss === 'string' ? iss : '';
  } catch {
    return '';
  }
}

/** The `refs` column of each entry of a batch: the hashes of the evidence it keeps, as a JSON array (null for none). */
export function refsByEntry(b: AuditAppend): Map<string, string> {
  const by = new Map<string, Set<string>>();
  for (const r of b.refs ?? []) by.set(r.receiptId, (by.get(r.receiptId) ?? new Set()).add(r.hash));
  return new Map([...by].map(([id, hashes]) => [id, JSON.stringify([...hashes].sort())]));
}

/** Milliseconds since the epoch, whole: both stores keep them as 64-bit integers (PostgreSQL BIGINT refuses a fraction). */
const isTime = (v: unknown) => Number.isSafeInteger(v);
/** Text both stores can hold: PostgreSQL TEXT cannot hold NUL (SQLite can); refused alike in both. */
const storableText = (v: unknown): v is string => typeof v === 'string' && !v.includes('\u0000');

/**
 * A rating as both stores write it, or INVALID_ARGUMENT: the store never
 * holds a score a scorer could turn into NaN. -0 is written as 0.
 */
export function checkRating(r: NewRating): NewRating {
  const text = (v: unknown) => storableText(v) && v.length > 0;
  if (typeof r !== 'object' || r === null || !text(r.id) || !text(r.attester) || !text(r.agent) || !text(r.receipt)) {
    throw new CharterError('INVALID_ARGUMENT', 'a rating needs an id, attester, agent and receipt');
  }
  if (typeof r.score !== 'number' || !Number.isFinite(r.score) || r.score < 0 || r.score > 1)
    throw new CharterError('INVALID_ARGUMENT', 'a rating score is a finite number in [0, 1]');
  if (!isTime(r.issuedAt) || !isTime(r.importedAt) || (r.validUntil !== undefined && !isTime(r.validUntil)))
    throw new CharterError('INVALID_ARGUMENT', 'rating times are whole milliseconds');
  if ((r.dimension !== undefined && !text(r.dimension)) || (r.status !== undefined && !storableText(r.status)) || (r.signedWith !== undefined && !text(r.signedWith)))
    throw new CharterError('INVALID_ARGUMENT', 'a rating dimension, status and signing key are strings');
  return r.score === 0 ? { ...r, score: 0 } : r;
}

/** The columns listRatings selects, in this order (ratingFromArray reads them by position); not the status text. */
export const RATING_COLUMNS = 'id, attester, receipt, score, dimension, issued_at, valid_until, status IS NOT NULL, imported_at, signed_with';

/**
 * One listRatings row, as an array of RATING_COLUMNS, -> record: built
 * field by field (no spreads), since scoring reads 100,000 of them at once.
 * BIGINT columns may come back as strings (pg).
 */
export function ratingFromArray(c: readonly unknown[], agent: string): RatingRecord {
  const r: RatingRecord = {
    id: c[0] as string,
    attester: c[1] as string,
    agent,
    receipt: c[2] as string,
    score: c[3] as number,
    issuedAt: Number(c[5]),
    importedAt: Number(c[8]),
    revocable: c[7] === 1 || c[7] === true,
  };
  if (c[4] !== null && c[4] !== undefined) r.dimension = c[4] as string;
  if (c[6] !== null && c[6] !== undefined) r.validUntil = Number(c[6]);
  if (c[9] !== null && c[9] !== undefined) r.signedWith = c[9] as string;
  return r;
}

/**
 * An audit listing's filter, checked alike for both stores: SQLite read a
 * negative LIMIT as "no limit" and PostgreSQL refused it (STORE_ERROR);
 * either is now INVALID_ARGUMENT, as is any other value neither can use.
 */
export function checkAuditFilter(f: AuditFilter): AuditFilter {
  if (typeof f !== 'object' || f === null) throw new CharterError('INVALID_ARGUMENT', 'an audit filter is an object');
  if (f.limit !== undefined && !(Number.isSafeInteger(f.limit) && f.limit >= 0)) throw new CharterError('INVALID_ARGUMENT', 'limit is a whole number of rows, 0 or more');
  if (f.fromSeq !== undefined && !(Number.isSafeInteger(f.fromSeq) && f.fromSeq >= 0)) throw new CharterError('INVALID_ARGUMENT', 'fromSeq is a sequence number, 0 or more');
  for (const k of ['since', 'until'] as const) {
    const d = f[k];
    if (d !== undefined && !(d instanceof Date && Number.isFinite(d.getTime()))) throw new CharterError('INVALID_ARGUMENT', `${k} is a valid Date`);
  }
  for (const k of ['chain', 'subject', 'outcome', 'kind'] as const) {
    if (f[k] !== undefined && !storableText(f[k])) throw new CharterError('INVALID_ARGUMENT', `${k} is text`);
  }
  return f;
}
