import type { Reason } from '../errors.js';
import { partyKey } from '../did/parties.js';
import { notingKeys, soleKey } from '../did/noting.js';
import { canonicalJson, isObj, sha256Digest } from '../encoding/json.js';
import { parseDuration } from '../encoding/duration.js';
import { parseDateTime } from '../encoding/time.js';
import { checkJwtSignature, decodeJwt, soleSubject, verifyCredential, type DecodedJwt } from '../credentials/index.js';
import { normalizeCredential } from '../credentials/normalize.js';
import { latest, skewOf } from '../credentials/time.js';
import type { Credential, CredentialStatusEntry, StatusChecker } from '../credentials/types.js';
import type { CharterResolver, ResolvedKey } from '../did/types.js';
import { readGrantClaims, type GrantClaims } from './claims.js';

/**
 * Collective grants: a DataAccessGrant issued by a data pool (DESIGN.md "Pools
 * and terms"). The grant carries the proposal its members voted on and their
 * signed votes (`credentialSubject.pool`), so any verifier checks the quorum
 * itself: the proposal hashes to what each vote signs, names the membership
 * snapshot (epoch) the votes were cast in, and describes exactly this grant;
 * at least `threshold` distinct members of that snapshot approved it, no two
 * of them with one key (countVotes). The
 * owner rule becomes "a current member of the pool": the owner is in the
 * snapshot and its membership status bit (withdrawal) is not set now.
 *
 * This is the verifier side, under verifyGrant; creating pools, proposals,
 * votes and grants is src/pools.
 */

export const VOTE_TYPE = 'PoolVoteCredential';
/** The `typ` of a member's acceptance of its membership (a compact JWS, not a credential: it travels n times in every grant). */
export const JOIN_TYP = 'charter-pool-join+jwt';
/**
 * Most members a pool snapshot may list: the snapshot (with each member's
 * acceptance) and the approving votes travel inside every collective grant,
 * under the 64 KiB credential cap.
 */
export const MAX_POOL_MEMBERS = 32;

const DID = /^did:[a-z0-9]+:[A-Za-z0-9._%:-]+$/;
const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * A member as a snapshot lists it: its DID and its own signed acceptance of
 * membership (`charter-pool-join+jwt`: iss = member, sub = pool, `status` =
 * the URL#index of its membership status entry in the pool's revocation
 * list). The acceptance is what stops a "pool" from claiming someone who
 * never joined it; binding the status entry makes a withdrawal final (the
 * bit is never cleared, and a new membership needs a new acceptance).
 */
export interface PoolMember {
  id: string;
  accepted: string;
}

/** The claims of a member's acceptance. */
export interface JoinClaims {
  iss: string;
  sub: string;
  /** `<status list URL>#<index>`: the member's withdrawal bit. */
  status: string;
  iat: number;
}

/** A membership snapshot: who the members were when a proposal was made, and the pool's threshold. */
export interface PoolEpoch {
  number: number;
  threshold: number;
  members: PoolMember[];
}

export type ProposalAction = 'grant' | 'admit' | 'revoke';

export interface GrantProposalBody {
  grantee: string;
  resources: string[];
  actions: string[];
  purpose: string;
  terms?: GrantClaims['terms'];
  /** ISO 8601 duration: the grant's validity, from when it is issued. */
  duration: string;
}

/** What members vote on; its hash (sha256 of its RFC 8785 form) is what each vote signs. */
export interface Proposal {
  pool: string;
  epoch: PoolEpoch;
  action: ProposalAction;
  grant?: GrantProposalBody;
  /** admit: the DID to admit. */
  member?: string;
  /** revoke: the id of the pool's grant to revoke. */
  target?: string;
  created: string;
  nonce: string;
}

/** The proposal's hash: `sha256-<base64url>` of its canonical JSON. */
export function proposalHash(p: Proposal): string {
  return sha256Digest(p);
}

class Bad extends Error {}

