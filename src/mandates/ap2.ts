import { shown } from '../errors.js';
import { canonicalJws } from '../credentials/twins.js';
import { addLayer, checkAud, checkExp, checkIat, checkNonce, guard, party, refuse, verifyRoot, type Ctx } from './common.js';
import { hashAscii, hasWithheld, parseSdJwt, resolveClaims, resolveValue, verifyLayer, type SdLayer } from './sd.js';
import { keyFromJwk, jwkThumbprint } from './trust.js';
import { checkAp2Checkout, checkAp2Payment, ap2IdMatches, AP2_NETWORK_TYPES } from './ap2-constraints.js';
import { readCheckout, checkoutKeys, checkoutLines, checkoutMerchant } from './checkout.js';
import { isInt, isObj, type ConstraintCheck } from './constraint-check.js';
import { fromMinorUnits } from './money.js';
import { dateSpan } from './dates.js';
import { sameJsonData } from './json.js';
import type { Ap2ChainInput, ConstraintReport, FinalPayment, MandateRecord } from './types.js';

/**
 * Google AP2 v0.2 mandate chains as its SDK writes them (sdk README "Wire
 * format"): `<root SD-JWT>~<disc>~~<KB-SD-JWT>~<disc>~...`, the root signed by
 * a key the caller pins (a user credential issuer, a trusted agent
 * provider), each later hop signed by the key its predecessor's mandate
 * names in `cnf` and bound to it by `sd_hash` (or `issuer_jwt_hash`), the
 * last hop closed (no `cnf`) and bound to the verifier by `aud` and `nonce`.
 * Open mandates' constraints are evaluated against the closed one; the
 * closed payment is bound to one checkout by `transaction_id`.
 */
const VCT = {
  paymentOpen: 'mandate.payment.open.1',
  payment: 'mandate.payment.1',
  checkoutOpen: 'mandate.checkout.open.1',
  checkout: 'mandate.checkout.1',
};
/**
 * The members an open mandate may carry: the properties of open_payment_mandate.json /
 * open_checkout_mandate.json, and the registered JWT claims this verifier reads (nbf with iat and exp;
 * iss, sub and jti only name). The schemas leave other members open, but agent authorization
 * §Verification treats what the verifier does not understand as failing: a member the user signed and
 * the verifier ignored (a `max_amount`, a mandate-level `allowed_payees`) would read as no restriction.
 */
const REGISTERED = ['iss', 'sub', 'jti', 'iat', 'nbf', 'exp'];
const AP2_OPEN_MEMBERS: Readonly<Record<string, ReadonlySet<string>>> = {
  [VCT.paymentOpen]: new Set(['vct', 'constraints', 'cnf', 'payee', 'payment_amount', 'payment_instrument', 'pisp', 'execution_date', 'risk_data', ...REGISTERED]),
  [VCT.checkoutOpen]: new Set(['vct', 'constraints', 'cnf', ...REGISTERED]),
};
/** Members of the SD-JWT payload itself, when a hop carries its mandate there (no delegate_payload). */
const PAYLOAD_MEMBERS = new Set(['_sd_alg', 'aud', 'nonce', 'sd_hash', 'issuer_jwt_hash']);
const TERMINAL = new Set(['kb+sd-jwt', 'kb-sd-jwt']);
const INTERMEDIATE = new Set(['kb+sd-jwt+kb', 'kb-sd-jwt+kb']);
const MAX_HOPS = 8;

interface Hop {
  layer: SdLayer;
  name: string;
  mandate: Record<string, unknown>;
  signer: string;
  /** The signing key (JWK thumbprint URN), whatever anchor pinned it: who set the hop's limits, to the ledger. */
  key: string;
  /** The root's pinned DID method, when a DID anchor verified it: the ledger key 0.1 used for the root. */
  anchor?: string;
}

interface VerifiedChain {
  kind: 'payment' | 'checkout';
  hops: Hop[];
  /** sd_hash of the root token as presented: what `payment.reference` names for an open checkout mandate. */
  rootHash: string;
}

/** Splits a `~~`-joined chain; each token gets back the trailing `~` the split took (sdk chain.py "normalize"). */
export function splitChain(chain: string): string[] {
  const parts = chain.trim().split('~~');
  if (parts.length > MAX_HOPS) refuse('INPUT_TOO_LARGE', `an AP2 chain of more than ${MAX_HOPS} mandates`);
  return parts.map((p, i) => (i < parts.length - 1 ? p + '~' : p));
}

