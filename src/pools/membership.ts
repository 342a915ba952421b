import { randomUUID } from 'node:crypto';
import { CharterError, isCharterError, shown } from '../errors.js';
import { sha256Digest } from '../encoding/json.js';
import { checkJwtSignature, decodeJwt, signJwt } from '../credentials/index.js';
import type { Issuer } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import { allocateStatusEntry, getBit, setCredentialStatus } from '../status/index.js';
import { JOIN_TYP, joinStatusEntry, MAX_POOL_MEMBERS, verifyAcceptance, type PoolEpoch, type PoolMember } from '../grants/index.js';
import { checkedPartyDid, partyKey, pureKeyOf, signingKeysOf } from '../did/parties.js';
import { notingKeys, soleKey } from '../did/noting.js';
import type { Store } from '../store/types.js';
import { EPOCH_TYPE, MEMBERSHIP_TYPE, epochId, list, putSigned, read, taken } from './records.js';

/** The kind of membership change an epoch records. */
export type EpochChange = { kind: 'found'; members: string[] } | { kind: 'admit'; members: [string]; proposal: string } | { kind: 'withdraw'; members: [string] };

/** One epoch of a pool: its membership snapshot, when it began, and what changed. */
export interface PoolEpochRecord extends PoolEpoch {
  /** When this snapshot took effect (the epoch credential's validFrom). */
  since: string;
  change: EpochChange;
  /** Hash of the epoch credential (what the next one names as previous). */
  digest: string;
}

/**
 * What a member signs names a pool DID and its `URL#index` status entry:
 * refused before signing when malformed (INVALID_DID, INVALID_ARGUMENT), as
 * the pool would refuse the signature later.
 */
function checkPoolRef(pool: unknown, status: unknown): void {
  checkedPartyDid(pool, 'the pool');
  if (typeof status !== 'string' || !joinStatusEntry(status)) {
    throw new CharterError('INVALID_ARGUMENT', `the status entry ${shown(status, 80)} is not URL#INDEX (an http(s) status list URL, "#", a whole number)`);
  }
}

/** Signs a member's acceptance of its membership (iss member, sub pool, the status entry that is its withdrawal bit). */
export async function signAcceptance(member: Issuer, pool: string, status: string): Promise<string> {
  checkPoolRef(pool, status);
  return signJwt({ typ: JOIN_TYP }, { iss: member.did, sub: pool, status, iat: Math.floor(Date.now() / 1000) }, member.signer, member.kid);
}

/** Every epoch of a pool, oldest first (empty when the DID is no pool of this home). */
export async function poolEpochs(store: Store, pool: string): Promise<PoolEpochRecord[]> {
  const rows = await list(store, { issuer: pool, type: EPOCH_TYPE });
  return rows
    .map(({ subject, credential, record }) => {
      const e = subject.epoch as PoolEpoch & { change: EpochChange };
      return { number: e.number, threshold: e.threshold, members: e.members, since: credential.validFrom!, change: e.change, digest: sha256Digest(record.jwt) };
    })
    .sort((a, b) => a.number - b.number);
}

/** The pool's current epoch; NOT_FOUND when `pool` is not a pool of this home. */
export async function currentEpoch(store: Store, pool: string): Promise<PoolEpochRecord> {
  const all = await poolEpochs(store, pool);
  const e = all[all.length - 1];
  if (!e) throw new CharterError('NOT_FOUND', `${pool.slice(0, 80)} is not a pool of this home (charter pool create)`);
  return e;
}

/** The status entry (URL#index) a member's acceptance names. */
export function acceptedStatus(accepted: string): string {
  return String(decodeJwt(accepted).payload.status);
}

/** Is this member's withdrawal bit set, as this home (the pool's issuer) knows it? */
export async function withdrawnHere(store: Store, member: PoolMember): Promise<boolean> {
  const [url, index] = acceptedStatus(member.accepted).split('#') as [string, string];
  const lists = await store.listStatusLists({ purpose: 'revocation' });
  const l = lists.find((x) => x.url === url);
  return l !== undefined && getBit(l.bits, Number(index));
}