function readEpoch(v: unknown): PoolEpoch {
  if (!isObj(v) || !Number.isSafeInteger(v.number) || (v.number as number) < 0) throw new Bad('proposal.epoch.number must be a non-negative integer');
  if (!Array.isArray(v.members) || v.members.length === 0 || v.members.length > MAX_POOL_MEMBERS)
    throw new Bad(`proposal.epoch.members must list 1 to ${MAX_POOL_MEMBERS} members`);
  const members: PoolMember[] = v.members.map((m: unknown) => {
    if (!isObj(m) || typeof m.id !== 'string' || !DID.test(m.id) || typeof m.accepted !== 'string' || m.accepted.length > 4096 || !JWS.test(m.accepted)) {
      throw new Bad("each member is { id: DID, accepted: the member's signed acceptance }");
    }
    return { id: m.id, accepted: m.accepted };
  });
  if (new Set(members.map((m) => partyKey(m.id))).size !== members.length) throw new Bad('a member is listed twice in the snapshot (under this or another DID of its key)');
  const k = v.threshold;
  if (!Number.isSafeInteger(k) || (k as number) < 1 || (k as number) > members.length) throw new Bad('proposal.epoch.threshold must be between 1 and the number of members');
  return { number: v.number as number, threshold: k as number, members };
}

/**
 * How long after a proposal is made its grant may be issued: the votes
 * approve a grant then, not one the pool's key reissues years later (or after
 * the members who approved it left). A later execution proposes again.
 */
export const EXECUTION_WINDOW_MS = 30 * 86_400_000;
const MAX_SKEW_MS = 300_000;

/** Shape-checks a proposal (what travels in a collective grant and a PoolProposal). */
export function readProposal(v: unknown): { proposal?: Proposal; reasons: Reason[] } {
  try {
    if (!isObj(v)) throw new Bad('a pool proposal must be an object');
    if (typeof v.pool !== 'string' || !DID.test(v.pool)) throw new Bad('proposal.pool must be the pool DID');
    if (v.action !== 'grant' && v.action !== 'admit' && v.action !== 'revoke') throw new Bad('proposal.action must be grant, admit or revoke');
    if (typeof v.created !== 'string' || typeof v.nonce !== 'string' || v.nonce.length < 8 || v.nonce.length > 64) throw new Bad('proposal needs created and a nonce');
    // The time the votes approve a grant from (EXECUTION_WINDOW_MS): a strict RFC 3339 date-time, or no anchor at all.
    if (parseDateTime(v.created) === undefined) throw new Bad('proposal.created must be an RFC 3339 date-time with a time zone');
    const epoch = readEpoch(v.epoch);
    const proposal: Proposal = { pool: v.pool, epoch, action: v.action, created: v.created, nonce: v.nonce };
    if (v.action === 'grant') {
      const g = v.grant;
      if (!isObj(g) || typeof g.grantee !== 'string' || !DID.test(g.grantee) || typeof g.duration !== 'string') throw new Bad('a grant proposal names the grantee and a duration');
      parseDuration(g.duration);
      const claims = readGrantClaims({ resources: g.resources, actions: g.actions, purpose: g.purpose, ...(g.terms !== undefined ? { terms: g.terms } : {}) });
      if (!claims.grant) return { reasons: claims.reasons };
      // As voted: the resources exactly as written (the verifier compares them normalised to the grant's).
      proposal.grant = {
        grantee: g.grantee,
        resources: g.resources as string[],
        actions: g.actions as string[],
        purpose: g.purpose as string,
        ...(g.terms !== undefined ? { terms: g.terms as GrantClaims['terms'] } : {}),
        duration: g.duration,
      };
    } else if (v.action === 'admit') {
      if (typeof v.member !== 'string' || !DID.test(v.member)) throw new Bad('an admission proposal names the member DID');
      proposal.member = v.member;
    } else {
      if (typeof v.target !== 'string' || v.target.length === 0 || v.target.length > 256) throw new Bad('a revocation proposal names the grant id');
      proposal.target = v.target;
    }
    const extra = Object.keys(v).filter((k) => !['pool', 'epoch', 'action', 'grant', 'member', 'target', 'created', 'nonce'].includes(k));
    if (extra.length > 0) throw new Bad(`the proposal sets ${extra.slice(0, 3).join(', ')}, which this verifier does not understand`);
    return { proposal, reasons: [] };
  } catch (e) {
    if (e instanceof Bad || (e instanceof Error && 'code' in e)) return { reasons: [{ code: 'INVALID_CREDENTIAL', message: e.message }] };
    throw e;
  }
}

