import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresentation, issueCredential, decodeCredential } from '../../src/credentials/index.js';
import { orderChain } from '../../src/agents/index.js';
import { guardTransaction } from '../../src/guard/transaction.js';
import { checkReceiptEvidence, decisionReceiptEvidence, findDecisionReceipt } from '../../src/reputation/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { tamper } from '../helpers.js';
import { API, openWorld, type World } from '../http/world.js';

/** A verifier's receipt of an allowed transaction, accepted as the interaction proof a rating cites. */
let w: World;
let shop: Issuer;
let allowed: string;
let denied: string;
beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'shop' });
  shop = await w.home.issuer('shop');
  const v = w.verifier({ receipts: { signer: shop } });
  const mandate = await w.mandate();
  const present = () => createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API });
  const trust = { principals: [w.principal.did] };
  const ok = await guardTransaction(await present(), { verifier: v, action: 'purchase', amount: '5 USD', trust }, () => 'done');
  allowed = ok.ok ? ok.receipt! : '';
  const no = await guardTransaction(await present(), { verifier: v, action: 'refund', amount: '5 USD', trust }, () => 'done');
  denied = no.ok ? '' : no.receipt!;
});
afterAll(async () => w.close());

const check = (receipt: string, o: { agent?: string; attester?: string } = {}) =>
  checkReceiptEvidence(receipt, { resolver: w.resolver, agent: o.agent ?? w.agent.did, attester: o.attester ?? shop.did });
const codes = async (p: ReturnType<typeof check>) => (await p).reasons.map((r) => r.code);

describe('a decision receipt as reputation evidence', () => {
  it('a receipt of an allowed transaction proves the interaction between the verifier and the agent, once per receipt id', async () => {
    const r = await check(allowed);
    expect(r.reasons).toEqual([]);
    expect(r.interaction).toMatch(/^urn:uuid:/);
  });

  it('refused: a denied transaction, another agent, another attester, an altered or re-encoded receipt, something else', async () => {
    expect(await codes(check(denied))).toEqual(['RECEIPT_INVALID']);
    expect(await codes(check(allowed, { agent: w.app.did }))).toEqual(['RECEIPT_INVALID']);
    expect(await codes(check(allowed, { attester: w.operator.did }))).toEqual(['RECEIPT_INVALID']);
    expect(
      await codes(
        check(
          tamper(allowed, 1, (p) => (p.sub = w.app.did)),
          { agent: w.app.did },
        ),
      ),
    ).toEqual(['RECEIPT_INVALID']);
    const last = allowed.at(-1)!;
    const reencoded = allowed.slice(0, -1) + String.fromCharCode(last.charCodeAt(0) ^ 1);
    expect((await check(reencoded)).ok).toBe(false);
    expect(await codes(check(w.agentIdentity))).toEqual(['RECEIPT_INVALID']);
    expect(await codes(check('not-a-jwt'))).toEqual(['RECEIPT_INVALID']);
  });

  it('a payload signed by the attester that is not a whole receipt proves nothing: each member a receipt must have, missing or of another type', async () => {
    const { signPayload, RECEIPT_TYP } = await import('../../src/audit/jws.js');
    const { canonicalJson } = await import('../../src/encoding/json.js');
    const real = JSON.parse(Buffer.from(allowed.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const resign = (claims: Record<string, unknown>) => signPayload(RECEIPT_TYP, canonicalJson(claims), shop);
    // The real receipt's claims, signed again: accepted (the control).
    expect((await check(await resign(real))).reasons).toEqual([]);
    // What a stranger mints by hand: kind, decision, subject, id and time only.
    const minimal = { iss: shop.did, jti: 'urn:uuid:1', time: new Date().toISOString(), kind: 'decision', decision: 'allow', sub: w.agent.did };
    expect(await codes(check(await resign(minimal)))).toEqual(['RECEIPT_INVALID']);
    const without = (k: string) => Object.fromEntries(Object.entries(real).filter(([x]) => x !== k));
    for (const k of ['iat', 'time', 'log', 'request', 'policy', 'credentials', 'chain', 'reasons', 'status', 'verifier']) {
      expect([k, await codes(check(await resign(without(k))))]).toEqual([k, ['RECEIPT_INVALID']]);
    }
    for (const [k, v] of [
      ['iat', String(real.iat)],
      ['time', 'yesterday'],
      ['log', { chain: 'c', seq: 0, prev: null }],
      ['reasons', ['GRANT_SCOPE']],
      ['credentials', [{ id: 'x' }]],
      ['chain', 'x'],
      ['status', '200'],
      ['kind', 'settlement'],
    ] as const) {
      expect([k, await codes(check(await resign({ ...real, [k]: v })))]).toEqual([k, ['RECEIPT_INVALID']]);
    }
  });

  it('an attestation cites it in evidence; the scorer finds it there', async () => {
    const entry = decisionReceiptEvidence(allowed);
    const a = await issueCredential({
      issuer: shop,
      subject: w.agent.did,
      type: 'ReputationAttestation',
      claims: { rating: { score: 0.9 }, interaction: entry.id },
      extra: { evidence: [entry] },
    });
    const found = findDecisionReceipt(decodeCredential(a.jwt));
    expect(found).toEqual({ id: entry.id, receipt: allowed });
    expect((await check(found!.receipt)).interaction).toBe(entry.id);
    expect(findDecisionReceipt(decodeCredential(w.agentIdentity))).toBeUndefined();
  });
});
