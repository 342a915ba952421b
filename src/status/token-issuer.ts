import { randomInt } from 'node:crypto';
import { CharterError } from '../errors.js';
import { signJwt } from '../credentials/index.js';
import type { Issuer } from '../credentials/types.js';
import type { StatusListRecord, Store } from '../store/types.js';
import { currentStatusListJwt, ensureStatusList, setCredentialStatus, storedCopyIssuedAt, type IssuerFor } from './issuer.js';
import { encodeTokenStatusList, tokenListFromBitstring } from './token-codec.js';

/** Token Status List §5.1: the JOSE `typ` and media type of a Status List Token. */
export const STATUS_LIST_JWT_TYP = 'statuslist+jwt';
export const STATUS_LIST_MEDIA_TYPE = 'application/statuslist+jwt';
/** Where a list is published as a Status List Token, next to `/status/<id>` (its Bitstring credential). */
export const TOKEN_STATUS_PATH = '/statuslists/';

/** Token Status List §6.2: what a Referenced Token carries in `status.status_list`. */
export interface TokenStatusReference {
  idx: number;
  uri: string;
}

/**
 * The Status List Token URL of a store list. A list record is one set of bits
 * with two publications: the BitstringStatusListCredential at `<base>/status/<id>`
 * (its `url`) and the Status List Token at `<base>/statuslists/<id>`, so
 * allocation, revocation and the store schema are shared.
 */
export function tokenStatusListUrl(list: Pick<StatusListRecord, 'id' | 'url'>): string {
  const suffix = `/status/${list.id}`;
  if (!list.url.endsWith(suffix)) throw new CharterError('INVALID_ARGUMENT', `status list ${list.id.slice(0, 40)} is not published under <base>/status/<id>`);
  return list.url.slice(0, -suffix.length) + TOKEN_STATUS_PATH + list.id;
}

/**
 * Allocates a revocation index for a credential (random, never reused: the
 * store's allocateStatusIndex, recorded under `credentialId`) in the issuer's
 * shared lists and returns the Referenced Token's `status` claim (§6.2).
 */
export async function allocateTokenStatus(store: Store, input: { issuerDid: string; baseUrl: string; credentialId: string }): Promise<{ status_list: TokenStatusReference }> {
  const list = await ensureStatusList(store, { issuerDid: input.issuerDid, purpose: 'revocation', baseUrl: input.baseUrl });
  const got = await store.allocateStatusIndex(list.id, input.credentialId, (size) => randomInt(size));
  const held = got.listId === list.id ? list : await store.getStatusList(got.listId);
  if (!held) throw new CharterError('STORE_ERROR', `status list ${got.listId.slice(0, 40)} vanished`);
  return { status_list: { idx: got.index, uri: tokenStatusListUrl(held) } };
}

export interface SignTokenStatusListOptions {
  now?: Date;
  /** Seconds until `exp`. Default 86,400: a copy replayed after that is refused. */
  validitySeconds?: number;
}

const DEFAULT_VALIDITY = 86_400;

/** The `ttl` a list's Status List Token carries: its own, at least 1 s (§5.1 wants a positive number). */
export const tokenTtl = (ttlSeconds: number): number => Math.max(1, Math.ceil(ttlSeconds));

/**
 * Signs a store list as a Status List Token (§5.1): `typ: statuslist+jwt`,
 * `sub` its URL, `iat`, `exp`, `ttl` (seconds), `status_list: { bits: 1, lst }`.
 * Only revocation lists: one bit says VALID (0) or INVALID (1) in §7.1, while
 * SUSPENDED is the value 2 and needs two bits.
 */
