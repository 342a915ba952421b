import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyMandateChain, viPresentation } from '../../src/mandates/index.js';
import { disclose, ref, sdJwt } from '../../src/mandates/issue-common.js';
import { hashAscii } from '../../src/mandates/sd.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { guardMandatePayment } from '../../src/guard/transaction.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers.js';
import { checkoutJwt, freshParty, INSTRUMENT, makeL1, MERCHANTS } from './helpers.js';

/**
 * A restriction the user signed must be shown whole. A user's wallet may make
 * a member of a constraint selectively disclosable (the per-payment maximum of
 * an amount range); an agent that withholds it would leave a constraint that
 * reads as less strict. A withheld digest cannot be told from a decoy (RFC
 * 9901 §4.2.5), so any hidden member of a constraint is a refusal. A hidden
 * element of a list (a payee not shown to this merchant) stays allowed: the
 * list then allows less, never more.
 */
const T0 = Math.floor(Date.now() / 1000);
const issuer = freshParty('issuer-key-1');
const user = freshParty();
const agent = freshParty('agent-key-1');
const merchant = freshParty('merchant-key-1');
const AUD = 'https://psp.example';
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

/** An L2 whose amount_range (and a payee's name) members are disclosable; the agent presents `shown` of them. */
async function world(hidden: { max?: boolean; min?: boolean; payeeName?: boolean }) {
  const l1 = await makeL1(issuer, user.publicJwk, { iat: T0 - 86_400, exp: T0 + 365 * 86_400, cardId: INSTRUMENT.id });
  const cnf = { jwk: { ...agent.publicJwk, kid: agent.kid } };
  const name = disclose(MERCHANTS[0]!.name, 'name');
  const { name: _n, ...rest } = MERCHANTS[0]!;
  const m0 = disclose({ ...rest, _sd: [name.digest] });
  const other = disclose({ ...MERCHANTS[1] });
  const item = disclose({ id: 'BAB86345', title: 'Babolat' });
  const checkout = disclose({
    vct: 'mandate.checkout.open.1',
    cnf,
    constraints: [
      { type: 'mandate.checkout.allowed_merchants', allowed: [ref(m0)] },
      { type: 'mandate.checkout.line_items', items: [{ id: 'l1', acceptable_items: [ref(item)], quantity: 1 }], match_mode: 'minimum' },
    ],
  });
  const max = disclose(40_000, 'max');
  const min = disclose(100, 'min');
  const payment = disclose({
    vct: 'mandate.payment.open.1',
    cnf,
    payment_instrument: INSTRUMENT,
    constraints: [
      { type: 'mandate.payment.allowed_payees', allowed: [ref(m0), ref(other)] },
      { type: 'mandate.payment.amount_range', currency: 'USD', _sd: [max.digest, min.digest] },
      { type: 'mandate.payment.reference', conditional_transaction_id: checkout.digest },
    ],
  });
  const all = [name, m0, other, item, max, min, checkout, payment];
  const l2 = await sdJwt(
    { typ: 'kb-sd-jwt+kb' },
    {
      nonce: 'n-l2',
      aud: 'https://agent.example',
      iat: T0,
      exp: T0 + 86_400,
      sd_hash: hashAscii(l1),
      iss: 'did:example:user',
      delegate_payload: [ref(checkout), ref(payment)],
      _sd_alg: 'sha-256',
      _sd: all.map((d) => d.digest),
    },
    all,
    user.signer,
    user.kid,
  );
  const base = l2.split('~')[0]!;
  // The other payee is never shown to this merchant (a hidden list element): that alone is fine.
  const withheld = new Set([other, ...(hidden.max ? [max] : []), ...(hidden.min ? [min] : []), ...(hidden.payeeName ? [name] : [])]);
  const shown = all.filter((d) => !withheld.has(d));
  return async (nonce: string, amount: number) => {
    const jwt = await checkoutJwt(merchant, { iat: T0, items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: MERCHANTS[0] });
    const pay = disclose({
      vct: 'mandate.payment.1',
      transaction_id: hashAscii(jwt),
      payee: MERCHANTS[0],
      payment_amount: { currency: 'USD', amount },
      payment_instrument: INSTRUMENT,
    });
    const view = viPresentation(
      base,
      [payment, ...shown.filter((d) => d !== payment && d !== checkout && d !== item)].map((d) => d.encoded),
    );
    const l3 = await sdJwt(
      { typ: 'kb-sd-jwt' },
      { nonce, aud: AUD, sd_hash: hashAscii(view), iat: T0, exp: T0 + 300, iss: 'https://agent.example', delegate_payload: [ref(pay)], _sd_alg: 'sha-256' },
      [pay],
      agent.signer,
      agent.kid,
    );
    return {
      l1,
      l2: viPresentation(
        base,
        shown.map((d) => d.encoded),
      ),
      l3_payment: l3,
      l2_payment_serialized: view,
    };
  };
}

const opts = (nonce: string) => ({ profile: 'verifiable-intent' as const, trust: { issuers: [issuer.publicJwk] }, paymentAud: AUD, paymentNonce: nonce });

describe('Verifiable Intent: a constraint member the agent withholds', () => {
  it('every member shown: the cap holds (a payment over it is AUTHORITY_EXCEEDED, one within it passes)', async () => {
    const chain = await world({});
    expect(codes(await verifyMandateChain(await chain('a1', 1_000_000_00), opts('a1')))).toEqual(['AUTHORITY_EXCEEDED']);
    expect(codes(await verifyMandateChain(await chain('a2', 279_99), opts('a2')))).toEqual([]);
  });

  it.each([
    ['the maximum', { max: true }],
    ['the minimum', { min: true }],
    ['both bounds', { max: true, min: true }],
    ["a member of an allowed payee's object", { payeeName: true }],
  ])('%s withheld: CONSTRAINT_VIOLATED, whatever the amount, through the chain and the guard', async (_what, hidden) => {
    const chain = await world(hidden);
    for (const [n, amount] of [
      ['b1', 1_000_000_00],
      ['b2', 279_99],
    ] as const) {
      const d = await verifyMandateChain(await chain(n, amount), opts(n));
      expect([amount, d.ok, codes(d)]).toEqual([amount, false, ['CONSTRAINT_VIOLATED']]);
    }
    const store = await openSqliteStore(join(tempDir(), 'g.db'));
    try {
      const verifier = createVerifier({ aud: AUD, store, http: false });
      let ran = 0;
      const r = await guardMandatePayment(
        await chain('g1', 1_000_000_00),
        { verifier, profile: 'verifiable-intent', trust: { issuers: [issuer.publicJwk] }, amount: '1000000 USD', payee: 'merchant-uuid-1' },
        () => ran++,
      );
      expect([r.ok, ran, 'reasons' in r ? codes(r as { reasons: { code: string }[] }) : []]).toEqual([false, 0, ['CONSTRAINT_VIOLATED']]);
    } finally {
      await store.close();
    }
  });
});
