import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { authorizeMandatePayment, guardMandatePayment, type MandatePaymentRequest } from '../../src/guard/transaction.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { mandateToken } from '../../src/mandates/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import type { Store } from '../../src/store/types.js';
import { CharterError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';
import { freshParty } from '../mandates/helpers.js';
import { dropSchemas, freshSchema, pgUrlOrReport } from '../store/fixtures/pg-env.js';
import { ap2Payment, ap2World, viIntent, viPayment, viWorld, type Ap2World, type ViWorld } from './chains.js';

/**
 * External payment mandates through the one decision pipeline: a Verifiable
 * Intent or AP2 chain is bound (aud, iat, a nonce used once), verified under
 * pinned trust, and its payment reserved on every cumulative limit of the
 * chain, atomically, on a real store.
 */
const AUD = 'https://psp.example';
// Real time: the replay cache keeps a used nonce until the proof is stale by the wall clock.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const later = (s: number) => new Date(NOW.getTime() + s * 1000);
const codes = (r: { reasons?: { code: string }[] }) => (r.reasons ?? []).map((x) => x.code);

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-mandate-guard-'), 'guard.db'));
});
afterAll(async () => store.close());

const verifierOn = (s: Store, o: Partial<Parameters<typeof createVerifier>[0]> = {}): Verifier =>
  createVerifier({ aud: AUD, store: s, resolver: createResolver(), http: false, ...o });

