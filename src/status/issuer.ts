import { randomInt, randomUUID } from 'node:crypto';
import { CharterError } from '../errors.js';
import { issueCredential } from '../credentials/index.js';
import type { CredentialStatusEntry, Issuer } from '../credentials/types.js';
import type { StatusListRecord, Store } from '../store/types.js';
import { encodeBitstring, MIN_LIST_SIZE } from './codec.js';

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

export async function createStatusList(store: Store, input: CreateListInput): Promise<StatusListRecord> {
  const size = input.size ?? MIN_LIST_SIZE;
  if (size < MIN_LIST_SIZE || size % 8 !== 0) throw new CharterError('INVALID_ARGUMENT', `a status list needs at least ${MIN_LIST_SIZE} entries, a multiple of 8`);
  const ttlSeconds = input.ttlSeconds ?? DEFAULT_LIST_TTL_SECONDS;
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds < 0) throw new CharterError('INVALID_ARGUMENT', 'ttlSeconds must be a non-negative number');
  const id = randomUUID().replace(/-/g, '').slice(0, 22);
  return store.createStatusList({
    id,
    issuerDid: input.issuerDid,
    purpose: input.purpose,
    size,
    ttlSeconds,
    url: `${input.baseUrl.replace(/\/+$/, '')}/status/${id}`,
  });
}

/** A list of this issuer and purpose with room left (under 90% full, keeping random picks cheap), or a new one. */
export async function ensureStatusList(store: Store, input: CreateListInput): Promise<StatusListRecord> {
  const prefix = `${input.baseUrl.replace(/\/+$/, '')}/status/`;
  const lists = await store.listStatusLists({ issuerDid: input.issuerDid, purpose: input.purpose });
  return lists.find((l) => l.url.startsWith(prefix) && l.allocated < l.size * 0.9) ?? createStatusList(store, input);
}

/**
 * Allocates a random unused index (the spec's privacy advice, §6.1: random
 * assignment hides issuance order) and returns the credential's status entry.
 */
export async function allocateStatusEntry(store: Store, input: CreateListInput & { credentialId: string }): Promise<CredentialStatusEntry> {
  const list = await ensureStatusList(store, input);
  const index = await store.allocateStatusIndex(list.id, input.credentialId, (size) => randomInt(size));
  return {
    id: `${list.url}#${index}`,
    type: 'BitstringStatusListEntry',
    statusPurpose: input.purpose,
    statusListIndex: String(index),
    statusListCredential: list.url,
  };
}

/** Signs the list as a BitstringStatusListCredential (vc+jwt), §2.2. */
export async function signStatusList(list: StatusListRecord, issuer: Issuer): Promise<string> {
  if (issuer.did !== list.issuerDid) throw new CharterError('INVALID_ARGUMENT', 'a status list is signed by its own issuer');
  const issued = await issueCredential({
    issuer,
    id: list.url,
    subject: issuer.did,
    type: 'BitstringStatusListCredential',
    claims: {},
    extra: {
      credentialSubject: { id: `${list.url}#list`, type: 'BitstringStatusList', statusPurpose: list.purpose, encodedList: encodeBitstring(list.bits), ttl: list.ttlSeconds * 1000 },
    },
  });
  return issued.jwt;
}

/**
 * The signed list for its current bits: the stored JWT when it encodes the
 * latest version, else re-signed and stored. A crash between a committed bit
 * and re-signing is repaired here, by the next publish or fetch.
 */
export async function currentStatusListJwt(store: Store, listId: string, issuerFor: IssuerFor): Promise<string> {
  const list = await store.getStatusList(listId);
  if (!list) throw new CharterError('NOT_FOUND', `no status list ${listId}`);
  if (list.signedJwt !== undefined && list.signedVersion === list.version) return list.signedJwt;
  const jwt = await signStatusList(list, await issuerFor(list.issuerDid));
  await store.putSignedStatusList(list.id, list.version, jwt);
  return jwt;
}

/** Sets one bit (committed first), then re-signs the list. */
export async function setStatus(store: Store, listId: string, index: number, value: boolean, issuerFor: IssuerFor): Promise<StatusListRecord> {
  const list = await store.setStatusBit(listId, index, value);
  await currentStatusListJwt(store, listId, issuerFor);
  return list;
}

/**
 * Sets the `purpose` bit of a credential issued from this store (found by its
 * allocation), commits it, then re-signs the list. Throws NOT_FOUND when the
 * credential has no entry of that purpose here.
 */
export async function setCredentialStatus(store: Store, credentialId: string, purpose: StatusPurpose, value: boolean, issuerFor: IssuerFor): Promise<StatusListRecord> {
  for (const a of await store.findStatusAllocation(credentialId)) {
    const list = await store.getStatusList(a.listId);
    if (list?.purpose === purpose) return setStatus(store, a.listId, a.index, value, issuerFor);
  }
  throw new CharterError('NOT_FOUND', `no ${purpose} entry for ${credentialId.slice(0, 80)} in this home`);
}
