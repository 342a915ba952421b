import { CharterError, type Reason } from '../errors.js';
import { canonicalJson } from '../encoding/json.js';
import { parseDuration } from '../encoding/duration.js';
import type { Issuer } from '../credentials/types.js';
import { DEFAULT_MAX_JWT } from '../credentials/jws.js';
import type { CharterResolver } from '../did/types.js';
import { allocateStatusEntry, setCredentialStatus } from '../status/index.js';
import { EXECUTION_WINDOW_MS, issueGrant, type PoolMember } from '../grants/index.js';
import type { Store } from '../store/types.js';
import { acceptedStatus, advanceEpoch, checkDistinctKeys, currentEpoch, issueMembership, summary, withdrawnHere, type PoolSummary } from './membership.js';
import { tally, type StoredProposal, type Tally } from './proposals.js';
import { DECISION_TYPE, MEMBERSHIP_TYPE, decisionId, putSigned, read, resultId, taken } from './records.js';

/** The outcome of executing a proposal: done, or refused with the count (and nothing changed). */
export interface Execution {
  ok: boolean;
  reasons: Reason[];
  proposal: string;
  action: 'grant' | 'admit' | 'revoke';
  threshold: number;
  approvals: string[];
  rejections: string[];
  /** The grant issued, the membership issued, or the grant revoked. */
  result?: string;
  /** A collective grant: its JWT. */
  jwt?: string;
  /** An admission waiting for the new member's acceptance: the status entry it must sign (charter pool accept). */
  pending?: { member: string; status: string };
  pool?: PoolSummary;
}

interface ExecuteOptions {
  resolver: CharterResolver;
  now?: Date;
}

function refused(t: Tally, action: Execution['action'], reasons = t.reasons): Execution {
  return { ok: false, reasons, proposal: t.hash, action, threshold: t.threshold, approvals: t.approvals, rejections: t.rejections };
}

const done = (t: Tally, action: Execution['action'], extra: Partial<Execution>): Execution => ({
  ok: true,
  reasons: [],
  proposal: t.hash,
  action,
  threshold: t.threshold,
  approvals: t.approvals,
  rejections: t.rejections,
  ...extra,
});

/**
 * The pool's record that a proposal was executed (with whose approvals
 * counted): its id is derived from the proposal, so a proposal is executed
 * once however often `pool grant` runs. Returns false when it already was.
 */
async function record(store: Store, pool: Issuer, t: Tally, action: Execution['action'], result: string): Promise<boolean> {
  try {
    await putSigned(store, {
      issuer: pool,
      id: decisionId(t.hash),
      subject: pool.did,
      type: DECISION_TYPE,
      claims: { decision: { proposal: t.hash, action, result, approvals: t.approvals.slice(0, t.threshold) } },
    });
    return true;
  } catch (e) {
    if (taken(e)) return false;
    throw e;
  }
}

const changedWhile = (when: string) => ({ code: 'PROPOSAL_STALE' as const, message: `the pool's membership changed while ${when}: propose again` });

function check(t: Tally, pool: Issuer, action: Execution['action']): void {
  if (t.proposal.proposal.pool !== pool.did) throw new CharterError('INVALID_ARGUMENT', 'that proposal is for another pool');
  if (t.proposal.proposal.action !== action) throw new CharterError('INVALID_ARGUMENT', `that proposal is to ${t.proposal.proposal.action}, not to ${action}`);
}

/**
 * Issues the collective grant a proposal describes, only with `threshold`
 * approvals from distinct current members of the epoch it was made in:
 * a DataAccessGrant from the pool to the grantee, valid for the approved
 * duration from now, carrying the proposal and exactly `threshold` approving
 * votes so every verifier can count them itself. Refused (ok: false, with the
 * count) below the threshold or when the membership changed meanwhile.
 */
