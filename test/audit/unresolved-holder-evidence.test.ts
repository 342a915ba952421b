import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { exportEvidence, verifyEvidence } from '../../src/audit/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createPresentation } from '../../src/credentials/index.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { openWorld, type World } from '../http/world.js';

/**
 * A refusal because the holder's did:web could not be resolved (a refused
 * address, a name that does not resolve) has no document to put in its
 * bundle; offline, the re-check reads that as DID_NOT_FOUND. The receipt
 * (DID_RESOLUTION_FAILED, what the guard tells every remote party) and the
 * evidence agree: one failure to resolve. The bundle verifies, and still
 * names the refusal.
 */
let w: World;
let shop: Issuer;
let v: Verifier;
beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'shop' });
  shop = await w.home.issuer('shop');
  v = w.verifier({ receipts: { signer: shop } });
}, 30_000);
afterAll(async () => w?.close());

describe('evidence of a refusal for an unresolvable holder', () => {
  it.each(['10.0.0.5', '169.254.169.254', 'nx.invalid'])('did:web:%s: the bundle verifies offline and names the refusal', async (host) => {
    const kp = generateKeyPair('Ed25519');
    const holder = { did: `did:web:${host}`, kid: `did:web:${host}#key-1`, keyType: 'Ed25519', publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) } as unknown as Issuer;
    const url = 'http://127.0.0.1:9999/profile/email';
    const vp = await createPresentation({ holder, credentials: [], aud: 'did:web:api.example', claims: { htm: 'GET', htu: url } });
    const d = await decide(v, vp, { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did }, { kind: 'http', method: 'GET', url });
    expect([d.ok, d.status, d.reasons[0]?.code]).toEqual([false, 401, 'DID_RESOLUTION_FAILED']);
    await v.receipts!.flush();
    const e = await verifyEvidence(await exportEvidence(w.apiStore, d.receiptId!, { signer: shop }));
    expect(e.parts.filter((p) => !p.ok).map((p) => `${p.part}: ${p.reasons.map((r) => r.message).join('; ')}`)).toEqual([]);
    expect(e.ok).toBe(true);
    expect(e.receipt).toMatchObject({ decision: 'deny', reasons: expect.arrayContaining(['DID_RESOLUTION_FAILED']) });
  });
});
