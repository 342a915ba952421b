import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReceipt, type DecisionReceipt } from '../../src/audit/index.js';
import { decide } from '../../src/guard/decide.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { mandateToken } from '../../src/mandates/index.js';
import { API, openWorld, type World } from '../http/world.js';
import { ap2Payment, ap2World, type Ap2World } from './chains.js';

/**
 * A mandate payment's decision receipt names the amount the payment mandate
 * signed (mutation testing of src/guard/receipt.ts could drop it with no test
 * failing): an offline reader of the log sees what was paid, not only that a
 * mandate route allowed something.
 */
let w: World;
let aw: Ap2World;
let v: Verifier;
beforeAll(async () => {
  w = await openWorld();
  aw = await ap2World(new Date());
  await w.home.createIdentity({ alias: 'api' });
  v = w.verifier({ receipts: { signer: await w.home.issuer('api') } });
}, 60_000);
afterAll(async () => w.close());

describe("a mandate payment's receipt", () => {
  it('names the signed amount and currency, for each amount; a refusal with no verified payment names none', async () => {
    const policy = { kind: 'mandate' as const, profile: 'ap2' as const, trust: { issuers: [aw.root.publicJwk], merchants: [aw.merchant.publicJwk] } };
    for (const minor of [1500, 7]) {
      const token = mandateToken('ap2', await ap2Payment(aw, { minor, aud: API, now: new Date() }));
      const d = await decide(v, token, policy, { kind: 'none' });
      expect(d.reasons).toEqual([]);
      const r = decodeReceipt(d.receipt!) as DecisionReceipt;
      expect(r.policy).toEqual({ kind: 'mandate', profile: 'ap2', amount: { amount: d.mandate!.payment!.amount.amount, currency: 'USD' } });
      expect(r.policy).toMatchObject({ amount: { amount: (minor / 100).toFixed(2).replace(/\.?0+$/, '') } });
      await d.spend?.commit();
    }
    const refused = await decide(v, 'not-a-chain', policy, { kind: 'none' });
    expect(refused.ok).toBe(false);
    expect((decodeReceipt(refused.receipt!) as DecisionReceipt).policy).toEqual({ kind: 'mandate', profile: 'ap2' });
  });
});
