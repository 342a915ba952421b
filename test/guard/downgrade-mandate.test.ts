import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { verifyMandateChain } from '../../src/mandates/index.js';
import { authorizeMandatePayment, guardMandatePayment } from '../../src/guard/transaction.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { requireMandate } from '../../src/http/guards.js';
import { guardTool } from '../../src/integrations/mcp/server.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';
import { ap2Payment, ap2World, viIntent, viPayment, viWorld, type Ap2World, type ViWorld } from './chains.js';

/**
 * Downgrade: a verifier that demands revocability (`requireStatus: true`) of a
 * payment mandate chain must never take a chain that cannot be revoked. AP2
 * defines no status at all, so `requireStatus` with the AP2 profile can never
 * be met: it is refused when the guard (or the call) is built, never read as
 * "no status to check" while an unrevocable chain pays.
 */
const AUD = 'https://psp.example';
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
let store: Store;
let verifier: Verifier;
let ap2: Ap2World;
let vi: ViWorld;

beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-downgrade-mandate-'), 'g.db'));
  verifier = createVerifier({ aud: AUD, store, resolver: createResolver(), http: false });
  ap2 = await ap2World(NOW);
  vi = await viWorld(NOW);
});
afterAll(async () => store?.close());

const ap2Trust = () => ({ issuers: [ap2.root.publicJwk], merchants: [ap2.merchant.publicJwk] });

describe('requireStatus cannot be met by an AP2 chain (AP2 defines no status)', () => {
  it('the control: without requireStatus the AP2 payment pays, and with it a VI chain lacking a status is refused', async () => {
    const chain = await ap2Payment(ap2, { minor: 100, aud: AUD, now: NOW });
    expect(await authorizeMandatePayment(chain, { verifier, profile: 'ap2', trust: ap2Trust(), now: NOW })).toMatchObject({ ok: true });
    const viChain = await viPayment(vi, await viIntent(vi, NOW), { amount: '10', aud: AUD, now: NOW });
    const d = await authorizeMandatePayment(viChain, { verifier, profile: 'verifiable-intent', trust: { issuers: [vi.issuer.publicJwk] }, now: NOW, requireStatus: true });
    expect([d.ok, d.reasons.map((r) => r.code)]).toEqual([false, ['STATUS_INVALID']]);
  });

  it('guardMandatePayment / authorizeMandatePayment: profile ap2 with requireStatus: true is a TypeError, and nothing runs', async () => {
    let ran = false;
    const chain = await ap2Payment(ap2, { minor: 100, aud: AUD, now: NOW });
    const request = { verifier, profile: 'ap2' as const, trust: ap2Trust(), now: NOW, requireStatus: true };
    await expect(authorizeMandatePayment(chain, request)).rejects.toThrow(/requireStatus/);
    await expect(guardMandatePayment(chain, request, () => (ran = true))).rejects.toThrow(TypeError);
    expect(ran).toBe(false);
  });

  it('verifyMandateChain: profile ap2 with requireStatus: true is a TypeError, not an ok decision', async () => {
    const chain = await ap2Payment(ap2, { minor: 100, aud: AUD, now: NOW });
    await expect(verifyMandateChain(chain, { profile: 'ap2', trust: ap2Trust(), now: NOW, allowMissingNonce: true, requireStatus: true })).rejects.toThrow(/requireStatus/);
    // requireStatus: false says nothing AP2 cannot meet.
    const d = await verifyMandateChain(chain, { profile: 'ap2', trust: ap2Trust(), now: NOW, allowMissingNonce: true, requireStatus: false });
    expect(d.ok).toBe(true);
  });

  it('requireMandate (HTTP) and guardTool (MCP) refuse it when built', () => {
    expect(() => requireMandate({ profile: 'ap2', trust: ap2Trust(), requireStatus: true })).toThrow(/requireStatus/);
    expect(() => guardTool('pay', { verifier, mandate: { profile: 'ap2', trust: ap2Trust(), requireStatus: true } }, () => ({ content: [] }))).toThrow(/requireStatus/);
    expect(() => requireMandate({ profile: 'ap2', trust: ap2Trust(), requireStatus: false })).not.toThrow();
  });
});

