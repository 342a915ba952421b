import { guard, refuse } from './common.js';
import { delegateRefs, resolveValue, type SdLayer } from './sd.js';
import { isInt, isObj } from './constraint-check.js';
import { checkCheckoutBinding, checkReferenceBinding } from './vi-integrity.js';

/**
 * Verifiable Intent mandates inside L2 and L3: their vcts, pairing checkout
 * with payment (credential-format §8.2), and the fields each must carry
 * (§4.4, §4.5, §5.5, §5.6). Refusals are thrown (common.ts `refuse`).
 */
export const CHECKOUT_OPEN = 'mandate.checkout.open.1';
export const PAYMENT_OPEN = 'mandate.payment.open.1';
export const CHECKOUT_FINAL = 'mandate.checkout.1';
export const PAYMENT_FINAL = 'mandate.payment.1';
export const KNOWN_VCTS = new Set([CHECKOUT_OPEN, PAYMENT_OPEN, CHECKOUT_FINAL, PAYMENT_FINAL]);

export interface Mandate {
  /** The mandate disclosure's value with L2's nested disclosures (merchants, items) applied. */
  resolved: Record<string, unknown>;
  /** As disclosed, nested references unresolved. */
  raw: Record<string, unknown>;
  digest: string;
  encoded: string;
}
export type Pair = [checkout: Mandate | null, payment: Mandate | null];

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Pairs checkout and payment mandates (credential-format §8.2). */
export function pairMandates(l2: SdLayer, autonomous: boolean): Pair[] {
  const refs = delegateRefs(l2);
  const checkouts: Mandate[] = [];
  const payments: Mandate[] = [];
  for (const r of refs) {
    if (!r.disclosure || !isObj(r.disclosure.value)) continue;
    const raw = r.disclosure.value;
    const m: Mandate = { resolved: guard(() => resolveValue(l2, raw, 'L2'), 'L2') as Record<string, unknown>, raw, digest: r.digest, encoded: r.disclosure.encoded };
    const vct = m.resolved.vct;
    if (vct === CHECKOUT_OPEN || vct === CHECKOUT_FINAL) checkouts.push(m);
    else if (vct === PAYMENT_OPEN || vct === PAYMENT_FINAL) payments.push(m);
  }
  if (checkouts.length === 0 && payments.length === 0) refuse('INVALID_CREDENTIAL', 'L2 delegate_payload resolved zero mandate disclosures', 'L2');
  if (checkouts.length === 0 || payments.length === 0) {
    if (!autonomous) refuse('INVALID_CREDENTIAL', 'immediate mode needs both a checkout and a payment mandate', 'L2');
    // autonomous, partial disclosure (credential-format §13.4.11): each mandate stands alone
    return [...checkouts.map((c): Pair => [c, null]), ...payments.map((p): Pair => [null, p])];
  }
  const pairs: Pair[] = [];
  if (!autonomous) {
    const byHash = new Map<string, Mandate>();
    for (const c of checkouts) {
      const h = str(c.resolved.checkout_hash);
      if (!h) refuse('INVALID_CREDENTIAL', 'a closed checkout mandate has no checkout_hash', 'L2');
      if (byHash.has(h)) refuse('INVALID_CREDENTIAL', 'L2 holds two checkout mandates with the same checkout_hash', 'L2');
      byHash.set(h, c);
    }
    const seen = new Set<string>();
    for (const p of payments) {
      const t = str(p.resolved.transaction_id);
      if (!t) refuse('INVALID_CREDENTIAL', 'a closed payment mandate has no transaction_id', 'L2');
      if (seen.has(t)) refuse('INVALID_CREDENTIAL', 'L2 holds two payment mandates with the same transaction_id', 'L2');
      seen.add(t);
      const c = byHash.get(t);
      if (!c) refuse('CHECKOUT_MISMATCH', 'a payment mandate has no checkout mandate with a matching checkout_hash', 'L2');
      pairs.push([c, p]);
    }
    if (pairs.length !== checkouts.length) refuse('CHECKOUT_MISMATCH', 'a checkout mandate has no payment mandate with a matching transaction_id', 'L2');
    return pairs;
  }
  const byDigest = new Map(checkouts.map((c) => [c.digest, c]));
  const matched = new Set<string>();
  for (const p of payments) {
    const refs = (Array.isArray(p.resolved.constraints) ? p.resolved.constraints : []).filter((c) => isObj(c) && c.type === 'mandate.payment.reference') as Record<
      string,
      unknown
    >[];
    if (refs.length === 0) refuse('INVALID_CREDENTIAL', 'an open payment mandate has no mandate.payment.reference constraint', 'L2');
    // credential-format §4.5.3: an open payment mandate names the one checkout mandate it pays for. A second reference
    // would be read by no one (the first pairs), so a tighter checkout mandate it names would be silently dropped.
    if (refs.length > 1) refuse('INVALID_CREDENTIAL', 'an open payment mandate carries more than one mandate.payment.reference: it pays for one checkout mandate', 'L2');
    const ref = refs[0]!;
    const id = str(ref.conditional_transaction_id);
    if (!id) refuse('INVALID_CREDENTIAL', 'mandate.payment.reference has no conditional_transaction_id', 'L2');
    if (matched.has(id)) refuse('INVALID_CREDENTIAL', 'two payment mandates reference the same checkout mandate', 'L2');
    const c = byDigest.get(id);
    if (!c) refuse('CHECKOUT_MISMATCH', 'conditional_transaction_id matches no checkout mandate disclosure', 'L2');
    matched.add(id);
    pairs.push([c, p]);
  }
  if (matched.size !== checkouts.length) refuse('CHECKOUT_MISMATCH', 'a checkout mandate is referenced by no payment mandate', 'L2');
  return pairs;
}