export async function issuePoolGrant(store: Store, pool: Issuer, p: StoredProposal, o: ExecuteOptions & { baseUrl: string }): Promise<Execution> {
  const t = await tally(store, p, o);
  check(t, pool, 'grant');
  if (!t.ok) return refused(t, 'grant');
  const g = p.proposal.grant!;
  const id = resultId(t.hash, 'grant');
  if (await store.getCredential(id)) {
    // A crash after the grant, before its decision was recorded: recorded now (a no-op when it was).
    await record(store, pool, t, 'grant', id);
    throw new CharterError('ALREADY_EXISTS', `the pool already granted this proposal: ${id}`);
  }
  const evidence = { proposal: p.proposal, votes: t.evidence };
  // The grant travels whole in every request: refuse one verifiers would refuse as too large (INPUT_TOO_LARGE).
  const estimate = Math.ceil(((canonicalJson(evidence).length + 3000) * 4) / 3);
  if (estimate > DEFAULT_MAX_JWT) {
    throw new CharterError(
      'INPUT_TOO_LARGE',
      `this grant would be about ${Math.round(estimate / 1024)} KiB, over the ${DEFAULT_MAX_JWT / 1024} KiB credential cap: a pool grant carries the member snapshot and its votes`,
    );
  }
  // The count was of one epoch: a member who left meanwhile must not have its approval carried by a grant
  // issued after it left. The tally again, last thing before the grant: a leave sets the member's bit
  // before it writes the next epoch, so the epoch number alone would miss a leave half done. (A leave
  // landing after this check is one the grant predates: the grant covers the leaver's data until its
  // bit is read, as any grant issued before a leave does.)
  if ((await tally(store, p, o)).stale) return refused(t, 'grant', [changedWhile('the grant was being issued')]);
  const now = o.now ?? new Date();
  // Verifiers refuse a grant starting more than EXECUTION_WINDOW_MS after its proposal (collective.ts).
  if (now.getTime() > Date.parse(p.proposal.created) + EXECUTION_WINDOW_MS) {
    return refused(t, 'grant', [
      { code: 'PROPOSAL_STALE', message: 'the proposal was made more than 30 days ago: its votes no longer approve a grant issued now (propose again)' },
    ]);
  }
  const issued = await issueGrant(store, pool, {
    id,
    grantee: g.grantee,
    resources: g.resources,
    actions: g.actions,
    purpose: g.purpose,
    ...(g.terms ? { terms: g.terms } : {}),
    validFrom: now,
    validUntil: new Date(now.getTime() + parseDuration(g.duration) * 1000),
    baseUrl: o.baseUrl,
    pool: evidence,
  });
  // The decision is recorded once the grant exists: the pool's signed record never names a grant it did not issue.
  await record(store, pool, t, 'grant', issued.id);
  return done(t, 'grant', { result: issued.id, jwt: issued.jwt });
}

/**
 * The membership an interrupted admission stored (a crash after it, before
 * the new epoch): issued by this pool to this member under the proposal's
 * derived id, its acceptance naming the status entry the proposal allocated.
 * Anything else under that id is refused (ALREADY_EXISTS).
 */
async function unfinishedAdmission(store: Store, pool: string, member: string, id: string): Promise<PoolMember | undefined> {
  const rec = await store.getCredential(id);
  if (!rec) return undefined;
  const mine = (await store.findStatusAllocation(id))[0];
  const list = mine ? await store.getStatusList(mine.listId) : undefined;
  const accepted = (read(rec).subject.membership as { accepted?: unknown } | undefined)?.accepted;
  if (
    rec.issuer !== pool ||
    rec.subject !== member ||
    !rec.types.includes(MEMBERSHIP_TYPE) ||
    typeof accepted !== 'string' ||
    !list ||
    acceptedStatus(accepted) !== `${list.url}#${mine!.index}`
  ) {
    throw new CharterError('ALREADY_EXISTS', `${id.slice(0, 100)} already exists`);
  }
  return { id: member, accepted };
}

/**
 * Admits the member a proposal names, once the threshold approved: its
 * membership status entry is allocated, the new member accepts it (its own
 * signature: here with `accept`, or a JWT it signed elsewhere with
 * `charter pool accept`), its PoolMembershipCredential is issued and the pool
 * moves to the next epoch. Without an acceptance yet, the result is pending
 * and names the entry to accept.
 */
