import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyGrant } from '../../src/grants/index.js';
import {
  acceptedStatus,
  admitMember,
  castVote,
  currentEpoch,
  issuePoolGrant,
  leavePool,
  membershipOf,
  propose,
  revokePoolGrant,
  signAcceptance,
  signLeave,
  tally,
} from '../../src/pools/index.js';
import { decodeJwt } from '../../src/credentials/index.js';
import type { Store } from '../../src/store/types.js';
import { decisionId, list } from '../../src/pools/records.js';
import { openPoolWorld, type PoolWorld } from './world.js';

/**
 * Two processes on one home, as two `charter pool …` runs would be: each a
 * view of the same store whose calls a test can hold back, so the
 * interleavings that only timing produces in real life happen every run.
 * The library code runs unchanged.
 */
type Hook = (orig: (...a: unknown[]) => Promise<unknown>, ...a: unknown[]) => Promise<unknown>;
const instance = (store: Store, hooks: Partial<Record<keyof Store, Hook>>): Store =>
  new Proxy(store, {
    get(t, k, r) {
      const v = Reflect.get(t, k, r) as unknown;
      const h = hooks[k as keyof Store];
      if (typeof v !== 'function') return v;
      const bound = (v as (...a: unknown[]) => Promise<unknown>).bind(t);
      return h ? (...a: unknown[]) => h(bound, ...a) : bound;
    },
  });
const gate = () => {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { open, wait: () => p };
};

let w: PoolWorld;
beforeEach(async () => {
  w = await openPoolWorld();
});
afterEach(async () => {
  await w.close();
});

const check = async (jwt: string, owner: string) => {
  w.freshStatus();
  const d = await verifyGrant(jwt, { resolver: w.resolver, status: w.status, resource: 'health/sleep', action: 'read', owner, grantee: w.platform.did });
  return d.reasons.map((r) => r.code);
};