export interface VoteClaims {
  proposal: string;
  epoch: number;
  decision: 'approve' | 'reject';
}

/** `credentialSubject.vote` of a PoolVoteCredential, shape-checked. */
export function readVote(c: Credential): VoteClaims | undefined {
  const v = soleSubject(c)?.vote;
  if (!isObj(v) || typeof v.proposal !== 'string' || !Number.isSafeInteger(v.epoch) || (v.decision !== 'approve' && v.decision !== 'reject')) return undefined;
  return { proposal: v.proposal, epoch: v.epoch as number, decision: v.decision };
}

/** What verifying a vote tells countVotes. */
interface VoteCheck {
  ok: boolean;
  reasons: Reason[];
  issuer?: string;
  subject?: string;
  credential?: Credential;
  /** The public key its signature verified with (keyString), when ok. */
  key?: string;
}

/**
 * Votes fully verified before, that never expire: a pool grant carries the
 * same votes on every request. Such a vote, once valid, stays valid as time
 * goes on; only its signature can stop verifying (the member's key rotated
 * or removed), so a seen vote is checked again for that alone, with the key
 * resolved now (and the per-key signature memo). Anything else about it is a
 * function of its bytes. `start` is when the vote became valid as
 * verifyCredential reads it (the latest of its validFrom and its `iat`): a
 * call whose now (with its skew) is before it checks the vote afresh, so a
 * vote seen at one time never answers for an earlier one.
 */
const seenVotes = new Map<string, { issuer: string; subject?: string; credential: Credential; decoded: DecodedJwt; start: number }>();
const SEEN_VOTES_MAX = 4096;

/** The vote's check with the key it verified with; a vote whose key cannot be told does not count. */
function withKey(v: VoteCheck, issuer: string | undefined, keys: { did: string; key: ResolvedKey }[]): VoteCheck {
  if (!v.ok) return v;
  const key = soleKey(keys);
  if (key === undefined) return { ok: false, reasons: [{ code: 'INVALID_SIGNATURE', message: 'the key the vote verified with cannot be told' }], ...(issuer ? { issuer } : {}) };
  return { ...v, key };
}

async function verifyVote(jwt: string, o: QuorumOptions): Promise<VoteCheck> {
  const at = (o.now ?? new Date()).getTime();
  const seen = seenVotes.get(jwt);
  // The key the vote verified with, as its signature check resolved it (did/noting.ts).
  const r = notingKeys(o.resolver, 'assertionMethod');
  if (seen && at + skewOf(o.skewSeconds) * 1000 >= seen.start) {
    const sig = await checkJwtSignature(seen.decoded, seen.issuer, r.resolver, 'assertionMethod', jwt);
    return sig.length > 0
      ? { ok: false, reasons: sig, issuer: seen.issuer }
      : withKey({ ok: true, reasons: [], issuer: seen.issuer, ...(seen.subject ? { subject: seen.subject } : {}), credential: seen.credential }, seen.issuer, r.keys);
  }
  const v = await verifyCredential(jwt, {
    resolver: r.resolver,
    requireType: VOTE_TYPE,
    ...(o.now ? { now: o.now } : {}),
    ...(o.skewSeconds !== undefined ? { skewSeconds: o.skewSeconds } : {}),
  });
  if (v.ok && v.credential && v.issuer) {
    const decoded = decodeJwt(jwt);
    const p = decoded.payload;
    // The bounds verifyCredential compared (normalize.ts): validFrom, nbf, iat, validUntil, exp, however spelled.
    const bounds = normalizeCredential(decoded, true).bounds;
    const start = latest(bounds.from, bounds.iat);
    // Only a vote with no end to its validity, and a known start, is kept.
    if (v.credential.validUntil === undefined && p.exp === undefined && p.nbf === undefined && bounds.until === undefined && start !== undefined && Number.isFinite(start)) {
      if (seenVotes.size >= SEEN_VOTES_MAX) seenVotes.delete(seenVotes.keys().next().value as string);
      seenVotes.set(jwt, { issuer: v.issuer, ...(v.subject ? { subject: v.subject } : {}), credential: v.credential, decoded, start });
    }
  }
  return withKey(v, v.issuer, r.keys);
}