function mandateOf(claims: Record<string, unknown>, what: string): Record<string, unknown> {
  const dp = claims.delegate_payload;
  if (dp === undefined) return claims;
  if (!Array.isArray(dp)) refuse('INVALID_CREDENTIAL', `${what} delegate_payload must be a list`, what);
  const mandates = dp.filter(isObj);
  // One mandate per hop: the SDK's chains are (open, closed) per mandate type.
  if (mandates.length !== 1 || dp.length !== 1) refuse('INVALID_CREDENTIAL', `${what} must delegate exactly one disclosed mandate`, what);
  return mandates[0]!;
}

async function verifyChain(ctx: Ctx, chain: string, label: string, expected: { aud?: string; nonce?: string }): Promise<VerifiedChain> {
  const d = ctx.decision;
  const tokens = splitChain(chain);
  const hops: Hop[] = [];
  let kind: 'payment' | 'checkout' | undefined;
  for (const [i, tok] of tokens.entries()) {
    const name = `${label} #${i}`;
    const layer = guard(() => parseSdJwt(tok, name), name);
    const info = addLayer(ctx, layer, name);
    const p = layer.payload;
    if (p._sd_alg !== undefined && p._sd_alg !== 'sha-256') refuse('INVALID_CREDENTIAL', `${name} _sd_alg ${shown(p._sd_alg, 12)} is not supported (sha-256)`, name);
    const claims = guard(() => resolveClaims(layer, name), name);
    const mandate = mandateOf(claims, name);
    let signer: string;
    let key: string;
    let anchor: string | undefined;
    if (i === 0) {
      if (typeof layer.header.typ === 'string' && (TERMINAL.has(layer.header.typ) || INTERMEDIATE.has(layer.header.typ)))
        refuse('INVALID_TYP', `${name} is a key-binding hop, not a root`, name);
      const cnf = isObj(mandate.cnf) ? mandate.cnf.jwk : undefined;
      const trusted = await verifyRoot(ctx, layer, name, [cnf]);
      signer = trusted ? trusted.id : 'unverified';
      d.principal = trusted ? party(trusted.key.publicJwk) : undefined;
      // The ledger knows the root's signer by its key: pinned as a JWK, a did:jwk, a did:key or a did:web
      // method (or one whose id changed), it is one user, and its mandate one mandate, paid as often as it says.
      key = d.principal?.key ?? signer;
      if (signer !== key) anchor = signer;
      checkIat(ctx, p, name, false);
      checkExp(ctx, p, name, false);
    } else {
      const prev = hops[i - 1]!;
      const typ = layer.header.typ;
      if (typeof typ !== 'string' || (!TERMINAL.has(typ) && !INTERMEDIATE.has(typ))) refuse('INVALID_TYP', `${name} typ must be kb+sd-jwt or kb+sd-jwt+kb`, name);
      const cnf = isObj(prev.mandate.cnf) ? prev.mandate.cnf.jwk : undefined;
      if (!isObj(cnf)) refuse('DELEGATION_BROKEN', `${prev.name} names no cnf.jwk to delegate to`, name);
      const cnfKey = guard(() => keyFromJwk(cnf), name);
      if (!verifyLayer(layer, cnfKey, ctx.algorithms)) refuse('INVALID_SIGNATURE', `${name} is not signed by the key ${prev.name} delegates to`, name);
      signer = jwkThumbprint(cnfKey.publicJwk);
      key = signer;
      // draft-gco-oauth-delegate-sd-jwt §5.1.4: exactly one of sd_hash / issuer_jwt_hash, over the previous token
      const hasSd = Object.hasOwn(p, 'sd_hash');
      if (hasSd === Object.hasOwn(p, 'issuer_jwt_hash')) refuse('DELEGATION_BROKEN', `${name} needs exactly one of sd_hash and issuer_jwt_hash`, name);
      const want = hasSd ? hashAscii(prev.layer.serialized) : hashAscii(prev.layer.issuerJwt);
      if ((hasSd ? p.sd_hash : p.issuer_jwt_hash) !== want) refuse('DELEGATION_BROKEN', `${name} is not bound to ${prev.name}`, name);
      checkIat(ctx, p, name, true);
      checkExp(ctx, p, name, false);
      for (const c of ['aud', 'nonce']) if (typeof p[c] !== 'string' || p[c] === '') refuse('INVALID_CREDENTIAL', `${name} needs a non-empty ${c}`, name);
      const hasCnf = isObj(mandate.cnf);
      if (TERMINAL.has(typ) && hasCnf) refuse('INVALID_CREDENTIAL', `${name} is terminal and MUST NOT carry cnf`, name);
      if (INTERMEDIATE.has(typ) && !hasCnf) refuse('INVALID_CREDENTIAL', `${name} is intermediate and needs cnf`, name);
    }
    info.signer = signer;
    checkIat(ctx, mandate, `${name} mandate`, false);
    checkExp(ctx, mandate, `${name} mandate`, false);
    const vct = mandate.vct;
    const last = i === tokens.length - 1;
    const k = vct === VCT.paymentOpen || vct === VCT.payment ? 'payment' : vct === VCT.checkoutOpen || vct === VCT.checkout ? 'checkout' : undefined;
    if (!k) refuse('UNKNOWN_CONSTRAINT', `${name} is a mandate of type ${JSON.stringify(shown(vct, 60))}, which this verifier does not understand`, name);
    if (kind && k !== kind) refuse('DELEGATION_BROKEN', `${name} mixes payment and checkout mandates in one chain`, name);
    kind = k;
    const open = vct === VCT.paymentOpen || vct === VCT.checkoutOpen;
    if (open === last) refuse('INVALID_CREDENTIAL', last ? `the chain ends in an open mandate (${name})` : `${name} is closed but the chain goes on`, name);
    if (open && !isObj(mandate.cnf)) refuse('INVALID_CREDENTIAL', `${name} is open and needs cnf (agent authorization §Mandate Structure)`, name);
    if (open && !Array.isArray(mandate.constraints)) refuse('INVALID_CREDENTIAL', `${name} is open and needs constraints`, name);
    if (open) {
      const members = AP2_OPEN_MEMBERS[vct as string]!;
      const extra = Object.keys(mandate).filter((m) => !members.has(m) && !(mandate === claims && PAYLOAD_MEMBERS.has(m)));
      if (extra.length > 0)
        refuse(
          'UNKNOWN_CONSTRAINT',
          `${name} sets ${extra
            .slice(0, 3)
            .map((m) => JSON.stringify(shown(m, 40)))
            .join(', ')}, which this verifier does not understand (AP2 v0.2 open mandate schema)`,
          name,
        );
    }
    if (open && hasWithheld(mandate)) refuse('CONSTRAINT_VIOLATED', `${name} hides members of the open mandate the user signed: present them all`, name);
    if (open) {
      // A constraint is an element of the constraints array, which RFC 9901 §4.2.4.2 lets the issuer make
      // selectively disclosable; resolveClaims drops an element whose disclosure is not presented. Here a
      // hidden element is a hidden restriction (an amount range, a budget), so the list must be shown whole.
      const hidden = hiddenConstraints(layer, name);
      if (hidden > 0) refuse('CONSTRAINT_VIOLATED', `${name} withholds ${hidden} of the constraints the user signed: present them all`, name);
      // open_payment_mandate.json / open_checkout_mandate.json: constraints "contains" payment.reference / checkout.line_items.
      const must = k === 'payment' ? 'payment.reference' : 'checkout.line_items';
      if (!(mandate.constraints as unknown[]).some((c) => isObj(c) && c.type === must))
        refuse('INVALID_CREDENTIAL', `${name} is an open ${k} mandate without a ${must} constraint (AP2 v0.2 schema: constraints must contain one)`, name);
    }
    // What the user restricted must be shown whole: a withheld member (a preset payee or amount, a constraint's
    // bound) cannot be told from a decoy, and the checks would read the rest as allowing more.
    if (last) {
      if (ctx.opts.allowMissingNonce !== true && (expected.aud === undefined || expected.nonce === undefined)) {
        refuse('NONCE_MISMATCH', `the closed mandate (${name}) is checked against this verifier's aud and nonce: pass both (or allowMissingNonce)`, name);
      }
      checkAud(p, name, expected.aud);
      checkNonce(p, name, expected.nonce);
    }
    hops.push({ layer, name, mandate, signer, key, ...(anchor !== undefined ? { anchor } : {}) });
  }
  return { kind: kind!, hops, rootHash: hashAscii(hops[0]!.layer.serialized) };
}