describe('pool executions racing each other or a leave', () => {
  it('two proposals admitting one newcomer, run at once: whichever membership its leave names, every grant covering it stops', async () => {
    const S = w.home.store;
    for (const which of ['newest', 'epoch'] as const) {
      const alias = `dan-${which}`;
      await w.home.createIdentity({ alias });
      const dan = await w.home.issuer(alias);
      const p1 = await propose(S, w.pool, { action: 'admit', member: dan.did });
      const p2 = await propose(S, w.pool, { action: 'admit', member: dan.did });
      for (const p of [p1, p2]) {
        await castVote(S, w.members[0]!, p, 'approve');
        await castVote(S, w.members[1]!, p, 'approve');
      }
      // A stores its membership, then B its own; A writes the epoch, then B tries to: both pass every check first.
      const aMember = gate();
      const bMember = gate();
      const aEpoch = gate();
      const isType = (rec: unknown, t: string) => ((rec as { types?: string[] }).types ?? []).includes(t);
      const A = instance(S, {
        putCredential: async (orig, rec) => {
          if (isType(rec, 'PoolMembershipCredential')) {
            try {
              return await orig(rec);
            } finally {
              aMember.open();
            }
          }
          if (!isType(rec, 'PoolEpochCredential')) return orig(rec);
          await bMember.wait();
          try {
            return await orig(rec);
          } finally {
            aEpoch.open();
          }
        },
      });
      const B = instance(S, {
        putCredential: async (orig, rec) => {
          if (isType(rec, 'PoolMembershipCredential')) {
            await aMember.wait();
            try {
              return await orig(rec);
            } finally {
              bMember.open();
            }
          }
          if (isType(rec, 'PoolEpochCredential')) await aEpoch.wait();
          return orig(rec);
        },
      });
      const opts = { resolver: w.resolver, baseUrl: w.server.url, acceptance: (pool: string, status: string) => signAcceptance(dan, pool, status) };
      const runs = await Promise.allSettled([admitMember(A, w.pool, p1, opts), admitMember(B, w.pool, p2, opts)]);
      expect(runs.filter((r) => r.status === 'fulfilled' && r.value.ok)).toHaveLength(1);
      const inEpoch = acceptedStatus((await currentEpoch(S, w.pool.did)).members.find((m) => m.id === dan.did)!.accepted);
      // The race this test is about: two memberships, the epoch naming one, the other left over (and maybe the newest record).
      const held = (await list(S, { issuer: w.pool.did, subject: dan.did, type: 'PoolMembershipCredential' })).map((m) =>
        acceptedStatus((m.subject.membership as { accepted: string }).accepted),
      );
      expect(held.sort()).toEqual([inEpoch, held.find((x) => x !== inEpoch)!].sort());
      const leftOver = held.find((x) => x !== inEpoch)!;
      const g = await w.grant();
      expect(await check(g.jwt, dan.did)).toEqual([]);
      // `charter pool leave --as` may name the left-over one (the newest record); a member reading the epoch names
      // the other: either stops the grant, which carries the epoch's.
      const status = which === 'newest' ? leftOver : inEpoch;
      await leavePool(S, w.pool, { notice: await signLeave(dan, w.pool.did, status), resolver: w.resolver });
      expect([which, await check(g.jwt, dan.did)]).toEqual([which, ['MEMBER_WITHDRAWN']]);
      expect((await currentEpoch(S, w.pool.did)).members.some((m) => m.id === dan.did)).toBe(false);
      // Leaving again (the other membership's request) only finishes; nothing is live to withdraw.
      const other = which === 'newest' ? inEpoch : leftOver;
      await expect(leavePool(S, w.pool, { notice: await signLeave(dan, w.pool.did, other), resolver: w.resolver })).resolves.toMatchObject({ withdrawn: dan.did });
    }
  });

  it('two admits of one proposal at once give the member one withdrawal entry: its leave stops every grant', async () => {
    const S = w.home.store;
    await w.home.createIdentity({ alias: 'dan' });
    const dan = await w.home.issuer('dan');
    const p = await propose(S, w.pool, { action: 'admit', member: dan.did });
    await castVote(S, w.members[0]!, p, 'approve');
    await castVote(S, w.members[1]!, p, 'approve');
    const mid = 'urn:charter:pool-membership:' + p.hash.replace(/^sha256-/, '');
    const bLooked = gate();
    const aAllocated = gate();
    const bDone = gate();
    // A allocates first but stores its membership late; B looked for an allocation before A's landed.
    const A = instance(S, {
      allocateStatusIndex: async (orig, ...a) => {
        if (a[1] !== mid) return orig(...a);
        await bLooked.wait();
        const r = await orig(...a);
        aAllocated.open();
        return r;
      },
      putCredential: async (orig, rec) => {
        if ((rec as { id: string }).id === mid) await bDone.wait();
        return orig(rec);
      },
    });
    let finds = 0;
    const B = instance(S, {
      findStatusAllocation: async (orig, id) => {
        const r = (await orig(id)) as unknown[];
        if (id === mid && ++finds === 2 && r.length === 0) {
          bLooked.open();
          await aAllocated.wait();
        }
        return r;
      },
    });
    const opts = { resolver: w.resolver, baseUrl: w.server.url, acceptance: (pool: string, status: string) => signAcceptance(dan, pool, status) };
    const results = await Promise.allSettled([admitMember(A, w.pool, p, opts), admitMember(B, w.pool, p, opts).finally(() => bDone.open())]);
    expect(results.some((r) => r.status === 'fulfilled' && r.value.ok)).toBe(true);
    expect(await S.findStatusAllocation(mid)).toHaveLength(1);
    const g = await w.grant();
    expect(await check(g.jwt, dan.did)).toEqual([]);
    const held = await membershipOf(S, w.pool.did, dan.did);
    const notice = await signLeave(dan, w.pool.did, acceptedStatus((held!.subject.membership as { accepted: string }).accepted));
    await leavePool(S, w.pool, { notice, resolver: w.resolver });
    expect(await check(g.jwt, dan.did)).toEqual(['MEMBER_WITHDRAWN']);
  });

  it('two `pool grant` runs of one proposal at once hand out a grant that the pool can revoke', async () => {
    const S = w.home.store;
    const p = await w.proposeGrant();
    await castVote(S, w.members[0]!, p, 'approve');
    await castVote(S, w.members[1]!, p, 'approve');
    const gid = 'urn:charter:pool-grant:' + p.hash.replace(/^sha256-/, '');
    const bLooked = gate();
    const aAllocated = gate();
    const bDone = gate();
    let allocs = 0;
    const A = instance(S, {
      allocateStatusIndex: async (orig, ...a) => {
        if (a[1] !== gid || ++allocs !== 1) return orig(...a);
        await bLooked.wait();
        const r = await orig(...a);
        aAllocated.open();
        return r;
      },
      putCredential: async (orig, rec) => {
        if ((rec as { id: string }).id === gid) await bDone.wait();
        return orig(rec);
      },
    });
    let finds = 0;
    const B = instance(S, {
      findStatusAllocation: async (orig, id) => {
        const r = (await orig(id)) as unknown[];
        if (id === gid && ++finds === 1 && r.length === 0) {
          bLooked.open();
          await aAllocated.wait();
        }
        return r;
      },
    });
    const o = { resolver: w.resolver, baseUrl: w.server.url };
    const results = await Promise.allSettled([issuePoolGrant(A, w.pool, p, o), issuePoolGrant(B, w.pool, p, o).finally(() => bDone.open())]);
    const jwt = results.map((r) => (r.status === 'fulfilled' ? r.value.jwt : undefined)).find(Boolean)!;
    expect(jwt).toBeDefined();
    const carried = (decodeJwt(jwt).payload.credentialStatus as { statusListIndex: string }[]).map((e) => Number(e.statusListIndex)).sort();
    expect((await S.findStatusAllocation(gid)).map((a) => a.index).sort()).toEqual(carried);
    expect(await check(jwt, w.members[2]!.did)).toEqual([]);
    const rp = await propose(S, w.pool, { action: 'revoke', target: gid });
    await castVote(S, w.members[1]!, rp, 'approve');
    await castVote(S, w.members[2]!, rp, 'approve');
    expect((await revokePoolGrant(S, w.pool, rp, { resolver: w.resolver })).ok).toBe(true);
    expect(await check(jwt, w.members[2]!.did)).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('a member leaving while `pool grant` runs (bit set, epoch not yet written): its approval is not carried', async () => {
    const S = w.home.store;
    const [m0, m1, m2] = w.members as [(typeof w.members)[0], (typeof w.members)[0], (typeof w.members)[0]];
    const p = await w.proposeGrant();
    await castVote(S, m0, p, 'approve');
    await castVote(S, m1, p, 'approve');
    await castVote(S, m2, p, 'reject');
    const held = await membershipOf(S, w.pool.did, m0.did);
    const notice = await signLeave(m0, w.pool.did, acceptedStatus((held!.subject.membership as { accepted: string }).accepted));
    const grantDone = gate();
    const bitSet = gate();
    let leave: Promise<unknown> | undefined;
    const L = instance(S, {
      setStatusBit: async (orig, ...a) => {
        const r = await orig(...a);
        bitSet.open();
        return r;
      },
      putCredential: async (orig, rec) => {
        if ((rec as { types?: string[] }).types?.includes('PoolEpochCredential')) await grantDone.wait();
        return orig(rec);
      },
    });
    // The leave lands after the votes were counted (while `pool grant` looks whether the grant exists
    // already), before the grant is written.
    const G = instance(S, {
      getCredential: async (orig, id) => {
        if (leave === undefined && String(id).startsWith('urn:charter:pool-grant:')) {
          leave = leavePool(L, w.pool, { notice, resolver: w.resolver });
          await bitSet.wait();
        }
        return orig(id);
      },
    });
    const r = await issuePoolGrant(G, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url });
    grantDone.open();
    await leave;
    expect(leave).toBeDefined();
    expect(r.ok).toBe(false);
    expect(r.reasons.map((x) => x.code)).toEqual(['PROPOSAL_STALE']);
    expect(r.jwt).toBeUndefined();
    // Nor does the pool sign a decision saying it was granted.
    expect(await S.getCredential(decisionId(p.hash))).toBeUndefined();
    expect((await currentEpoch(S, w.pool.did)).members.map((m) => m.id)).not.toContain(m0.did);
  });

  it("a leave completed between an admission's count and its epoch read: the admission is stale", async () => {
    const S = w.home.store;
    const [m0, m1, m2] = w.members as [(typeof w.members)[0], (typeof w.members)[0], (typeof w.members)[0]];
    await w.home.createIdentity({ alias: 'eve' });
    const eve = await w.home.issuer('eve');
    const p = await propose(S, w.pool, { action: 'admit', member: eve.did });
    await castVote(S, m0, p, 'approve');
    await castVote(S, m1, p, 'approve');
    await castVote(S, m2, p, 'reject');
    const held = await membershipOf(S, w.pool.did, m0.did);
    const notice = await signLeave(m0, w.pool.did, acceptedStatus((held!.subject.membership as { accepted: string }).accepted));
    let epochReads = 0;
    const A = instance(S, {
      listCredentials: async (orig, f) => {
        // The second read of the epochs is admitMember's own, right after its tally: the leave lands there.
        if ((f as { type?: string } | undefined)?.type === 'PoolEpochCredential' && ++epochReads === 2) await leavePool(S, w.pool, { notice, resolver: w.resolver });
        return orig(f);
      },
    });
    const r = await admitMember(A, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url, acceptance: (pool, st) => signAcceptance(eve, pool, st) });
    expect(r.ok).toBe(false);
    expect(r.reasons.map((x) => x.code)).toEqual(['PROPOSAL_STALE']);
    expect((await currentEpoch(S, w.pool.did)).members.map((m) => m.id)).not.toContain(eve.did);
    expect((await tally(S, p, { resolver: w.resolver })).reasons.map((x) => x.code)).toEqual(['PROPOSAL_STALE']);
  });
});
