import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, didKeyRef } from '../../src/did/index.js';
import type { CharterResolver } from '../../src/did/types.js';
import { CharterError, HTTP_STATUS } from '../../src/errors.js';
import { authorizeMandatePayment } from '../../src/guard/transaction.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { hashAscii, verifyMandateChain, type VerifyMandateOptions } from '../../src/mandates/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';
import { ap2Payment, ap2World as guardWorld } from '../guard/chains.js';
import { freshParty } from './helpers.js';
import { ap2World, NOW } from './worlds.js';

/**
 * A DID trust anchor (an AP2 root or a merchant pinned by DID) whose key
 * cannot be had right now is not an untrusted issuer: a fault worth a retry
 * (HTTP 503) is thrown, so the guard answers 503; another resolution failure
 * keeps its own code. Only "this DID lists no such key" reads as untrusted.
 */
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);
const good = createResolver();
const failing = (e: () => unknown): CharterResolver => ({
  ...good,
  resolve: async () => {
    throw e();
  },
  resolveKey: async () => {
    throw e();
  },
});

async function chain() {
  const w = ap2World();
  const oc = await w.openCheckout();
  const op = await w.openPayment(oc, []);
  const order = await w.order('o-1', 100);
  return { w, payment: await w.closePayment(op, hashAscii(order), 100, 'p-1'), checkout: await w.closeCheckout(oc, order, 'm-1') };
}
const opts = (trust: VerifyMandateOptions['trust']): VerifyMandateOptions => ({
  profile: 'ap2',
  trust,
  now: NOW,
  paymentAud: 'psp',
  paymentNonce: 'p-1',
  checkoutAud: 'merchant',
  checkoutNonce: 'm-1',
});

describe('AP2 root pinned by DID', () => {
  it('a working resolver: accepted (control)', async () => {
    const { w, payment, checkout } = await chain();
    const d = await verifyMandateChain({ payment, checkout }, opts({ issuers: [didKeyRef('jwk', w.root.publicJwk).did], merchants: w.trust.merchants, resolver: good }));
    expect(codes(d)).toEqual([]);
  });

  it.each(['UNREACHABLE', 'STORE_UNAVAILABLE'] as const)('a resolver failing with %s (503): thrown as it is, never UNTRUSTED_ISSUER', async (code) => {
    expect(HTTP_STATUS[code]).toBe(503);
    const { w, payment, checkout } = await chain();
    const resolver = failing(() => new CharterError(code, 'down'));
    await expect(
      verifyMandateChain({ payment, checkout }, opts({ issuers: [didKeyRef('jwk', w.root.publicJwk).did], merchants: w.trust.merchants, resolver })),
    ).rejects.toMatchObject({
      code,
    });
  });

  it('a resolver failing otherwise: its own code (a plain Error: DID_RESOLUTION_FAILED), never UNTRUSTED_ISSUER', async () => {
    const { w, payment, checkout } = await chain();
    for (const [e, code] of [
      [() => new Error('socket hang up'), 'DID_RESOLUTION_FAILED'],
      [() => 'a string', 'DID_RESOLUTION_FAILED'],
      [() => new CharterError('DID_RESOLUTION_FAILED', 'the host answered HTTP 502'), 'DID_RESOLUTION_FAILED'],
      [() => new CharterError('FORBIDDEN_ADDRESS', 'a private address'), 'FORBIDDEN_ADDRESS'],
    ] as const) {
      const d = await verifyMandateChain({ payment, checkout }, opts({ issuers: [didKeyRef('jwk', w.root.publicJwk).did], merchants: w.trust.merchants, resolver: failing(e) }));
      expect(d.ok).toBe(false);
      expect(codes(d)).toEqual([code]);
      expect(d.reasons[0]!.message).toMatch(/could not be resolved/);
    }
  });

  it('a DID that lists no such key: UNTRUSTED_ISSUER as before', async () => {
    const { w, payment, checkout } = await chain();
    for (const code of ['DID_NOT_FOUND', 'INVALID_DID', 'VERIFICATION_METHOD_NOT_FOUND', 'VERIFICATION_METHOD_NOT_AUTHORIZED', 'INVALID_KEY', 'UNSUPPORTED_KEY_TYPE'] as const) {
      const d = await verifyMandateChain(
        { payment, checkout },
        opts({ issuers: [didKeyRef('jwk', w.root.publicJwk).did], merchants: w.trust.merchants, resolver: failing(() => new CharterError(code, 'no')) }),
      );
      expect(codes(d), code).toEqual(['UNTRUSTED_ISSUER']);
    }
    // another DID than the signer's: resolvable, its key does not verify
    const other = didKeyRef('jwk', freshParty().publicJwk).did;
    expect(codes(await verifyMandateChain({ payment, checkout }, opts({ issuers: [other], merchants: w.trust.merchants, resolver: good })))).toEqual(['INVALID_SIGNATURE']);
  });

  it('an anchor that is down does not matter when another pinned key verifies', async () => {
    const { w, payment, checkout } = await chain();
    for (const e of [() => new CharterError('UNREACHABLE', 'down'), () => new Error('boom')]) {
      const d = await verifyMandateChain({ payment, checkout }, opts({ issuers: ['did:web:down.example', w.root.publicJwk], merchants: w.trust.merchants, resolver: failing(e) }));
      expect(codes(d)).toEqual([]);
    }
  });
});

