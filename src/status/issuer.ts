import { randomInt, randomUUID } from 'node:crypto';
import { CharterError } from '../errors.js';
import { decodeJwt, signJwt } from '../credentials/index.js';
import { VC_CONTEXT_V2 } from '../credentials/types.js';
import { parseDateTime } from '../encoding/time.js';
import type { CredentialStatusEntry, Issuer } from '../credentials/types.js';
import type { NewStatusList, StatusListRecord, StatusStore } from '../store/types.js';
import { encodeBitstring, MIN_LIST_SIZE } from './codec.js';
import { DEFAULT_MAX_STALENESS_SECONDS } from './checker.js';

export type StatusPurpose = 'revocation' | 'suspension';
export type IssuerFor = (did: string) => Promise<Issuer>;

/**
 * How long verifiers may cache a published list (its `ttl`, and the HTTP
 * max-age `charter serve` sends): a revocation reaches every verifier within
 * about this long. Short by default; raise it per list for load.
 */
export const DEFAULT_LIST_TTL_SECONDS = 60;

export interface CreateListInput {
  issuerDid: string;
  purpose: StatusPurpose;
  baseUrl: string;
  size?: number;
  /** The list's `ttl`. Default DEFAULT_LIST_TTL_SECONDS (60). */
  ttlSeconds?: number;
}

function newList(input: CreateListInput): NewStatusList {
  const size = input.size ?? MIN_LIST_SIZE;
  if (size < MIN_LIST_SIZE || size % 8 !== 0) throw new CharterError('INVALID_ARGUMENT', `a status list needs at least ${MIN_LIST_SIZE} entries, a multiple of 8`);
  const ttlSeconds = input.ttlSeconds ?? DEFAULT_LIST_TTL_SECONDS;
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds < 0) throw new CharterError('INVALID_ARGUMENT', 'ttlSeconds must be a non-negative number');
  const id = randomUUID().replace(/-/g, '').slice(0, 22);
  return { id, issuerDid: input.issuerDid, purpose: input.purpose, size, ttlSeconds, url: `${listPrefix(input.baseUrl)}${id}` };
}

const listPrefix = (baseUrl: string) => `${baseUrl.replace(/\/+$/, '')}/status/`;

export async function createStatusList(store: StatusStore, input: CreateListInput): Promise<StatusListRecord> {
  return store.createStatusList(newList(input));
}

/** A list is picked for new entries while under this share full, keeping random picks cheap. */
const ROOM = 0.9;

/**
 * A list of this issuer and purpose with room left, or a new one. Callers
 * that find none, in this process or another sharing the store, create one
 * list between them (the store decides in one transaction): each list
 * created beside another would hold a single credential for good, and
 * whoever serves it would learn which credential a verifier checks (the herd
 * privacy of §6.1 lost).
 */
export async function ensureStatusList(store: StatusStore, input: CreateListInput): Promise<StatusListRecord> {
  const urlPrefix = listPrefix(input.baseUrl);
  const lists = await store.listStatusLists({ issuerDid: input.issuerDid, purpose: input.purpose });
  const found = lists.find((l) => l.url.startsWith(urlPrefix) && l.allocated < l.size * ROOM);
  return found ?? store.createStatusList(newList(input), { urlPrefix, below: ROOM });
}

/**
 * Allocates a random unused index (the spec's privacy advice, §6.1: random
 * assignment hides issuance order) and returns the credential's status entry.
 */
