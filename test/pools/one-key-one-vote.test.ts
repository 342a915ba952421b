import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { issueCredential, schemaIdFor } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { countVotes, issueGrant, verifyGrant } from '../../src/grants/index.js';
import { admitMember, castVote, createPool, currentEpoch, issuePoolGrant, joinerOf, propose, receiveVote, tally, type StoredProposal } from '../../src/pools/index.js';
import { openPoolWorld, type PoolWorld } from './world.js';

/*
 * One key is one vote (README, Data pools: "a member counts once however many
 * votes it signs"; src/did/parties.ts: a did:web listing a key is that key's
 * holder). A did:key member and a did:web whose document lists the same key
 * must not make a 2-of-n quorum alone: refused at founding and admission, and
 * counted once (by the pool and by every verifier) if a document lists a
 * member's key only later.
 */

let w: PoolWorld;
let srv: Server;
let host: string;
const docs = new Map<string, unknown>();

beforeAll(async () => {
  w = await openPoolWorld({ members: 3, threshold: 2 });
  srv = createServer((req, res) => {
    const d = docs.get(req.url ?? '');
    if (!d) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(d));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  host = `127.0.0.1%3A${(srv.address() as { port: number }).port}`;
});
afterAll(async () => {
  srv.close();
  await w.close();
});

/** A did:web on the test host whose document lists `keys` (the first is the one it signs its acceptance with). */
function webDid(path: string, keys: { publicJwk: Issuer['publicJwk']; signer: Issuer['signer'] }[]): { issuers: Issuer[]; did: string; setKeys: (k: typeof keys) => void } {
  const did = `did:web:${host}:${path}`;
  const setKeys = (ks: typeof keys) => {
    const methods = ks.map((k, i) => ({ id: `${did}#k${i}`, type: 'JsonWebKey', controller: did, publicKeyJwk: k.publicJwk }));
    docs.set(`/${path}/did.json`, {
      '@context': ['https://www.w3.org/ns/did/v1'],
      id: did,
      verificationMethod: methods,
      assertionMethod: methods.map((m) => m.id),
      authentication: methods.map((m) => m.id),
    });
    w.resolver.clear(did);
  };
  setKeys(keys);
  const issuers = keys.map((k, i) => ({ did, kid: `${did}#k${i}`, keyType: k.publicJwk.crv, publicJwk: k.publicJwk, signer: k.signer }) as Issuer);
  return { issuers, did, setKeys };
}

const fresh = () => {
  const kp = generateKeyPair('Ed25519');
  return { publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) };
};
const unique = () => randomUUID().slice(0, 8);

/** A vote signed as `as` (any DID, any of its keys), kept by the pool as a vote from elsewhere unless `keep` is false. */
async function voteAs(as: Issuer, p: StoredProposal, decision: 'approve' | 'reject', keep = true): Promise<string> {
  const { jwt } = await issueCredential({
    issuer: as,
    subject: p.proposal.pool,
    type: 'PoolVoteCredential',
    claims: { vote: { proposal: p.hash, epoch: p.proposal.epoch.number, decision } },
    credentialSchema: { id: schemaIdFor('PoolVoteCredential')!, type: 'JsonSchema' },
  });
  if (keep) await receiveVote(w.home.store, jwt, w.resolver);
  return jwt;
}