describe('AP2 merchant pinned by DID', () => {
  it('a merchant DID that cannot be resolved: 503 thrown, or its own code; never UNTRUSTED_ISSUER', async () => {
    const { w, payment, checkout } = await chain();
    const merchants = [didKeyRef('jwk', w.merchant.publicJwk).did];
    expect(codes(await verifyMandateChain({ payment, checkout }, opts({ issuers: w.trust.issuers, merchants, resolver: good })))).toEqual([]);
    await expect(
      verifyMandateChain({ payment, checkout }, opts({ issuers: w.trust.issuers, merchants, resolver: failing(() => new CharterError('UNREACHABLE', 'down')) })),
    ).rejects.toMatchObject({ code: 'UNREACHABLE' });
    const d = await verifyMandateChain({ payment, checkout }, opts({ issuers: w.trust.issuers, merchants, resolver: failing(() => new TypeError('bad')) }));
    expect(codes(d)).toEqual(['DID_RESOLUTION_FAILED']);
    expect(d.merchantSignature).toBe('failed');
    const none = await verifyMandateChain({ payment, checkout }, opts({ issuers: w.trust.issuers, merchants, resolver: failing(() => new CharterError('DID_NOT_FOUND', 'no')) }));
    expect(codes(none)).toEqual(['UNTRUSTED_ISSUER']);
  });
});

describe('the mandate guard', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openSqliteStore(join(tempDir('charter-mandate-anchor-'), 'guard.db'));
  });
  afterAll(async () => store.close());

  it('a root DID whose resolver is unreachable: a 503 decision, not a 403', async () => {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const w = await guardWorld(now);
    const aud = 'https://psp.example';
    const verifier = createVerifier({ aud, store, resolver: good, http: false });
    const did = didKeyRef('jwk', w.root.publicJwk).did;
    const request = (resolver: CharterResolver) => ({
      verifier,
      profile: 'ap2' as const,
      trust: { issuers: [did], merchants: [w.merchant.publicJwk], resolver },
      now,
    });
    const down = await authorizeMandatePayment(await ap2Payment(w, { minor: 1000, aud, now }), request(failing(() => new CharterError('UNREACHABLE', 'down'))));
    expect(down).toMatchObject({ ok: false, status: 503, reasons: [{ code: 'UNREACHABLE' }] });
    const up = await authorizeMandatePayment(await ap2Payment(w, { minor: 1000, aud, now }), request(good));
    expect(up).toMatchObject({ ok: true, status: 200 });
    await up.spend?.release();
  });
});
