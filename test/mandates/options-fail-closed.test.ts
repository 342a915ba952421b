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
import { viIntent, viPayment, viWorld, type ViWorld } from '../guard/chains.js';
import { checkoutJwt, freshParty, MERCHANTS } from './helpers.js';
import * as worlds from './worlds.js';

/**
 * A JavaScript caller's mandate options fail closed: a misspelt request field
 * (`amout`, `payees`, `checkoutHsh`) is a TypeError, never a check left undone
 * while the payment runs; a single key or a JWKS given where a list of pinned
 * merchants belongs is a TypeError, never "no merchant pinned" (which turns
 * the checkout signature check off).
 */
const AUD = 'https://psp.example';
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
let store: Store;
let verifier: Verifier;
let w: ViWorld;
let k = 0;
/** A fresh VI payment of 150 USD to this verifier (its own nonce, a second apart). */
const payment = async () => viPayment(w, await viIntent(w, NOW), { amount: '150', aud: AUD, now: new Date(NOW.getTime() - ++k * 1000) });

beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-mandate-opts-'), 'g.db'));
  verifier = createVerifier({ aud: AUD, store, resolver: createResolver(), http: false });
  w = await viWorld(NOW);
});
afterAll(async () => store?.close());

describe('guardMandatePayment and authorizeMandatePayment read their request strictly', () => {
  const base = () => ({ verifier, profile: 'verifiable-intent' as const, now: NOW, trust: { issuers: [w.issuer.publicJwk] } });

  it('the control: the right spelling is checked (a dearer amount, another payee are refused) and a matching one pays', async () => {
    expect(await guardMandatePayment(await payment(), { ...base(), amount: '999 USD' }, () => 'RAN')).toMatchObject({ ok: false, reasons: [{ code: 'REQUEST_MISMATCH' }] });
    expect(await guardMandatePayment(await payment(), { ...base(), payee: 'other-merchant' }, () => 'RAN')).toMatchObject({
      ok: false,
      reasons: [{ code: 'COUNTERPARTY_NOT_ALLOWED' }],
    });
    expect(await guardMandatePayment(await payment(), { ...base(), amount: '150 USD' }, () => 'RAN')).toMatchObject({ ok: true, value: 'RAN' });
  });

  it.each([
    ['amout', { amout: '999 USD' }],
    ['Amount', { Amount: '999 USD' }],
    ['payees', { payees: 'other-merchant' }],
    ['checkoutHsh', { checkoutHsh: 'x' }],
    ['requirestatus', { requirestatus: true }],
    ['skipIssuerVerification', { skipIssuerVerification: true }],
    ['trust.merchant', { trust: { issuers: [], merchant: [] } }],
  ])('a misspelt %s is a TypeError naming it, and the payment never runs', async (name, extra) => {
    let ran = false;
    const request = { ...base(), ...extra } as never;
    await expect(guardMandatePayment(await payment(), request, () => (ran = true))).rejects.toThrow(new RegExp(`unknown option "${name.replace('.', '\\.')}"`));
    await expect(authorizeMandatePayment(await payment(), request)).rejects.toThrow(TypeError);
    expect(ran).toBe(false);
  });

  it('a non-boolean requireStatus is a TypeError (a configuration file\'s "false" is not off)', async () => {
    await expect(authorizeMandatePayment(await payment(), { ...base(), requireStatus: 'false' } as never)).rejects.toThrow(/requireStatus/);
  });
});