export interface QuorumOptions {
  resolver: CharterResolver;
  now?: Date;
  skewSeconds?: number;
  /** The proposal's hash when the caller already has it. */
  hash?: string;
}

export interface Quorum {
  ok: boolean;
  reasons: Reason[];
  hash: string;
  threshold: number;
  /** Members of the snapshot whose approval counted, in snapshot order. */
  approvals: string[];
  /** Members who voted to reject (one per voter: a key rejecting under two member DIDs is listed once). */
  rejections: string[];
  /** For each counted approval, in `approvals` order: the index of its vote in the input. */
  counted: number[];
  /** Votes that did not count, with why (a bad signature, another proposal or epoch, not a member). */
  ignored: { index: number; issuer?: string; code: Reason['code']; message: string }[];
}

/**
 * Counts the votes on a proposal: each must verify (its signer's key, a
 * PoolVoteCredential), be about this pool, bound to this proposal's hash
 * and epoch, and come from a member of that epoch's snapshot. One voter is
 * one key: the member DIDs and the keys their votes verified with, linked
 * (a did:key and a did:web listing its key that both vote are one voter;
 * src/did/parties.ts). A voter counts once, however many votes it signed
 * under however many member DIDs; a voter who both approved and rejected
 * (under one DID or two of its key) counts as neither, and is listed once
 * among the rejections. QUORUM_NOT_MET below the threshold.
 */