/**
 * Downgrade by configuration: `algorithms` narrows the JWS algorithms every
 * layer may use. Given as a string instead of a list, it was read with
 * String.prototype.includes, so `'ES256K'` (meant: only secp256k1) also took
 * ES256 layers, a substring of it; it is a TypeError now, as is a name
 * Charter does not verify with (`'es256'`, the fully-specified `'Ed25519'`,
 * `'none'`) or an empty list.
 */
describe('verifyMandateChain algorithms: a list of algorithms Charter verifies, or a TypeError', () => {
  const verify = async (algorithms: unknown) =>
    verifyMandateChain(await ap2Payment(ap2, { minor: 100, aud: AUD, now: NOW }), {
      profile: 'ap2',
      trust: ap2Trust(),
      now: NOW,
      allowMissingNonce: true,
      algorithms: algorithms as never,
    });

  it('the control: the ES256 chain verifies under [ES256] and is refused under [ES256K] and [EdDSA] (no key of those takes it)', async () => {
    expect((await verify(['ES256'])).ok).toBe(true);
    for (const only of [['ES256K'], ['EdDSA']]) {
      const d = await verify(only);
      expect([d.ok, d.reasons[0]?.code]).toEqual([false, 'INVALID_SIGNATURE']);
    }
  });

  it.each([
    ["'ES256K' as a string (ES256 is a substring of it)", 'ES256K'],
    ["'ES256' as a string", 'ES256'],
    ["'EdDSA,ES256' as one string", 'EdDSA,ES256'],
    ['an empty list', []],
    ['a lower-case name', ['es256']],
    ["the fully-specified 'Ed25519' (RFC 9864), which Charter's layers never carry", ['Ed25519']],
    ["'none'", ['ES256', 'none']],
    ['a non-string member', ['ES256', 1]],
  ])('%s is a TypeError, never a wider set of algorithms', async (_, algorithms) => {
    await expect(verify(algorithms)).rejects.toThrow(/algorithms/);
  });
});

/**
 * The same class from the other side: a pin only the other profile reads.
 * `openCheckoutHash` (AP2's payment.reference) given to a Verifiable Intent
 * verifier, `l1Vct` (VI's card credential type) given to an AP2 one, used
 * to be ignored while the chain paid.
 */