/** How many elements of the open mandate's constraints array are undisclosed references. */
function hiddenConstraints(layer: SdLayer, what: string): number {
  const all = guard(() => resolveValue(layer, layer.payload, what, { keepUndisclosed: true }), what) as Record<string, unknown>;
  const placeholder = (v: unknown) => isObj(v) && Object.hasOwn(v, '...');
  const dp = all.delegate_payload;
  const mandate = dp === undefined ? all : Array.isArray(dp) ? dp.find((m) => isObj(m) && !placeholder(m)) : undefined;
  const list = isObj(mandate) ? mandate.constraints : undefined;
  return Array.isArray(list) ? list.filter(placeholder).length : 0;
}

function report(ctx: Ctx, check: ConstraintCheck, constraints: unknown[], ref: string): void {
  for (const c of constraints) {
    if (!isObj(c)) continue;
    const type = typeof c.type === 'string' ? c.type : 'constraints';
    const mine = check.violations.filter((v) => v.type === type);
    const r: ConstraintReport = {
      type,
      enforcedBy: AP2_NETWORK_TYPES.has(type) ? 'network' : 'verifier',
      status: mine.length > 0 ? 'violated' : AP2_NETWORK_TYPES.has(type) ? 'reported' : 'satisfied',
      ref,
      constraint: c,
    };
    if (mine.length > 0) r.messages = mine.map((v) => v.message);
    ctx.decision.constraints.push(r);
  }
  for (const v of check.violations) ctx.decision.reasons.push({ code: v.code, message: `${ref}: ${v.message}`, ref });
}