export async function allocateStatusEntry(store: StatusStore, input: CreateListInput & { credentialId: string }): Promise<CredentialStatusEntry> {
  // A revocable credential (a grant, a mandate) needs a store to hold its status entry: null cannot keep one.
  if (typeof store !== 'object' || store === null || typeof store.findStatusAllocation !== 'function') {
    throw new TypeError('a revocable credential (a grant, a mandate) needs a store for its status entry: pass the store, not null');
  }
  // One entry per credential id and purpose: an issue retried under the same id (a pool's grant after a failed
  // write, a caller's own id) gets the entry it was given before. A second one would leave revoke setting a
  // bit the issued credential does not carry.
  for (const a of await store.findStatusAllocation(input.credentialId)) {
    const held = await store.getStatusList(a.listId);
    if (held && held.issuerDid === input.issuerDid && held.purpose === input.purpose) return entryOf(held, a.index, input.purpose);
    // Another issuer's credential has this id: an entry for this one too would leave revoke (which finds a
    // credential's entry by its id) free to set either issuer's bit. Refused before anything is allocated.
    if (held && held.issuerDid !== input.issuerDid)
      throw new CharterError('ALREADY_EXISTS', `the credential id ${input.credentialId.slice(0, 80)} is already used by another issuer here: choose another id`);
  }
  const list = await ensureStatusList(store, input);
  const got = await store.allocateStatusIndex(list.id, input.credentialId, (size) => randomInt(size));
  // Another process may have issued the same credential since the look above: the store returns its entry.
  const held = got.listId === list.id ? list : await store.getStatusList(got.listId);
  if (!held) throw new CharterError('STORE_ERROR', `status list ${got.listId.slice(0, 40)} vanished`);
  return entryOf(held, got.index, input.purpose);
}

function entryOf(list: StatusListRecord, index: number, purpose: StatusPurpose): CredentialStatusEntry {
  return {
    id: `${list.url}#${index}`,
    type: 'BitstringStatusListEntry',
    statusPurpose: purpose,
    statusListIndex: String(index),
    statusListCredential: list.url,
  };
}

/** How long a signed list is valid: a copy replayed after that (by a stale cache, a proxy) is refused. */
export const LIST_VALIDITY_SECONDS = 86_400;

/**
 * Signs the list as a BitstringStatusListCredential (vc+jwt), §2.2, valid
 * from now for `validitySeconds` (default one day). Without an end, every
 * version ever signed would stay valid: whoever kept the copy from before a
 * revocation could serve it in place of the current one for good (§3.2
 * validates the list credential, its validity period included).
 */
export async function signStatusList(list: StatusListRecord, issuer: Issuer, opts: { now?: Date; validitySeconds?: number } = {}): Promise<string> {
  if (issuer.did !== list.issuerDid) throw new CharterError('INVALID_ARGUMENT', 'a status list is signed by its own issuer');
  const validity = opts.validitySeconds ?? LIST_VALIDITY_SECONDS;
  if (!Number.isSafeInteger(validity) || validity <= 0) throw new CharterError('INVALID_ARGUMENT', 'validitySeconds must be a positive whole number');
  if (opts.now !== undefined && !(opts.now instanceof Date && Number.isFinite(opts.now.getTime()))) throw new CharterError('INVALID_ARGUMENT', 'now must be a valid Date');
  // Verifiers order copies of a list by validFrom and refuse one older than a copy they accepted
  // (status/rollback.ts): each copy is dated to the millisecond (VCDM 2.0 dateTimeStamp allows the
  // fraction), and after the stored copy, so two copies signed within one second (two revocations,
  // grant revoke --to) are never taken for the same one.
  const from = opts.now?.getTime() ?? Math.max(Date.now(), validFromOf(list.signedJwt) + 1);
  const credential = {
    '@context': [VC_CONTEXT_V2],
    id: list.url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: issuer.did,
    validFrom: new Date(from).toISOString(),
    validUntil: new Date(from + validity * 1000).toISOString(),
    credentialSubject: { id: `${list.url}#list`, type: 'BitstringStatusList', statusPurpose: list.purpose, encodedList: encodeBitstring(list.bits), ttl: list.ttlSeconds * 1000 },
  };
  return signJwt({ typ: 'vc+jwt', cty: 'vc' }, credential, issuer.signer, issuer.kid);
}

/** A signed list's validFrom in ms (-Infinity when there is none or it cannot be read). */
function validFromOf(jwt: string | undefined): number {
  if (jwt === undefined) return -Infinity;
  try {
    return parseDateTime(decodeJwt(jwt).payload.validFrom) ?? -Infinity;
  } catch {
    return -Infinity;
  }
}

/** Signatures a publisher tries before giving up on a list other publishers keep changing. */
const PUBLISH_TRIES = 8;

/**
 * Signs `list` dated after the copy stored with it and stores it only while
 * that copy is still the stored one (putSignedStatusList's `datedAfter`). A
 * copy dated from a stale read (a slower signer, another instance) would be
 * served after a later-dated one, and verifiers refuse a copy older than one
 * they accepted (rollback.ts) until the next re-sign. Returns false when
 * another publisher stored a copy first: the caller reads and signs again.
 */