function paymentFieldsError(m: Record<string, unknown>, ctx: string): string | undefined {
  const ne = (v: unknown) => typeof v === 'string' && v.trim() !== '';
  if (!ne(m.transaction_id)) return `${ctx} has no transaction_id`;
  if (!isObj(m.payee)) return `${ctx} has no payee`;
  if (!ne(m.payee.name) || !ne(m.payee.website)) return `${ctx} payee needs name and website`;
  const pa = m.payment_amount;
  if (!isObj(pa) || !ne(pa.currency) || pa.amount === undefined || pa.amount === null) return `${ctx} has no payment_amount { currency, amount }`;
  if (!isInt(pa.amount) || pa.amount < 0) return `${ctx} payment_amount.amount must be a non-negative integer (minor units)`;
  if (!isObj(m.payment_instrument) || !ne(m.payment_instrument.id) || !ne(m.payment_instrument.type)) return `${ctx} payment_instrument needs id and type`;
  return undefined;
}

export function checkPair(co: Mandate | null, pm: Mandate | null, autonomous: boolean, i: number): void {
  const c = co?.resolved;
  const p = pm?.resolved;
  if (c && c.vct === CHECKOUT_OPEN) {
    const cs = Array.isArray(c.constraints) ? c.constraints : [];
    if (!cs.some((x) => isObj(x) && x.type === 'mandate.checkout.line_items'))
      refuse('INVALID_CREDENTIAL', 'an open checkout mandate must contain a mandate.checkout.line_items constraint', 'L2');
  }
  if (p && p.vct === PAYMENT_OPEN) {
    const cs = Array.isArray(p.constraints) ? p.constraints : [];
    if (!cs.some((x) => isObj(x) && x.type === 'mandate.payment.reference'))
      refuse('INVALID_CREDENTIAL', 'an open payment mandate must contain a mandate.payment.reference constraint', 'L2');
    const pi = p.payment_instrument;
    if (!isObj(pi) || !pi.id || !pi.type) refuse('INVALID_CREDENTIAL', 'an open payment mandate needs payment_instrument { id, type }', 'L2');
  }
  if (!autonomous) {
    if (!c || !p) refuse('INVALID_CREDENTIAL', 'immediate mode needs both a checkout and a payment mandate', 'L2');
    for (const [m, label] of [
      [c, 'checkout'],
      [p, 'payment'],
    ] as const) {
      if (Object.hasOwn(m, 'cnf')) refuse('INVALID_CREDENTIAL', `immediate ${label} mandate must not contain cnf (credential-format §4.6)`, 'L2');
      if (Object.hasOwn(m, 'constraints')) refuse('INVALID_CREDENTIAL', `immediate ${label} mandate must not contain constraints (credential-format §4.4)`, 'L2');
    }
    if (!c.checkout_jwt || !c.checkout_hash) refuse('INVALID_CREDENTIAL', 'a closed checkout mandate needs checkout_jwt and checkout_hash', 'L2');
    const err = paymentFieldsError(p, 'the closed payment mandate');
    if (err) refuse('INVALID_CREDENTIAL', err, 'L2');
    const bind = checkCheckoutBinding(c, p);
    if (bind) refuse(bind.code, `L2 checkout-payment binding failed: ${bind.message}`, 'L2');
    return;
  }
  if (c && p) {
    const bind = checkReferenceBinding(p, co!.encoded);
    if (bind) refuse(bind.code, `L2 reference binding failed for mandate pair ${i}: ${bind.message}`, 'L2');
  }
}

export function checkL3Fields(claims: Record<string, unknown>, label: string, required: string, l2Payment: Record<string, unknown> | undefined): void {
  const dp = Array.isArray(claims.delegate_payload) ? claims.delegate_payload : [];
  let found = false;
  for (const m of dp) {
    if (!isObj(m)) continue;
    if (m.vct === required) found = true;
    if (m.vct === PAYMENT_FINAL) {
      const err = paymentFieldsError(m, `${label} payment mandate`);
      if (err) refuse('INVALID_CREDENTIAL', err, label);
      const l2pi = l2Payment && isObj(l2Payment.payment_instrument) ? l2Payment.payment_instrument : undefined;
      const pi = m.payment_instrument as Record<string, unknown>;
      if (l2pi && (pi.id !== l2pi.id || pi.type !== l2pi.type)) refuse('CONSTRAINT_VIOLATED', `${label} payment_instrument is not the one L2 authorized`, label);
    } else if (m.vct === CHECKOUT_FINAL) {
      if (!m.checkout_jwt || !m.checkout_hash) refuse('INVALID_CREDENTIAL', `${label} checkout mandate needs checkout_jwt and checkout_hash`, label);
    }
    if (Object.hasOwn(m, 'cnf')) refuse('INVALID_CREDENTIAL', `${label} mandates MUST NOT contain cnf`, label);
  }
  if (!found) refuse('INVALID_CREDENTIAL', `${label} discloses no ${required} mandate`, label);
  // credential-format §8.3: one mandate pair maps to exactly one L3 pair, so an L3 carries one final
  // mandate, of its own kind. A second one (another payment in one L3a) would ride along unevaluated,
  // and charging it too would be a second L3 for the pair: refused rather than evaluated.
  const mandates = dp.filter((m) => isObj(m) && Object.hasOwn(m, 'vct'));
  if (mandates.length !== 1) refuse('INVALID_CREDENTIAL', `${label} must carry exactly one mandate (${required}); it carries ${mandates.length}`, label);
}
