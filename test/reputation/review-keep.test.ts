import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { issueCredential, schemaIdFor } from '../../src/credentials/index.js';
import { attestationsAbout, importAttestations, issueAttestation, issueReceipt, scoreFromStore } from '../../src/reputation/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { createStatusChecker } from '../../src/status/index.js';
import { makeIssuer, tempDir } from '../helpers.js';

/** importAttestations with `keep`: it never claims to have kept a JWT that another credential's id blocked. */
const resolver = createResolver();
const status = createStatusChecker({ resolver });
const opened: Store[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});
const fresh = async () => {
  const s = await openSqliteStore(join(tempDir('charter-rep-keep-'), 'r.db'));
  opened.push(s);
  return s;
};

async function world() {
  const [A, shop, S, X] = [makeIssuer(), makeIssuer(), makeIssuer(), makeIssuer()];
  const real = await issueAttestation(null, shop, { receiptJwt: (await issueReceipt(null, A, { counterparty: shop.did, interactionId: 'o1' })).jwt, score: 0 });
  const r = await issueReceipt(null, S, { counterparty: X.did, interactionId: 'sock' });
  const shadow = (
    await issueCredential({
      issuer: X,
      id: real.id,
      subject: S.did,
      type: 'ReputationAttestation',
      claims: { rating: { score: 1 }, interaction: r.id },
      credentialSchema: { id: schemaIdFor('ReputationAttestation')!, type: 'JsonSchema' },
      extra: { evidence: [{ id: r.id, type: ['Evidence', 'InteractionReceipt'], receipt: r.jwt }] },
    })
  ).jwt;
  return { A, shop, S, X, real, shadow };
}

describe('importAttestations keep', () => {
  it('reports notKept when another attester holds the id, and the rating still counts', async () => {
    const w = await world();
    for (const order of [
      [w.shadow, w.real.jwt],
      [w.real.jwt, w.shadow],
    ]) {
      const store = await fresh();
      const first = await importAttestations(store, [order[0]!], { resolver, status, keep: store });
      expect(first.notKept).toEqual([]);
      const second = await importAttestations(store, [order[1]!], { resolver, status, keep: store });
      expect(second.imported).toHaveLength(1);
      expect(second.notKept).toEqual([{ id: w.real.id, attester: order[1] === w.shadow ? w.X.did : w.shop.did, code: 'ALREADY_EXISTS', message: expect.any(String) }]);
      // the ratings table holds both, each about its own agent
      expect(await scoreFromStore(store, w.A.did, { resolver, status, trustedAttesters: [w.shop.did] })).toMatchObject({ score: 0, count: 1, attesters: 1 });
      expect(await scoreFromStore(store, w.S.did, { resolver, status, trustedAttesters: [w.X.did] })).toMatchObject({ score: 1, count: 1, attesters: 1 });
    }
  });

  it('an attestation this store issued itself (the same JWT) is kept, not reported', async () => {
    const w = await world();
    const store = await fresh();
    const own = await issueAttestation(store, w.shop, { receiptJwt: (await issueReceipt(null, w.A, { counterparty: w.shop.did, interactionId: 'o9' })).jwt, score: 0.5 });
    const r = await importAttestations(store, [own.jwt], { resolver, status, keep: store });
    expect(r).toMatchObject({ imported: [{ id: own.id }], notKept: [] });
    expect(await attestationsAbout(store, w.A.did)).toEqual([own.jwt]);
  });

  it('without keep, notKept is empty', async () => {
    const w = await world();
    const store = await fresh();
    expect((await importAttestations(store, [w.shadow, w.real.jwt], { resolver, status })).notKept).toEqual([]);
  });
});