/**
 * Writes epoch `number` (the next after `previous`). The epoch's derived id
 * makes a racing transition fail with ALREADY_EXISTS instead of forking.
 */
async function writeEpoch(
  store: Store,
  pool: Issuer,
  previous: PoolEpochRecord | undefined,
  members: PoolMember[],
  threshold: number,
  change: EpochChange,
): Promise<PoolEpochRecord> {
  const number = previous ? previous.number + 1 : 0;
  const epoch = { number, threshold, members, ...(previous ? { previous: previous.digest } : {}), change };
  const { jwt, credential } = await putSigned(store, { issuer: pool, id: epochId(pool.did, number), subject: pool.did, type: EPOCH_TYPE, claims: { epoch } });
  return { number, threshold, members, since: credential.validFrom!, change, digest: sha256Digest(jwt) };
}

/** A member-to-be: its DID and how it signs its acceptance once its status entry is known. */
export interface Joiner {
  did: string;
  accept: (pool: string, status: string) => Promise<string>;
}

/** A local identity as a joiner (its key signs the acceptance). */
export const joinerOf = (member: Issuer): Joiner => ({ did: member.did, accept: (pool, status) => signAcceptance(member, pool, status) });

/**
 * Issues one membership: allocates the member's status entry in the pool's
 * revocation list (its withdrawal bit), has the member accept it (a
 * signature binding the pool and that entry), checks the acceptance, and
 * stores the PoolMembershipCredential the member holds.
 */
export async function issueMembership(
  store: Store,
  pool: Issuer,
  input: {
    id: string;
    member: string;
    acceptance: string | ((status: string) => Promise<string>);
    since: number;
    baseUrl: string;
    resolver: CharterResolver;
    admission?: { proposal: string; approvals: string[] };
  },
): Promise<{ member: PoolMember; jwt: string }> {
  const found = await store.findStatusAllocation(input.id);
  let status: string;
  if (found.length > 0) {
    const l = (await store.getStatusList(found[0]!.listId))!;
    status = `${l.url}#${found[0]!.index}`;
  } else {
    const entry = await allocateStatusEntry(store, { issuerDid: pool.did, purpose: 'revocation', baseUrl: input.baseUrl, credentialId: input.id });
    status = `${entry.statusListCredential}#${entry.statusListIndex}`;
  }
  const accepted = typeof input.acceptance === 'string' ? input.acceptance : await input.acceptance(status);
  const check = await verifyAcceptance(accepted, input.member, pool.did, input.resolver);
  if (!check.entry || `${check.entry.statusListCredential}#${check.entry.statusListIndex}` !== status) {
    throw new CharterError('INVALID_ARGUMENT', `the acceptance of ${input.member.slice(0, 80)} is not its signature on membership ${status.slice(0, 200)} of this pool`);
  }
  const { jwt } = await putSigned(store, {
    issuer: pool,
    id: input.id,
    subject: input.member,
    type: MEMBERSHIP_TYPE,
    claims: { membership: { pool: pool.did, accepted, since: input.since, ...(input.admission ? { admission: input.admission } : {}) } },
    status: check.entry,
  });
  return { member: { id: input.member, accepted }, jwt };
}

export interface CreatePoolInput {
  threshold: number;
  /** The founders, each accepting its membership with its own key. */
  founders: Joiner[];
  /** Where the pool's status lists are published (membership withdrawal bits, grant revocation). */
  baseUrl: string;
  resolver: CharterResolver;
}

export interface PoolSummary {
  pool: string;
  epoch: number;
  threshold: number;
  members: string[];
  since: string;
}

/**
 * What founding a pool needs, checked without a store or a key: 1 to
 * MAX_POOL_MEMBERS founders, none named twice, the pool (when its DID is
 * known) not among them, and 1 ≤ threshold ≤ founders. INVALID_ARGUMENT
 * otherwise. Run it before creating the pool's identity, so a refused
 * founding leaves nothing behind.
 */
