import { CharterError } from '../errors.js';
import type {
  AccessReceiptRecord,
  AuditAppend,
  AuditCheckpointRecord,
  AuditEntryRecord,
  CredentialRecord,
  IdentityRecord,
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

const ms = (v: unknown) => new Date(Number(v)).toISOString();

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
