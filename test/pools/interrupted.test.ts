import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acceptedStatus,
  admitMember,
  castVote,
  currentEpoch,
  issuePoolGrant,
  joinerOf,
  leavePool,
  membershipOf,
  proposalOverview,
  propose,
  signLeave,
  type StoredProposal,
} from '../../src/pools/index.js';
import { DECISION_TYPE, MEMBERSHIP_TYPE, decisionId, putSigned, resultId } from '../../src/pools/records.js';
import type { Store } from '../../src/store/types.js';
import { openPoolWorld, type PoolWorld } from './world.js';

/*
 * The pool's signed decision record names a result only once it exists, and
 * an execution a crash interrupted is finished by running it again.
 */

/** A view of the store whose `method` runs `hook` first (once, when `when` says so). */
function hooked<K extends 'putCredential' | 'getCredential'>(store: Store, method: K, when: (arg: Parameters<Store[K]>[0]) => boolean, hook: () => Promise<void>): Store {
  let fired = false;
  return new Proxy(store, {
    get(t, k, r) {
      const v = Reflect.get(t, k, r) as unknown;
      if (typeof v !== 'function') return v;
      const bound = (v as (...a: unknown[]) => Promise<unknown>).bind(t);
      if (k !== method) return bound;
      return async (arg: Parameters<Store[K]>[0]) => {
        if (!fired && when(arg)) {
          fired = true;
          await hook();
        }
        return bound(arg);
      };
    },
  });
}
const crash = () => Promise.reject(new Error('simulated crash'));
const isType = (type: string) => (rec: unknown) => (rec as { types?: string[] }).types?.includes(type) === true;
const state = async (w: PoolWorld, p: StoredProposal) => (await proposalOverview(w.home.store, w.pool.did, { resolver: w.resolver })).find((o) => o.hash === p.hash)!.state;

let w: PoolWorld;
beforeEach(async () => {
  w = await openPoolWorld();
});
afterEach(async () => {
  await w.close();
});

describe('pool grant: the decision record names a grant only once it is issued', () => {
  it('a leave landing after the count, before the grant: PROPOSAL_STALE, no grant, no decision record, shown stale', async () => {
    const S = w.home.store;
    const [m0, m1, m2] = w.members as [(typeof w.members)[0], (typeof w.members)[0], (typeof w.members)[0]];
    const p = await w.proposeGrant();
    await castVote(S, m0, p, 'approve');
    await castVote(S, m1, p, 'approve');
    const held = await membershipOf(S, w.pool.did, m2.did);
    const notice = await signLeave(m2, w.pool.did, acceptedStatus((held!.subject.membership as { accepted: string }).accepted));
    const G = hooked(
      S,
      'getCredential',
      (id) => id === resultId(p.hash, 'grant'),
      async () => {
        await leavePool(S, w.pool, { notice, resolver: w.resolver });
      },
    );
    const r = await issuePoolGrant(G, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url });
    expect(r.ok).toBe(false);
    expect(r.reasons.map((x) => x.code)).toEqual(['PROPOSAL_STALE']);
    expect(await S.getCredential(resultId(p.hash, 'grant'))).toBeUndefined();
    expect(await S.getCredential(decisionId(p.hash))).toBeUndefined();
    expect(await state(w, p)).toBe('stale');
  });

  it('a decision record whose result does not exist is not "executed"', async () => {
    const S = w.home.store;
    const p = await w.proposeGrant();
    await castVote(S, w.members[0]!, p, 'approve');
    await castVote(S, w.members[1]!, p, 'approve');
    // A record naming a grant never issued (as an earlier version wrote when a leave landed in between).
    await putSigned(S, {
      issuer: w.pool,
      id: decisionId(p.hash),
      subject: w.pool.did,
      type: DECISION_TYPE,
      claims: { decision: { proposal: p.hash, action: 'grant', result: resultId(p.hash, 'grant'), approvals: [w.members[0]!.did, w.members[1]!.did] } },
    });
    expect(await state(w, p)).toBe('ready');
    const r = await issuePoolGrant(S, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url });
    expect(r.ok).toBe(true);
    expect(await state(w, p)).toBe('executed');
  });

  it('a crash after the grant, before its decision record: the grant stands, running it again records the decision', async () => {
    const S = w.home.store;
    const p = await w.proposeGrant();
    await castVote(S, w.members[0]!, p, 'approve');
    await castVote(S, w.members[1]!, p, 'approve');
    await expect(issuePoolGrant(hooked(S, 'putCredential', isType(DECISION_TYPE), crash), w.pool, p, { resolver: w.resolver, baseUrl: w.server.url })).rejects.toThrow(
      'simulated crash',
    );
    expect(await S.getCredential(resultId(p.hash, 'grant'))).toBeDefined();
    await expect(issuePoolGrant(S, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await S.getCredential(decisionId(p.hash))).toBeDefined();
    expect(await state(w, p)).toBe('executed');
  });
});

