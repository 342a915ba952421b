import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueGrant, listGrants, revokeGrant, suspendGrant, verifyGrant } from '../../src/grants/index.js';
import { delegateMandate, issueMandate, listMandates, revokeMandate } from '../../src/agents/index.js';
import { allocateStatusEntry, ensureStatusList, setCredentialStatus } from '../../src/status/index.js';
import { openWorld, type World } from '../agents/fixture.js';
import { days, ROOT, step } from '../agents/setup.js';

/*
 * A credential's status entry is found by its id. Two issuers' credentials
 * under one id must never leave revoke free to set the other's bit while
 * reporting success: a second issuer is refused the id before anything is
 * allocated, and lookups keep to the credential's own issuer (for a store
 * written before, where both may hold entries).
 */

let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => {
  await w.close();
});

const RES = 'https://a.example/data';
const grantOf = (id: string, owner: ReturnType<World['issuer']>, grantee: string) =>
  issueGrant(w.store, owner, { id, grantee, resources: [RES], actions: ['read'], purpose: 'x', validUntil: days(5), baseUrl: w.baseUrl });
const verify = (jwt: string, owner: string, grantee: string) => verifyGrant(jwt, { resolver: w.resolver, status: w.status(), resource: RES, action: 'read', owner, grantee });

describe('one credential id, two issuers', () => {
  it('the second issuer is refused the id (ALREADY_EXISTS) before any entry is allocated, and revoke hits the first one', async () => {
    for (let i = 0; i < 6; i++) {
      const alice = w.issuer(`coll-alice-${i}`);
      const bob = w.issuer(`coll-bob-${i}`);
      const shop = w.issuer(`coll-shop-${i}`);
      const id = `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const g = await grantOf(id, alice, shop.did);
      const before = await w.store.findStatusAllocation(id);
      await expect(grantOf(id, bob, shop.did)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(allocateStatusEntry(w.store, { issuerDid: bob.did, baseUrl: w.baseUrl, purpose: 'revocation', credentialId: id })).rejects.toMatchObject({
        code: 'ALREADY_EXISTS',
      });
      expect(await w.store.findStatusAllocation(id)).toEqual(before);
      const change = await revokeGrant(w.store, id, w.issuerFor);
      expect(change.value).toBe(true);
      expect((await listGrants(w.store, { grantor: alice.did }))[0]!.state).toBe('revoked');
      const v = await verify(g.jwt, alice.did, shop.did);
      expect(v.reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
    }
  });

  it('the same issuer retrying an id gets the entry it was given', async () => {
    const alice = w.issuer('retry-alice');
    const id = 'urn:uuid:11111111-0000-4000-8000-000000000001';
    const a = await allocateStatusEntry(w.store, { issuerDid: alice.did, baseUrl: w.baseUrl, purpose: 'revocation', credentialId: id });
    const b = await allocateStatusEntry(w.store, { issuerDid: alice.did, baseUrl: w.baseUrl, purpose: 'revocation', credentialId: id });
    expect(b).toEqual(a);
  });

  it("a store already holding both issuers' entries (written before the refusal): grant lookups keep to the grant's issuer; the generic setter refuses to guess", async () => {
    for (let i = 0; i < 4; i++) {
      const alice = w.issuer(`legacy-alice-${i}`);
      const bob = w.issuer(`legacy-bob-${i}`);
      const shop = w.issuer(`legacy-shop-${i}`);
      const id = `urn:uuid:22222222-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const g = await grantOf(id, alice, shop.did);
      // Bob's entries under the same id, as an older version left them (straight through the store port).
      for (const purpose of ['revocation', 'suspension'] as const) {
        const list = await ensureStatusList(w.store, { issuerDid: bob.did, baseUrl: w.baseUrl, purpose });
        await w.store.allocateStatusIndex(list.id, id, (size) => randomInt(size));
      }
      expect((await w.store.findStatusAllocation(id)).length).toBe(4);
      await expect(setCredentialStatus(w.store, id, 'revocation', true, w.issuerFor)).rejects.toMatchObject({ code: 'STORE_ERROR' });
      await suspendGrant(w.store, id, w.issuerFor);
      expect((await listGrants(w.store, { grantor: alice.did }))[0]!.state).toBe('suspended');
      expect((await verify(g.jwt, alice.did, shop.did)).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_SUSPENDED']);
      await revokeGrant(w.store, id, w.issuerFor);
      expect((await listGrants(w.store, { grantor: alice.did }))[0]!.state).toBe('revoked');
      expect((await verify(g.jwt, alice.did, shop.did)).reasons.map((r) => r.code)).toContain('CREDENTIAL_REVOKED');
    }
  });
});

describe('listMandates: a link shows the state of its chain', () => {
  it('a delegated mandate below a revoked root (or a revoked middle link) is listed revoked, naming the ancestor', async () => {
    const p = w.issuer('chain-p');
    const a1 = w.issuer('chain-a1');
    const a2 = w.issuer('chain-a2');
    const a3 = w.issuer('chain-a3');
    const root = await issueMandate(w.store, p, { agent: a1.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    const mid = await delegateMandate(w.store, a1, { parentJwt: root.jwt, to: a2.did, authority: step(ROOT), baseUrl: w.baseUrl });
    const leaf = await delegateMandate(w.store, a2, { parentJwt: mid.jwt, to: a3.did, authority: step(step(ROOT)), baseUrl: w.baseUrl });
    const states = async () => {
      const all = await listMandates(w.store, {});
      return [root, mid, leaf].map((m) => {
        const s = all.find((x) => x.id === m.id)!;
        return [s.state, s.inheritedFrom];
      });
    };
    expect(await states()).toEqual([
      ['active', undefined],
      ['active', undefined],
      ['active', undefined],
    ]);
    await revokeMandate(w.store, mid.id, w.issuerFor);
    expect(await states()).toEqual([
      ['active', undefined],
      ['revoked', undefined],
      ['revoked', mid.id],
    ]);
    await revokeMandate(w.store, root.id, w.issuerFor);
    expect(await states()).toEqual([
      ['revoked', undefined],
      ['revoked', undefined],
      ['revoked', mid.id],
    ]);
    // A filter that leaves the ancestors out still reads them from the store.
    expect((await listMandates(w.store, { agent: a3.did })).map((m) => [m.state, m.inheritedFrom])).toEqual([['revoked', mid.id]]);
  });
});