describe('a pin only the other profile carries out is a TypeError, never a check left undone', () => {
  const viTrust = () => ({ issuers: [vi.issuer.publicJwk] });

  it('the control: each pin is read by its own profile (a wrong openCheckoutHash refuses an AP2 payment, a wrong l1Vct a VI one)', async () => {
    const chain = await ap2Payment(ap2, { minor: 100, aud: AUD, now: NOW });
    const d = await verifyMandateChain(
      { payment: chain.payment },
      {
        profile: 'ap2',
        trust: ap2Trust(),
        now: NOW,
        allowMissingNonce: true,
        checkoutHash: (JSON.parse(Buffer.from(chain.payment.split('~~')[1]!.split('~')[1]!, 'base64url').toString()) as [string, { transaction_id: string }])[1].transaction_id,
        openCheckoutHash: 'not-the-open-checkout',
      },
    );
    expect([d.ok, d.reasons.map((r) => r.code)]).toEqual([false, ['CHECKOUT_MISMATCH']]);
    const v = await authorizeMandatePayment(await viPayment(vi, await viIntent(vi, NOW), { amount: '10', aud: AUD, now: NOW }), {
      verifier,
      profile: 'verifiable-intent',
      trust: viTrust(),
      now: NOW,
      l1Vct: 'https://other.example/card',
    });
    expect(v.ok).toBe(false);
  });

  it('openCheckoutHash with profile verifiable-intent: verifyMandateChain, the payment guards, requireMandate and guardTool refuse it', async () => {
    const chain = await viPayment(vi, await viIntent(vi, NOW), { amount: '10', aud: AUD, now: NOW });
    await expect(verifyMandateChain(chain, { profile: 'verifiable-intent', trust: viTrust(), now: NOW, allowMissingNonce: true, openCheckoutHash: 'x' })).rejects.toThrow(
      /openCheckoutHash/,
    );
    let ran = false;
    await expect(guardMandatePayment(chain, { verifier, profile: 'verifiable-intent', trust: viTrust(), now: NOW, openCheckoutHash: 'x' }, () => (ran = true))).rejects.toThrow(
      /openCheckoutHash/,
    );
    expect(ran).toBe(false);
    expect(() => requireMandate({ profile: 'verifiable-intent', trust: viTrust(), openCheckoutHash: () => 'x' })).toThrow(/openCheckoutHash/);
    expect(() => guardTool('pay', { verifier, mandate: { profile: 'verifiable-intent', trust: viTrust(), openCheckoutHash: () => 'x' } }, () => ({ content: [] }))).toThrow(
      /openCheckoutHash/,
    );
  });

  it('l1Vct with profile ap2: verifyMandateChain, the payment guards, requireMandate and guardTool refuse it', async () => {
    const chain = await ap2Payment(ap2, { minor: 100, aud: AUD, now: NOW });
    await expect(verifyMandateChain(chain, { profile: 'ap2', trust: ap2Trust(), now: NOW, allowMissingNonce: true, l1Vct: 'x' })).rejects.toThrow(/l1Vct/);
    await expect(authorizeMandatePayment(chain, { verifier, profile: 'ap2', trust: ap2Trust(), now: NOW, l1Vct: 'x' })).rejects.toThrow(/l1Vct/);
    expect(() => requireMandate({ profile: 'ap2', trust: ap2Trust(), l1Vct: 'x' })).toThrow(/l1Vct/);
    expect(() => guardTool('pay', { verifier, mandate: { profile: 'ap2', trust: ap2Trust(), l1Vct: 'x' } }, () => ({ content: [] }))).toThrow(/l1Vct/);
  });
});

/**
 * A shorter chain: the user's open (autonomous) intent, addressed to this
 * verifier with a fresh nonce, presented without the agent's L3a. An open
 * mandate names limits, not a payment: there is nothing to charge, so it is
 * refused, never read as a payment of its maximum or of the request's amount.
 */
describe('an open mandate where a closed payment is needed', () => {
  it('VI: an autonomous L2 for this verifier without L3 pays nothing (refused, nothing reserved)', async () => {
    const { issueViIntent } = await import('../../src/mandates/index.js');
    const { INSTRUMENT, MERCHANTS } = await import('../mandates/helpers.js');
    const nonce = `n-${Date.now()}`;
    const open = await issueViIntent({
      issuer: vi.user.issuer,
      l1: vi.l1,
      aud: AUD,
      nonce,
      now: NOW,
      expiresIn: 86400,
      autonomous: {
        agent: { jwk: vi.agent.publicJwk, kid: vi.agent.kid },
        instrument: INSTRUMENT,
        maxAmount: { amount: '400', currency: 'USD' },
        payees: [MERCHANTS[0]!],
        merchants: MERCHANTS,
        lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }],
      },
    });
    let ran = false;
    const r = await guardMandatePayment(
      { l1: vi.l1, l2: open.l2 },
      { verifier, profile: 'verifiable-intent', trust: { issuers: [vi.issuer.publicJwk] }, now: NOW, amount: '10 USD' },
      () => (ran = true),
    );
    expect(ran).toBe(false);
    if (r.ok) throw new Error('an open mandate was charged');
    expect(r.reasons.map((x) => x.code)).toEqual(['INVALID_PRESENTATION']);
    expect(r.reasons[0]!.message).toMatch(/no final payment/);
  });
});