describe('pool admit: an interrupted admission is finished by running admit again', () => {
  async function invite() {
    await w.home.createIdentity({ alias: 'dan' });
    const dan = await w.home.issuer('dan');
    const inv = await propose(w.home.store, w.pool, { action: 'admit', member: dan.did });
    await castVote(w.home.store, w.members[0]!, inv, 'approve');
    await castVote(w.home.store, w.members[1]!, inv, 'approve');
    return { dan, inv };
  }
  const memberships = async (did: string) => (await w.home.store.listCredentials({ type: MEMBERSHIP_TYPE, subject: did })).length;

  it.each([
    ['with its acceptance again', true],
    ['without it (the stored membership carries it)', false],
  ])('a crash after the membership, before the new epoch: the retry %s reuses the membership and moves the epoch', async (_, again) => {
    const S = w.home.store;
    const { dan, inv } = await invite();
    const before = await currentEpoch(S, w.pool.did);
    await expect(
      admitMember(hooked(S, 'putCredential', isType('PoolEpochCredential'), crash), w.pool, inv, {
        resolver: w.resolver,
        baseUrl: w.server.url,
        acceptance: joinerOf(dan).accept,
      }),
    ).rejects.toThrow('simulated crash');
    expect(await memberships(dan.did)).toBe(1);
    expect((await currentEpoch(S, w.pool.did)).number).toBe(before.number);
    const r = await admitMember(S, w.pool, inv, { resolver: w.resolver, baseUrl: w.server.url, ...(again ? { acceptance: joinerOf(dan).accept } : {}) });
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
    const e = await currentEpoch(S, w.pool.did);
    expect(e.number).toBe(before.number + 1);
    expect(e.members.map((m) => m.id)).toContain(dan.did);
    expect(await memberships(dan.did)).toBe(1);
    // The epoch lists the very acceptance the membership holds.
    const held = await membershipOf(S, w.pool.did, dan.did);
    expect(e.members.find((m) => m.id === dan.did)!.accepted).toBe((held!.subject.membership as { accepted: string }).accepted);
    expect(await state(w, inv)).toBe('executed');
    await expect(admitMember(S, w.pool, inv, { resolver: w.resolver, baseUrl: w.server.url })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });

  it('a crash after the new epoch, before the decision record: the retry records it', async () => {
    const S = w.home.store;
    const { dan, inv } = await invite();
    await expect(
      admitMember(hooked(S, 'putCredential', isType(DECISION_TYPE), crash), w.pool, inv, { resolver: w.resolver, baseUrl: w.server.url, acceptance: joinerOf(dan).accept }),
    ).rejects.toThrow('simulated crash');
    expect((await currentEpoch(S, w.pool.did)).members.map((m) => m.id)).toContain(dan.did);
    const r = await admitMember(S, w.pool, inv, { resolver: w.resolver, baseUrl: w.server.url });
    expect(r.ok).toBe(true);
    expect(await S.getCredential(decisionId(inv.hash))).toBeDefined();
    await expect(admitMember(S, w.pool, inv, { resolver: w.resolver, baseUrl: w.server.url })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });

  it('a member-to-be that withdrew before its admission was finished is not admitted', async () => {
    const S = w.home.store;
    const { dan, inv } = await invite();
    await expect(
      admitMember(hooked(S, 'putCredential', isType('PoolEpochCredential'), crash), w.pool, inv, {
        resolver: w.resolver,
        baseUrl: w.server.url,
        acceptance: joinerOf(dan).accept,
      }),
    ).rejects.toThrow('simulated crash');
    const held = await membershipOf(S, w.pool.did, dan.did);
    await leavePool(S, w.pool, { notice: await signLeave(dan, w.pool.did, acceptedStatus((held!.subject.membership as { accepted: string }).accepted)), resolver: w.resolver });
    const r = await admitMember(S, w.pool, inv, { resolver: w.resolver, baseUrl: w.server.url });
    expect(r.ok).toBe(false);
    expect(r.reasons.map((x) => x.code)).toEqual(['MEMBER_WITHDRAWN']);
    expect((await currentEpoch(S, w.pool.did)).members.map((m) => m.id)).not.toContain(dan.did);
  });
});