describe('Verifiable Intent through the guard', () => {
  let w: ViWorld;
  beforeAll(async () => {
    w = await viWorld(NOW);
  });
  const request = (verifier: Verifier, o: Partial<MandatePaymentRequest> = {}): MandatePaymentRequest => ({
    verifier,
    profile: 'verifiable-intent',
    trust: { issuers: [w.issuer.publicJwk] },
    now: NOW,
    ...o,
  });

  it('an allowed payment runs fn with the chain decision and commits the spend on the cumulative limit', async () => {
    const verifier = verifierOn(store);
    const intent = await viIntent(w, NOW, { cumulative: { amount: '500', currency: 'USD', period: 'MONTHLY' } });
    const r = await guardMandatePayment(
      await viPayment(w, intent, { amount: '150', aud: AUD, now: NOW }),
      request(verifier, { amount: '150 USD' }),
      (d) => `paid ${d.payment?.amount.amount}`,
    );
    expect(r).toMatchObject({ ok: true, value: 'paid 150', spend: 'committed' });
    const d = await authorizeMandatePayment(await viPayment(w, intent, { amount: '100', aud: AUD, now: NOW }), request(verifier));
    expect(d).toMatchObject({ ok: true, status: 200, holder: d.mandate!.agent!.key, spend: { remaining: { budget: { amount: '250', currency: 'USD' } } } });
    expect(d.claims).toMatchObject({ aud: AUD, nonce: expect.any(String) });
    await d.spend!.release();
  });

  it('parallel payments cannot overspend payment.cumulative: exactly what fits is charged, the rest BUDGET_EXCEEDED (403)', async () => {
    const verifier = verifierOn(store);
    const intent = await viIntent(w, NOW, { cumulative: { amount: '500', currency: 'USD', period: 'MONTHLY' } });
    const chains = await Promise.all(Array.from({ length: 8 }, () => viPayment(w, intent, { amount: '150', aud: AUD, now: NOW })));
    let ran = 0;
    const results = await Promise.all(chains.map((c) => guardMandatePayment(c, request(verifier), () => ran++)));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && [r.status, codes(r)])).toEqual(Array(5).fill([403, ['BUDGET_EXCEEDED']]));
    expect(ran).toBe(3);
  });

  it('payment.budget (over the mandate life) and payment.cumulative both hold: two links on the ledger', async () => {
    const verifier = verifierOn(store);
    const intent = await viIntent(w, NOW, { budget: { amount: '300', currency: 'USD' }, cumulative: { amount: '1000', currency: 'USD', period: 'DAILY' } });
    expect((await authorizeMandatePayment(await viPayment(w, intent, { amount: '200', aud: AUD, now: NOW }), request(verifier))).ok).toBe(true);
    // Days later the daily window is new; the lifetime budget is not.
    const next = later(3 * 86400);
    const d = await authorizeMandatePayment(await viPayment(w, intent, { amount: '200', aud: AUD, now: next }), request(verifier, { now: next }));
    expect(d).toMatchObject({ ok: false, status: 403, reasons: [{ code: 'BUDGET_EXCEEDED', ref: expect.stringMatching(/#lifetime$/) }] });
  });

  it('a calendar period counts in the stated time zone: a new month in Paris starts before one in UTC', async () => {
    const verifier = verifierOn(store);
    const at = (iso: string) => new Date(iso);
    // Europe/Paris is on summer time (UTC+2) since 29 March 2026: April starts there at 2026-03-31T22:00Z.
    const march = await viWorld(at('2026-03-30T08:00:00Z'));
    const intent = await viIntent(march, at('2026-03-30T08:00:00Z'), { cumulative: { amount: '300', currency: 'USD', period: 'MONTHLY' } });
    const pay = async (amount: string, when: Date) =>
      authorizeMandatePayment(
        await viPayment(march, intent, { amount, aud: AUD, now: when }),
        request(verifier, { now: when, calendarTimeZone: 'Europe/Paris', trust: { issuers: [march.issuer.publicJwk] } }),
      );
    expect((await pay('200', at('2026-03-31T21:30:00Z'))).ok).toBe(true); // 23:30 on 31 March in Paris
    expect(codes(await pay('200', at('2026-03-31T21:50:00Z')))).toEqual(['BUDGET_EXCEEDED']);
    expect((await pay('200', at('2026-03-31T22:10:00Z'))).ok).toBe(true); // 00:10 on 1 April in Paris
  });

  it('a chain is used once: a replay is REPLAY_DETECTED (401), on a second verifier sharing the store too, and holds no budget', async () => {
    const [a, b] = [verifierOn(store), verifierOn(store)];
    const intent = await viIntent(w, NOW, { cumulative: { amount: '150', currency: 'USD', period: 'MONTHLY' } });
    const chain = await viPayment(w, intent, { amount: '150', aud: AUD, now: NOW });
    const results = await Promise.all([a, b, a, b].map((v) => guardMandatePayment(chain, request(v), () => 'paid')));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && [r.status, codes(r)])).toEqual(Array(3).fill([401, ['REPLAY_DETECTED']]));
    // the same nonce in a fresh L3 from the same agent is the same payment: refused
    expect(codes(await authorizeMandatePayment(await viPayment(w, intent, { amount: '1', aud: AUD, now: NOW, nonce: String(results.length) }), request(a)))).toEqual([
      'BUDGET_EXCEEDED',
    ]);
  });

  it('binding before crypto: another audience, a stale or future layer, no nonce: 401 and nothing used', async () => {
    const verifier = verifierOn(store);
    const intent = await viIntent(w, NOW);
    const elsewhere = await viPayment(w, intent, { amount: '10', aud: 'https://other-psp.example', now: NOW });
    expect(await authorizeMandatePayment(elsewhere, request(verifier))).toMatchObject({ ok: false, status: 401, reasons: [{ code: 'AUDIENCE_MISMATCH' }] });
    const chain = await viPayment(w, intent, { amount: '10', aud: AUD, now: NOW });
    expect(codes(await authorizeMandatePayment(chain, request(verifier, { now: later(600) })))).toContain('PRESENTATION_STALE');
    expect(codes(await authorizeMandatePayment(chain, request(verifier, { now: later(-600) })))).toEqual(['ISSUED_IN_FUTURE']);
    // none of those used the nonce up: the chain still pays once
    expect((await authorizeMandatePayment(chain, request(verifier))).ok).toBe(true);
    expect(codes(await authorizeMandatePayment({ l1: w.l1, l2: intent.l2, l3_checkout: chain.l3_checkout! }, request(verifier)))).toEqual(['INVALID_PRESENTATION']);
    expect(codes(await authorizeMandatePayment('not a chain', request(verifier)))).toEqual(['INVALID_PRESENTATION']);
  });

  it('the chain must verify under pinned trust: an unknown issuer (403), a layer the agent did not sign (401)', async () => {
    const verifier = verifierOn(store);
    const intent = await viIntent(w, NOW);
    const untrusted = await authorizeMandatePayment(
      await viPayment(w, intent, { amount: '10', aud: AUD, now: NOW }),
      request(verifier, { trust: { issuers: [freshParty('issuer-key-1').publicJwk] } }),
    );
    expect(untrusted).toMatchObject({ ok: false, status: 401, reasons: [{ code: 'INVALID_SIGNATURE' }] });
    const forged = await authorizeMandatePayment(await viPayment(w, intent, { amount: '10', aud: AUD, now: NOW, signer: freshParty() }), request(verifier));
    expect(forged).toMatchObject({ ok: false, status: 401, reasons: [{ code: 'INVALID_SIGNATURE' }] });
    expect(forged.holder).toBeUndefined();
    const over = await authorizeMandatePayment(await viPayment(w, intent, { amount: '400.01', aud: AUD, now: NOW }), request(verifier));
    expect(over).toMatchObject({ ok: false, status: 403, reasons: [{ code: 'AUTHORITY_EXCEEDED' }] });
  });

  it('what the request adds: the amount charged must be the payment (REQUEST_MISMATCH), the payee this one (COUNTERPARTY_NOT_ALLOWED), a malformed amount is a 400', async () => {
    const verifier = verifierOn(store);
    // A fresh intent for each payment: an intent with only a per-payment maximum pays once (VI credential-format §8.3).
    const pay = async () => viPayment(w, await viIntent(w, NOW), { amount: '99.5', aud: AUD, now: NOW });
    expect(await authorizeMandatePayment(await pay(), request(verifier, { amount: '99.50 USD' }))).toMatchObject({ ok: true });
    expect(await authorizeMandatePayment(await pay(), request(verifier, { amount: '99.51 USD' }))).toMatchObject({
      ok: false,
      status: 401,
      reasons: [{ code: 'REQUEST_MISMATCH' }],
    });
    // Less than the user signed is no match either: the charge is exactly the payment the chain authorizes.
    expect(await authorizeMandatePayment(await pay(), request(verifier, { amount: '99.49 USD' }))).toMatchObject({
      ok: false,
      status: 401,
      reasons: [{ code: 'REQUEST_MISMATCH' }],
    });
    expect(await authorizeMandatePayment(await pay(), request(verifier, { amount: '0.01 USD' }))).toMatchObject({ ok: false, reasons: [{ code: 'REQUEST_MISMATCH' }] });
    expect(await authorizeMandatePayment(await pay(), request(verifier, { amount: '99.5 EUR' }))).toMatchObject({
      ok: false,
      status: 401,
      reasons: [{ code: 'REQUEST_MISMATCH' }],
    });
    expect(await authorizeMandatePayment(await pay(), request(verifier, { amount: 'lots' }))).toMatchObject({ ok: false, status: 400, reasons: [{ code: 'INVALID_ARGUMENT' }] });
    expect(await authorizeMandatePayment(await pay(), request(verifier, { payee: 'merchant-uuid-1' }))).toMatchObject({ ok: true });
    expect(await authorizeMandatePayment(await pay(), request(verifier, { payee: 'merchant-uuid-2' }))).toMatchObject({
      ok: false,
      status: 403,
      reasons: [{ code: 'COUNTERPARTY_NOT_ALLOWED' }],
    });
  });

  it('travels as base64url JSON (a Bearer token) or JSON text as well as the object', async () => {
    const verifier = verifierOn(store);
    const token = mandateToken('verifiable-intent', await viPayment(w, await viIntent(w, NOW), { amount: '5', aud: AUD, now: NOW }));
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect((await authorizeMandatePayment(token, request(verifier))).ok).toBe(true);
    expect((await authorizeMandatePayment(JSON.stringify(await viPayment(w, await viIntent(w, NOW), { amount: '5', aud: AUD, now: NOW })), request(verifier))).ok).toBe(true);
  });

  it('challenge mode: the closing nonce must be one this verifier issued, and is used once', async () => {
    const verifier = verifierOn(store, { nonces: 'challenge' });
    const intent = await viIntent(w, NOW);
    const { nonce } = await verifier.issueNonce();
    const chain = await viPayment(w, intent, { amount: '5', aud: AUD, now: NOW, nonce });
    expect((await authorizeMandatePayment(chain, request(verifier))).ok).toBe(true);
    expect(await authorizeMandatePayment(chain, request(verifier))).toMatchObject({ ok: false, status: 401, reasons: [{ code: 'REPLAY_DETECTED' }], nonce: expect.any(String) });
    expect(await authorizeMandatePayment(await viPayment(w, intent, { amount: '5', aud: AUD, now: NOW, nonce: 'made-up' }), request(verifier))).toMatchObject({
      ok: false,
      status: 401,
      reasons: [{ code: 'NONCE_MISMATCH' }],
    });
  });

  it('fn throwing releases the spend; a store fault is a 503 and fn never runs', async () => {
    const verifier = verifierOn(store);
    const intent = await viIntent(w, NOW, { cumulative: { amount: '100', currency: 'USD', period: 'MONTHLY' } });
    const boom = new Error('declined');
    await expect(
      guardMandatePayment(await viPayment(w, intent, { amount: '100', aud: AUD, now: NOW }), request(verifier), () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await guardMandatePayment(await viPayment(w, intent, { amount: '100', aud: AUD, now: NOW }), request(verifier), () => 'ok')).toMatchObject({
      ok: true,
      spend: 'committed',
    });
    const down: Store = { ...store, consumeNonce: () => Promise.reject(new CharterError('STORE_UNAVAILABLE', 'down')) };
    let ran = 0;
    expect(await guardMandatePayment(await viPayment(w, intent, { amount: '1', aud: AUD, now: NOW }), request(verifierOn(down)), () => ran++)).toMatchObject({
      ok: false,
      status: 503,
      reasons: [{ code: 'STORE_UNAVAILABLE' }],
    });
    expect(ran).toBe(0);
  });

  it('misuse is a TypeError: no pinned issuers, skipping issuer verification, a bad zone or profile', async () => {
    const verifier = verifierOn(store);
    const chain = await viPayment(w, await viIntent(w, NOW), { amount: '5', aud: AUD, now: NOW });
    await expect(authorizeMandatePayment(chain, request(verifier, { trust: {} }))).rejects.toThrow(TypeError);
    // An empty list pins no root: a misconfiguration said when called, not a guard that refuses every payment silently.
    await expect(authorizeMandatePayment(chain, request(verifier, { trust: { issuers: [] } }))).rejects.toThrow(/trust\.issuers/);
    await expect(authorizeMandatePayment(chain, { ...request(verifier), skipIssuerVerification: true } as never)).rejects.toThrow(TypeError);
    await expect(authorizeMandatePayment(chain, request(verifier, { calendarTimeZone: 'Mars/Olympus' }))).rejects.toThrow(TypeError);
    await expect(authorizeMandatePayment(chain, request(verifier, { profile: 'visa' as never }))).rejects.toThrow(TypeError);
    await expect(guardMandatePayment(chain, request(verifier), 'nope' as never)).rejects.toThrow(TypeError);
  });
});

describe('AP2 through the guard', () => {
  let w: Ap2World;
  beforeAll(async () => {
    w = await ap2World(NOW);
  });
  const request = (verifier: Verifier, o: Partial<MandatePaymentRequest> = {}): MandatePaymentRequest => ({
    verifier,
    profile: 'ap2',
    trust: { issuers: [w.root.publicJwk], merchants: [w.merchant.publicJwk] },
    now: NOW,
    ...o,
  });

  it('parallel payments cannot overspend the open mandate budget: 5 of 199 USD fit 1,000, the rest BUDGET_EXCEEDED', async () => {
    const verifier = verifierOn(store);
    const chains = await Promise.all(Array.from({ length: 8 }, () => ap2Payment(w, { minor: 19900, aud: AUD, now: NOW })));
    const results = await Promise.all(chains.map((c) => guardMandatePayment(c, request(verifier), (d) => d.payment?.amount.amount)));
    expect(results.filter((r) => r.ok).map((r) => r.ok && r.value)).toEqual(Array(5).fill('199'));
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && [r.status, codes(r)])).toEqual(Array(3).fill([403, ['BUDGET_EXCEEDED']]));
  });

  it('the payment chain alone, as the SDK writes it (a Bearer token as is), given the checkout being processed', async () => {
    const verifier = verifierOn(store);
    const own = await ap2World(NOW);
    const { payment, checkout } = await ap2Payment(own, { minor: 1000, aud: AUD, now: NOW });
    const checkoutJwt = checkout.split('~~')[1]!;
    const closed = JSON.parse(Buffer.from(checkoutJwt.split('~')[1]!, 'base64url').toString()) as unknown[];
    const hash = (closed[1] as { checkout_hash: string }).checkout_hash;
    const r = { ...request(verifier, { trust: { issuers: [own.root.publicJwk] } }) };
    expect(mandateToken('ap2', { payment })).toBe(payment);
    expect(codes(await authorizeMandatePayment(payment, r))).toEqual(['CHECKOUT_MISMATCH']);
    const { payment: again } = await ap2Payment(own, { minor: 1000, aud: AUD, now: NOW });
    const hashOf = (p: string) => (JSON.parse(Buffer.from(p.split('~~')[1]!.split('~')[1]!, 'base64url').toString()) as [string, { transaction_id: string }])[1].transaction_id;
    const { hashAscii } = await import('../../src/mandates/index.js');
    expect(await authorizeMandatePayment(again, { ...r, checkoutHash: hashOf(again), openCheckoutHash: hashAscii(own.openCheckout) })).toMatchObject({ ok: true });
    expect(hash).toBeTypeOf('string');
  });

  it('a closed mandate for another audience is refused before any signature check (AUDIENCE_MISMATCH)', async () => {
    const verifier = verifierOn(store);
    expect(await authorizeMandatePayment(await ap2Payment(w, { minor: 100, aud: 'https://elsewhere.example', now: NOW }), request(verifier))).toMatchObject({
      ok: false,
      status: 401,
      reasons: [{ code: 'AUDIENCE_MISMATCH' }],
    });
  });
});

