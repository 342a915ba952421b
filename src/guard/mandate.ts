import type { Reason } from '../errors.js';
import { compareDecimal } from '../encoding/decimal.js';
import { toMoney } from '../agents/limits.js';
import { verifyMandateChain } from '../mandates/verify.js';
import type { ClosingLayer } from '../mandates/wire.js';
import type { Ap2ChainInput, MandateDecision, VerifyMandateOptions, ViChainInput } from '../mandates/types.js';
import type { MandatePolicy } from './policy.js';
import type { Verifier } from './verifier.js';
import type { SdJwtStatusChecker } from '../sdjwt/types.js';

/**
 * The mandate policy's verification step: the chain under the pinned trust,
 * its closing layer checked against this verifier's `aud` and the nonce the
 * pipeline read from it (in challenge mode one this verifier issued), then
 * what the request adds: the amount it charges and the payee it serves.
 *
 * Only the closing layer is bound here: VI L3a (the agent's payment, for
 * this verifier) or an immediate L2 (the user's own, for this verifier), the
 * AP2 payment chain's closed mandate. Any checkout chain that comes with it
 * was closed for the merchant, with the merchant's nonce, so its aud and
 * nonce are the merchant's to check (`allowMissingNonce` below relaxes only
 * that; the payment's aud and nonce are always passed, so always checked).
 *
 * A VI layer's `status` (the card issuer's L1 revocation) is checked with
 * the verifier's Token Status List checker (`tokenStatus`, the one SD-JWT
 * grants use; with receipts, the recording wrapper whose lists the evidence
 * keeps), so no mandate guard ever accepts a revoked card credential unseen.
 */
export async function verifyMandatePolicy(
  input: ViChainInput | Ap2ChainInput,
  closing: ClosingLayer,
  v: Verifier,
  policy: MandatePolicy,
  now: Date,
  tokenStatus: SdJwtStatusChecker = v.tokenStatus,
): Promise<{ reasons: Reason[]; holder?: string; mandate: MandateDecision }> {
  const nonce = closing.payload.nonce as string;
  const options: VerifyMandateOptions = {
    profile: policy.profile,
    trust: policy.trust,
    now,
    skewSeconds: v.skewSeconds,
    ...(closing.checkedAs === 'root' ? { aud: v.aud, nonce } : { paymentAud: v.aud, paymentNonce: nonce }),
    allowMissingNonce: true,
    status: tokenStatus,
    ...(policy.requireStatus !== undefined ? { requireStatus: policy.requireStatus } : {}),
    ...(policy.calendarTimeZone !== undefined ? { calendarTimeZone: policy.calendarTimeZone } : {}),
    ...(policy.l1Vct !== undefined ? { l1Vct: policy.l1Vct } : {}),
    ...(policy.checkoutHash !== undefined ? { checkoutHash: policy.checkoutHash } : {}),
    ...(policy.openCheckoutHash !== undefined ? { openCheckoutHash: policy.openCheckoutHash } : {}),
  };
  const mandate = await verifyMandateChain(input, options);
  const reasons = [...mandate.reasons];
  const payment = mandate.payment;
  if (mandate.ok && !payment) reasons.push({ code: 'INVALID_PRESENTATION', message: 'the chain carries no final payment to charge' });
  if (payment && policy.amount !== undefined) {
    // Throws INVALID_ARGUMENT for a malformed amount: the request, not the proof, is wrong (a 400).
    const asked = toMoney(policy.amount);
    if (asked.currency !== payment.amount.currency || compareDecimal(asked.amount, payment.amount.amount) !== 0) {
      reasons.push({
        code: 'REQUEST_MISMATCH',
        message: `the payment is for ${payment.amount.amount} ${payment.amount.currency}, the request charges ${asked.amount} ${asked.currency}`,
      });
    }
  }
  if (payment && policy.payee !== undefined) {
    const p = payment.payee;
    // Only what the user's signature bound identifies the payee: an id an allow-list matched on, a website it
    // matched with the name (VI constraints.md §4.3), the payee of a mandate the user closed. An identifier the
    // agent added beside them is its own word. Where the user did not restrict the payee, the agent chose it.
    const who = payment.boundPayees ?? (p ? [typeof p.id === 'string' && p.id !== '' ? p.id : p.website] : []);
    // An empty identifier names no one: a chain's empty payee id never matches a route's empty payee (a payee
    // function that found no merchant in the request).
    if (policy.payee === '' || !who.some((x) => typeof x === 'string' && x !== '' && x === policy.payee))
      reasons.push({
        code: 'COUNTERPARTY_NOT_ALLOWED',
        message: policy.payee === '' ? 'the request names no payee to check the payment against' : `the payment is to another payee than ${policy.payee.slice(0, 100)}`,
      });
  }
  // Who used the nonce: the agent key the chain delegates to, or the user's key when no agent acted.
  const holder = mandate.agent?.key ?? mandate.principal?.key;
  return { reasons, ...(holder !== undefined ? { holder } : {}), mandate: reasons.length === mandate.reasons.length ? mandate : { ...mandate, ok: false, reasons } };
}
