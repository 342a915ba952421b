import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainFor, delegateMandate, identityFor, issueAgentIdentity, issueMandate, operatorFor } from '../../src/agents/index.js';
import { credentialRecord, decodeCredential, issueCredential, recordCredential } from '../../src/credentials/index.js';
import { attestationsAbout, importAttestations, issueAttestation, issueReceipt } from '../../src/reputation/index.js';
import { openWorld, type World } from './fixture.js';
import { days } from './setup.js';

let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(() => w.close());

describe('chainFor: the chain an agent presents, root first, from the store', () => {
  it('follows parentId up from the newest mandate (or the one named), and refuses what it cannot complete', async () => {
    const [alice, a1, a2] = [w.issuer('s-alice'), w.issuer('s-a1'), w.issuer('s-a2')];
    const root = await issueMandate(w.store, alice, { agent: a1.did, authority: { actions: ['buy'], maxDelegationDepth: 1 }, validUntil: days(5), baseUrl: w.baseUrl });
    // Without validUntil the delegated link ends with its parent.
    const child = await delegateMandate(w.store, a1, { parentJwt: root.jwt, to: a2.did, authority: { actions: ['buy'], maxDelegationDepth: 0 }, baseUrl: w.baseUrl });
    expect(child.credential.validUntil).toBe(root.credential.validUntil);
    expect(await chainFor(w.store, a2.did)).toEqual([root.jwt, child.jwt]);
    expect(await chainFor(w.store, a1.did, root.id)).toEqual([root.jwt]);
    await expect(chainFor(w.store, a2.did, root.id)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(chainFor(w.store, w.issuer('s-nobody').did)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // A held link whose parent this store does not have.
    const orphan = await issueCredential({
      issuer: a2,
      subject: w.issuer('s-a3').did,
      type: 'AgentAuthorityCredential',
      claims: { authority: { actions: ['buy'], maxDelegationDepth: 0 } },
    });
    await recordCredential(w.store, orphan, { direction: 'held', parentId: 'urn:uuid:missing' });
    await expect(chainFor(w.store, w.issuer('s-a3').did)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('identityFor and operatorFor read the newest identity credential about the agent', async () => {
    const op = w.issuer('s-op');
    const agent = w.issuer('s-agent');
    expect(await identityFor(w.store, agent.did)).toBeUndefined();
    const id = await issueAgentIdentity(w.store, op, { agent: agent.did, name: 'x' });
    expect([await identityFor(w.store, agent.did), await operatorFor(w.store, agent.did)]).toEqual([id.jwt, op.did]);
  });
});

describe('recordCredential: one way every issuer keeps a credential', () => {
  it('reads issuer, subject, types and validity from the credential; options override; null keeps nothing', async () => {
    const alice = w.issuer('r-alice');
    const bob = w.issuer('r-bob');
    const vc = await issueCredential({ issuer: alice, subject: bob.did, type: 'EmailCredential', claims: { email: 'b@x' }, validUntil: days(2) });
    const rec = await recordCredential(null, vc, { direction: 'issued' });
    expect(rec).toMatchObject({ id: vc.id, issuer: alice.did, subject: bob.did, types: ['EmailCredential'], validUntil: vc.credential.validUntil, direction: 'issued' });
    expect(await w.store.getCredential(vc.id)).toBeUndefined();
    await recordCredential(w.store, vc, { direction: 'held', types: ['X'] });
    expect(await w.store.getCredential(vc.id)).toMatchObject({ direction: 'held', types: ['X'] });
    await expect(recordCredential(w.store, vc, { direction: 'issued' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(() => credentialRecord({ id: 'x', jwt: 'a.b.c' }, { direction: 'issued' })).toThrow(TypeError);
    expect(() => credentialRecord({ id: 'x', jwt: 'a.b.c' }, { direction: 'issued', issuer: alice.did })).toThrow(TypeError);
  });
});

describe('importAttestations', () => {
  it('verifies attestations once, keeps them as held, and says why it skipped the rest', async () => {
    const agent = w.issuer('i-agent');
    const shop = w.issuer('i-shop');
    const receipt = await issueReceipt(null, agent, { counterparty: shop.did, interactionId: 'o-1' });
    const a = await issueAttestation(null, shop, { receiptJwt: receipt.jwt, score: 0.7 });
    const r = await importAttestations(w.store, [a.jwt, a.jwt, receipt.jwt, 'not.a.jwt'], { resolver: w.resolver, status: w.status(), keep: w.store });
    expect(r.imported.map((i) => i.id)).toEqual([a.id]);
    expect(r.skipped.map((s) => s.code)).toEqual(['ALREADY_EXISTS', 'INVALID_CREDENTIAL', 'MALFORMED_JWT']);
    expect(await w.store.getCredential(a.id)).toMatchObject({ direction: 'held', issuer: shop.did, subject: agent.did });
    expect(await attestationsAbout(w.store, agent.did)).toEqual([a.jwt]);
    expect(decodeCredential(a.jwt).id).toBe(a.id);
  });
});
