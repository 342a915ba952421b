import { randomBytes } from 'node:crypto';
import { CharterError } from '../errors.js';
import { parseDuration } from '../encoding/duration.js';
import { verifyCredential } from '../credentials/index.js';
import type { Issuer } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import {
  checkTermsInput,
  countVotes,
  proposalHash,
  readGrantClaims,
  readProposal,
  readVote,
  VOTE_TYPE,
  type GrantProposalBody,
  type Proposal,
  type Quorum,
} from '../grants/index.js';
import type { Store } from '../store/types.js';
import { checkDistinctKeys, currentEpoch, withdrawnHere } from './membership.js';
import { partyKey } from '../did/parties.js';
import { PROPOSAL_TYPE, decisionId, hashPart, list, proposalId, putSigned, read, taken, voteRecordId } from './records.js';

export type ProposalInput = { action: 'grant'; grant: GrantProposalBody } | { action: 'admit'; member: string } | { action: 'revoke'; target: string };

export interface StoredProposal {
  id: string;
  hash: string;
  proposal: Proposal;
  /** The PoolProposal credential (signed by the pool): what is sent to members who vote elsewhere. */
  jwt: string;
}

/**
 * Puts a proposal to the pool's members, against its current epoch: what is
 * to be decided (a grant with its terms and duration, an admission, a
 * revocation), the membership snapshot and threshold it will be counted
 * against, a time and a nonce. Its hash is what members sign when voting.
 * An admission of another DID of a member's key is refused (ALREADY_EXISTS):
 * a did:key or did:jwk always, a did:web listing a member's key when
 * `o.resolver` is given (admitMember checks that in any case).
 */
export async function propose(store: Store, pool: Issuer, input: ProposalInput, o: { resolver?: CharterResolver } = {}): Promise<StoredProposal> {
  const e = await currentEpoch(store, pool.did);
  if (e.members.length < e.threshold) {
    throw new CharterError(
      'QUORUM_NOT_MET',
      `the pool has ${e.members.length} members left, fewer than its threshold of ${e.threshold}: it can no longer decide (members can still leave)`,
    );
  }
  const proposal: Proposal = {
    pool: pool.did,
    epoch: { number: e.number, threshold: e.threshold, members: e.members },
    action: input.action,
    created: new Date().toISOString(),
    nonce: randomBytes(12).toString('base64url'),
  };
  if (input.action === 'grant') {
    const g = input.grant;
    parseDuration(g.duration);
    const terms = g.terms === undefined ? undefined : checkTermsInput(g.terms, { collective: true });
    // A payout pays the snapshot's DIDs by these names exactly: a weight under another (another DID of a
    // member's key, which looks like that member; a stranger) would pay that member nothing.
    const split = terms?.compensation?.split;
    const strangers = split === undefined || split === 'equal' ? [] : Object.keys(split.weights).filter((d) => !e.members.some((m) => m.id === d));
    if (strangers.length > 0) {
      throw new CharterError('INVALID_ARGUMENT', `the split names ${strangers[0]!.slice(0, 80)}, not a member of the pool as it names its members (charter pool show)`);
    }
    const checked = readGrantClaims({ resources: g.resources, actions: g.actions, purpose: g.purpose, ...(terms ? { terms } : {}) });
    if (!checked.grant) throw new CharterError('INVALID_ARGUMENT', checked.reasons[0]!.message);
    proposal.grant = { grantee: g.grantee, resources: [...g.resources], actions: [...g.actions], purpose: g.purpose, ...(terms ? { terms } : {}), duration: g.duration };
  } else if (input.action === 'admit') {
    // One key is one member: the did:jwk of a member's did:key would vote a second time.
    const key = partyKey(input.member);
    if (e.members.some((m) => partyKey(m.id) === key)) {
      throw new CharterError('ALREADY_EXISTS', `${input.member.slice(0, 80)} already is a member (under this or another DID of its key)`);
    }
    // With a resolver, a did:web listing a key a member signed with too (admitMember checks it in any case).
    if (o.resolver) await checkDistinctKeys(o.resolver, e.members, [input.member]);
    proposal.member = input.member;
  } else {
    const target = await store.getCredential(input.target);
    if (!target || target.issuer !== pool.did || !target.types.includes('DataAccessGrant'))
      throw new CharterError('NOT_FOUND', `no grant ${input.target.slice(0, 80)} issued by this pool`);
    proposal.target = input.target;
  }
  const checked = readProposal(proposal);
  if (!checked.proposal) throw new CharterError('INVALID_ARGUMENT', checked.reasons[0]!.message);
  const hash = proposalHash(proposal);
  const id = proposalId(hash);
  const { jwt } = await putSigned(store, { issuer: pool, id, subject: pool.did, type: PROPOSAL_TYPE, claims: { proposal, hash } });
  return { id, hash, proposal, jwt };
}

function fromRecord(r: ReturnType<typeof read>): StoredProposal {
  const proposal = r.subject.proposal as Proposal;
  return { id: r.record.id, hash: proposalHash(proposal), proposal, jwt: r.record.jwt };
}

