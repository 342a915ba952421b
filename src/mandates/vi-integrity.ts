import type { Reason } from '../errors.js';
import { hashAscii } from './sd.js';
import { isObj } from './constraint-check.js';

/**
 * The three hash bindings of a Verifiable Intent chain (credential-format
 * §6.2, §4.5.3, §5.7.10). Each returns the refusal, or undefined when it holds.
 */
const mismatch = (message: string): Reason => ({ code: 'CHECKOUT_MISMATCH', message });

/** checkout_hash = B64U(SHA-256(checkout_jwt)) and the payment's transaction_id = checkout_hash. */
export function checkCheckoutBinding(checkout: Record<string, unknown>, payment: Record<string, unknown>): Reason | undefined {
  const jwt = checkout.checkout_jwt;
  if (typeof jwt !== 'string' || jwt === '') return { code: 'INVALID_CREDENTIAL', message: 'the checkout mandate has no checkout_jwt' };
  if (!/^[\x20-\x7e]*$/.test(jwt)) return { code: 'INVALID_CREDENTIAL', message: 'checkout_jwt must be ASCII' };
  if (hashAscii(jwt) !== checkout.checkout_hash) return mismatch('checkout_hash is not the hash of checkout_jwt');
  if (payment.transaction_id !== checkout.checkout_hash) return mismatch('transaction_id does not match checkout_hash');
  return undefined;
}

/** The open payment mandate's mandate.payment.reference names the checkout mandate disclosure: B64U(SHA-256(disclosure)). */
export function checkReferenceBinding(payment: Record<string, unknown>, checkoutDisclosure: string): Reason | undefined {
  const ref = (Array.isArray(payment.constraints) ? payment.constraints : []).find((c) => isObj(c) && c.type === 'mandate.payment.reference') as
    Record<string, unknown> | undefined;
  if (!ref) return undefined;
  if (typeof ref.conditional_transaction_id !== 'string' || ref.conditional_transaction_id === '')
    return { code: 'INVALID_CREDENTIAL', message: 'mandate.payment.reference has no conditional_transaction_id' };
  return ref.conditional_transaction_id === hashAscii(checkoutDisclosure) ? undefined : mismatch('conditional_transaction_id is not the digest of the checkout mandate disclosure');
}

function first(claims: Record<string, unknown>, vct: string): Record<string, unknown> | undefined {
  const dp = Array.isArray(claims.delegate_payload) ? claims.delegate_payload : [];
  return dp.find((d): d is Record<string, unknown> => isObj(d) && d.vct === vct);
}

/** L3a transaction_id = L3b checkout_hash. */
export function checkL3CrossReference(l3Payment: Record<string, unknown>, l3Checkout: Record<string, unknown>): Reason | undefined {
  const tid = first(l3Payment, 'mandate.payment.1')?.transaction_id;
  const ch = first(l3Checkout, 'mandate.checkout.1')?.checkout_hash;
  if (tid === undefined) return { code: 'INVALID_CREDENTIAL', message: 'L3a payment mandate has no transaction_id' };
  if (ch === undefined) return { code: 'INVALID_CREDENTIAL', message: 'L3b checkout mandate has no checkout_hash' };
  return tid === ch ? undefined : mismatch('L3a transaction_id != L3b checkout_hash');
}
