import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyGrant, revokeGrant, listGrants } from '../../src/grants/index.js';
import {
  admitMember,
  castVote,
  currentEpoch,
  findProposal,
  issuePoolGrant,
  leavePool,
  membershipOf,
  acceptedStatus,
  propose,
  receiveVote,
  revokePoolGrant,
  signAcceptance,
  signLeave,
  tally,
} from '../../src/pools/index.js';
import { isCharterError } from '../../src/errors.js';
import { openPoolWorld, type PoolWorld } from './world.js';

const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

describe('data pools: lifecycle (charter serve on loopback)', () => {
  let w: PoolWorld;
  beforeAll(async () => {
    w = await openPoolWorld();
  });
  afterAll(async () => {
    await w.close();
  });
  const check = (jwt: string, owner: string, o: Partial<Parameters<typeof verifyGrant>[1]> = {}) =>
    verifyGrant(jwt, { resolver: w.resolver, status: w.status, resource: 'health/sleep', action: 'read', owner, grantee: w.platform.did, ...o });

  it('a pool is founded at epoch 0 with its members and threshold', async () => {
    const e = await currentEpoch(w.home.store, w.pool.did);
    expect(e).toMatchObject({ number: 0, threshold: 2, change: { kind: 'found' } });
    expect(e.members.map((m) => m.id)).toEqual(w.members.map((m) => m.did));
  });

  it('a grant is issued only at the threshold, and refused with the count below it', async () => {
    const p = await w.proposeGrant();
    await castVote(w.home.store, w.members[0]!, p, 'approve');
    await castVote(w.home.store, w.members[2]!, p, 'reject');
    const below = await issuePoolGrant(w.home.store, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url });
    expect(below).toMatchObject({ ok: false, approvals: [w.members[0]!.did], rejections: [w.members[2]!.did] });
    expect(codes(below)).toEqual(['QUORUM_NOT_MET']);
    await castVote(w.home.store, w.members[1]!, p, 'approve');
    const ok = await issuePoolGrant(w.home.store, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url });
    expect(ok.ok).toBe(true);
    await expect(issuePoolGrant(w.home.store, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    // Every member's data, including the one who voted against: the pool decided.
    for (const m of w.members) {
      const d = await check(ok.jwt!, m.did);
      expect(codes(d)).toEqual([]);
      expect(d.pool).toMatchObject({ pool: w.pool.did, epoch: 0, threshold: 2, approvals: [w.members[0]!.did, w.members[1]!.did] });
    }
  });

  it('a proposal is executed within 30 days of being made: later, issuePoolGrant refuses (PROPOSAL_STALE) and nothing is issued', async () => {
    const p = await w.proposeGrant();
    await castVote(w.home.store, w.members[0]!, p, 'approve');
    await castVote(w.home.store, w.members[1]!, p, 'approve');
    const made = Date.parse(p.proposal.created);
    const late = await issuePoolGrant(w.home.store, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url, now: new Date(made + 31 * 86_400_000) });
    expect(late.ok).toBe(false);
    expect(codes(late)).toEqual(['PROPOSAL_STALE']);
    expect(late.result).toBeUndefined();
    // On time, the same proposal is granted.
    expect((await issuePoolGrant(w.home.store, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url })).ok).toBe(true);
  });

  it('a member votes once; a non-member cannot vote', async () => {
    const p = await w.proposeGrant();
    await castVote(w.home.store, w.members[0]!, p, 'approve');
    await expect(castVote(w.home.store, w.members[0]!, p, 'approve')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(castVote(w.home.store, w.platform, p, 'approve')).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
  });

  it('a member racing itself (same home, at once) stores one vote; the loser gets ALREADY_EXISTS', async () => {
    const p = await w.proposeGrant();
    const m = w.members[2]!;
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => castVote(w.home.store, m, p, i % 2 ? 'approve' : 'reject')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ALREADY_EXISTS' });
    const t = await tally(w.home.store, p, { resolver: w.resolver });
    expect(t.approvals.length + t.rejections.length).toBe(1);
  });

  it('a vote signed elsewhere is kept once: the same JWT again is a no-op, a second vote of that member is refused', async () => {
    const p = await w.proposeGrant();
    const { issueCredential } = await import('../../src/credentials/index.js');
    const me = await w.home.issuer('m1');
    const sign = (decision: string) =>
      issueCredential({
        issuer: me,
        subject: w.pool.did,
        type: 'PoolVoteCredential',
        claims: { vote: { proposal: p.hash, epoch: p.proposal.epoch.number, decision } },
        credentialSchema: { id: 'https://charter.dev/schemas/PoolVoteCredential.json', type: 'JsonSchema' },
      });
    const yes = await sign('approve');
    await receiveVote(w.home.store, yes.jwt, w.resolver);
    await receiveVote(w.home.store, yes.jwt, w.resolver);
    await expect(receiveVote(w.home.store, (await sign('reject')).jwt, w.resolver)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(receiveVote(w.home.store, (await sign('approve')).jwt, w.resolver)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    // Voting here after voting elsewhere is the same member voting twice.
    await expect(castVote(w.home.store, me, p, 'reject')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const t = await tally(w.home.store, p, { resolver: w.resolver });
    expect([t.approvals, t.rejections]).toEqual([[me.did], []]);
  });

  it('the owner rule: only a member of the pool, and never a personal grant of someone else', async () => {
    const g = await w.grant();
    expect(codes(await check(g.jwt, w.platform.did))).toEqual(['GRANT_NOT_OWNER']);
    expect(codes(await check(g.jwt, w.pool.did))).toEqual([]);
    expect(codes(await check(g.jwt, w.members[0]!.did, { resource: 'photos/1' }))).toEqual(['GRANT_SCOPE']);
    expect(codes(await check(g.jwt, w.members[0]!.did, { grantee: w.members[1]!.did }))).toEqual(['GRANTEE_MISMATCH']);
    // A pool grant cannot be revoked by one party alone through the personal-grant path.
    await expect(revokeGrant(w.home.store, g.id, (d) => w.home.issuer(d))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await listGrants(w.home.store, { grantor: w.pool.did })).find((x) => x.id === g.id)).toMatchObject({ pool: w.pool.did, state: 'active' });
  });

  it('the pool revokes a grant for everyone by the same threshold', async () => {
    const g = await w.grant();
    const p = await propose(w.home.store, w.pool, { action: 'revoke', target: g.id });
    await castVote(w.home.store, w.members[2]!, p, 'approve');
    const below = await revokePoolGrant(w.home.store, w.pool, p, { resolver: w.resolver });
    expect(codes(below)).toEqual(['QUORUM_NOT_MET']);
    expect(codes(await check(g.jwt, w.members[0]!.did))).toEqual([]);
    await castVote(w.home.store, w.members[1]!, p, 'approve');
    expect((await revokePoolGrant(w.home.store, w.pool, p, { resolver: w.resolver })).ok).toBe(true);
    w.freshStatus();
    expect(codes(await check(g.jwt, w.members[0]!.did))).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('a member admitted by the threshold accepts with its own signature, and a new epoch begins', async () => {
    const newcomer = await w.home.createIdentity({ alias: `newcomer` });
    const before = await w.proposeGrant();
    await castVote(w.home.store, w.members[0]!, before, 'approve');
    await castVote(w.home.store, w.members[1]!, before, 'approve');
    const p = await propose(w.home.store, w.pool, { action: 'admit', member: newcomer.did });
    await castVote(w.home.store, w.members[0]!, p, 'approve');
    await castVote(w.home.store, w.members[1]!, p, 'approve');
    const pending = await admitMember(w.home.store, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url });
    expect(pending.ok).toBe(false);
    expect(pending.pending?.member).toBe(newcomer.did);
    // The member signs elsewhere (charter pool accept) and sends its acceptance.
    const me = await w.home.issuer('newcomer');
    const wrong = await signAcceptance(me, w.pool.did, `${w.server.url}/status/nope#1`);
    await expect(admitMember(w.home.store, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url, acceptance: wrong })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const accepted = await signAcceptance(me, w.pool.did, pending.pending!.status);
    const done = await admitMember(w.home.store, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url, acceptance: accepted });
    expect(done).toMatchObject({ ok: true, pool: { epoch: 1, members: [...w.members.map((m) => m.did), newcomer.did] } });
    expect((await membershipOf(w.home.store, w.pool.did, newcomer.did))?.credential.type).toContain('PoolMembershipCredential');
    await expect(admitMember(w.home.store, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url, acceptance: accepted })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    // A proposal approved against the old membership is stale now, approvals or not.
    expect(codes(await issuePoolGrant(w.home.store, w.pool, before, { resolver: w.resolver, baseUrl: w.server.url }))).toEqual(['PROPOSAL_STALE']);
    expect((await w.proposeGrant()).proposal.epoch.number).toBe(1);
  });

  it('a member is admitted once: another admission proposal for it is refused, approved or not, stale or fresh; its leave still withdraws it from grants', async () => {
    const x = await w.home.createIdentity({ alias: 'admitted-once' });
    const me = await w.home.issuer('admitted-once');
    const accept = (pool: string, status: string) => signAcceptance(me, pool, status);
    const S = w.home.store;
    const opts = { resolver: w.resolver, baseUrl: w.server.url, acceptance: accept };
    const [p1, p2] = [await propose(S, w.pool, { action: 'admit', member: x.did }), await propose(S, w.pool, { action: 'admit', member: x.did })];
    for (const m of [w.members[0]!, w.members[1]!]) await castVote(S, m, p2, 'approve');
    expect((await admitMember(S, w.pool, p2, opts)).ok).toBe(true);
    const epoch = (await currentEpoch(S, w.pool.did)).number;
    // The sibling proposal of the old epoch: with one approval (stale and short), then with the threshold.
    await castVote(S, w.members[2]!, p1, 'approve');
    await expect(admitMember(S, w.pool, p1, opts)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await castVote(S, w.members[0]!, p1, 'approve');
    await expect(admitMember(S, w.pool, p1, opts)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    // A fresh proposal of the current epoch is not even made.
    await expect(propose(S, w.pool, { action: 'admit', member: x.did })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    // Nothing changed: one membership, the same epoch; the member's leave sets the bit the pool's grants name.
    expect((await currentEpoch(S, w.pool.did)).number).toBe(epoch);
    const g = await w.grant();
    const held = await membershipOf(S, w.pool.did, x.did);
    const snapshot = (await currentEpoch(S, w.pool.did)).members.find((m) => m.id === x.did)!;
    expect(acceptedStatus((held!.subject.membership as { accepted: string }).accepted)).toBe(acceptedStatus(snapshot.accepted));
    expect(codes(await check(g.jwt, x.did))).toEqual([]);
    await leavePool(S, w.pool, { notice: await signLeave(me, w.pool.did, acceptedStatus(snapshot.accepted)), resolver: w.resolver });
    w.freshStatus();
    expect(codes(await check(g.jwt, x.did))).toEqual(['MEMBER_WITHDRAWN']);
  });

  it('a member who leaves while a grant is being issued is not carried by it: PROPOSAL_STALE, no grant', async () => {
    const S = w.home.store;
    const leaver = await w.home.createIdentity({ alias: 'leaves-midway' });
    const me = await w.home.issuer('leaves-midway');
    const adm = await propose(S, w.pool, { action: 'admit', member: leaver.did });
    const voters = (await currentEpoch(S, w.pool.did)).members.map((m) => m.id);
    for (const m of w.members.filter((x) => voters.includes(x.did)).slice(0, 2)) await castVote(S, m, adm, 'approve');
    expect((await admitMember(S, w.pool, adm, { resolver: w.resolver, baseUrl: w.server.url, acceptance: (pool, status) => signAcceptance(me, pool, status) })).ok).toBe(true);
    const p = await w.proposeGrant();
    await castVote(S, me, p, 'approve');
    const other = w.members.find((x) => p.proposal.epoch.members.some((m) => m.id === x.did))!;
    await castVote(S, other, p, 'approve');
    // The store is slow to say whether the grant exists already (after the votes were counted, before the
    // grant is written); the approver's leave lands meanwhile.
    let leave: Promise<unknown> | undefined;
    const slow = new Proxy(S, {
      get(target, k, r) {
        const v = Reflect.get(target, k, r) as unknown;
        if (k === 'getCredential') {
          return async (rec: string) => {
            if (leave === undefined && rec.startsWith('urn:charter:pool-grant:')) {
              const held = await membershipOf(S, w.pool.did, me.did);
              leave = leavePool(S, w.pool, {
                notice: await signLeave(me, w.pool.did, acceptedStatus((held!.subject.membership as { accepted: string }).accepted)),
                resolver: w.resolver,
              });
              await leave;
            }
            return (v as (x: unknown) => Promise<unknown>).call(target, rec);
          };
        }
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const r = await issuePoolGrant(slow, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url });
    expect(leave).toBeDefined();
    expect(codes(r)).toEqual(['PROPOSAL_STALE']);
    expect(r.jwt).toBeUndefined();
    expect((await listGrants(S, {})).some((g) => g.id === r.result)).toBe(false);
  });

  it('a vote signed elsewhere is received and counted; findProposal takes a hash prefix', async () => {
    const p = await w.proposeGrant();
    const elsewhere = await w.home.issuer('m2');
    // Simulate a member's own home: the vote JWT, as it would arrive.
    const { issueCredential } = await import('../../src/credentials/index.js');
    const vote = await issueCredential({
      issuer: elsewhere,
      subject: w.pool.did,
      type: 'PoolVoteCredential',
      claims: { vote: { proposal: p.hash, epoch: p.proposal.epoch.number, decision: 'approve' } },
      credentialSchema: { id: 'https://charter.dev/schemas/PoolVoteCredential.json', type: 'JsonSchema' },
    });
    expect((await receiveVote(w.home.store, vote.jwt, w.resolver)).proposal).toBe(p.hash);
    expect((await findProposal(w.home.store, p.hash.slice(7, 17))).id).toBe(p.id);
    expect((await tally(w.home.store, p, { resolver: w.resolver })).approvals).toEqual([elsewhere.did]);
  });

  it('withdrawal: the leaving member is refused from the next status fetch; the others keep the grant', async () => {
    const g = await w.grant();
    const [a, b] = [w.members[0]!, w.members[1]!];
    const pending = await w.proposeGrant();
    await castVote(w.home.store, a, pending, 'approve');
    await castVote(w.home.store, b, pending, 'approve');
    const held = await membershipOf(w.home.store, w.pool.did, a.did);
    const notice = await signLeave(a, w.pool.did, acceptedStatus((held!.subject.membership as { accepted: string }).accepted));
    // Somebody else's signature on a's leave is refused.
    const forged = await signLeave(b, w.pool.did, acceptedStatus((held!.subject.membership as { accepted: string }).accepted));
    await expect(leavePool(w.home.store, w.pool, { notice: forged.replace(/\.[^.]+$/, '.AAAA'), resolver: w.resolver })).rejects.toSatisfy((e) => isCharterError(e));
    const left = await leavePool(w.home.store, w.pool, { notice, resolver: w.resolver });
    expect(left.members).not.toContain(a.did);
    w.freshStatus();
    expect(codes(await check(g.jwt, a.did))).toEqual(['MEMBER_WITHDRAWN']);
    expect(codes(await check(g.jwt, b.did))).toEqual([]);
    // A proposal voted before the withdrawal can no longer be executed.
    const stale = await issuePoolGrant(w.home.store, w.pool, pending, { resolver: w.resolver, baseUrl: w.server.url });
    expect(codes(stale)).toEqual(['PROPOSAL_STALE']);
    // Leaving again is harmless; a vote by the withdrawn member on a new proposal is refused.
    expect((await leavePool(w.home.store, w.pool, { notice, resolver: w.resolver })).members).not.toContain(a.did);
    const fresh = await w.proposeGrant();
    await expect(castVote(w.home.store, a, fresh, 'approve')).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
  });

  it('a member who left and was admitted again: its old leave request, replayed, withdraws nothing (INVALID_ARGUMENT); its new one does', async () => {
    const S = w.home.store;
    // Two members still in the pool (an earlier test's member left).
    const current = (await currentEpoch(S, w.pool.did)).members.map((m) => m.id);
    const [b, c] = w.members.filter((m) => current.includes(m.did)) as [(typeof w.members)[0], (typeof w.members)[0]];
    await w.home.createIdentity({ alias: 'returning' });
    const r = await w.home.issuer('returning');
    const admit = async () => {
      const p = await propose(S, w.pool, { action: 'admit', member: r.did });
      await castVote(S, b, p, 'approve');
      await castVote(S, c, p, 'approve');
      expect((await admitMember(S, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url, acceptance: (pool, status) => signAcceptance(r, pool, status) })).ok).toBe(true);
    };
    const noticeNow = async () => signLeave(r, w.pool.did, acceptedStatus(((await membershipOf(S, w.pool.did, r.did))!.subject.membership as { accepted: string }).accepted));
    await admit();
    const first = await noticeNow();
    await leavePool(S, w.pool, { notice: first, resolver: w.resolver });
    await admit();
    const g = await w.grant({ approvers: [w.members.indexOf(b), w.members.indexOf(c)] });
    w.freshStatus();
    expect(codes(await check(g.jwt, r.did))).toEqual([]);
    await expect(leavePool(S, w.pool, { notice: first, resolver: w.resolver })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    w.freshStatus();
    expect(codes(await check(g.jwt, r.did))).toEqual([]);
    expect((await currentEpoch(S, w.pool.did)).members.map((m) => m.id)).toContain(r.did);
    await leavePool(S, w.pool, { notice: await noticeNow(), resolver: w.resolver });
    w.freshStatus();
    expect(codes(await check(g.jwt, r.did))).toEqual(['MEMBER_WITHDRAWN']);
  });
});