/** A proposal of this home by its id, its hash, or an unambiguous prefix of the hash (8 characters or more). */
export async function findProposal(store: Store, ref: string): Promise<StoredProposal> {
  const exact = (await store.getCredential(ref)) ?? (await store.getCredential(proposalId(ref)));
  if (exact?.types.includes(PROPOSAL_TYPE)) return fromRecord(read(exact));
  const prefix = hashPart(ref);
  if (prefix.length >= 8) {
    const hits = (await list(store, { type: PROPOSAL_TYPE })).filter((r) => hashPart(String(r.subject.hash ?? '')).startsWith(prefix));
    if (hits.length === 1) return fromRecord(hits[0]!);
    if (hits.length > 1) throw new CharterError('INVALID_ARGUMENT', `"${ref.slice(0, 20)}" names ${hits.length} proposals: give more of the hash`);
  }
  throw new CharterError('NOT_FOUND', `no proposal ${ref.slice(0, 80)} in this home (charter pool show)`);
}

/**
 * A proposal received from the pool (its PoolProposal JWT): verified (the
 * pool's signature, its shape) and kept, so a member can vote on it.
 */
export async function receiveProposal(store: Store, jwt: string, resolver: CharterResolver): Promise<StoredProposal> {
  const v = await verifyCredential(jwt, { resolver, requireType: PROPOSAL_TYPE });
  if (!v.ok || !v.credential || !v.issuer) throw new CharterError(v.reasons[0]?.code ?? 'INVALID_CREDENTIAL', `the proposal does not verify: ${v.reasons[0]?.message ?? ''}`);
  const checked = readProposal((v.credential.credentialSubject as { proposal?: unknown }).proposal);
  if (!checked.proposal || checked.proposal.pool !== v.issuer)
    throw new CharterError('INVALID_CREDENTIAL', checked.reasons[0]?.message ?? 'the proposal names another pool than its signer');
  const hash = proposalHash(checked.proposal);
  const id = proposalId(hash);
  if (!(await store.getCredential(id))) {
    await store.putCredential({ id, jwt, direction: 'held', issuer: v.issuer, subject: v.issuer, types: [PROPOSAL_TYPE], createdAt: new Date().toISOString() });
  }
  return { id, hash, proposal: checked.proposal, jwt };
}

/**
 * A member signs its vote on a proposal: a PoolVoteCredential about the pool,
 * bound to the proposal's hash and the epoch it was made in. Only a member
 * of that epoch may vote (NOT_A_MEMBER), once (ALREADY_EXISTS).
 */
export async function castVote(store: Store, member: Issuer, p: StoredProposal, decision: 'approve' | 'reject'): Promise<{ id: string; jwt: string }> {
  if (!p.proposal.epoch.members.some((m) => m.id === member.did)) {
    throw new CharterError('NOT_A_MEMBER', `${member.did.slice(0, 80)} is not a member of the pool in the epoch of this proposal`);
  }
  const mine = (await votesOn(store, p)).filter((v) => v.issuer === member.did);
  if (mine.length > 0) throw new CharterError('ALREADY_EXISTS', 'this member already voted on this proposal');
  // The id is derived from (proposal, member): two racing votes of one member
  // cannot both be stored; the loser gets the same ALREADY_EXISTS.
  const id = voteRecordId(p.hash, member.did);
  const stored = putSigned(store, {
    issuer: member,
    id,
    subject: p.proposal.pool,
    type: VOTE_TYPE,
    claims: { vote: { proposal: p.hash, epoch: p.proposal.epoch.number, decision } },
    parentId: p.id,
  });
  const { jwt } = await stored.catch((e: unknown) => {
    throw taken(e) ? new CharterError('ALREADY_EXISTS', 'this member already voted on this proposal') : e;
  });
  return { id, jwt };
}

/** Keeps a vote signed elsewhere (a member voting from its own home), after checking it is one, on a proposal of this home. */
export async function receiveVote(store: Store, jwt: string, resolver: CharterResolver): Promise<{ id: string; proposal: string }> {
  const v = await verifyCredential(jwt, { resolver, requireType: VOTE_TYPE });
  const vote = v.credential ? readVote(v.credential) : undefined;
  if (!v.ok || !vote || !v.issuer || !v.id)
    throw new CharterError(v.reasons[0]?.code ?? 'INVALID_CREDENTIAL', `the vote does not verify: ${v.reasons[0]?.message ?? 'not a vote'}`);
  const p = await findProposal(store, vote.proposal);
  // Kept under the (proposal, member) id, whatever id the member's home gave
  // it: the same vote again is a no-op, another vote of that member is refused.
  const id = voteRecordId(p.hash, v.issuer);
  const kept = (await votesOn(store, p)).find((r) => r.issuer === v.issuer);
  if (kept) {
    if (kept.jwt === jwt) return { id: v.id, proposal: p.hash };
    throw new CharterError('ALREADY_EXISTS', `${v.issuer.slice(0, 80)} already voted on this proposal`);
  }
  await store.putCredential({ id, jwt, direction: 'held', issuer: v.issuer, subject: p.proposal.pool, types: [VOTE_TYPE], parentId: p.id, createdAt: new Date().toISOString() });
  return { id: v.id, proposal: p.hash };
}

