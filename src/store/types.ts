import type { KeyType, PublicJwk } from '../keys/types.js';

/*
 * The store port. Each layer above depends only on the narrow interface it
 * needs (the guard on NonceStore and Ledger, issuers on CredentialStore and
 * StatusStore, the home on IdentityStore and ConfigStore); `Store` is all of
 * them, implemented twice (SQLite embedded, PostgreSQL for a fleet) and
 * checked by one contract test suite. All methods are async so both backends
 * fit; each method is atomic on its own. Failures throw CharterError:
 * ALREADY_EXISTS, NOT_FOUND, RESERVATION_NOT_FOUND, INVALID_ARGUMENT, and the
 * faults STORE_ERROR and STORE_UNAVAILABLE.
 */

export interface ConfigStore {
  /** Settings such as the public URL and the passphrase check value. */
  getConfig(key: string): Promise<string | undefined>;
  setConfig(key: string, value: string): Promise<void>;
}

export interface IdentityStore {
  /** Throws ALREADY_EXISTS when the alias or DID is taken. */
  putIdentity(rec: IdentityRecord): Promise<void>;
  /** By alias or by DID. */
  getIdentity(aliasOrDid: string): Promise<IdentityRecord | undefined>;
  listIdentities(): Promise<IdentityRecord[]>;
}

/** Credentials issued by or held in this home. */
export interface CredentialStore {
  /** Throws ALREADY_EXISTS on a duplicate id. */
  putCredential(rec: CredentialRecord): Promise<void>;
  getCredential(id: string): Promise<CredentialRecord | undefined>;
  listCredentials(filter?: CredentialFilter): Promise<CredentialRecord[]>;
}

/** Status lists, issuer side. */
export interface StatusStore {
  /**
   * Creates the list; with `reuse`, returns instead the oldest list of the same
   * issuer and purpose whose URL starts with `reuse.urlPrefix` and which is
   * less than `reuse.below` full, decided in the same transaction, so processes
   * issuing an issuer's first credential at once create one list between them.
   */
  createStatusList(rec: NewStatusList, reuse?: { urlPrefix: string; below: number }): Promise<StatusListRecord>;
  getStatusList(id: string): Promise<StatusListRecord | undefined>;
  listStatusLists(filter?: { issuerDid?: string; purpose?: string }): Promise<StatusListRecord[]>;
  /**
   * Allocate an index never handed out before in this list, chosen with
   * `pick(size)` (random; retried on collision), recorded with the credential id,
   * in one transaction. Throws STORE_ERROR when the list is full. One entry per
   * credential and purpose: when `credentialId` already holds an index in a list
   * of the same issuer and purpose, that allocation is returned instead, decided
   * in the same transaction, so two processes issuing one credential at once get
   * one entry (a second would leave revocation setting a bit nobody reads).
   */
  allocateStatusIndex(listId: string, credentialId: string, pick: (size: number) => number): Promise<{ listId: string; index: number }>;
  /** Where a credential's status entry points (list and index), if allocated here. */
  findStatusAllocation(credentialId: string): Promise<{ listId: string; index: number }[]>;
  /**
   * Set or clear one bit; bumps the list's `version`. Committed before it returns,
   * so the change is durable before the signed list is regenerated. A set bit of
   * a `revocation` list is never cleared (INVALID_ARGUMENT): revocation is not
   * reversible (Bitstring Status List §2.1), decided in the same transaction.
   */
  setStatusBit(listId: string, index: number, value: boolean): Promise<StatusListRecord>;
  /**
   * Store the signed list credential for `version`. Ignored if a newer signed
   * version is already stored (two publishers racing never roll back); the
   * same version is replaced (a list re-signed before it expires).
   *
   * With `datedAfter` (the signed copy the new one was dated after, null for
   * none), the put is made only while that copy is still the stored one (or
   * `jwt` already is: a retried put): the publisher re-signs otherwise. So
   * every copy stored is dated after every copy stored before it, whatever
   * the signers racing: verifiers refuse a copy older than one they accepted
   * (status/rollback.ts). Returns whether `jwt` is now the stored copy.
   */
  putSignedStatusList(listId: string, version: number, jwt: string, datedAfter?: string | null): Promise<boolean>;
}