async function signAndStore(store: StatusStore, list: StatusListRecord, issuer: Issuer): Promise<boolean> {
  const jwt = await signStatusList(list, issuer);
  return store.putSignedStatusList(list.id, list.version, jwt, list.signedJwt ?? null);
}

/**
 * The signed list for its current bits: the stored JWT when it encodes the
 * latest version, else re-signed and stored. A crash between a committed bit
 * and re-signing is repaired here, by the next publish or fetch. What it
 * returns is always the stored copy: every copy stored is dated after the
 * ones stored before it, so copies served in turn never go back in time.
 * `maxAgeSeconds` renews a copy issued longer ago than that (a Status List
 * Token dated from it needs a fresh one).
 */
export async function currentStatusListJwt(store: StatusStore, listId: string, issuerFor: IssuerFor, opts: { maxAgeSeconds?: number } = {}): Promise<string> {
  // A bit committed or another copy stored while this one was signed: read again and sign from there.
  for (let i = 0; i < PUBLISH_TRIES; i++) {
    const list = await store.getStatusList(listId);
    if (!list) throw new CharterError('NOT_FOUND', `no status list ${listId}`);
    if (storedCopyIssuedAt(list, opts.maxAgeSeconds) !== undefined) return list.signedJwt!;
    await signAndStore(store, list, await issuerFor(list.issuerDid));
  }
  throw new CharterError('STORE_UNAVAILABLE', `the status list ${listId.slice(0, 40)} kept changing while it was signed: try again`);
}

/**
 * The validFrom (ms) of the list's stored signed copy when it encodes the
 * list's current version and needs no renewing (within `maxAgeSeconds` of
 * its issuance too, when given); else undefined.
 */
export function storedCopyIssuedAt(list: StatusListRecord, maxAgeSeconds?: number): number | undefined {
  if (list.signedJwt === undefined || list.signedVersion !== list.version || renewDue(list.signedJwt, maxAgeSeconds)) return undefined;
  const from = validFromOf(list.signedJwt);
  return Number.isFinite(from) ? from : undefined;
}

/** Re-signed once half its validity is gone (or it has none: signed before lists expired), so a published copy never runs out. */
function renewDue(jwt: string, maxAgeSeconds = Infinity): boolean {
  try {
    const p = decodeJwt(jwt).payload;
    const from = Date.parse(String(p.validFrom));
    const until = Date.parse(String(p.validUntil));
    return !(Number.isFinite(from) && Number.isFinite(until)) || Date.now() >= Math.min(from + (until - from) / 2, from + maxAgeSeconds * 1000);
  } catch {
    return true;
  }
}

/**
 * Sets one bit and re-signs the list, in the one order that cannot leave a
 * change half made by a caller who is refused (security issue §8): the
 * issuer's key is unlocked first (a wrong passphrase changes nothing), then
 * the bit is committed (durable before it is reported), then the list is
 * signed from the committed version. A crash between the last two is
 * repaired by the next publish or fetch (currentStatusListJwt).
 */
export async function setStatus(store: StatusStore, listId: string, index: number, value: boolean, issuerFor: IssuerFor): Promise<StatusListRecord> {
  const before = await store.getStatusList(listId);
  if (!before) throw new CharterError('NOT_FOUND', `no status list ${listId.slice(0, 40)}`);
  const issuer = await issuerFor(before.issuerDid);
  const list = await store.setStatusBit(listId, index, value);
  // Stored dated after the copy stored at write time (signAndStore): when another publisher stored one first,
  // sign again from the latest state unless a copy of this version or a newer one is stored already. Past
  // PUBLISH_TRIES the bit stays committed and the next fetch publishes it (currentStatusListJwt).
  let latest = list;
  for (let i = 0; i < PUBLISH_TRIES && !(await signAndStore(store, latest, issuer)); i++) {
    const now = await store.getStatusList(listId);
    if (!now || (now.signedVersion ?? -1) >= list.version) break;
    latest = now;
  }
  return list;
}