describe('one key, one vote: a did:key and a did:web listing its key are one member', () => {
  it('founding: a did:web listing a founder key is refused as a second founder (the pool is not created)', async () => {
    const ana = w.members[0]!;
    const alias = webDid(`ana-${unique()}`, [ana]);
    const rec = await w.home.createIdentity({ alias: `pool-${unique()}` });
    const pool = await w.home.issuer(rec.alias);
    await expect(
      createPool(w.home.store, pool, {
        threshold: 2,
        founders: [joinerOf(ana), joinerOf(alias.issuers[0]!), joinerOf(w.members[1]!)],
        baseUrl: w.server.url,
        resolver: w.resolver,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(currentEpoch(w.home.store, pool.did)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Its own key makes it a founder like any other (the control).
    const other = webDid(`other-${unique()}`, [fresh()]);
    const ok = await createPool(w.home.store, pool, {
      threshold: 2,
      founders: [joinerOf(ana), joinerOf(other.issuers[0]!), joinerOf(w.members[1]!)],
      baseUrl: w.server.url,
      resolver: w.resolver,
    });
    expect(ok.members).toHaveLength(3);
  });

  it("admission: a did:web listing a member's key is refused (by propose with a resolver, and by admitMember in any case)", async () => {
    const ana = w.members[0]!;
    const alias = webDid(`ana2-${unique()}`, [ana]);
    await expect(propose(w.home.store, w.pool, { action: 'admit', member: alias.did }, { resolver: w.resolver })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    // Proposed without a lookup (as `pool invite` does) and approved: the admission itself refuses it.
    const inv = await propose(w.home.store, w.pool, { action: 'admit', member: alias.did });
    await castVote(w.home.store, w.members[1]!, inv, 'approve');
    await castVote(w.home.store, w.members[2]!, inv, 'approve');
    const before = await currentEpoch(w.home.store, w.pool.did);
    await expect(admitMember(w.home.store, w.pool, inv, { resolver: w.resolver, baseUrl: w.server.url, acceptance: joinerOf(alias.issuers[0]!).accept })).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    // Nor is it pending (no status entry named for it to accept).
    await expect(admitMember(w.home.store, w.pool, inv, { resolver: w.resolver, baseUrl: w.server.url })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect((await currentEpoch(w.home.store, w.pool.did)).number).toBe(before.number);
  });

  describe("a did:web admitted with its own key, whose document lists a member's key later", () => {
    let bob: ReturnType<typeof webDid>;
    let bobAsAna: Issuer;
    beforeAll(async () => {
      // A pool of 4 (ana, m1, m2, bob), 2 of them decide.
      bob = webDid(`bob-${unique()}`, [fresh()]);
      const inv = await propose(w.home.store, w.pool, { action: 'admit', member: bob.did }, { resolver: w.resolver });
      await castVote(w.home.store, w.members[0]!, inv, 'approve');
      await castVote(w.home.store, w.members[1]!, inv, 'approve');
      const adm = await admitMember(w.home.store, w.pool, inv, { resolver: w.resolver, baseUrl: w.server.url, acceptance: joinerOf(bob.issuers[0]!).accept });
      expect(adm.ok).toBe(true);
      expect(adm.pool!.members).toHaveLength(4);
      // Then bob's document also lists ana's key: ana can sign as bob.
      const ana = w.members[0]!;
      bob.setKeys([bob.issuers[0]!, ana]);
      bobAsAna = { did: bob.did, kid: `${bob.did}#k1`, keyType: ana.keyType, publicJwk: ana.publicJwk, signer: ana.signer };
    });

    it('the pool counts her once: ana as did:key and as bob approving, the other two rejecting, is no quorum', async () => {
      const p = await w.proposeGrant();
      await castVote(w.home.store, w.members[0]!, p, 'approve');
      await voteAs(bobAsAna, p, 'approve');
      await castVote(w.home.store, w.members[1]!, p, 'reject');
      await castVote(w.home.store, w.members[2]!, p, 'reject');
      const r = await issuePoolGrant(w.home.store, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url });
      expect(r.ok).toBe(false);
      expect(r.reasons.map((x) => x.code)).toEqual(['QUORUM_NOT_MET']);
      expect(r.approvals).toEqual([w.members[0]!.did]);
      expect(r.jwt).toBeUndefined();
    });

    it('a key approving under one DID and rejecting under another counts as neither, and is one rejection', async () => {
      const p = await w.proposeGrant();
      await castVote(w.home.store, w.members[0]!, p, 'approve');
      await voteAs(bobAsAna, p, 'reject');
      await castVote(w.home.store, w.members[1]!, p, 'approve');
      const t = await tally(w.home.store, p, { resolver: w.resolver });
      expect(t.ok).toBe(false);
      expect(t.approvals).toEqual([w.members[1]!.did]);
      expect(t.rejections).toEqual([bob.did]);
      expect(t.ignored.some((i) => i.issuer === w.members[0]!.did && i.code === 'QUORUM_NOT_MET')).toBe(true);
    });

    it('the verifier refuses a grant whose approvals share a key (QUORUM_NOT_MET); two members with their own keys are two', async () => {
      const p = await w.proposeGrant();
      const byKey = await (async () => {
        await castVote(w.home.store, w.members[0]!, p, 'approve');
        return (await w.home.store.listCredentials({ type: 'PoolVoteCredential', parentId: p.id })).find((r) => r.issuer === w.members[0]!.did)!.jwt;
      })();
      const byWeb = await voteAs(bobAsAna, p, 'approve');
      const byOwnKey = await voteAs(bob.issuers[0]!, p, 'approve', false);
      const grant = async (votes: string[]) =>
        (
          await issueGrant(w.home.store, w.pool, {
            id: `urn:uuid:${randomUUID()}`,
            grantee: w.platform.did,
            resources: p.proposal.grant!.resources,
            actions: p.proposal.grant!.actions,
            purpose: p.proposal.grant!.purpose,
            validFrom: new Date(),
            validUntil: new Date(Date.now() + 86_400_000),
            baseUrl: w.server.url,
            pool: { proposal: p.proposal, votes },
          })
        ).jwt;
      const verify = (jwt: string) =>
        verifyGrant(jwt, { resolver: w.resolver, status: w.status, resource: 'health/sleep', action: 'read', owner: w.members[2]!.did, grantee: w.platform.did });
      const shared = await verify(await grant([byKey, byWeb]));
      expect(shared.ok).toBe(false);
      expect(shared.reasons.map((x) => x.code)).toEqual(['QUORUM_NOT_MET']);
      const q = await countVotes(p.proposal, [byKey, byWeb], { resolver: w.resolver });
      expect(q.approvals).toEqual([w.members[0]!.did]);
      // bob signing with its own key is another member: two approvals.
      const distinct = await verify(await grant([byKey, byOwnKey]));
      expect(distinct.reasons).toEqual([]);
      expect(distinct.ok).toBe(true);
      expect(new Set(distinct.pool!.approvals)).toEqual(new Set([w.members[0]!.did, bob.did]));
    });
  });
});
