// Shared by the tests of an AP2 root mandate's ledger keys: a PSP verifier on each store, and one payment.
import { createResolver } from '../../src/did/index.js';
import { authorizeMandatePayment } from '../../src/guard/transaction.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import type { TrustAnchor } from '../../src/mandates/types.js';
import type { Store } from '../../src/store/types.js';
import { ap2Checkout, ap2Pay, type Ap2Open } from './mandate-build.js';

export const AUD = 'https://psp.example';
export const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
export const resolver = createResolver();
export const codes = (r: { reasons?: { code: string }[] }) => (r.reasons ?? []).map((x) => x.code);

export async function verifierOn(open: () => Promise<Store>): Promise<Verifier> {
  return createVerifier({ aud: AUD, store: await open(), resolver, http: false });
}

/** One payment on a fresh checkout of the open mandate, its user pinned as `anchor`. */
export async function pay(w: Ap2Open, v: Verifier, anchor: TrustAnchor) {
  const c = await ap2Checkout(w, NOW);
  return authorizeMandatePayment(
    { payment: await ap2Pay(w, c.hash, AUD, NOW), checkout: c.checkout },
    { verifier: v, profile: 'ap2', trust: { issuers: [anchor], resolver }, now: NOW },
  );
}