/** Where a credential issued from this store has its `purpose` entry; NOT_FOUND when it has none here. */
export async function statusAllocation(store: StatusStore, credentialId: string, purpose: StatusPurpose): Promise<{ list: StatusListRecord; index: number }> {
  const found: { list: StatusListRecord; index: number }[] = [];
  for (const a of await store.findStatusAllocation(credentialId)) {
    const list = await store.getStatusList(a.listId);
    if (list?.purpose === purpose) found.push({ list, index: a.index });
  }
  if (found.length === 0) throw new CharterError('NOT_FOUND', `no ${purpose} entry for ${credentialId.slice(0, 80)} in this home`);
  // Entries of two issuers under one id (a store written before allocateStatusEntry refused it): which one the
  // credential carries is not this table's to say, and setting the other would report a change that is none.
  if (found.some((f) => f.list.issuerDid !== found[0]!.list.issuerDid))
    throw new CharterError(
      'STORE_ERROR',
      `${credentialId.slice(0, 80)} has ${purpose} entries of two issuers in this home: change it through its issuer (revokeGrant, revokeMandate…)`,
    );
  return found[0]!;
}

/**
 * Sets the `purpose` bit of a credential issued from this store (found by its
 * allocation) as setStatus does: key unlocked, bit committed, list re-signed.
 * Throws NOT_FOUND when the credential has no entry of that purpose here.
 */
export async function setCredentialStatus(store: StatusStore, credentialId: string, purpose: StatusPurpose, value: boolean, issuerFor: IssuerFor): Promise<StatusListRecord> {
  const { list, index } = await statusAllocation(store, credentialId, purpose);
  return setStatus(store, list.id, index, value, issuerFor);
}

/** How soon verifiers see a status change: see statusPropagation. */
export interface StatusPropagation {
  /** The list's `ttl`: `charter serve` sends it as the HTTP max-age, so a cache may serve the old list this long. */
  ttlSeconds: number;
  /** The verifier's cap on any list's cache lifetime (createStatusChecker `maxStalenessSeconds`). */
  maxStalenessSeconds: number;
  /** How long a verifier keeps the copy it fetched: the ttl, capped at maxStalenessSeconds. */
  verifierCacheSeconds: number;
  /** ttlSeconds + verifierCacheSeconds: after this, every verifier with that cap that checks status sees the change. */
  visibleWithinSeconds: number;
}

/**
 * The worst case between a committed status change and the moment a
 * verifier checking status sees it: a copy of the old list may be served by
 * an HTTP cache for the list's ttl (`charter serve` sends max-age = ttl),
 * and a verifier that fetched that copy keeps it for the ttl again, capped at
 * its staleness limit (Charter's checkers: DEFAULT_MAX_STALENESS_SECONDS
 * unless configured). A verifier that never checks status never sees it.
 */
export function statusPropagation(list: Pick<StatusListRecord, 'ttlSeconds'>, maxStalenessSeconds: number = DEFAULT_MAX_STALENESS_SECONDS): StatusPropagation {
  const ttl = Math.max(0, Math.ceil(list.ttlSeconds));
  const verifierCacheSeconds = Math.min(ttl, maxStalenessSeconds);
  // The Status List Token of a revocation list says at least 1 s (token-issuer.ts tokenTtl): the slower of the two.
  const token = Math.max(1, ttl);
  const visibleWithinSeconds = Math.max(ttl + verifierCacheSeconds, token + Math.min(token, maxStalenessSeconds));
  return { ttlSeconds: ttl, maxStalenessSeconds, verifierCacheSeconds, visibleWithinSeconds };
}

/** What a revoke, suspend or resume changed, and how soon verifiers see it. */
export interface StatusChange {
  credentialId: string;
  purpose: StatusPurpose;
  /** The bit as now committed: true = revoked or suspended. */
  value: boolean;
  listId: string;
  listUrl: string;
  index: number;
  propagation: StatusPropagation;
}

export function statusChange(credentialId: string, list: StatusListRecord, index: number, value: boolean): StatusChange {
  return { credentialId, purpose: list.purpose, value, listId: list.id, listUrl: list.url, index, propagation: statusPropagation(list) };
}

/** setCredentialStatus, reported as a StatusChange. */
export async function changeCredentialStatus(store: StatusStore, credentialId: string, purpose: StatusPurpose, value: boolean, issuerFor: IssuerFor): Promise<StatusChange> {
  const { list, index } = await statusAllocation(store, credentialId, purpose);
  return statusChange(credentialId, await setStatus(store, list.id, index, value, issuerFor), index, value);
}
