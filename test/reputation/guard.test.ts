import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderChain } from '../../src/agents/index.js';
import { createPresentation, issueCredential } from '../../src/credentials/index.js';
import { guardTransaction } from '../../src/guard/transaction.js';
import {
  decisionReceiptEvidence,
  importAttestations,
  interactionReceiptEvidence,
  issueAttestation,
  issueReceipt,
  reputationSource,
  scoreFromStore,
} from '../../src/reputation/index.js';
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
      const receipt = await issueReceipt(null, w.agent, { counterparty: by.did, interactionId: `tx-${by.did}-${score}` });
      return issueAttestation(revocable ? w.home.store : null, by, { receiptJwt: receipt.jwt, score, ...(revocable ? { baseUrl: w.server.url } : {}) });
    };
    const good = await rated(shopIssuer, 0.9, true);
    const byOperator = await rated(w.operator, 1, false);
    const imported = await importAttestations(w.apiStore, [good.jwt, byOperator.jwt], { resolver: w.resolver, status: w.status });
    expect(imported.imported.length).toBe(2);

    const reputation = reputationSource(w.apiStore, { resolver: w.resolver, status: w.status, trustedAttesters: [shop.did, w.operator.did], statusFreshnessSeconds: 0 });
    const verifier = w.verifier();
    const mandate = await w.mandate();
    const present = () => createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API });
    const request = (minReputation: number) => ({
      verifier,
      action: 'purchase',
      amount: '5 USD',
      trust: { principals: [w.principal.did], identityIssuers: [w.operator.did], minReputation },
      reputation,
    });
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

describe("a verifier's decision receipt as the interaction proof", () => {
  it('an allowed transaction lets the verifier rate the agent, once per receipt; a denied one does not', async () => {
    await w.home.createIdentity({ alias: 'rep-verifier' });
    const verifierId = await w.home.issuer('rep-verifier');
    const verifier = w.verifier({ receipts: { signer: verifierId } });
    const mandate = await w.mandate();
    const present = () => createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API });
    const trust = { principals: [w.principal.did] };
    const ok = await guardTransaction(await present(), { verifier, action: 'purchase', amount: '5 USD', trust }, () => 'done');
    const no = await guardTransaction(await present(), { verifier, action: 'refund', amount: '5 USD', trust }, () => 'done');
    const allowed = ok.ok ? ok.receipt! : '';
    const denied = no.ok ? '' : no.receipt!;
    expect([allowed.length > 0, denied.length > 0]).toEqual([true, true]);
    const rate = async (receipt: string, score: number) => {
      const entry = decisionReceiptEvidence(receipt);
      return issueCredential({
        issuer: verifierId,
        subject: w.agent.did,
        type: 'ReputationAttestation',
        claims: { rating: { score }, interaction: entry.id },
        extra: { evidence: [entry] },
      });
    };
    const [good, again, refused] = [await rate(allowed, 0.9), await rate(allowed, 0.1), await rate(denied, 0.1)];
    const r = await importAttestations(w.apiStore, [good.jwt, again.jwt, refused.jwt], { resolver: w.resolver, status: w.status });
    expect(r.imported.map((i) => i.id).sort()).toEqual([good.id, again.id].sort());
    expect(r.skipped.map((s) => [s.id, s.code])).toEqual([[refused.id, 'RECEIPT_INVALID']]);
    // Only the interaction's first rating counts.
    const s = await scoreFromStore(w.apiStore, w.agent.did, { resolver: w.resolver, status: w.status, trustedAttesters: [verifierId.did] });
    const mine = [good.id, again.id];
    expect(s.ignored.filter((i) => mine.includes(i.id)).map((i) => i.code)).toEqual(['RECEIPT_REUSED']);
    expect(s.attestations.filter((a) => mine.includes(a.id)).map((a) => a.receipt)).toEqual([decisionReceiptEvidence(allowed).id]);
    // Without the decision-receipt check, the same attestation has no proof the importer accepts.
    const other = await rate(allowed, 0.5);
    const strict = await importAttestations(w.apiStore, [other.jwt], { resolver: w.resolver, status: w.status, evidence: [interactionReceiptEvidence] });
    expect(strict.skipped.map((x) => x.code)).toEqual(['RECEIPT_INVALID']);
  });
});