/** The spend ledger: cumulative budgets and rates over every link of a mandate chain. */
export interface Ledger {
  /**
   * Reserve one spend against every link of a mandate chain, atomically:
   * either every entry fits its budget and rate over its window and all are
   * recorded under `reservationId`, or nothing is recorded. Parallel calls
   * never both pass when only one fits. Reservations of these links whose
   * hold ran out are released first (recorded as released by timeout).
   * Throws ALREADY_EXISTS for a reused reservation id.
   */
  reserve(req: ReservationRequest): Promise<ReservationResult>;
  /** A read-only budget preview: the same arithmetic as reserve, nothing recorded. */
  previewReservation(req: ReservationRequest): Promise<ReservationResult>;
  /**
   * reserved -> committed: the spend happened. A reservation released by its
   * hold timeout is committed all the same (the spend did happen; it counts
   * again). Throws RESERVATION_NOT_FOUND for an unknown or released one.
   */
  commitReservation(reservationId: string): Promise<void>;
  /** reserved -> released (its amount and count no longer count). Idempotent for a timed-out one. Throws RESERVATION_NOT_FOUND. */
  releaseReservation(reservationId: string): Promise<void>;
  /** Reservations, newest first; `state: 'reserved', before` lists the stale ones. */
  listReservations(filter?: ReservationFilter): Promise<ReservationRecord[]>;
}

/** The replay cache. */
export interface NonceStore {
  /**
   * Record `value` in `scope` until `expiresAt`. Returns true the first time,
   * false if already seen and not expired. Expired entries may be purged.
   */
  consumeNonce(scope: string, value: string, expiresAt: Date): Promise<boolean>;
}

/**
 * Ratings src/reputation verified once, when they were imported (signatures,
 * receipt, schema and the score's range), read back for scoring without
 * verifying again. Revocation is not settled here: each rating keeps its
 * status entries, which the scorer re-checks against cached status lists.
 */
export interface ReputationStore {
  /**
   * Records ratings, all or none, in one transaction. A rating already held
   * (the same attester and id) stays as it was; returns the keys of those
   * newly added. INVALID_ARGUMENT (nothing recorded) for a score that is not
   * a finite number in [0, 1], or a time that is not a finite number.
   */
  putRatings(ratings: readonly NewRating[]): Promise<RatingKey[]>;
  /** Those of `keys` already held. */
  findRatings(keys: readonly RatingKey[]): Promise<RatingKey[]>;
  /**
   * Every rating about `agent`, in one query, ordered by issuedAt, then
   * attester, then id (bytewise); without the status entries themselves
   * (the bulk of a row, rarely needed: see listRatingStatus).
   */
  listRatings(agent: string): Promise<RatingRecord[]>;
  /** The status entries of `agent`'s revocable ratings: all of them, or those of `keys`. */
  listRatingStatus(agent: string, keys?: readonly RatingKey[]): Promise<RatingStatus[]>;
  /**
   * A number that changes whenever `agent`'s ratings change (0 when it has
   * none), read in constant time: a scorer keeping the listing in memory
   * asks this instead of listing again.
   */
  ratingsVersion(agent: string): Promise<number>;
}

/**
 * The audit log of a verifier: hash-chained, signed entries (decision and
 * settlement receipts), signed checkpoints, and the evidence they point at
 * (presentations, DID documents, status lists), kept apart from the chain so
 * evidence can be pruned while the chain still verifies. Append-only: the
 * only removal is pruneAudit, below a checkpoint.
 */