export async function countVotes(given: Proposal, votes: readonly string[], o: QuorumOptions): Promise<Quorum> {
  // Read again, whoever calls: a threshold of 0, -1 or null (a proposal no one shape-checked) would make
  // no votes a quorum.
  const read = readProposal(given);
  if (!read.proposal) return { ok: false, reasons: read.reasons, hash: '', threshold: 0, approvals: [], rejections: [], counted: [], ignored: [] };
  const proposal = read.proposal;
  const hash = o.hash ?? proposalHash(proposal);
  const members = new Set(proposal.epoch.members.map((m) => m.id));
  const ignored: Quorum['ignored'] = [];
  const valid: { index: number; issuer: string; key: string; decision: VoteClaims['decision'] }[] = [];
  const checked = await Promise.all(votes.map((jwt) => (typeof jwt === 'string' ? verifyVote(jwt, o) : undefined)));
  checked.forEach((v, index) => {
    const skip = (code: Reason['code'], message: string) => ignored.push({ index, ...(v?.issuer ? { issuer: v.issuer } : {}), code, message });
    if (!v) return skip('MALFORMED_JWT', 'a vote must be a compact JWT');
    if (!v.ok || !v.credential || !v.issuer || !v.key) return skip(v.reasons[0]?.code ?? 'INVALID_CREDENTIAL', v.reasons[0]?.message ?? 'the vote does not verify');
    const vote = readVote(v.credential);
    if (!vote) return skip('INVALID_CREDENTIAL', 'not a vote: credentialSubject.vote needs proposal, epoch and decision');
    if (v.subject !== proposal.pool) return skip('QUORUM_NOT_MET', 'the vote is addressed to another pool');
    if (vote.proposal !== hash) return skip('QUORUM_NOT_MET', 'the vote is for another proposal');
    if (vote.epoch !== proposal.epoch.number) return skip('QUORUM_NOT_MET', `the vote was cast in epoch ${vote.epoch}, not ${proposal.epoch.number}`);
    if (!members.has(v.issuer)) return skip('NOT_A_MEMBER', 'the voter is not a member of the pool in that epoch');
    valid.push({ index, issuer: v.issuer, key: v.key, decision: vote.decision });
  });
  // Voters: a member DID and the key its vote verified with are one voter, so two DIDs voting with one key
  // (a did:key, and a did:web whose document lists that key) are one, as is a DID voting with two keys.
  const link = new Map<string, string>();
  const voterOf = (x: string): string => {
    let root = x;
    while (link.has(root)) root = link.get(root)!;
    if (root !== x) link.set(x, root);
    return root;
  };
  for (const v of valid) {
    const a = voterOf(`did ${v.issuer}`);
    const b = voterOf(`key ${v.key}`);
    if (a !== b) link.set(b, a);
  }
  const rejecting = new Set(valid.filter((v) => v.decision === 'reject').map((v) => voterOf(`did ${v.issuer}`)));
  const approve = new Map<string, number>();
  const reject = new Set<string>();
  for (const v of valid) {
    if (v.decision === 'reject') reject.add(v.issuer);
    else if (!approve.has(v.issuer)) approve.set(v.issuer, v.index);
  }
  // A vote counts only from a member whose own signed acceptance the snapshot carries: the snapshot is the
  // pool's word, so without this a pool key alone could list a stranger (with junk for its acceptance)
  // and have it approve. (An identity the pool made up can still sign its own acceptance: README, pools.)
  const candidates = proposal.epoch.members.filter((m) => approve.has(m.id) && !rejecting.has(voterOf(`did ${m.id}`)));
  const accepted = new Map(
    await Promise.all(candidates.map(async (m) => [m.id, (await verifyAcceptance(m.accepted, m.id, proposal.pool, o.resolver)).entry !== undefined] as const)),
  );
  for (const [id, ok] of accepted) {
    if (!ok) ignored.push({ index: approve.get(id)!, issuer: id, code: 'NOT_A_MEMBER', message: "the voter's acceptance of its membership in the snapshot does not verify" });
  }
  for (const [id, index] of approve) {
    if (!reject.has(id) && rejecting.has(voterOf(`did ${id}`))) {
      ignored.push({ index, issuer: id, code: 'QUORUM_NOT_MET', message: 'the key this approval is signed with also rejected, under another member DID: counted as neither' });
    }
  }
  const approvals: string[] = [];
  const voters = new Set<string>();
  for (const m of proposal.epoch.members) {
    if (accepted.get(m.id) !== true) continue;
    const voter = voterOf(`did ${m.id}`);
    if (voters.has(voter)) {
      ignored.push({
        index: approve.get(m.id)!,
        issuer: m.id,
        code: 'QUORUM_NOT_MET',
        message: 'signed with the key of a member whose approval already counted: one key, one approval',
      });
      continue;
    }
    voters.add(voter);
    approvals.push(m.id);
  }
  const rejected = new Set<string>();
  const rejections = proposal.epoch.members
    .map((m) => m.id)
    .filter((id) => {
      if (!reject.has(id) || rejected.has(voterOf(`did ${id}`))) return false;
      rejected.add(voterOf(`did ${id}`));
      return true;
    });
  const counted = approvals.map((id) => approve.get(id)!);
  const k = proposal.epoch.threshold;
  const reasons: Reason[] =
    approvals.length >= k
      ? []
      : [{ code: 'QUORUM_NOT_MET', message: `${approvals.length} of the ${k} approvals needed from distinct members (one per key) of epoch ${proposal.epoch.number}` }];
  return { ok: reasons.length === 0, reasons, hash, threshold: k, approvals, rejections, counted, ignored };
}

/** `credentialSubject.pool` of a collective grant. */
export interface PoolEvidence {
  proposal: Proposal;
  votes: string[];
}

/** What a verified collective grant tells about its pool. */
export interface PoolGrantInfo {
  pool: string;
  epoch: number;
  threshold: number;
  members: string[];
  approvals: string[];
  proposal: string;
}