const pgUrl = pgUrlOrReport('mandate guard on postgres');
describe.runIf(pgUrl)('mandate payments on PostgreSQL: many instances, one budget', () => {
  const schemas = new Set<string>();
  afterAll(() => dropSchemas(pgUrl!, schemas));

  it('four verifier instances on their own connections never overspend a VI payment.cumulative', async () => {
    const schema = freshSchema();
    schemas.add(schema);
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(pgUrl!, { schema, poolSize: 2 })));
    try {
      const w = await viWorld(NOW);
      const intent = await viIntent(w, NOW, { cumulative: { amount: '500', currency: 'USD', period: 'WEEKLY' } });
      const chains = await Promise.all(Array.from({ length: 12 }, () => viPayment(w, intent, { amount: '100', aud: AUD, now: NOW })));
      const results = await Promise.all(
        chains.map((c, i) =>
          guardMandatePayment(c, { verifier: verifierOn(stores[i % 4]!), profile: 'verifiable-intent', trust: { issuers: [w.issuer.publicJwk] }, now: NOW }, () => 'paid'),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(5);
      expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.reasons[0]!.code === 'BUDGET_EXCEEDED')).toBe(true);
      // every copy of one chain, sent to every instance: one payment
      const one = await viPayment(w, await viIntent(w, NOW), { amount: '1', aud: AUD, now: NOW });
      const copies = await Promise.all(
        stores.map((s) => authorizeMandatePayment(one, { verifier: verifierOn(s), profile: 'verifiable-intent', trust: { issuers: [w.issuer.publicJwk] }, now: NOW })),
      );
      expect(copies.filter((d) => d.ok)).toHaveLength(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