describe('trust.merchants and trust.issuers are lists', () => {
  const forged = async () => {
    // A checkout signed by a forger's key, not the pinned merchant's.
    const forger = freshParty('merchant-key-1');
    const co = await checkoutJwt(forger, { iat: worlds.T0, items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: MERCHANTS[0] });
    const vw = await worlds.viWorld();
    const intent = await worlds.viAutonomous(vw);
    return { vw, input: { l1: vw.l1, l2: intent.l2, ...(await worlds.viPay(vw, intent, co)) } };
  };

  it('verifyMandateChain: the control refuses a forged checkout against the pinned list', async () => {
    const { vw, input } = await forged();
    const d = await verifyMandateChain(input, worlds.viVerifyOptions(vw));
    expect([d.ok, d.merchantSignature, d.reasons[0]?.code]).toEqual([false, 'failed', 'INVALID_SIGNATURE']);
  });

  it.each([
    ['a single JWK', (vw: worlds.ViWorld) => vw.merchant.publicJwk],
    ['a JWKS object', (vw: worlds.ViWorld) => ({ keys: [vw.merchant.publicJwk] })],
    ['a DID string', () => 'did:web:merchant.example'],
    ['null', () => null],
    ['an empty list', () => []],
  ])('verifyMandateChain: merchants as %s is a TypeError, never "not checked"', async (_, merchants) => {
    const { vw, input } = await forged();
    const o = worlds.viVerifyOptions(vw, { trust: { issuers: [vw.issuer.publicJwk], merchants: merchants(vw) as never } });
    await expect(verifyMandateChain(input, o)).rejects.toThrow(/trust\.merchants must be a non-empty list/);
  });

  it('verifyMandateChain: issuers as a single JWK is a TypeError, not a crash inside verification', async () => {
    const { vw, input } = await forged();
    const o = worlds.viVerifyOptions(vw, { trust: { issuers: vw.issuer.publicJwk as never, merchants: [vw.merchant.publicJwk] } });
    await expect(verifyMandateChain(input, o)).rejects.toThrow(/trust\.issuers must be a list/);
  });

  it('verifyMandateChain: a misspelt option is a TypeError', async () => {
    const { vw, input } = await forged();
    await expect(verifyMandateChain(input, { ...worlds.viVerifyOptions(vw), chekoutHash: 'x' } as never)).rejects.toThrow(/unknown option "chekoutHash"/);
    await expect(verifyMandateChain(input, worlds.viVerifyOptions(vw, { trust: { issuers: [vw.issuer.publicJwk], merchant: [vw.merchant.publicJwk] } as never }))).rejects.toThrow(
      /unknown option "trust\.merchant" \(did you mean "trust\.merchants"\?\)/,
    );
  });

  it('guards are refused when built: requireMandate, guardTool, and the payment guards per call', async () => {
    const trust = { issuers: [w.issuer.publicJwk], merchants: w.merchant.publicJwk as never };
    expect(() => requireMandate({ profile: 'verifiable-intent', trust })).toThrow(/trust\.merchants must be a non-empty list/);
    expect(() => guardTool('buy', { verifier, mandate: { profile: 'verifiable-intent', trust } }, () => ({ content: [] }))).toThrow(/trust\.merchants must be a non-empty list/);
    await expect(guardMandatePayment(await payment(), { verifier, profile: 'verifiable-intent', now: NOW, trust }, () => 'RAN')).rejects.toThrow(/trust\.merchants/);
  });
});

describe('guardTool reads its options strictly', () => {
  it('a misspelt option of a paid or an agent tool is a TypeError naming it', () => {
    const handler = () => ({ content: [] });
    const trust = { issuers: [w.issuer.publicJwk] };
    expect(() => guardTool('buy', { verifier, mandate: { profile: 'verifiable-intent', trust, payees: 'shop' } } as never, handler)).toThrow(/unknown option "mandate\.payees"/);
    expect(() => guardTool('buy', { verifier, mandate: { profile: 'verifiable-intent', trust }, ammount: () => '1 USD' } as never, handler)).toThrow(/unknown option "ammount"/);
    expect(() =>
      guardTool('buy', { verifier, action: 'purchase', trust: { principals: ['did:web:p.example'] }, counterparty: 'did:web:x', amout: () => '1 USD' } as never, handler),
    ).toThrow(/unknown option "amout"/);
    expect(() => guardTool('buy', { verifier, action: 'purchase', trust: { principals: ['did:web:p.example'], anyprincipal: true } } as never, handler)).toThrow(
      /unknown option "trust\.anyprincipal"/,
    );
  });
});