export interface CollectiveCheckOptions extends QuorumOptions {
  status: StatusChecker;
  owner?: string;
  now?: Date;
}

const sameJson = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);

/**
 * Checks a collective grant: its evidence describes this very grant, the
 * votes reach the quorum, and (with an owner) the owner is a current member:
 * listed in the snapshot the grant was approved in (GRANT_NOT_OWNER
 * otherwise) and not withdrawn now (MEMBER_WITHDRAWN, through the pool's
 * status list and its freshness bound).
 */
export async function checkCollectiveGrant(
  c: Credential,
  issuer: string,
  grantee: string | undefined,
  grant: GrantClaims,
  o: CollectiveCheckOptions & { jwt?: string },
): Promise<{ reasons: Reason[]; info?: PoolGrantInfo }> {
  const read = o.jwt !== undefined ? readCached(o.jwt, () => readEvidence(c, issuer, grantee, grant)) : readEvidence(c, issuer, grantee, grant);
  if (!read.evidence) return { reasons: read.reasons };
  const { proposal: p, votes } = read.evidence;
  // The votes and the owner's membership are independent checks: run together, their
  // signatures share the thread pool instead of waiting on each other.
  const [quorum, owned] = await Promise.all([
    countVotes(p, votes, { ...o, hash: read.hash! }),
    o.owner !== undefined && o.owner !== issuer ? memberReasons(p, o.owner, o) : Promise.resolve([] as Reason[]),
  ]);
  const info: PoolGrantInfo = {
    pool: p.pool,
    epoch: p.epoch.number,
    threshold: p.epoch.threshold,
    members: p.epoch.members.map((m) => m.id),
    approvals: quorum.approvals,
    proposal: quorum.hash,
  };
  const reasons = [...quorum.reasons, ...owned];
  return { reasons, info };
}

interface ReadEvidence {
  evidence?: PoolEvidence;
  hash?: string;
  reasons: Reason[];
}

/**
 * What a grant's evidence says, checked against the grant itself: a pure
 * function of the credential's content (no key, no clock), so it is kept per
 * grant JWT (the exact bytes), and a platform presenting the same pool grant
 * on every request does not re-read, re-hash and re-compare its proposal.
 */
function readEvidence(c: Credential, issuer: string, grantee: string | undefined, grant: GrantClaims): ReadEvidence {
  const raw = soleSubject(c)?.pool;
  const bad = (message: string): ReadEvidence => ({ reasons: [{ code: 'INVALID_CREDENTIAL', message }] });
  if (!isObj(raw) || !Array.isArray(raw.votes) || raw.votes.length > MAX_POOL_MEMBERS * 2) return bad('a pool grant carries { proposal, votes }');
  const read = readProposal(raw.proposal);
  if (!read.proposal) return { reasons: read.reasons };
  const p = read.proposal;
  if (p.pool !== issuer) return bad('the grant was issued by someone other than the pool that voted on it');
  if (p.action !== 'grant' || !p.grant) return bad('the votes are not on a grant');
  const g = p.grant;
  const voted = readGrantClaims({ resources: g.resources, actions: g.actions, purpose: g.purpose, ...(g.terms !== undefined ? { terms: g.terms } : {}) }).grant!;
  if (
    g.grantee !== grantee ||
    !sameJson(voted.resources, grant.resources) ||
    !sameJson(voted.actions, grant.actions) ||
    voted.purpose !== grant.purpose ||
    !sameJson(voted.terms, grant.terms)
  ) {
    return bad('the grant differs from the proposal its votes approve (grantee, resources, actions, purpose or terms)');
  }
  const from = Date.parse(c.validFrom ?? '');
  const until = Date.parse(c.validUntil ?? '');
  if (!(until - from <= parseDuration(g.duration) * 1000)) return bad(`the grant is valid for longer than the ${g.duration} its members approved`);
  // The votes approve one grant issued when they were cast, not a grant the pool's key may reissue for
  // ever: it starts after the proposal was made and within EXECUTION_WINDOW_MS of it. (`created` is in
  // the hash every vote signs: the pool's key cannot move it.)
  const created = parseDateTime(p.created)!;
  if (!(from >= created - MAX_SKEW_MS && from <= created + EXECUTION_WINDOW_MS)) {
    return bad('the grant starts outside the 30 days after its proposal was made: its votes approved a grant issued then (propose again)');
  }
  if (!raw.votes.every((v) => typeof v === 'string')) return bad('each vote is a compact JWT');
  return { evidence: { proposal: p, votes: raw.votes as string[] }, hash: proposalHash(p), reasons: [] };
}

