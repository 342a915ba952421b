import { describe, expect, it } from 'vitest';
import { createResolver, didKeyRef } from '../../src/did/index.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { decodeJwt, issueCredential, signJwt } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { countVotes, JOIN_TYP, proposalHash, type Proposal } from '../../src/grants/index.js';

/*
 * countVotes keeps votes it verified (seenVotes) and later checks only their
 * signature, as long as the call's now is past the vote's start. The start
 * is every lower bound verifyCredential applies, its `iat` included: a vote
 * first seen at one time must never answer for another time differently from
 * a fresh check of the same vote, whatever order the times come in.
 */

const party = (): Issuer => {
  const kp = generateKeyPair();
  return { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
};
const resolver = createResolver();
const POOL = party();
const MEMBER = party();
const LIST = 'https://pool.example/status/1';
const T = (s: string) => new Date(s);
const IAT_2030 = Date.parse('2030-01-01T00:00:00Z') / 1000;

async function proposal(): Promise<Proposal> {
  const accepted = await signJwt({ typ: JOIN_TYP }, { iss: MEMBER.did, sub: POOL.did, status: `${LIST}#1`, iat: 1 }, MEMBER.signer, MEMBER.kid);
  return {
    pool: POOL.did,
    epoch: { number: 0, threshold: 1, members: [{ id: MEMBER.did, accepted }] },
    action: 'admit',
    member: POOL.did,
    created: '2026-01-01T00:00:00Z',
    nonce: 'nonce-12345',
  };
}

/** A fresh approving vote (its own id, so its own JWT), with the time claims given (a null removes one). */
async function ballot(p: Proposal, times: { validFrom?: string | null; iat?: number | null }): Promise<string> {
  const { jwt } = await issueCredential({
    issuer: MEMBER,
    subject: POOL.did,
    type: 'PoolVoteCredential',
    validFrom: T('2020-01-01T00:00:00Z'),
    claims: { vote: { proposal: proposalHash(p), epoch: 0, decision: 'approve' } },
    credentialSchema: { id: 'https://charter.dev/schemas/PoolVoteCredential.json', type: 'JsonSchema' },
  });
  const d = decodeJwt(jwt);
  const payload: Record<string, unknown> = { ...d.payload };
  for (const [k, v] of Object.entries(times)) {
    if (v === null) delete payload[k];
    else if (v !== undefined) payload[k] = v;
  }
  return signJwt(d.header as never, payload, MEMBER.signer, d.header.kid as string);
}

const outcome = (q: Awaited<ReturnType<typeof countVotes>>) => ({ ok: q.ok, approvals: q.approvals.length, ignored: q.ignored.map((i) => i.code) });

interface At {
  now?: Date;
  skewSeconds?: number;
}
const opts = (at: At) => ({ resolver, ...(at.now ? { now: at.now } : {}), ...(at.skewSeconds !== undefined ? { skewSeconds: at.skewSeconds } : {}) });

/** Checks one vote at each time in turn, each answer compared with a never-seen twin's (a fresh check). */
async function sameAsFresh(p: Proposal, times: { validFrom?: string | null; iat?: number | null }, order: At[]): Promise<{ ok: boolean }[]> {
  const v = await ballot(p, times);
  const out = [];
  for (const at of order) {
    const cached = outcome(await countVotes(p, [v], opts(at)));
    const fresh = outcome(await countVotes(p, [await ballot(p, times)], opts(at)));
    expect(cached, `at ${at.now?.toISOString() ?? 'real time'} skew ${at.skewSeconds ?? 'default'}`).toEqual(fresh);
    out.push(cached);
  }
  return out;
}

describe('seen votes and the time of each call', () => {
  it('a vote issued in the future (iat 2030), first counted at 2031, is not counted at real time or 2025', async () => {
    const p = await proposal();
    const r = await sameAsFresh(p, { iat: IAT_2030 }, [{ now: T('2031-01-01T00:00:00Z') }, {}, { now: T('2025-01-01T00:00:00Z') }, { now: T('2031-06-01T00:00:00Z') }]);
    expect(r.map((x) => x.ok)).toEqual([true, false, false, true]);
  });

  it('the same in every order of times, around the iat and its skew', async () => {
    const p = await proposal();
    const times: At[] = [
      { now: T('2031-01-01T00:00:00Z') },
      { now: T('2029-12-31T23:59:30Z') }, // within the default 60 s skew: counted
      { now: T('2029-12-31T23:58:30Z') }, // 90 s early: not with the default skew
      { now: T('2029-12-31T23:58:30Z'), skewSeconds: 120 }, // ... but with 120 s
      { now: T('2029-12-31T23:58:30Z'), skewSeconds: 0 },
      { now: T('2030-01-01T00:00:00Z'), skewSeconds: 0 },
      {},
    ];
    const want = [true, true, false, true, false, true, Date.now() >= IAT_2030 * 1000 - 60_000];
    const orders = [times, [...times].reverse(), [times[2]!, times[0]!, times[4]!, times[3]!, times[6]!, times[5]!, times[1]!]];
    for (const order of orders) {
      const r = await sameAsFresh(p, { iat: IAT_2030 }, order);
      expect(r.map((x) => x.ok)).toEqual(order.map((t) => want[times.indexOf(t)]));
    }
  });

  it('a vote with no validFrom, only an iat, starts at its iat', async () => {
    const p = await proposal();
    const r = await sameAsFresh(p, { validFrom: null, iat: IAT_2030 }, [{ now: T('2031-01-01T00:00:00Z') }, { now: T('2029-01-01T00:00:00Z') }, {}]);
    expect(r.map((x) => x.ok)).toEqual([true, false, false]);
  });

  it('a vote whose validFrom is later than its iat starts at its validFrom', async () => {
    const p = await proposal();
    const r = await sameAsFresh(p, { validFrom: '2032-01-01T00:00:00Z', iat: IAT_2030 }, [
      { now: T('2033-01-01T00:00:00Z') },
      { now: T('2031-01-01T00:00:00Z') },
      { now: T('2029-01-01T00:00:00Z') },
      { now: T('2032-01-01T00:00:30Z') },
    ]);
    expect(r.map((x) => x.ok)).toEqual([true, false, false, true]);
  });
});