function closedPayment(m: Record<string, unknown>, what: string): FinalPayment {
  const pa = m.payment_amount;
  if (typeof m.transaction_id !== 'string' || !m.transaction_id) refuse('INVALID_CREDENTIAL', `${what} has no transaction_id`, what);
  if (!isObj(m.payee) || typeof m.payee.id !== 'string' || m.payee.id === '' || typeof m.payee.name !== 'string')
    refuse('INVALID_CREDENTIAL', `${what} payee needs a non-empty id and a name`, what);
  if (!isObj(pa) || !isInt(pa.amount) || typeof pa.currency !== 'string') refuse('INVALID_CREDENTIAL', `${what} payment_amount needs an integer amount and a currency`, what);
  if (!isObj(m.payment_instrument) || typeof m.payment_instrument.id !== 'string' || typeof m.payment_instrument.type !== 'string')
    refuse('INVALID_CREDENTIAL', `${what} payment_instrument needs id and type`, what);
  const amount = guard(() => fromMinorUnits(pa.amount, pa.currency as string), what, 'INVALID_CREDENTIAL');
  if (m.pisp !== undefined && !isObj(m.pisp)) refuse('INVALID_CREDENTIAL', `${what} pisp must be an object`, what);
  return {
    amount,
    minorUnits: pa.amount,
    payee: m.payee,
    instrument: m.payment_instrument,
    ...(isObj(m.pisp) ? { pisp: m.pisp } : {}),
    transactionId: m.transaction_id,
  };
}

/**
 * payment_mandate.json: `execution_date` is the "ISO8601 date of execution of payment. When absent
 * indicates immediate execution." This verifier executes the payment now, so a payment dated later
 * is refused: it is not due yet, and charging it now would run it early.
 */
function executionDate(ctx: Ctx, closed: Record<string, unknown>, what: string): void {
  if (closed.execution_date === undefined) return;
  const at = dateSpan(closed.execution_date, ctx.opts.calendarTimeZone ?? 'UTC');
  if (!at) refuse('INVALID_CREDENTIAL', `${what} execution_date must be an ISO 8601 date or an RFC 3339 date-time with a zone`, what);
  if (at.start > (ctx.now + ctx.skew) * 1000)
    refuse('CONSTRAINT_VIOLATED', `${what} is dated ${shown(closed.execution_date, 40)}, later than now: it cannot be executed yet`, what);
}