export function checkFounding(input: { threshold: number; founders: readonly string[]; pool?: string }): void {
  const dids = input.founders;
  if (dids.length === 0 || dids.length > MAX_POOL_MEMBERS) throw new CharterError('INVALID_ARGUMENT', `a pool has 1 to ${MAX_POOL_MEMBERS} members`);
  if (new Set(dids.map(partyKey)).size !== dids.length) throw new CharterError('INVALID_ARGUMENT', 'a founder is named twice (under this or another DID of its key)');
  if (input.pool !== undefined && dids.includes(input.pool)) throw new CharterError('INVALID_ARGUMENT', 'the pool cannot be its own member');
  if (!Number.isSafeInteger(input.threshold) || input.threshold < 1 || input.threshold > dids.length) {
    throw new CharterError('INVALID_ARGUMENT', `the threshold must be between 1 and the number of founders (${dids.length})`);
  }
}

/**
 * The key a member has shown it holds: the key of a did:key or did:jwk, or
 * for any other DID the key its signed acceptance verifies with now (its
 * document resolved through `resolver`). A document may list anyone's public
 * key (a did:key is its key), so a listing alone proves nothing about who
 * holds it. A DID that cannot be resolved throws: "not the same party" is
 * never said for "could not look". None when the acceptance no longer verifies.
 */
async function heldKey(resolver: CharterResolver, member: PoolMember): Promise<string | undefined> {
  const own = pureKeyOf(member.id);
  if (own !== undefined) return own;
  await resolver.resolve(member.id);
  let d;
  try {
    d = decodeJwt(member.accepted, { maxBytes: 4096 });
  } catch {
    return undefined;
  }
  // The key the acceptance verifies with, as its signature check resolved it (did/noting.ts).
  const noted = notingKeys(resolver, 'assertionMethod');
  if ((await checkJwtSignature(d, member.id, noted.resolver, 'assertionMethod')).length > 0) return undefined;
  return soleKey(noted.keys, member.id);
}

/**
 * Refuses (ALREADY_EXISTS) a newcomer that is one party with a member or
 * another newcomer: one signing key, under any DIDs. A member is the key it
 * signed its membership with (heldKey); a newcomer is every signing key its
 * own DID lists (src/did/parties.ts: a did:web listing a member's key is that
 * member's voice). One key is one vote; countVotes holds to that whatever a
 * document says later, and this keeps such a newcomer out in the first
 * place. A member's document listing a newcomer's key does not: that is the
 * member's word about someone else's key, and would let one member keep out
 * anyone whose public key it knows. Resolved through `resolver`: a DID that
 * cannot be resolved throws, "not the same party" is never said for "could
 * not look".
 */
export async function checkDistinctKeys(resolver: CharterResolver, members: readonly PoolMember[], newcomers: readonly string[]): Promise<void> {
  const owner = new Map<string, string>();
  const held = await Promise.all(members.map((m) => heldKey(resolver, m)));
  for (const [i, m] of members.entries()) if (held[i] !== undefined && !owner.has(held[i])) owner.set(held[i], m.id);
  const keys = await Promise.all(newcomers.map((d) => signingKeysOf(resolver, d)));
  for (const [i, did] of newcomers.entries()) {
    for (const k of keys[i]!) {
      const other = owner.get(k);
      if (other !== undefined && other !== did) {
        throw new CharterError(
          'ALREADY_EXISTS',
          `${did.slice(0, 80)} signs with the key of ${other.slice(0, 80)}: one key is one member (it already is one, under another DID of its key)`,
        );
      }
      if (other === undefined) owner.set(k, did);
    }
  }
}

/**
 * The membership a founding interrupted before its epoch (a crash between
 * the two) issued to `member`: reused, so a retry adds no second one. Only
 * called while the pool has no epoch, when every membership is a founder's.
 */
