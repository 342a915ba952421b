import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createResolver, didKeyRef } from '../../src/did/index.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { issueCredential, signJwt } from '../../src/credentials/index.js';
import type { Credential, Issuer, StatusChecker } from '../../src/credentials/types.js';
import { JOIN_TYP, proposalHash, verifyGrant, type GrantTerms, type Proposal } from '../../src/grants/index.js';
import { readProposal } from '../../src/grants/collective.js';

/*
 * The verifier's side of a collective grant, with every party a did:key in
 * memory and a status checker that answers from a set (no network), so the
 * quorum rule can be tried on many random vote sets.
 */

const party = (): Issuer => {
  const kp = generateKeyPair();
  return { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
};
const resolver = createResolver();
const POOL = party();
const PLATFORM = party();
/** People: 6 who can be members, plus 3 more keys (outsiders, or second keys of a member). */
const PEOPLE = Array.from({ length: 9 }, party);
const LIST = 'https://pool.example/status/1';
const DAY = 86_400_000;

/** Withdrawn membership entries (their bit is set) and the grant's own entry: what the stub status list says. */
function statusOf(withdrawn: ReadonlySet<string>): StatusChecker {
  return async (c: Credential) => {
    const entries = Array.isArray(c.credentialStatus) ? c.credentialStatus : c.credentialStatus ? [c.credentialStatus] : [];
    return entries.some((e) => e.statusListCredential === LIST && withdrawn.has(e.statusListIndex)) ? [{ code: 'CREDENTIAL_REVOKED', message: 'set' }] : [];
  };
}

const accept = (member: Issuer, index: number, pool = POOL.did) =>
  signJwt({ typ: JOIN_TYP }, { iss: member.did, sub: pool, status: `${LIST}#${index}`, iat: 1 }, member.signer, member.kid);

async function snapshot(members: Issuer[], threshold: number, number = 3): Promise<Proposal['epoch']> {
  return { number, threshold, members: await Promise.all(members.map(async (m) => ({ id: m.did, accepted: await accept(m, PEOPLE.indexOf(m)) }))) };
}

/** When the proposals here were made: an hour ago (their grants are issued now, inside the execution window). */
const CREATED = new Date(Date.now() - 3_600_000).toISOString();

function proposalOf(epoch: Proposal['epoch'], o: { terms?: GrantTerms; resources?: string[]; created?: string } = {}): Proposal {
  return {
    pool: POOL.did,
    epoch,
    action: 'grant',
    grant: {
      grantee: PLATFORM.did,
      resources: o.resources ?? ['health/*'],
      actions: ['read'],
      purpose: 'train a sleep model',
      ...(o.terms ? { terms: o.terms } : {}),
      duration: 'P30D',
    },
    created: o.created ?? CREATED,
    nonce: 'n0n0n0n0n0n0',
  };
}

const vote = (voter: Issuer, v: { proposal: string; epoch: number; decision: 'approve' | 'reject' }, pool = POOL.did) =>
  issueCredential({
    issuer: voter,
    subject: pool,
    type: 'PoolVoteCredential',
    claims: { vote: v },
    credentialSchema: { id: 'https://charter.dev/schemas/PoolVoteCredential.json', type: 'JsonSchema' },
  }).then((x) => x.jwt);

async function grantOf(
  p: Proposal,
  votes: string[],
  o: { issuer?: Issuer; grant?: Partial<NonNullable<Proposal['grant']>>; days?: number; subject?: string; validFrom?: Date } = {},
): Promise<string> {
  const g = { ...p.grant!, ...o.grant };
  const issuer = o.issuer ?? POOL;
  return (
    await issueCredential({
      issuer,
      subject: o.subject ?? g.grantee,
      type: 'DataAccessGrant',
      claims: { grant: { resources: g.resources, actions: g.actions, purpose: g.purpose, ...(g.terms ? { terms: g.terms } : {}) }, pool: { proposal: p, votes } },
      ...(o.validFrom ? { validFrom: o.validFrom } : {}),
      validUntil: new Date((o.validFrom?.getTime() ?? Date.now()) + (o.days ?? 30) * DAY - 60_000),
      credentialSchema: { id: 'https://charter.dev/schemas/DataAccessGrant.json', type: 'JsonSchema' },
      credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '100000', statusListCredential: LIST },
    })
  ).jwt;
}