export interface AuditStore {
  /**
   * One batch of one chain, atomically: entries (consecutive seqs), the
   * evidence they reference (blobs stored once per hash), and an optional
   * checkpoint. Throws ALREADY_EXISTS when a (chain, seq) or receipt id is
   * taken, and nothing is written.
   */
  appendAudit(batch: AuditAppend): Promise<void>;
  /** Entries, by chain and seq with `chain`, otherwise by time (then chain, seq). */
  listAudit(filter?: AuditFilter): Promise<AuditEntryRecord[]>;
  /** An entry by receipt id or entry hash. */
  findAudit(receiptIdOrHash: string): Promise<AuditEntryRecord | undefined>;
  /** Every chain: who signs it, its first and last remaining seq, its head hash. */
  listAuditChains(): Promise<AuditChainRecord[]>;
  /** Ignored when the same checkpoint (chain, seq) is already stored. */
  putAuditCheckpoint(cp: AuditCheckpointRecord): Promise<void>;
  listAuditCheckpoints(chain?: string): Promise<AuditCheckpointRecord[]>;
  /** The evidence blobs with these hashes (those still kept). */
  getAuditBlobs(hashes: readonly string[]): Promise<AuditBlob[]>;
  /** The evidence one entry kept (its own, and the shared blobs it references), while kept. */
  getAuditEvidence(receiptId: string): Promise<AuditBlob[]>;
  /**
   * Deletes a chain's entries with seq <= throughSeq (the caller keeps the
   * checkpoint at throughSeq as the chain's new anchor) and, with
   * `evidenceBefore`, the references of entries recorded before it; then
   * every blob no remaining entry references.
   */
  pruneAudit(req: { chain: string; throughSeq: number; evidenceBefore?: Date }): Promise<{ entries: number; blobs: number }>;
}

/**
 * What became of each record given to `putAccessReceipts`, in order: kept,
 * already held (the same verifier's receipt of that id, for that grant), or
 * refused because the grant's reported uses are at their cap and its verifier
 * already holds as many as any other.
 */
export type AccessReceiptOutcome = 'added' | 'duplicate' | 'full';

/** Receipts a platform sent back to a grantor about uses of its grants (the person's side). */
export interface AccessReportStore {
  /**
   * Records each receipt once per (grant, verifier, receipt id): a receipt
   * of the same id signed by another verifier is another record, never a
   * duplicate. With `maxPerGrant`, a grant keeps at most that many; when
   * full, a record of a verifier that holds fewer than another evicts that
   * other's oldest use (the verifier holding the most; on a tie, the one that
   * reported last), so no verifier can crowd another out. Atomic: counts and
   * writes happen in one transaction, whoever else writes at once.
   */
  putAccessReceipts(recs: readonly AccessReceiptRecord[], options?: { maxPerGrant?: number }): Promise<AccessReceiptOutcome[]>;
  /** Newest first. */
  listAccessReceipts(filter?: { grantId?: string; limit?: number }): Promise<AccessReceiptRecord[]>;
}