async function unfinishedMembership(store: Store, pool: string, member: string): Promise<PoolMember | undefined> {
  const held = await membershipOf(store, pool, member);
  if (held?.record.direction !== 'issued') return undefined;
  const m = held.subject.membership as { accepted?: unknown; since?: unknown; admission?: unknown } | undefined;
  if (!m || typeof m.accepted !== 'string' || m.since !== 0 || m.admission !== undefined) return undefined;
  const founder = { id: member, accepted: m.accepted };
  // One its member already withdrew (a leave request in between) is not reused: a new one is issued.
  return (await withdrawnHere(store, founder)) ? undefined : founder;
}

/**
 * Founds a pool on an identity: one membership per founder (each accepted by
 * the founder's signature), then epoch 0 listing them with the threshold k.
 * A founding a crash interrupted (memberships written, no epoch yet) is
 * finished by calling this again: a founder's membership already issued is
 * reused.
 */
export async function createPool(store: Store, pool: Issuer, input: CreatePoolInput): Promise<PoolSummary> {
  const dids = input.founders.map((f) => f.did);
  checkFounding({ threshold: input.threshold, founders: dids, pool: pool.did });
  if ((await poolEpochs(store, pool.did)).length > 0) throw new CharterError('ALREADY_EXISTS', 'that identity already is a pool');
  await checkDistinctKeys(input.resolver, [], dids).catch((e: unknown) => {
    throw isCharterError(e, 'ALREADY_EXISTS') ? new CharterError('INVALID_ARGUMENT', `a founder is named twice: ${e.message}`) : e;
  });
  const members: PoolMember[] = [];
  for (const f of input.founders) {
    const earlier = await unfinishedMembership(store, pool.did, f.did);
    if (earlier) {
      members.push(earlier);
      continue;
    }
    const { member } = await issueMembership(store, pool, {
      id: `urn:uuid:${randomUUID()}`,
      member: f.did,
      acceptance: (s) => f.accept(pool.did, s),
      since: 0,
      baseUrl: input.baseUrl,
      resolver: input.resolver,
    });
    members.push(member);
  }
  const e = await writeEpoch(store, pool, undefined, members, input.threshold, { kind: 'found', members: dids });
  return summary(pool.did, e);
}

export const summary = (pool: string, e: PoolEpochRecord): PoolSummary => ({ pool, epoch: e.number, threshold: e.threshold, members: e.members.map((m) => m.id), since: e.since });

/** Appends the epoch after `from` with `members` (PROPOSAL_STALE when another change won the race). */
export async function advanceEpoch(store: Store, pool: Issuer, from: PoolEpochRecord, members: PoolMember[], change: EpochChange): Promise<PoolEpochRecord> {
  try {
    return await writeEpoch(store, pool, from, members, from.threshold, change);
  } catch (e) {
    if (taken(e)) throw new CharterError('PROPOSAL_STALE', "the pool's membership changed meanwhile: try again");
    throw e;
  }
}

/**
 * A signed request to leave (iss member, sub pool, `status` the membership's
 * entry): what a member sends to be withdrawn. Naming the entry keeps an old
 * request from withdrawing a later membership of the same member.
 */
export const LEAVE_TYP = 'charter-pool-leave+jwt';
export async function signLeave(member: Issuer, pool: string, status: string): Promise<string> {
  checkedPartyDid(pool, 'the pool');
  // What verifyLeave and leavePool read: a request naming anything else could never withdraw a membership.
  if (typeof status !== 'string' || !joinStatusEntry(status))
    throw new CharterError('INVALID_ARGUMENT', 'status is the membership entry: an http(s) status list URL, "#", and its index (acceptedStatus of the membership)');
  return signJwt({ typ: LEAVE_TYP }, { iss: member.did, sub: pool, status, iat: Math.floor(Date.now() / 1000) }, member.signer, member.kid);
}