const EVIDENCE_CACHE_MAX = 256;
const evidenceCache = new Map<string, ReadEvidence>();
function readCached(jwt: string, read: () => ReadEvidence): ReadEvidence {
  const hit = evidenceCache.get(jwt);
  if (hit) return hit;
  const r = read();
  if (evidenceCache.size >= EVIDENCE_CACHE_MAX) evidenceCache.delete(evidenceCache.keys().next().value as string);
  evidenceCache.set(jwt, r);
  return r;
}

/** `<url>#<index>` to the membership's status entry. */
export function joinStatusEntry(status: string): CredentialStatusEntry | undefined {
  const m = /^(https?:\/\/[^#\s]{1,2000})#(0|[1-9]\d{0,9})$/.exec(status);
  return m ? { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: m[2]!, statusListCredential: m[1]! } : undefined;
}

/**
 * Verifies a member's acceptance: a JWS of type charter-pool-join+jwt,
 * signed by the member, naming this pool and a status entry. Returns the
 * entry, or the reason it cannot be used.
 */
export async function verifyAcceptance(jwt: string, member: string, pool: string, resolver: CharterResolver): Promise<{ entry?: CredentialStatusEntry; reason?: Reason }> {
  const bad = (message: string) => ({ reason: { code: 'GRANT_NOT_OWNER' as const, message } });
  let d;
  try {
    d = decodeJwt(jwt, { maxBytes: 4096 });
  } catch {
    return bad("the member's acceptance of its membership is not a compact JWS");
  }
  if (d.header.typ !== JOIN_TYP) return bad(`the member's acceptance must have typ ${JOIN_TYP}`);
  const c = d.payload as Partial<JoinClaims>;
  if (c.iss !== member || c.sub !== pool || typeof c.status !== 'string') return bad("the member's acceptance names another member or pool");
  const entry = joinStatusEntry(c.status);
  if (!entry) return bad("the member's acceptance names no status entry");
  const sig = await checkJwtSignature(d, member, resolver, 'assertionMethod', jwt);
  if (sig.length > 0) return bad(`the member's acceptance does not verify (${sig[0]!.code}): the member never joined this pool`);
  return { entry };
}

/** The owner rule of a pool grant: a member of the snapshot who accepted membership, not withdrawn now. */
async function memberReasons(p: Proposal, owner: string, o: CollectiveCheckOptions): Promise<Reason[]> {
  const m = p.epoch.members.find((x) => x.id === owner);
  if (!m) return [{ code: 'GRANT_NOT_OWNER', message: 'the owner of the data is not a member of the pool that issued the grant (as of the vote)' }];
  const accepted = await verifyAcceptance(m.accepted, owner, p.pool, o.resolver);
  if (!accepted.entry) return [accepted.reason!];
  const membership = { '@context': [], type: ['PoolMembershipCredential'], issuer: p.pool, credentialSubject: { id: owner }, credentialStatus: accepted.entry } as Credential;
  let reasons: Reason[];
  try {
    reasons = await o.status(membership, { issuer: p.pool, now: o.now ?? new Date() });
  } catch (e) {
    reasons = [{ code: 'STATUS_UNAVAILABLE', message: e instanceof Error ? e.message : 'the pool status list cannot be checked' }];
  }
  return reasons.map((r) =>
    r.code === 'CREDENTIAL_REVOKED' ? { code: 'MEMBER_WITHDRAWN', message: 'the owner of the data has withdrawn from the pool: its grants no longer cover this data' } : r,
  );
}