const verify = (jwt: string, owner: string, o: { withdrawn?: Set<string>; purpose?: string; processing?: 'on-device' | 'trusted-execution' } = {}) =>
  verifyGrant(jwt, {
    resolver,
    status: statusOf(o.withdrawn ?? new Set()),
    resource: 'health/sleep',
    action: 'read',
    owner,
    grantee: PLATFORM.did,
    ...(o.purpose ? { purpose: o.purpose } : {}),
    ...(o.processing ? { processing: o.processing } : {}),
  });
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

/** One vote as a test describes it: who signs it (an index into PEOPLE), how, and what it binds. */
const voteArb = fc.record({
  voter: fc.integer({ min: 0, max: PEOPLE.length - 1 }),
  decision: fc.constantFrom('approve' as const, 'approve' as const, 'reject' as const),
  epoch: fc.constantFrom('same', 'same', 'same', 'previous', 'next'),
  proposal: fc.constantFrom('same', 'same', 'same', 'other'),
  pool: fc.constantFrom('same', 'same', 'same', 'same', 'other'),
});

describe('collective grants: the quorum a verifier counts itself', () => {
  it('a grant verifies exactly when k distinct members of its epoch approved this proposal (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(voteArb, { maxLength: 9 }),
        async (memberIdx, kRaw, votes) => {
          const members = memberIdx.map((i) => PEOPLE[i]!);
          const k = 1 + ((kRaw - 1) % members.length);
          const epoch = await snapshot(members, k);
          const p = proposalOf(epoch);
          const hash = proposalHash(p);
          const other = proposalHash({ ...p, nonce: 'another-nonce' });
          const jwts = await Promise.all(
            votes.map((v) =>
              vote(
                PEOPLE[v.voter]!,
                { proposal: v.proposal === 'same' ? hash : other, epoch: epoch.number + (v.epoch === 'same' ? 0 : v.epoch === 'next' ? 1 : -1), decision: v.decision },
                v.pool === 'same' ? POOL.did : PLATFORM.did,
              ),
            ),
          );
          // The oracle: distinct member DIDs with a fully valid approval and no fully valid rejection.
          const valid = votes.filter((v) => v.epoch === 'same' && v.proposal === 'same' && v.pool === 'same' && memberIdx.includes(v.voter));
          const approvers = new Set(valid.filter((v) => v.decision === 'approve').map((v) => v.voter));
          for (const v of valid) if (v.decision === 'reject') approvers.delete(v.voter);
          const d = await verify(await grantOf(p, jwts.length > 0 ? jwts : [await vote(PLATFORM, { proposal: hash, epoch: epoch.number, decision: 'approve' })]), members[0]!.did);
          expect(d.ok).toBe(approvers.size >= k);
          if (!d.ok) expect(codes(d)).toEqual(['QUORUM_NOT_MET']);
          else expect(new Set(d.pool!.approvals)).toEqual(new Set([...approvers].map((i) => PEOPLE[i]!.did)));
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);

  it('votes count per member DID: one member voting twice counts once; a second key counts only if it is a member too (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.boolean(), async (copies, secondKeyIsMember) => {
        // Person A controls PEOPLE[0] and PEOPLE[6]; B is PEOPLE[1]. Threshold 2.
        const members = secondKeyIsMember ? [PEOPLE[0]!, PEOPLE[6]!, PEOPLE[1]!] : [PEOPLE[0]!, PEOPLE[1]!];
        const epoch = await snapshot(members, 2);
        const p = proposalOf(epoch);
        const v = { proposal: proposalHash(p), epoch: epoch.number, decision: 'approve' as const };
        const votes = [...(await Promise.all(Array.from({ length: copies }, () => vote(PEOPLE[0]!, v)))), await vote(PEOPLE[6]!, v)];
        const d = await verify(await grantOf(p, votes), PEOPLE[1]!.did);
        expect(d.ok).toBe(secondKeyIsMember);
        if (!secondKeyIsMember) expect(codes(d)).toEqual(['QUORUM_NOT_MET']);
      }),
      { numRuns: 12 },
    );
  }, 60_000);

  it('a withdrawn member is in no later snapshot: its vote, old or new, never counts there (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('old-epoch', 'new-epoch'), fc.integer({ min: 0, max: 2 }), async (when, leaver) => {
        const before = [PEOPLE[0]!, PEOPLE[1]!, PEOPLE[2]!];
        const after = before.filter((_, i) => i !== leaver);
        const oldEpoch = await snapshot(before, 2, 4);
        const epoch = await snapshot(after, 2, 5);
        const p = proposalOf(epoch);
        const stayer = after[0]!;
        const leaving = before[leaver]!;
        const old = proposalOf(oldEpoch);
        const leaverVote =
          when === 'old-epoch'
            ? await vote(leaving, { proposal: proposalHash(old), epoch: 4, decision: 'approve' })
            : await vote(leaving, { proposal: proposalHash(p), epoch: 5, decision: 'approve' });
        const d = await verify(await grantOf(p, [await vote(stayer, { proposal: proposalHash(p), epoch: 5, decision: 'approve' }), leaverVote]), stayer.did);
        expect(codes(d)).toEqual(['QUORUM_NOT_MET']);
      }),
      { numRuns: 6 },
    );
  }, 60_000);

  it('the grant must be the proposal the votes approve: other scope, terms, grantee, issuer or a longer life is refused', async () => {
    const members = [PEOPLE[0]!, PEOPLE[1]!, PEOPLE[2]!];
    const p = proposalOf(await snapshot(members, 2));
    const v = { proposal: proposalHash(p), epoch: 3, decision: 'approve' as const };
    const votes = [await vote(PEOPLE[0]!, v), await vote(PEOPLE[1]!, v)];
    expect(codes(await verify(await grantOf(p, votes), PEOPLE[2]!.did))).toEqual([]);
    for (const g of [{ grant: { resources: ['health/*', 'photos/*'] } }, { grant: { purpose: 'anything' } }, { grant: { terms: { retention: 'P1D' } } }, { days: 31 }]) {
      expect(codes(await verify(await grantOf(p, votes, g), PEOPLE[2]!.did))).toEqual(['INVALID_CREDENTIAL']);
    }
    expect(codes(await verify(await grantOf(p, votes, { issuer: PEOPLE[3]! }), PEOPLE[2]!.did))).toContain('INVALID_CREDENTIAL');
    // A proposal edited after the vote: the votes are for another hash.
    const edited = { ...p, grant: { ...p.grant!, resources: ['health/*', 'photos/*'] } };
    expect(codes(await verify(await grantOf(edited, votes), PEOPLE[2]!.did))).toEqual(['QUORUM_NOT_MET']);
  });

  it('the owner rule: a member who accepted membership in this pool, not withdrawn now', async () => {
    const [a, b, victim] = [PEOPLE[0]!, PEOPLE[1]!, PEOPLE[7]!];
    // A "pool" listing someone who never joined it: the victim's acceptance is forged (signed by a).
    const forged = await signJwt({ typ: JOIN_TYP }, { iss: victim.did, sub: POOL.did, status: `${LIST}#7`, iat: 1 }, a.signer, a.kid);
    const elsewhere = await accept(victim, 7, PLATFORM.did);
    for (const accepted of [forged, elsewhere]) {
      const epoch = { ...(await snapshot([a, b], 1)), members: [...(await snapshot([a, b], 1)).members, { id: victim.did, accepted }] };
      const p = proposalOf(epoch);
      const g = await grantOf(p, [await vote(a, { proposal: proposalHash(p), epoch: 3, decision: 'approve' })]);
      expect(codes(await verify(g, victim.did))).toEqual(['GRANT_NOT_OWNER']);
      expect(codes(await verify(g, a.did))).toEqual([]);
    }
    const p = proposalOf(await snapshot([a, b], 1));
    const g = await grantOf(p, [await vote(a, { proposal: proposalHash(p), epoch: 3, decision: 'approve' })]);
    expect(codes(await verify(g, PEOPLE[5]!.did))).toEqual(['GRANT_NOT_OWNER']);
    expect(codes(await verify(g, b.did, { withdrawn: new Set(['1']) }))).toEqual(['MEMBER_WITHDRAWN']);
    expect(codes(await verify(g, a.did, { withdrawn: new Set(['1']) }))).toEqual([]);
  });

  it("a vote counts only from a member whose own acceptance the snapshot carries: junk, another's signature, another pool's, another member's", async () => {
    const [a, b, stranger] = [PEOPLE[0]!, PEOPLE[1]!, PEOPLE[8]!];
    const honest = await snapshot([a, b], 2);
    const fakes = [
      'AAAA.BBBB.CCCC',
      await signJwt({ typ: JOIN_TYP }, { iss: stranger.did, sub: POOL.did, status: `${LIST}#8`, iat: 1 }, a.signer, a.kid),
      await accept(stranger, 8, PLATFORM.did),
      await accept(a, 0),
      await signJwt({ typ: 'JWT' }, { iss: stranger.did, sub: POOL.did, status: `${LIST}#8`, iat: 1 }, stranger.signer, stranger.kid),
      await signJwt({ typ: JOIN_TYP }, { iss: stranger.did, sub: POOL.did, iat: 1 }, stranger.signer, stranger.kid),
    ];
    for (const accepted of fakes) {
      // The pool's snapshot lists a real member and the stranger, threshold 1: the stranger alone approves.
      const epoch = { number: 3, threshold: 1, members: [honest.members[0]!, { id: stranger.did, accepted }] };
      const p = proposalOf(epoch);
      const g = await grantOf(p, [await vote(stranger, { proposal: proposalHash(p), epoch: 3, decision: 'approve' })]);
      expect(codes(await verify(g, a.did))).toEqual(['QUORUM_NOT_MET']);
      // With the real member's vote beside it, the real member's alone counts.
      const g2 = await grantOf(p, [
        await vote(stranger, { proposal: proposalHash(p), epoch: 3, decision: 'approve' }),
        await vote(a, { proposal: proposalHash(p), epoch: 3, decision: 'approve' }),
      ]);
      const d = await verify(g2, a.did);
      expect(codes(d)).toEqual([]);
      expect(d.pool?.approvals).toEqual([a.did]);
    }
  });

  it('terms: the declared purpose and processing must fit; an unknown term fails closed', async () => {
    const [a] = [PEOPLE[0]!];
    const terms: GrantTerms = {
      purpose: ['model-training'],
      processing: 'trusted-execution',
      retention: 'P90D',
      onwardSharing: 'none',
      compensation: { amount: '0.05', currency: 'EUR', per: 'use', split: 'equal' },
    };
    const p = proposalOf(await snapshot([a], 1), { terms });
    const g = await grantOf(p, [await vote(a, { proposal: proposalHash(p), epoch: 3, decision: 'approve' })]);
    expect(codes(await verify(g, a.did, { purpose: 'model-training', processing: 'trusted-execution' }))).toEqual([]);
    expect(codes(await verify(g, a.did, { purpose: 'marketing', processing: 'trusted-execution' }))).toEqual(['PURPOSE_NOT_ALLOWED']);
    expect(codes(await verify(g, a.did, { processing: 'trusted-execution' }))).toEqual(['PURPOSE_NOT_ALLOWED']);
    expect(codes(await verify(g, a.did, { purpose: 'model-training', processing: 'on-device' }))).toEqual(['PROCESSING_NOT_ALLOWED']);
    expect(codes(await verify(g, a.did, { purpose: 'model-training' }))).toEqual(['PROCESSING_NOT_ALLOWED']);
    // A newer issuer's term this verifier does not know: refused, never ignored.
    const newer = { ...terms, maxRecords: 10 } as GrantTerms;
    const q = proposalOf(await snapshot([a], 1), { terms: newer });
    const unknown = await grantOf(q, [await vote(a, { proposal: proposalHash(q), epoch: 3, decision: 'approve' })]);
    expect(codes(await verify(unknown, a.did, { purpose: 'model-training', processing: 'trusted-execution' }))).toContain('UNKNOWN_TERM');
  });

  it('votes seen before are not trusted outside their validity: a decision before they were valid re-checks them in full', async () => {
    const [a, b] = [PEOPLE[0]!, PEOPLE[1]!];
    const p = proposalOf(await snapshot([a, b], 2));
    const v = { proposal: proposalHash(p), epoch: 3, decision: 'approve' as const };
    const later = new Date(Date.now() + 3_600_000);
    const ballot = (voter: Issuer) =>
      issueCredential({
        issuer: voter,
        subject: POOL.did,
        type: 'PoolVoteCredential',
        claims: { vote: v },
        validFrom: later,
        credentialSchema: { id: 'https://charter.dev/schemas/PoolVoteCredential.json', type: 'JsonSchema' },
      }).then((x) => x.jwt);
    const g = await grantOf(p, [await ballot(a), await ballot(b)]);
    const at = (now: Date) => verifyGrant(g, { resolver, status: statusOf(new Set()), resource: 'health/sleep', action: 'read', owner: a.did, grantee: PLATFORM.did, now });
    expect(codes(await at(new Date(later.getTime() + 60_000)))).toEqual([]);
    expect(codes(await at(new Date()))).toEqual(['QUORUM_NOT_MET']);
  });
  it('a grant starts within 30 days after its proposal was made: the votes approve that grant, not one reissued later', async () => {
    const [a, b] = [PEOPLE[0]!, PEOPLE[1]!];
    const DAY_ = 86_400_000;
    const made = Date.now() - 3_600_000;
    const p = proposalOf(await snapshot([a, b], 2), { created: new Date(made).toISOString() });
    const v = { proposal: proposalHash(p), epoch: 3, decision: 'approve' as const };
    const votes = [await vote(a, v), await vote(b, v)];
    const at = (g: string, now: Date) =>
      verifyGrant(g, { resolver, status: statusOf(new Set()), resource: 'health/sleep', action: 'read', owner: a.did, grantee: PLATFORM.did, now });
    // Issued the day after the proposal, checked then: fine.
    const onTime = await grantOf(p, votes, { validFrom: new Date(made + DAY_) });
    expect(codes(await at(onTime, new Date(made + 2 * DAY_)))).toEqual([]);
    // The same votes behind grants the pool's key issued later, each checked inside its own validity.
    for (const late of [31 * DAY_, 365 * DAY_, 399 * DAY_]) {
      const g = await grantOf(p, votes, { validFrom: new Date(made + late) });
      expect([late / DAY_, codes(await at(g, new Date(made + late + DAY_)))]).toEqual([late / DAY_, ['INVALID_CREDENTIAL']]);
    }
    // Nor before the proposal existed.
    const early = await grantOf(p, votes, { validFrom: new Date(made - DAY_), days: 1 });
    expect(codes(await at(early, new Date(made - DAY_ / 2)))).toContain('INVALID_CREDENTIAL');
  });

  it('a proposal whose created is not a strict date-time anchors nothing and is refused (the schema says so too)', async () => {
    const [a, b] = [PEOPLE[0]!, PEOPLE[1]!];
    const epoch = await snapshot([a, b], 2);
    expect(readProposal(proposalOf(epoch)).reasons).toEqual([]);
    for (const created of ['yesterday', '2026-12-04', '2026-12-04T10:00:00', '', 'Dec 4 2026 10:00 UTC', '2026-12-04t10:00:00z', '2026-02-30T10:00:00Z']) {
      const r = readProposal(proposalOf(epoch, { created }));
      expect([created, r.proposal, r.reasons.map((x) => x.code)]).toEqual([created, undefined, ['INVALID_CREDENTIAL']]);
    }
  });
});