export async function admitMember(
  store: Store,
  pool: Issuer,
  p: StoredProposal,
  o: ExecuteOptions & { baseUrl: string; acceptance?: string | ((pool: string, status: string) => Promise<string>) },
): Promise<Execution> {
  const t = await tally(store, p, o);
  check(t, pool, 'admit');
  const member = p.proposal.member!;
  const e = await currentEpoch(store, pool.did);
  const admitted = e.members.find((m) => m.id === member);
  const id = resultId(t.hash, 'membership');
  // The tally read its own epoch: one that moved since (a leave completed in between) is not the one voted in.
  if (!admitted && e.number !== p.proposal.epoch.number) return refused(t, 'admit', [changedWhile('the votes were counted')]);
  if (admitted) {
    // Only this proposal's own admission is finished here (a crash after the new epoch, before the
    // decision was recorded): the epoch's entry for the member must be the status entry this proposal
    // allocated. Any other proposal to admit a current member is refused, whatever its count: executing
    // it would issue a second membership whose withdrawal bit no grant names, and the member's leave
    // would then set that bit while verifiers keep reading the first.
    const mine = (await store.findStatusAllocation(id))[0];
    const list = mine ? await store.getStatusList(mine.listId) : undefined;
    if (!mine || !list || acceptedStatus(admitted.accepted) !== `${list.url}#${mine.index}`) {
      throw new CharterError('ALREADY_EXISTS', `${member.slice(0, 80)} already is a member (admitted by another proposal)`);
    }
    if (await store.getCredential(id)) {
      // A crash after the new epoch, before the decision was recorded: recorded now. Otherwise done already.
      if (await record(store, pool, t, 'admit', id)) return done(t, 'admit', { result: id, pool: summary(pool.did, e) });
      throw new CharterError('ALREADY_EXISTS', `${member.slice(0, 80)} already is a member`);
    }
  }
  if (!admitted && !t.ok) return refused(t, 'admit');
  // One key is one member: a newcomer signing with a current member's key (a did:web whose document lists
  // it) would give that member a second vote. countVotes counts such votes once whatever the documents
  // say later; this keeps the newcomer out in the first place. (A member's document listing the
  // newcomer's key does not: checkDistinctKeys.)
  if (!admitted) await checkDistinctKeys(o.resolver, e.members, [member]);
  // A crash after the membership was stored, before the new epoch: that membership is reused.
  const unfinished = admitted ? undefined : await unfinishedAdmission(store, pool.did, member, id);
  if (unfinished && (await withdrawnHere(store, unfinished))) {
    return refused(t, 'admit', [{ code: 'MEMBER_WITHDRAWN', message: `${member.slice(0, 80)} withdrew before its admission was finished: propose again` }]);
  }
  if (!admitted && !unfinished && o.acceptance === undefined) {
    // Allocate (once) the entry the member must accept, and say so.
    const entry = await store.findStatusAllocation(id);
    let status: string;
    if (entry.length > 0) status = `${(await store.getStatusList(entry[0]!.listId))!.url}#${entry[0]!.index}`;
    else {
      const s = await allocateStatusEntry(store, { issuerDid: pool.did, purpose: 'revocation', baseUrl: o.baseUrl, credentialId: id });
      status = `${s.statusListCredential}#${s.statusListIndex}`;
    }
    return {
      ...refused(t, 'admit', [
        { code: 'NOT_A_MEMBER', message: `${member.slice(0, 80)} must accept its membership first: charter pool accept --pool ${pool.did} --status ${status} --as <its identity>` },
      ]),
      pending: { member, status },
    };
  }
  const acceptance =
    typeof o.acceptance === 'function'
      ? (status: string) => (o.acceptance as (pool: string, status: string) => Promise<string>)(pool.did, status)
      : (o.acceptance ?? admitted?.accepted ?? '');
  // A leave whose bit is set but whose epoch is not written yet: the tally sees the bit.
  if (!admitted && (await tally(store, p, o)).stale) return refused(t, 'admit', [changedWhile('the member was being admitted')]);
  const issued = unfinished
    ? { member: unfinished }
    : await issueMembership(store, pool, {
        id,
        member,
        acceptance,
        since: admitted ? e.number : e.number + 1,
        baseUrl: o.baseUrl,
        resolver: o.resolver,
        admission: { proposal: t.hash, approvals: t.approvals.slice(0, t.threshold) },
      });
  // A crash between any two of these writes is finished by running admit again: the membership stored is
  // reused (above), the epoch written is found (admitted), and the decision is recorded.
  const next = admitted ? e : await advanceEpoch(store, pool, e, [...e.members, issued.member as PoolMember], { kind: 'admit', members: [member], proposal: t.hash });
  await record(store, pool, t, 'admit', id);
  return done(t, 'admit', { result: id, pool: summary(pool.did, next) });
}

/**
 * Revokes one of the pool's grants for everyone, once the threshold approved
 * a revocation proposal naming it: the grant's revocation bit is committed,
 * then the pool's list is re-signed.
 */
export async function revokePoolGrant(store: Store, pool: Issuer, p: StoredProposal, o: ExecuteOptions): Promise<Execution> {
  const t = await tally(store, p, o);
  check(t, pool, 'revoke');
  if (!t.ok) return refused(t, 'revoke');
  const target = p.proposal.target!;
  await setCredentialStatus(store, target, 'revocation', true, async (did) => {
    if (did !== pool.did) throw new CharterError('NOT_FOUND', "a pool grant is in its pool's own status list");
    return pool;
  });
  await record(store, pool, t, 'revoke', target);
  return done(t, 'revoke', { result: target });
}
