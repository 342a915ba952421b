import { CharterError } from '../errors.js';
import type { CredentialRecord, IdentityRecord, NewRating, RatingRecord, ReservationRecord, ReservationState, StatusListRecord } from './types.js';

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

const isTime = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/**
 * A rating as both stores write it, or INVALID_ARGUMENT: the store never
 * holds a score a scorer could turn into NaN. -0 is written as 0.
 */
export function checkRating(r: NewRating): NewRating {
  const text = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (typeof r !== 'object' || r === null || !text(r.id) || !text(r.attester) || !text(r.agent) || !text(r.receipt)) {
    throw new CharterError('INVALID_ARGUMENT', 'a rating needs an id, attester, agent and receipt');
  }
  if (typeof r.score !== 'number' || !Number.isFinite(r.score) || r.score < 0 || r.score > 1) throw new CharterError('INVALID_ARGUMENT', 'a rating score is a finite number in [0, 1]');
  if (!isTime(r.issuedAt) || !isTime(r.importedAt) || (r.validUntil !== undefined && !isTime(r.validUntil))) throw new CharterError('INVALID_ARGUMENT', 'rating times are finite numbers (ms)');
  if ((r.dimension !== undefined && !text(r.dimension)) || (r.status !== undefined && typeof r.status !== 'string')) throw new CharterError('INVALID_ARGUMENT', 'a rating dimension and status are strings');
  return r.score === 0 ? { ...r, score: 0 } : r;
}

/** The columns listRatings selects, in this order (ratingFromArray reads them by position); not the status text. */
export const RATING_COLUMNS = 'id, attester, receipt, score, dimension, issued_at, valid_until, status IS NOT NULL, imported_at';

/**
 * One listRatings row, as an array of RATING_COLUMNS, -> record: built
 * field by field (no spreads), since scoring reads 100,000 of them at once.
 * BIGINT columns may come back as strings (pg).
 */
export function ratingFromArray(c: readonly unknown[], agent: string): RatingRecord {
  const r: RatingRecord = { id: c[0] as string, attester: c[1] as string, agent, receipt: c[2] as string, score: c[3] as number, issuedAt: Number(c[5]), importedAt: Number(c[8]), revocable: c[7] === 1 || c[7] === true };
  if (c[4] !== null && c[4] !== undefined) r.dimension = c[4] as string;
  if (c[6] !== null && c[6] !== undefined) r.validUntil = Number(c[6]);
  return r;
}