/** Everything Charter keeps, in one backend. */
export interface Store extends ConfigStore, IdentityStore, CredentialStore, StatusStore, Ledger, NonceStore, AuditStore, AccessReportStore, ReputationStore {
  readonly kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

export interface IdentityRecord {
  alias: string;
  did: string;
  /** Absolute DID URL of the signing verification method. */
  kid: string;
  keyType: KeyType;
  method: 'key' | 'jwk' | 'web';
  publicJwk: PublicJwk;
  /** Sealed private JWK (see store/keystore.ts); never the plain key. */
  sealedPrivateKey: string;
  /** The DID document, for did:web (what `did web init` publishes). */
  document?: Record<string, unknown>;
  /** Free-form labels, e.g. `{ role: 'agent', operator: did }`. */
  meta?: Record<string, unknown>;
  createdAt: string;
}

export type CredentialDirection = 'issued' | 'held';

export interface CredentialRecord {
  id: string;
  jwt: string;
  direction: CredentialDirection;
  issuer: string;
  subject?: string;
  /** Credential types without `VerifiableCredential`. */
  types: string[];
  validFrom?: string;
  validUntil?: string;
  /** Parent mandate id for delegated AgentAuthorityCredentials, etc. */
  parentId?: string;
  createdAt: string;
}

export interface CredentialFilter {
  direction?: CredentialDirection;
  issuer?: string;
  subject?: string;
  type?: string;
  parentId?: string;
}

export interface NewStatusList {
  id: string;
  issuerDid: string;
  purpose: 'revocation' | 'suspension';
  /** Number of entries (bits); Bitstring Status List §2.1: at least 131,072. */
  size: number;
  /** Seconds verifiers may cache the list (the credential's `ttl`, in ms there). */
  ttlSeconds: number;
  /** Full public URL of the list credential. */
  url: string;
}

export interface StatusListRecord extends NewStatusList {
  /** Raw bitstring, `size / 8` bytes, most significant bit first (index 0 = bit 7 of byte 0). */
  bits: Uint8Array;
  /** Incremented on every bit change. */
  version: number;
  /** Latest signed list credential and the version it encodes. */
  signedJwt?: string;
  signedVersion?: number;
  allocated: number;
  createdAt: string;
}

/**
 * The window a cumulative limit counts over: the last `periodSeconds`
 * (rolling), or the current calendar day, week (ISO, from Monday), month or
 * year in `timeZone` (an IANA zone such as Europe/Paris).
 */
export type LedgerWindow = { periodSeconds: number } | { calendar: CalendarUnit; timeZone: string };
export type CalendarUnit = 'day' | 'week' | 'month' | 'year';

export interface LedgerEntry {
  /** Ledger key of the mandate (issuer DID and credential id) this spend is charged to. */
  mandateId: string;
  /** Decimal string, e.g. "49.99"; "0" for a rate-only check. */
  amount: string;
  currency: string;
  /** Cumulative budget over its window, if the link has one. */
  budget?: { amount: string; currency: string } & LedgerWindow;
  /** At most `count` reservations per window, if the link has one. */
  rate?: { count: number } & LedgerWindow;
}

export interface ReservationRequest {
  reservationId: string;
  at: Date;
  entries: LedgerEntry[];
  /** Opt-in hold timeout: after this time an unsettled reservation is released (and recorded as such). */
  holdUntil?: Date;
}

export type ReservationState = 'reserved' | 'committed' | 'released';

export interface ReservationFilter {
  state?: ReservationState;
  /** Only reservations made before this time (with state 'reserved': the stale ones). */
  before?: Date;
  /** Only reservations charging this ledger key. */
  mandateId?: string;
  /** Most rows returned. Default 1000. */
  limit?: number;
}

export interface ReservationRecord {
  reservationId: string;
  at: string;
  state: ReservationState;
  entries: { mandateId: string; amount: string; currency: string }[];
  holdUntil?: string;
  /** When and how it was settled: committed, released by a caller, or released by its hold timeout. */
  settledAt?: string;
  settledBy?: 'commit' | 'release' | 'timeout';
}

export interface LedgerUsage {
  mandateId: string;
  /** Spent (reserved + committed) in the window before this request, decimal string. */
  spent: string;
  currency: string;
  /** Budget left after this request (if it fits), decimal string; undefined without a budget. */
  remaining?: string;
  count: number;
  /** Rate left after this request; undefined without a rate. */
  rateRemaining?: number;
}

export interface ReservationResult {
  ok: boolean;
  usage: LedgerUsage[];
  failures: { mandateId: string; code: 'BUDGET_EXCEEDED' | 'RATE_EXCEEDED' | 'CURRENCY_MISMATCH'; message: string }[];
}

/** A rating is one attester's attestation: its id is unique per attester (an id is only its issuer's promise). */
export interface RatingKey {
  attester: string;
  id: string;
}

/** A rating to record, as import verified it. */
export interface NewRating extends RatingKey {
  /** The rated agent (the attestation's subject). */
  agent: string;
  /** The interaction proof it rests on (e.g. the receipt's id): one rating counts per proof. */
  receipt: string;
  /** In [0, 1]. */
  score: number;
  dimension?: string;
  /** When the rating became valid, in ms since the epoch (its age, for decay). */
  issuedAt: number;
  /** When it stops being valid, in ms since the epoch. */
  validUntil?: number;
  /** The attestation's `credentialStatus` as JSON text, when it has one: re-checked when scoring. */
  status?: string;
  /** When it was imported, in ms since the epoch. */
  importedAt: number;
  /**
   * The public key the attestation's signature verified with, as did/parties.ts keyString: who signed,
   * whatever DID it signed as and whatever any document lists later. Absent for ratings imported before
   * it was recorded (scoring then reads the attester's document, as it did).
   */
  signedWith?: string;
}

/** A rating as listed for scoring. */
export interface RatingRecord extends Omit<NewRating, 'status'> {
  /** It has status entries (listRatingStatus reads them). */
  revocable: boolean;
}

export interface RatingStatus extends RatingKey {
  /** The attestation's `credentialStatus` as JSON text. */
  status: string;
}

/** What an audit entry records: a decision (allow, deny) or the settlement of its spend. */
export type AuditOutcome = 'allow' | 'deny' | 'committed' | 'released';

export interface AuditEntryRecord {
  chain: string;
  /** 1, 2, 3, ... within the chain. */
  seq: number;
  /** `sha256-<b64u>` of the receipt's payload bytes. */
  hash: string;
  /** The previous entry's hash; null for the first entry of a chain. */
  prev: string | null;
  receiptId: string;
  kind: 'decision' | 'settlement';
  outcome: AuditOutcome;
  /** The verifier DID that signed the receipt. */
  issuer: string;
  /** The presenting holder (agent or grantee), once authenticated. */
  subject?: string;
  /** The decision time (RFC 3339). */
  at: string;
  /** The signed receipt (compact JWS). */
  jws: string;
}

export interface AuditBlob {
  /** `sha256-<b64u>` of `body`'s UTF-8 bytes. */
  hash: string;
  body: string;
}

export interface AuditCheckpointRecord {
  chain: string;
  /** Entries in the chain up to and including the head. */
  seq: number;
  /** The hash of entry `seq`. */
  head: string;
  at: string;
  jws: string;
}

export interface AuditAppend {
  chain: string;
  entries: AuditEntryRecord[];
  /** Evidence shared by entries (DID documents, status lists), stored once per hash. */
  blobs?: AuditBlob[];
  /** Which entry references which shared blob. */
  refs?: { receiptId: string; hash: string }[];
  /** Evidence of one entry alone (its presentation), kept in the entry's own row. */
  inline?: ({ receiptId: string } & AuditBlob)[];
  checkpoint?: AuditCheckpointRecord;
}

export interface AuditFilter {
  chain?: string;
  /** With chain: entries from this seq on. */
  fromSeq?: number;
  subject?: string;
  outcome?: AuditOutcome;
  kind?: 'decision' | 'settlement';
  /** Decision time at or after. */
  since?: Date;
  /** Decision time before. */
  until?: Date;
  /** Most rows. Default 1000. */
  limit?: number;
}

export interface AuditChainRecord {
  chain: string;
  issuer: string;
  first: number;
  last: number;
  count: number;
  head: string;
}

export interface AccessReceiptRecord {
  grantId: string;
  receiptId: string;
  /** The verifier that signed the receipt. */
  verifier: string;
  /** Who sent the report (the verifier, or the grantee). */
  reporter: string;
  /** The presenting holder named in the receipt. */
  holder?: string;
  outcome: 'allow' | 'deny';
  /** The decision time. */
  at: string;
  receivedAt: string;
  jws: string;
}