/** Checks a leave request: typ, addressed to this pool, signed by the member it names. Returns the member. */
export async function verifyLeave(notice: string, pool: string, resolver: CharterResolver): Promise<{ member: string; status: string }> {
  let d;
  try {
    d = decodeJwt(notice, { maxBytes: 4096 });
  } catch {
    throw new CharterError('INVALID_ARGUMENT', 'a leave request is a compact JWS (charter pool leave --as MEMBER)');
  }
  const { iss, sub, status } = d.payload;
  if (d.header.typ !== LEAVE_TYP || typeof iss !== 'string' || sub !== pool || typeof status !== 'string' || !joinStatusEntry(status))
    throw new CharterError('INVALID_ARGUMENT', `not a request to leave this pool (typ ${LEAVE_TYP}, sub = the pool)`);
  const bad = await checkJwtSignature(d, iss, resolver, 'assertionMethod');
  if (bad.length > 0) throw new CharterError(bad[0]!.code, `the leave request is not signed by ${iss.slice(0, 80)}: ${bad[0]!.message}`);
  return { member: iss, status };
}

/** The membership credential a member holds in this pool (the newest). */
export async function membershipOf(store: Store, pool: string, member: string) {
  const all = await list(store, { issuer: pool, subject: member, type: MEMBERSHIP_TYPE });
  return all[all.length - 1];
}

/**
 * A member withdraws, at any time and without anyone's approval: its
 * withdrawal bit is set (committed, then the pool's list re-signed), so from
 * the next status fetch no grant of the pool covers its data; then the pool
 * moves to an epoch without it (pending proposals become stale). The bit
 * comes first: a crash before the new epoch leaves the member refused
 * everywhere, and `leavePool` again finishes the epoch.
 */
export async function leavePool(store: Store, pool: Issuer, request: { notice: string; resolver: CharterResolver }): Promise<PoolSummary & { withdrawn: string }> {
  const { member, status } = await verifyLeave(request.notice, pool.did, request.resolver);
  const issuerFor = async (did: string) => {
    if (did !== pool.did) throw new CharterError('NOT_FOUND', "a membership is in its pool's own status list");
    return pool;
  };
  // Every membership the pool holds for this member, with whether it is withdrawn already. Normally one
  // live at most; two admissions of one newcomer racing (two proposals) can leave two, the epoch naming
  // one and the newest record the other: a leave naming either withdraws both, so no grant carrying
  // either acceptance outlives it.
  const all = await list(store, { issuer: pool.did, subject: member, type: MEMBERSHIP_TYPE });
  if (all.length === 0) throw new CharterError('NOT_A_MEMBER', `${member.slice(0, 80)} is not a member of this pool`);
  const states = await Promise.all(
    all.map(async (m) => {
      const accepted = (m.subject.membership as { accepted: string }).accepted;
      return { m, status: acceptedStatus(accepted), withdrawn: await withdrawnHere(store, { id: member, accepted }) };
    }),
  );
  const named = states.find((x) => x.status === status);
  const live = states.filter((x) => !x.withdrawn);
  // A leave for a membership withdrawn before, while another is live (the member joined again): an old
  // request replayed, not this membership's end. Once every one is withdrawn, leaving again only
  // finishes the epoch (a crash between the bit and the epoch).
  if (!named || (named.withdrawn && live.length > 0)) {
    throw new CharterError('INVALID_ARGUMENT', 'that leave request is for an earlier membership of this member');
  }
  for (const x of live) await setCredentialStatus(store, x.m.record.id, 'revocation', true, issuerFor);
  for (let attempt = 0; ; attempt++) {
    const e = await currentEpoch(store, pool.did);
    if (!e.members.some((m) => m.id === member)) return { ...summary(pool.did, e), withdrawn: member };
    try {
      const next = await advanceEpoch(
        store,
        pool,
        e,
        e.members.filter((m) => m.id !== member),
        { kind: 'withdraw', members: [member] },
      );
      return { ...summary(pool.did, next), withdrawn: member };
    } catch (err) {
      if (attempt >= 4 || !(err instanceof CharterError && err.code === 'PROPOSAL_STALE')) throw err;
    }
  }
}

export { read };

/** The pools this home runs (identities that founded one), each at its current epoch. */
export async function listPools(store: Store): Promise<PoolSummary[]> {
  const dids = [...new Set((await store.listCredentials({ type: EPOCH_TYPE, direction: 'issued' })).map((r) => r.issuer))];
  return Promise.all(dids.map(async (d) => summary(d, await currentEpoch(store, d))));
}
