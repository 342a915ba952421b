import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireAgent, requireSignature } from '../../src/http/guards.js';
import { verifyRequest } from '../../src/http/request.js';
import { signatureHeaders } from '../../src/httpsig/index.js';
import { tamper } from '../helpers.js';
import { bound } from './present.js';
import { openWorld, type World } from './world.js';

/**
 * The order of the one pipeline when a request carries two proofs: a
 * refusal of either uses nothing up, so the other proof is still good; once
 * both hold, each is used once.
 */
describe('a presentation and a signature on one request: nothing is used up by a refusal', () => {
  let w: World;
  const URL_ = 'http://127.0.0.1:9999/orders';
  beforeAll(async () => {
    w = await openWorld();
  });
  afterAll(async () => {
    await w.close();
  });

  const guards = () =>
    [requireSignature({ keys: { keys: [w.agent.publicJwk] } }), requireAgent({ action: 'purchase', amount: () => '1 USD', trust: { principals: [w.principal.did] } })] as const;
  const request = (headers: Record<string, string>) => new Request(URL_, { method: 'POST', headers });
  const signature = () =>
    signatureHeaders({ method: 'POST', url: URL_, headers: {} }, { signer: w.agent.signer, publicJwk: w.agent.publicJwk }).then((h) => ({ ...h }) as Record<string, string>);

  it('a missing signature does not use the presentation up; a refused presentation does not use the signature up', async () => {
    const v = w.verifier();
    const creds = [w.agentIdentity, await w.mandate()];
    const vp = await bound(w.agent, creds, { method: 'POST', url: URL_ });
    const unsigned = await verifyRequest(request({ authorization: `Bearer ${vp}` }), v, ...guards());
    expect([unsigned.status, unsigned.reasons[0]?.code]).toEqual([401, 'SIGNATURE_MISSING']);

    const sig = await signature();
    // Bound and fresh, so the signature is verified; then the presentation's own signature fails.
    const forged = tamper(await bound(w.agent, creds, { method: 'POST', url: URL_ }), 1, (p) => (p.extra = 1));
    const refused = await verifyRequest(request({ ...sig, authorization: `Bearer ${forged}` }), v, ...guards());
    expect([refused.status, refused.reasons[0]?.code, refused.signature?.ok]).toEqual([401, 'INVALID_SIGNATURE', true]);

    // Both proofs, each still unused: allowed.
    const ok = await verifyRequest(request({ ...sig, authorization: `Bearer ${vp}` }), v, ...guards());
    expect(ok.reasons).toEqual([]);
    expect(ok).toMatchObject({ ok: true, holder: w.agent.did, signature: { ok: true } });
    await ok.spend?.release();

    // Now each is used: the signature with a fresh presentation, the presentation with a fresh signature.
    const fresh = await bound(w.agent, creds, { method: 'POST', url: URL_ });
    const sigAgain = await verifyRequest(request({ ...sig, authorization: `Bearer ${fresh}` }), v, ...guards());
    expect([sigAgain.status, sigAgain.reasons[0]?.code]).toEqual([401, 'SIGNATURE_REPLAYED']);
    const vpAgain = await verifyRequest(request({ ...(await signature()), authorization: `Bearer ${vp}` }), v, ...guards());
    expect([vpAgain.status, vpAgain.reasons[0]?.code]).toEqual([401, 'REPLAY_DETECTED']);
  });

  it('a store that fails while the nonce is used: 503, nothing allowed', async () => {
    const v = w.verifier();
    const only = requireSignature({ keys: { keys: [w.agent.publicJwk] } });
    w.storeDown(true);
    try {
      const d = await verifyRequest(request(await signature()), v, only);
      expect([d.status, d.reasons[0]?.code]).toEqual([503, 'STORE_UNAVAILABLE']);
    } finally {
      w.storeDown(false);
    }
    expect((await verifyRequest(request(await signature()), v, only)).ok).toBe(true);
  });
});
