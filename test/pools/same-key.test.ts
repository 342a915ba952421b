import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { didKeyRef } from '../../src/did/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { readProposal } from '../../src/grants/index.js';
import { createPool, currentEpoch, joinerOf, propose } from '../../src/pools/index.js';
import { openPoolWorld, type PoolWorld } from './world.js';

/** One key is one member: a did:key and a did:jwk of it (or two did:jwk spellings) would vote twice. */
const person = () => {
  const kp = generateKeyPair('Ed25519');
  const signer = createSigner(kp.privateJwk);
  const spelt = (extra: Record<string, string>): Issuer => {
    const did = `did:jwk:${Buffer.from(JSON.stringify({ ...extra, ...kp.publicJwk })).toString('base64url')}`;
    return { ...didKeyRef('jwk', kp.publicJwk), did, kid: `${did}#0`, signer };
  };
  return { key: { ...didKeyRef('key', kp.publicJwk), signer } as Issuer, jwk: { ...didKeyRef('jwk', kp.publicJwk), signer } as Issuer, spelt };
};

let w: PoolWorld;
beforeAll(async () => {
  w = await openPoolWorld();
});
afterAll(async () => {
  await w.close();
});

describe('pool members are told apart by key', () => {
  it('createPool refuses two founders that are one key, under any pair of its DIDs', async () => {
    const ana = person();
    for (const [a, b] of [
      [ana.key, ana.jwk],
      [ana.jwk, ana.spelt({ use: 'sig' })],
      [ana.spelt({ kid: 'x' }), ana.key],
    ] as const) {
      await w.home.createIdentity({ alias: `pool-${Math.random().toString(36).slice(2)}` }).then(async (rec) => {
        const pool = await w.home.issuer(rec.alias);
        await expect(
          createPool(w.home.store, pool, { threshold: 2, founders: [joinerOf(a), joinerOf(b), joinerOf(w.members[0]!)], baseUrl: w.server.url, resolver: w.resolver }),
        ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      });
    }
  });

  it('a proposal to admit another DID of a current member is refused', async () => {
    const e = await currentEpoch(w.home.store, w.pool.did);
    const member = e.members[0]!.id;
    expect(member.startsWith('did:key:')).toBe(true);
    // The did:jwk of that member's key, built from its did:key document.
    const rec = (await w.home.store.listIdentities()).find((i) => i.did === member)!;
    const jwkDid = didKeyRef('jwk', rec.publicJwk).did;
    await expect(propose(w.home.store, w.pool, { action: 'admit', member: jwkDid })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(propose(w.home.store, w.pool, { action: 'admit', member })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });

  it('a verifier refuses a snapshot that lists one key twice', async () => {
    const p = await w.proposeGrant();
    const ana = person();
    const accepted = p.proposal.epoch.members[0]!.accepted;
    const doubled = { ...p.proposal, epoch: { ...p.proposal.epoch, members: [...p.proposal.epoch.members, { id: ana.key.did, accepted }, { id: ana.jwk.did, accepted }] } };
    const r = readProposal(doubled);
    expect(r.proposal).toBeUndefined();
    expect(r.reasons.map((x) => x.code)).toEqual(['INVALID_CREDENTIAL']);
    // Two different keys are two members (the control).
    const other = person();
    expect(
      readProposal({ ...doubled, epoch: { ...doubled.epoch, members: [...p.proposal.epoch.members, { id: ana.key.did, accepted }, { id: other.jwk.did, accepted }] } }).proposal,
    ).toBeDefined();
  });
});