async function votesOn(store: Store, p: StoredProposal) {
  return store.listCredentials({ type: VOTE_TYPE, parentId: p.id });
}

export interface Tally extends Quorum {
  proposal: StoredProposal;
  /** The pool's membership changed since the proposal: it can no longer be executed (propose again). */
  stale: boolean;
  /** The JWTs of the counted approvals, one per member, `threshold` of them when met (what a grant carries). */
  evidence: string[];
}

/**
 * Counts the votes kept for a proposal the way a verifier will (countVotes),
 * and checks the proposal is still current: made in the pool's current
 * epoch, no counted voter withdrawn.
 */
export async function tally(store: Store, p: StoredProposal, o: { resolver: CharterResolver; now?: Date }): Promise<Tally> {
  const e = await currentEpoch(store, p.proposal.pool);
  const records = await votesOn(store, p);
  const jwts = records.map((r) => r.jwt);
  const q = await countVotes(p.proposal, jwts, { resolver: o.resolver, ...(o.now ? { now: o.now } : {}) });
  const withdrawn = new Set<string>();
  for (const m of p.proposal.epoch.members) if (await withdrawnHere(store, m)) withdrawn.add(m.id);
  const approvals = q.approvals.filter((d) => !withdrawn.has(d));
  const stale = e.number !== p.proposal.epoch.number || withdrawn.size > 0;
  const k = q.threshold;
  const evidence = approvals.slice(0, k).map((did) => jwts[q.counted[q.approvals.indexOf(did)]!]!);
  const reasons = stale
    ? [{ code: 'PROPOSAL_STALE' as const, message: `the pool's membership changed since this proposal (epoch ${p.proposal.epoch.number}, now ${e.number}): propose again` }]
    : approvals.length >= k
      ? []
      : [{ code: 'QUORUM_NOT_MET' as const, message: `${approvals.length} of the ${k} approvals needed (${q.rejections.length} against)` }];
  return { ...q, approvals, counted: approvals.map((d) => q.counted[q.approvals.indexOf(d)]!), ok: reasons.length === 0, reasons, proposal: p, stale, evidence };
}

/** Every proposal of a pool in this home, newest last. */
export async function listProposals(store: Store, pool: string): Promise<StoredProposal[]> {
  return (await list(store, { type: PROPOSAL_TYPE, subject: pool })).map(fromRecord);
}

export interface ProposalOverview {
  hash: string;
  action: Proposal['action'];
  epoch: number;
  approvals: number;
  rejections: number;
  threshold: number;
  /** open: collecting votes; ready: k approvals; executed; stale: the membership changed since. */
  state: 'open' | 'ready' | 'executed' | 'stale';
  proposal: Proposal;
}

/**
 * Executed: the pool recorded the decision and its result exists (the grant,
 * the membership, the grant revoked). A record alone is not enough: a grant
 * is recorded just before it is issued, and a crash in between leaves a
 * record naming a grant that does not exist (pool grant again finishes it).
 */
async function wasExecuted(store: Store, p: StoredProposal): Promise<boolean> {
  const rec = await store.getCredential(decisionId(p.hash));
  if (!rec) return false;
  const result = (read(rec).subject.decision as { result?: unknown } | undefined)?.result;
  return typeof result === 'string' && (await store.getCredential(result)) !== undefined;
}

/** Every proposal of a pool with its votes counted and its state. */
export async function proposalOverview(store: Store, pool: string, o: { resolver: CharterResolver }): Promise<ProposalOverview[]> {
  const out: ProposalOverview[] = [];
  for (const p of await listProposals(store, pool)) {
    const t = await tally(store, p, o);
    const executed = await wasExecuted(store, p);
    out.push({
      hash: p.hash,
      action: p.proposal.action,
      epoch: p.proposal.epoch.number,
      approvals: t.approvals.length,
      rejections: t.rejections.length,
      threshold: t.threshold,
      state: executed ? 'executed' : t.stale ? 'stale' : t.ok ? 'ready' : 'open',
      proposal: p.proposal,
    });
  }
  return out;
}

/** The latest proposal to revoke this grant (what its members are voting on now); NOT_FOUND when none. */
export async function revocationProposal(store: Store, grant: string): Promise<StoredProposal> {
  const rec = await store.getCredential(grant);
  if (!rec) throw new CharterError('NOT_FOUND', `no grant ${grant.slice(0, 80)} in this home`);
  const candidates = (await listProposals(store, rec.issuer)).filter((p) => p.proposal.action === 'revoke' && p.proposal.target === grant);
  if (candidates.length === 0) throw new CharterError('NOT_FOUND', `nobody proposed to revoke it yet: charter pool propose --revoke ${grant.slice(0, 80)}`);
  return candidates[candidates.length - 1]!;
}