/** Pre-set claims of an open payment mandate must reach the closed one unchanged (agent authorization §Verification 2). */
function presetProblems(open: Record<string, unknown>, closed: Record<string, unknown>, ref: string, ctx: Ctx): void {
  const push = (code: 'COUNTERPARTY_NOT_ALLOWED' | 'CONSTRAINT_VIOLATED' | 'AUTHORITY_EXCEEDED', message: string) =>
    ctx.decision.reasons.push({ code, message: `${ref}: ${message}`, ref });
  if (open.payee !== undefined && !ap2IdMatches(open.payee, closed.payee)) push('COUNTERPARTY_NOT_ALLOWED', 'the payee is not the one the open mandate set');
  if (open.payment_amount !== undefined && !sameJsonData(open.payment_amount, closed.payment_amount)) push('AUTHORITY_EXCEEDED', 'the amount is not the one the open mandate set');
  if (open.payment_instrument !== undefined && !sameJsonData(open.payment_instrument, closed.payment_instrument))
    push('CONSTRAINT_VIOLATED', 'the payment instrument is not the one the open mandate set');
  if (open.pisp !== undefined && !sameJsonData(open.pisp, closed.pisp)) push('CONSTRAINT_VIOLATED', 'the PISP is not the one the open mandate set');
  if (open.execution_date !== undefined && open.execution_date !== closed.execution_date) push('CONSTRAINT_VIOLATED', 'the execution date is not the one the open mandate set');
}

export async function verifyAp2(ctx: Ctx, input: Ap2ChainInput | string): Promise<void> {
  const o = ctx.opts;
  if (typeof input === 'string') {
    // One chain: payment or checkout, told apart by its mandates; aud/nonce from the plain options.
    const v = await verifyChain(ctx, input, 'AP2', { aud: o.aud, nonce: o.nonce });
    return settle(ctx, v.kind === 'payment' ? v : undefined, v.kind === 'checkout' ? v : undefined, undefined);
  }
  const co = input.checkout ? await verifyChain(ctx, input.checkout, 'AP2 checkout', { aud: o.checkoutAud ?? o.aud, nonce: o.checkoutNonce ?? o.nonce }) : undefined;
  const pay = input.payment ? await verifyChain(ctx, input.payment, 'AP2 payment', { aud: o.paymentAud ?? o.aud, nonce: o.paymentNonce ?? o.nonce }) : undefined;
  if (co && co.kind !== 'checkout') refuse('INVALID_ARGUMENT', 'the checkout chain holds payment mandates');
  if (pay && pay.kind !== 'payment') refuse('INVALID_ARGUMENT', 'the payment chain holds checkout mandates');
  return settle(ctx, pay, co, input.checkout_object);
}

