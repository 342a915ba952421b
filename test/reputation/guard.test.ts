import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderChain } from '../../src/agents/index.js';
import { createPresentation } from '../../src/credentials/index.js';
import { guardTransaction } from '../../src/guard/transaction.js';
import { importAttestations, issueAttestation, issueReceipt, reputationSource } from '../../src/reputation/index.js';
import { setCredentialStatus } from '../../src/status/index.js';
import { API, openWorld, type World } from '../http/world.js';

/** reputationSource as trust.minReputation's source in the one decision pipeline (guardTransaction). */
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => w.close());

describe('a store-backed reputation source in guardTransaction', () => {
  it('allows above the threshold from imported ratings, ignores the operator, and refuses once the rating is revoked', async () => {
    const shop = await w.home.createIdentity({ alias: 'rep-shop' });
    const shopIssuer = await w.home.issuer('rep-shop');
    const rated = async (by: typeof shopIssuer, score: number, revocable: boolean) => {
      const receipt = await issueReceipt(w.agent, { counterparty: by.did, interactionId: `tx-${by.did}-${score}` });
      return issueAttestation(by, { receiptJwt: receipt.jwt, score, ...(revocable ? { store: w.home.store, baseUrl: w.server.url } : {}) });
    };
    const good = await rated(shopIssuer, 0.9, true);
    const byOperator = await rated(w.operator, 1, false);
    const imported = await importAttestations(w.apiStore, [good.jwt, byOperator.jwt], { resolver: w.resolver, status: w.status });
    expect(imported.imported.length).toBe(2);

    const reputation = reputationSource(w.apiStore, { resolver: w.resolver, status: w.status, trustedAttesters: [shop.did, w.operator.did], statusFreshnessSeconds: 0 });
    const verifier = w.verifier();
    const mandate = await w.mandate();
    const present = () => createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API });
    const request = (minReputation: number) => ({ verifier, action: 'purchase', amount: '5 USD', trust: { principals: [w.principal.did], minReputation }, reputation });
    let runs = 0;
    const ok = await guardTransaction(await present(), request(0.85), () => ++runs);
    expect(ok).toMatchObject({ ok: true, spend: 'committed' });
    // The operator's perfect 1.0 would lift the score to 0.95: it does not count (the guard names the operator).
    const high = await guardTransaction(await present(), request(0.91), () => ++runs);
    expect(high).toMatchObject({ ok: false, reasons: [{ code: 'REPUTATION_TOO_LOW' }] });
    expect(runs).toBe(1);

    await setCredentialStatus(w.home.store, good.id, 'revocation', true, (d) => w.home.issuer(d));
    w.freshStatus();
    const after = await guardTransaction(await present(), request(0.5), () => ++runs);
    expect(after).toMatchObject({ ok: false, reasons: [{ code: 'REPUTATION_TOO_LOW' }] });
    expect(runs).toBe(1);
  });
});