export async function signTokenStatusList(list: StatusListRecord, issuer: Issuer, opts: SignTokenStatusListOptions = {}): Promise<string> {
  if (issuer.did !== list.issuerDid) throw new CharterError('INVALID_ARGUMENT', 'a status list is signed by its own issuer');
  if (list.purpose !== 'revocation') throw new CharterError('INVALID_ARGUMENT', 'only revocation lists are published as Status List Tokens (a one-bit list cannot say SUSPENDED)');
  const validity = opts.validitySeconds ?? DEFAULT_VALIDITY;
  if (!Number.isSafeInteger(validity) || validity <= 0) throw new CharterError('INVALID_ARGUMENT', 'validitySeconds must be a positive whole number');
  // Whole seconds: peers (@sd-jwt/jwt-status-list) read a fractional iat as "not yet valid" within its second.
  const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const payload = {
    iss: issuer.did,
    sub: tokenStatusListUrl(list),
    iat,
    exp: iat + validity,
    // §5.1: ttl is a positive number of seconds. A list published with ttl 0 ("fetch it every time") says
    // 1: left out, a verifier would keep the token for its own default (Charter's: 300 s).
    ttl: tokenTtl(list.ttlSeconds),
    status_list: { bits: 1, lst: encodeTokenStatusList(tokenListFromBitstring(list.bits)) },
  };
  return signJwt({ typ: STATUS_LIST_JWT_TYP }, payload, issuer.signer, issuer.kid);
}

interface Signed {
  version: number;
  /** The validFrom (ms) of the stored Bitstring copy the token was dated from. */
  from: number;
  validity: number;
  jwt: string;
}
/** Tokens already signed, per store and list: re-signed when the stored copy they are dated from changes. */
const signed = new WeakMap<Store, Map<string, Signed>>();

/**
 * The Status List Token for a list's current bits, kept in memory per list
 * version to spare the signer on every fetch. Its `iat` is the issuance time
 * of the stored signed Bitstring copy of the same version (renewed here
 * once half this token's validity is gone), not this process's clock: every
 * instance sharing the store then dates a version alike, and versions in
 * the order they were stored (currentStatusListJwt). Dated by each
 * instance's own clock and memo, a token signed earlier by one instance
 * would be served after a later one by another, and verifiers refuse a
 * token older than one they accepted (rollback.ts). With `opts.now`, signed
 * at that time and not kept.
 */
export async function currentTokenStatusListJwt(store: Store, listId: string, issuerFor: IssuerFor, opts: SignTokenStatusListOptions = {}): Promise<string> {
  const validity = opts.validitySeconds ?? DEFAULT_VALIDITY;
  if (!Number.isSafeInteger(validity) || validity <= 0) throw new CharterError('INVALID_ARGUMENT', 'validitySeconds must be a positive whole number');
  for (let i = 0; i < 3; i++) {
    const list = await store.getStatusList(listId);
    if (!list) throw new CharterError('NOT_FOUND', `no status list ${listId.slice(0, 40)}`);
    if (opts.now !== undefined) {
      // A bit committed while the token was being signed makes it stale: signed again from the committed bits.
      const jwt = await signTokenStatusList(list, await issuerFor(list.issuerDid), opts);
      if ((await store.getStatusList(listId))?.version === list.version) return jwt;
      continue;
    }
    const from = storedCopyIssuedAt(list, validity / 2);
    if (from === undefined) {
      // No current stored copy, or too old to date a token from: published (or renewed) first, then read again.
      await currentStatusListJwt(store, listId, issuerFor, { maxAgeSeconds: validity / 2 });
      continue;
    }
    let memo = signed.get(store);
    const hit = memo?.get(listId);
    if (hit && hit.version === list.version && hit.from === from && hit.validity === validity) return hit.jwt;
    const jwt = await signTokenStatusList(list, await issuerFor(list.issuerDid), { now: new Date(from), validitySeconds: validity });
    if (!memo) signed.set(store, (memo = new Map()));
    memo.set(listId, { version: list.version, from, validity, jwt });
    return jwt;
  }
  throw new CharterError('STORE_UNAVAILABLE', `the status list ${listId.slice(0, 40)} kept changing while it was signed: try again`);
}

/**
 * Sets the revocation bit of a credential issued from this store, found by
 * its allocation: the same bit for both publications. The bit is committed
 * first; the Bitstring credential is re-signed at once and the Status List
 * Token on its next fetch. `revoked: false` never undoes a revocation
 * (INVALID_ARGUMENT, "revoked for good"); on a credential not revoked it
 * changes nothing but the lists' version.
 */
export async function setTokenStatus(store: Store, credentialId: string, revoked: boolean, issuerFor: IssuerFor): Promise<StatusListRecord> {
  return setCredentialStatus(store, credentialId, 'revocation', revoked, issuerFor);
}