/** Across the verified chains: the checkout's hash and signature, the payment's binding to it, every open mandate's constraints. */
async function settle(ctx: Ctx, pay: VerifiedChain | undefined, co: VerifiedChain | undefined, detached: Record<string, unknown> | undefined): Promise<void> {
  const d = ctx.decision;
  const o = ctx.opts;
  const chains = [pay, co].filter((x): x is VerifiedChain => x !== undefined);
  d.mode = chains.some((c) => c.hops.length > 1) ? 'human-not-present' : 'human-present';
  let checkoutHash = o.checkoutHash;
  let merchant: Record<string, unknown> | undefined;
  if (co) {
    const closed = co.hops[co.hops.length - 1]!;
    const m = closed.mandate;
    if (typeof m.checkout_jwt !== 'string' || typeof m.checkout_hash !== 'string') refuse('INVALID_CREDENTIAL', `${closed.name} needs checkout_jwt and checkout_hash`, closed.name);
    // checkout mandate §Mandate Schema: checkout_hash = B64U(SHA-256(checkout_jwt))
    if (guard(() => hashAscii(m.checkout_jwt as string), closed.name, 'INVALID_CREDENTIAL') !== m.checkout_hash)
      refuse('CHECKOUT_MISMATCH', `${closed.name} checkout_hash is not the hash of checkout_jwt`, closed.name);
    if (o.checkoutHash !== undefined && o.checkoutHash !== m.checkout_hash)
      refuse('CHECKOUT_MISMATCH', 'the checkout mandate is for another checkout than the one being processed', closed.name);
    checkoutHash = m.checkout_hash;
    const payload = await readCheckout(ctx, m.checkout_jwt, closed.name, detached);
    merchant = checkoutMerchant(payload);
    const lines = checkoutLines(payload);
    d.checkout = { hash: m.checkout_hash, keys: checkoutKeys(m.checkout_jwt, closed.name, detached), ...(merchant ? { merchant } : {}), ...(lines ? { lineItems: lines } : {}) };
    co.hops
      .slice(0, -1)
      .forEach((h, i) =>
        report(
          ctx,
          checkAp2Checkout(h.mandate.constraints, { ...(merchant ? { merchant } : {}), ...(lines ? { lines } : {}) }),
          h.mandate.constraints as unknown[],
          `AP2 open checkout mandate #${i}`,
        ),
      );
  }
  if (pay) {
    const closed = pay.hops[pay.hops.length - 1]!;
    const payment = closedPayment(closed.mandate, closed.name);
    d.payment = payment;
    // payment mandate §Mandate Schema: transaction_id is the hash of the checkout JWT being paid for; never read from this chain.
    if (!checkoutHash) refuse('CHECKOUT_MISMATCH', 'the payment cannot be bound to a checkout: give the checkout chain or checkoutHash', closed.name);
    if (payment.transactionId !== checkoutHash) refuse('CHECKOUT_MISMATCH', 'the payment mandate is for another checkout (transaction_id)', closed.name);
    if (merchant && typeof merchant.id === 'string' && !ap2IdMatches(merchant, payment.payee))
      refuse('CHECKOUT_MISMATCH', 'the payee is not the merchant of the checkout', closed.name);
    const openCheckoutHash = co && co.hops.length > 1 ? co.rootHash : o.openCheckoutHash;
    executionDate(ctx, closed.mandate, closed.name);
    const when = { now: ctx.now * 1000, timeZone: o.calendarTimeZone ?? 'UTC' };
    let restricted = false;
    pay.hops.slice(0, -1).forEach((h, i) => {
      const ref = `AP2 open payment mandate #${i}`;
      presetProblems(h.mandate, closed.mandate, ref, ctx);
      report(ctx, checkAp2Payment(h.mandate.constraints, closed.mandate, openCheckoutHash, when), h.mandate.constraints as unknown[], ref);
      const cs = Array.isArray(h.mandate.constraints) ? h.mandate.constraints : [];
      if (h.mandate.payee !== undefined || cs.some((c) => isObj(c) && c.type === 'payment.allowed_payees')) restricted = true;
    });
    // AP2 matches payees by id only (a preset payee, allowed_payees): where the user restricted the payee,
    // its id is what was bound; a closed mandate the root signed itself binds its payee whole.
    if (restricted || pay.hops.length === 1) payment.boundPayees = [String(payment.payee!.id)];
  }
  const lead = pay ?? co!;
  const lastOpen = lead.hops.length > 1 ? lead.hops[lead.hops.length - 2]! : undefined;
  if (lastOpen && isObj(lastOpen.mandate.cnf)) d.agent = guard(() => party(lastOpen.mandate.cnf && (lastOpen.mandate.cnf as Record<string, unknown>).jwk), lastOpen.name);
  record(ctx, pay);
  record(ctx, co);
}

function record(ctx: Ctx, chain: VerifiedChain | undefined): void {
  if (!chain) return;
  let parent: string | undefined;
  chain.hops.forEach((h, i) => {
    const open = i < chain.hops.length - 1;
    // A human-present chain is one closed mandate signed by the root: it is the link. Otherwise the open mandates are.
    if (!open && chain.hops.length > 1) return;
    const ref = open ? `AP2 open ${chain.kind} mandate #${i}` : `AP2 ${chain.kind} mandate`;
    const rec: MandateRecord = { ref, id: `urn:ap2:mandate:${hashAscii(canonicalJws(h.layer.issuerJwt))}`, issuer: h.key, kind: chain.kind, open };
    if (h.anchor !== undefined) rec.anchor = h.anchor;
    const cnf = isObj(h.mandate.cnf) ? h.mandate.cnf.jwk : undefined;
    if (cnf) rec.subject = party(cnf).key;
    if (parent) rec.parent = parent;
    const iat = isInt(h.mandate.iat) ? h.mandate.iat : isInt(h.layer.payload.iat) ? h.layer.payload.iat : undefined;
    const exp = isInt(h.mandate.exp) ? h.mandate.exp : isInt(h.layer.payload.exp) ? h.layer.payload.exp : undefined;
    if (iat !== undefined) rec.iat = iat;
    if (exp !== undefined) rec.exp = exp;
    if (!open && chain.kind === 'payment') rec.payment = ctx.decision.payment;
    ctx.decision.mandates.push(rec);
    parent = rec.id;
  });
}
