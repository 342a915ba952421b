import { shown } from '../errors.js';
import { addLayer, checkAud, checkExp, checkIat, checkNonce, guard, party, refuse, verifyRoot, type Ctx } from './common.js';
import { hashAscii, hasWithheld, parseSdJwt, resolveClaims, resolveValue, verifyLayer, duplicateSdDigest, type SdLayer } from './sd.js';
import { keyFromJwk } from './trust.js';
import { checkViConstraints, viMerchantMatches, VI_NETWORK_TYPES } from './vi-constraints.js';
import { readCheckout, checkoutKeys, checkoutLines, checkoutMerchant } from './checkout.js';
import { isObj } from './constraint-check.js';
import { fromMinorUnits } from './money.js';
import { checkL3CrossReference } from './vi-integrity.js';
import { CHECKOUT_FINAL, CHECKOUT_OPEN, KNOWN_VCTS, PAYMENT_FINAL, PAYMENT_OPEN, checkL3Fields, checkPair, pairMandates, type Pair } from './vi-mandates.js';
import { sameJsonData } from './json.js';
import { checkLayerStatuses, readLayerStatus, type LayerStatus } from './vi-status.js';
import type { ConstraintReport, FinalPayment, MandateRecord, ViChainInput } from './types.js';

/**
 * Mastercard/Google Verifiable Intent v0.1: L1 (issuer SD-JWT, user key in
 * cnf) -> L2 (user KB-SD-JWT: final mandates, or open ones delegating to an
 * agent key) -> L3a/L3b (agent KB-SD-JWTs for the network and the merchant).
 * The checks run in the reference verifier's order (its chain.py, mirrored by
 * the TypeScript port), so the first refusal is the one its golden vectors
 * expect; Charter's stricter checks (trust pinned by the caller, required
 * time claims, checkout hash and merchant signature, constraint evaluation,
 * fail-closed unknown types) follow.
 */
const L1_VCT = 'https://credentials.mastercard.com/card';
/** credential-format §5.3: L3 exp MUST NOT exceed 1 hour from iat. */
const L3_MAX_LIFETIME = 3600;

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

function sdAlg(p: Record<string, unknown>, what: string): void {
  if (p._sd_alg !== undefined && p._sd_alg !== 'sha-256') refuse('INVALID_CREDENTIAL', `${what} _sd_alg must be sha-256`, what);
  const dup = duplicateSdDigest(p);
  if (dup !== undefined) refuse('INVALID_CREDENTIAL', `${what} _sd contains a duplicate disclosure digest (RFC 9901 §7.1): ${dup.slice(0, 64)}`, what);
}

function typ(layer: SdLayer, what: string, expected: string): void {
  if (layer.header.typ !== expected) refuse('INVALID_TYP', `${what} header typ must be ${expected}`, what);
}

export async function verifyVi(ctx: Ctx, input: ViChainInput): Promise<void> {
  const d = ctx.decision;
  const opt = (v: string | null | undefined) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const l1 = guard(() => parseSdJwt(input.l1, 'L1'), 'L1');
  const l2 = guard(() => parseSdJwt(input.l2, 'L2'), 'L2');
  const l3pIn = opt(input.l3_payment);
  const l3cIn = opt(input.l3_checkout);
  const l3p = l3pIn === undefined ? undefined : guard(() => parseSdJwt(l3pIn, 'L3a (payment)'), 'L3a (payment)');
  const l3c = l3cIn === undefined ? undefined : guard(() => parseSdJwt(l3cIn, 'L3b (checkout)'), 'L3b (checkout)');
  const l2PaySer = opt(input.l2_payment_serialized);
  const l2CoSer = opt(input.l2_checkout_serialized);
  const hasL3 = l3p !== undefined || l3c !== undefined;
  const viewOf = (ser: string | undefined) => (ser === undefined ? undefined : guard(() => parseSdJwt(ser, 'L2 presentation'), 'L2'));
  const payView = viewOf(l2PaySer);
  const coView = viewOf(l2CoSer);

  // 1. L1 under a pinned issuer key (never a key the chain names itself)
  const l1Layer = addLayer(ctx, l1, 'L1');
  const root = await verifyRoot(ctx, l1, 'L1', [isObj(l1.payload.cnf) ? l1.payload.cnf.jwk : undefined]);
  typ(l1, 'L1', 'sd+jwt');
  const vct = ctx.opts.l1Vct ?? L1_VCT;
  if (l1.payload.vct !== vct) refuse('INVALID_CREDENTIAL', `L1 vct must be ${vct}`, 'L1');
  sdAlg(l1.payload, 'L1');
  // credential-format §3.5: exp, then iat
  checkExp(ctx, l1.payload, 'L1 credential');
  checkIat(ctx, l1.payload, 'L1 credential');
  const l1Claims = guard(() => resolveClaims(l1, 'L1'), 'L1');
  // Token Status List §6.1: the card credential's revocation, checked last (checkLayerStatuses), never ignored.
  const statuses: LayerStatus[] = [];
  const l1Status = readLayerStatus(l1, 'L1');
  if (l1Status === undefined && ctx.opts.requireStatus === true)
    refuse('STATUS_INVALID', 'L1 carries no status in clear, so its revocation cannot be checked (requireStatus)', 'L1');
  const cnf = l1.payload.cnf;
  if (!isObj(cnf) || !isObj(cnf.jwk)) refuse('INVALID_CREDENTIAL', 'L1 has no cnf.jwk (the user key)', 'L1');
  const userKey = guard(() => keyFromJwk(cnf.jwk), 'L1');
  l1Layer.signer = d.issuerVerification === 'verified' ? 'pinned issuer' : 'not verified';
  d.principal = party(userKey.publicJwk, {
    ...(str(l1Claims.sub) ? { id: str(l1Claims.sub)! } : {}),
    ...(str(l1Claims.iss) ? { issuer: str(l1Claims.iss)! } : {}),
    ...(str((cnf.jwk as Record<string, unknown>).kid) ? { kid: str((cnf.jwk as Record<string, unknown>).kid)! } : {}),
  });
  if (l1Status !== undefined) statuses.push({ what: 'L1', status: l1Status, issuer: str(l1.payload.iss) ?? root?.id ?? '', issuerKeys: root ? [root.key.publicJwk] : [] });

  // 2. L2 signed by the L1-bound user key, bound to the L1 presented
  const l2Layer = addLayer(ctx, l2, 'L2');
  if (!verifyLayer(l2, userKey, ctx.algorithms)) refuse('INVALID_SIGNATURE', 'L2 signature verification failed (user key mismatch)', 'L2');
  l2Layer.signer = d.principal.key;
  const sdHash = l2.payload.sd_hash;
  if (typeof sdHash !== 'string' || sdHash === '') refuse('DELEGATION_BROKEN', 'L2 has no sd_hash binding it to L1', 'L2');
  if (sdHash !== hashAscii(l1.serialized)) refuse('DELEGATION_BROKEN', 'L2 sd_hash does not match L1 serialized form', 'L2');
  sdAlg(l2.payload, 'L2');
  checkIat(ctx, l2.payload, 'L2');
  checkExp(ctx, l2.payload, 'L2');
  // The layer that pays (L3a, else an L2 with no L3 after it) is checked against this verifier's aud and nonce, as
  // AP2's closed mandates are: verified without them it could be one closed for another verifier, or a replay.
  // L3b is closed for the merchant (its aud and nonce are the merchant's): checked when given.
  const closedFor = (label: string, aud: string | undefined, nonce: string | undefined) => {
    if (ctx.opts.allowMissingNonce !== true && (aud === undefined || nonce === undefined))
      refuse('NONCE_MISMATCH', `${label} is checked against this verifier's aud and nonce: pass both (or allowMissingNonce)`, label);
  };
  if (!hasL3) closedFor('L2', ctx.opts.aud, ctx.opts.nonce);
  checkAud(l2.payload, 'L2', ctx.opts.aud);
  checkNonce(l2.payload, 'L2', ctx.opts.nonce);
  const l2Claims = guard(() => resolveClaims(l2, 'L2'), 'L2');
  const l2Status = readLayerStatus(l2, 'L2');
  if (l2Status !== undefined) statuses.push({ what: 'L2', status: l2Status, issuer: d.principal.key, issuerKeys: [userKey.publicJwk] });
  if (payView) guard(() => resolveClaims(payView, 'L2 payment presentation'), 'L2');
  if (coView) guard(() => resolveClaims(coView, 'L2 checkout presentation'), 'L2');

  // 3. mode from the mandate vcts (credential-format §4.6)
  const delegates = Array.isArray(l2Claims.delegate_payload) ? l2Claims.delegate_payload : [];
  const vcts = delegates.map((x) => (isObj(x) ? x.vct : undefined));
  const hasOpen = vcts.some((v) => v === CHECKOUT_OPEN || v === PAYMENT_OPEN);
  const hasFinal = vcts.some((v) => v === CHECKOUT_FINAL || v === PAYMENT_FINAL);
  if (hasOpen && hasFinal) refuse('INVALID_CREDENTIAL', 'L2 mixes open (autonomous) and final (immediate) mandates', 'L2');
  const autonomous = hasOpen;
  d.mode = autonomous ? 'autonomous' : 'immediate';
  typ(l2, 'L2', autonomous ? 'kb-sd-jwt+kb' : 'kb-sd-jwt');
  if (!autonomous && hasL3) refuse('INVALID_ARGUMENT', 'L3 credentials given but L2 holds only immediate (final) mandates', 'L2');
  if (!Array.isArray(l2.payload.delegate_payload)) refuse('INVALID_CREDENTIAL', 'L2 delegate_payload must be a list', 'L2');
  // credential-format §10: an unrecognized mandate vct is refused (the reference only notes it).
  const unknownVct = vcts.find((v) => typeof v === 'string' && !KNOWN_VCTS.has(v));
  if (unknownVct !== undefined)
    refuse('UNKNOWN_CONSTRAINT', `L2 carries a mandate of type ${JSON.stringify(shown(unknownVct, 60))}, which this verifier does not understand`, 'L2');

  const pairs = pairMandates(l2, autonomous);
  for (const [i, [co, pm]] of pairs.entries()) checkPair(co, pm, autonomous, i);

  // 4. the payment instrument is the card L1 was issued for. credential-format §3.3 makes card_id "always visible
  // when present"; one an issuer made selectively disclosable binds as well once disclosed, so it is read from the
  // resolved claims, never the raw payload. A digest left undisclosed is no card binding under §3.3 (and is what
  // the holder may withhold, §3.4: email), so it does not refuse the chain.
  const cardId = l1Claims.card_id;
  if (cardId !== undefined) {
    if (typeof cardId !== 'string' || cardId === '') refuse('INVALID_CREDENTIAL', 'L1 card_id must be a non-empty string (credential-format §3.3)', 'L1');
    for (const [, pm] of pairs) {
      if (!pm) continue;
      const pi = isObj(pm.resolved.payment_instrument) ? pm.resolved.payment_instrument.id : undefined;
      if (!pi) refuse('DELEGATION_BROKEN', 'L1 names a card_id but the payment mandate names no payment_instrument.id', 'L2');
      if (pi !== cardId) refuse('DELEGATION_BROKEN', 'the payment mandate uses another card than the one L1 binds', 'L2');
    }
  }

  let agentKid: unknown;
  if (autonomous) {
    // 5. the agent key every open mandate delegates to (credential-format §4.6: identical across pairs)
    let agentJwk: Record<string, unknown> | undefined;
    const kids: unknown[] = [];
    for (const [co, pm] of pairs) {
      for (const [label, m, open] of [
        ['checkout', co, CHECKOUT_OPEN],
        ['payment', pm, PAYMENT_OPEN],
      ] as const) {
        if (!m || m.resolved.vct !== open) continue;
        const jwk = isObj(m.resolved.cnf) ? m.resolved.cnf.jwk : undefined;
        if (!isObj(jwk) || Object.keys(jwk).length === 0) refuse('INVALID_CREDENTIAL', `L2 ${label} open mandate has no cnf.jwk for the agent`, 'L2');
        if (agentJwk === undefined) agentJwk = jwk;
        else if (jwk.x !== agentJwk.x || jwk.y !== agentJwk.y || jwk.crv !== agentJwk.crv || jwk.kty !== agentJwk.kty) {
          refuse('DELEGATION_BROKEN', 'L2 mandate cnf.jwk values must be identical across all pairs but differ', 'L2');
        }
        kids.push(jwk.kid ?? null);
      }
    }
    if (!agentJwk) refuse('INVALID_CREDENTIAL', 'L2 discloses no open mandate to take the agent key from', 'L2');
    const pinned = kids.filter((k) => k !== null);
    if (pinned.some((k) => k !== pinned[0])) refuse('DELEGATION_BROKEN', 'L2 mandate cnf.jwk.kid values differ', 'L2');
    agentKid = pinned[0] ?? null;
    const agentKey = guard(() => keyFromJwk(agentJwk), 'L2');
    d.agent = party(agentKey.publicJwk, typeof agentKid === 'string' ? { kid: agentKid } : {});

    if (hasL3 && pairs.length !== 1) refuse('INVALID_ARGUMENT', `one L3 pair was given for ${pairs.length} mandate pairs`, 'L3');
    const [co, pm] = pairs[0] ?? [null, null];
    const l3Specs = [
      { l3: l3p, label: 'L3a (payment)', ser: l2PaySer, view: payView, vct: PAYMENT_FINAL, pair: pm, aud: ctx.opts.paymentAud, nonce: ctx.opts.paymentNonce },
      { l3: l3c, label: 'L3b (checkout)', ser: l2CoSer, view: coView, vct: CHECKOUT_FINAL, pair: co, aud: ctx.opts.checkoutAud, nonce: ctx.opts.checkoutNonce },
    ];
    const l3Claims: Record<string, Record<string, unknown>> = {};
    for (const s of l3Specs) {
      if (!s.l3) continue;
      const { l3, label } = s;
      // credential-format §5.7.7: L3 values must satisfy the L2 mandate of their kind. Partial disclosure
      // (§13.4.11) lets each recipient see only its half, but never an L3 without the mandate it answers:
      // a payment with the payment mandate withheld would escape its amount, payees, card and budgets.
      if (!s.pair) refuse('DELEGATION_BROKEN', `${label} needs L2 to disclose the open ${s.vct === PAYMENT_FINAL ? 'payment' : 'checkout'} mandate it answers`, label);
      const layer = addLayer(ctx, l3, label);
      // credential-format §4.6: L3 is terminal, no further key binding
      if (Object.hasOwn(l3.payload, 'cnf')) refuse('INVALID_CREDENTIAL', `${label} payload MUST NOT contain cnf`, label);
      if (!verifyLayer(l3, agentKey, ctx.algorithms)) refuse('INVALID_SIGNATURE', `${label} signature verification failed (agent key mismatch)`, label);
      layer.signer = d.agent.key;
      typ(l3, label, 'kb-sd-jwt');
      const bound = s.ser ?? l2.serialized;
      const h = l3.payload.sd_hash;
      if (typeof h !== 'string' || h === '') refuse('DELEGATION_BROKEN', `${label} has no sd_hash binding it to L2`, label);
      if (h !== hashAscii(bound)) refuse('DELEGATION_BROKEN', `${label} sd_hash does not match L2 serialized form`, label);
      if (s.pair && !bound.split('~').includes(s.pair.encoded)) {
        refuse('DELEGATION_BROKEN', `${label} L2 presentation does not include its mandate pair's disclosure`, label);
      }
      // Charter: the selective presentation is a view of this very L2 (same signed JWT, its disclosures only).
      if (s.view) {
        const mine = new Set(l2.disclosures.map((x) => x.encoded));
        if (s.view.issuerJwt !== l2.issuerJwt || s.view.disclosures.some((x) => !mine.has(x.encoded))) {
          refuse('DELEGATION_BROKEN', `${label} is bound to an L2 presentation that is not a view of this L2`, label);
        }
      }
      sdAlg(l3.payload, label);
      checkIat(ctx, l3.payload, label);
      checkExp(ctx, l3.payload, label);
      const iat = l3.payload.iat as number;
      const exp = l3.payload.exp as number;
      if (exp - iat > L3_MAX_LIFETIME) refuse('INVALID_CREDENTIAL', `${label} exp MUST NOT exceed 1 hour from iat`, label);
      if (s.vct === PAYMENT_FINAL) closedFor(label, s.aud, s.nonce);
      checkAud(l3.payload, label, s.aud);
      checkNonce(l3.payload, label, s.nonce);
      const hkid = l3.header.kid;
      if (typeof hkid !== 'string' || hkid === '') refuse('INVALID_CREDENTIAL', `${label} header has no kid`, label);
      if (agentKid !== null && hkid !== agentKid) refuse('KID_MISMATCH', `${label} header kid does not match L2 cnf.jwk.kid`, label);
      const claims = guard(() => resolveClaims(l3, label), label);
      l3Claims[label] = claims;
      const l3Status = readLayerStatus(l3, label);
      if (l3Status !== undefined) statuses.push({ what: label, status: l3Status, issuer: d.agent.key, issuerKeys: [agentKey.publicJwk] });
      checkL3Fields(claims, label, s.vct, pm?.resolved);
    }
    // 6. L3a.transaction_id == L3b.checkout_hash (credential-format §5.7.10)
    const finalPay = l3p ? findVct(l3Claims['L3a (payment)']!, PAYMENT_FINAL) : undefined;
    const finalCo = l3c ? findVct(l3Claims['L3b (checkout)']!, CHECKOUT_FINAL) : undefined;
    if (l3p && l3c) {
      const x = checkL3CrossReference(l3Claims['L3a (payment)']!, l3Claims['L3b (checkout)']!);
      if (x) refuse(x.code, `L3 cross-reference check failed: ${x.message}`, 'L3');
    }
    // --- Charter's checks beyond the reference ---
    if (l2.payload.exp !== undefined && l1.payload.exp !== undefined && (l2.payload.exp as number) > (l1.payload.exp as number)) {
      refuse('INVALID_CREDENTIAL', 'L2 outlives L1 (credential-format §7: MUST NOT exceed L1 exp)', 'L2');
    }
    let coPayload: Record<string, unknown> | undefined;
    if (finalCo) coPayload = await checkoutOf(ctx, finalCo, 'L3b (checkout)');
    if (finalPay && coPayload) payeeIsMerchant(coPayload, finalPay.payee, 'L3a (payment)');
    const views = { payment: l2, checkout: l2 };
    evaluateOpen(ctx, pairs, views, { finalPay, finalCo, coPayload, l3cAud: ctx.opts.checkoutAud !== undefined && l3c ? str(l3c.payload.aud) : undefined });
    if (finalPay) {
      d.payment = finalPayment(finalPay);
      // Payee constraints bound some of its identifiers; none: the agent was free to name the payee.
      if (ctx.boundPayees !== undefined) d.payment.boundPayees = ctx.boundPayees;
    }
    if (finalCo) d.checkout = { hash: String(finalCo.checkout_hash), keys: checkoutKeys(String(finalCo.checkout_jwt), 'L3b (checkout)'), ...checkoutSummary(coPayload, finalCo) };
    recordMandates(ctx, pairs, l2, 'open');
  } else {
    const [co, pm] = pairs[0]!;
    const payload = await checkoutOf(ctx, co!.resolved, 'L2');
    payeeIsMerchant(payload, pm!.resolved.payee, 'L2');
    // immediate mandates carry no constraints (credential-format §4.4): nothing to evaluate but the values
    d.payment = finalPayment(pm!.resolved);
    // The user signed this payee whole: its id when it has one, else its website.
    const p = d.payment.payee;
    if (p) d.payment.boundPayees = [String(typeof p.id === 'string' && p.id !== '' ? p.id : p.website)];
    d.checkout = { hash: String(co!.resolved.checkout_hash), keys: checkoutKeys(String(co!.resolved.checkout_jwt), 'L2'), ...checkoutSummary(payload, co!.resolved) };
    recordMandates(ctx, pairs, l2, 'final');
  }
  // The caller's checkout (the hash of the checkout JWT it is being paid for), as AP2 checks it: the payment must name it.
  const want = ctx.opts.checkoutHash;
  if (want !== undefined && d.payment !== undefined && d.payment.transactionId !== want) {
    refuse('CHECKOUT_MISMATCH', 'the payment mandate is for another checkout (transaction_id)', 'payment');
  }
  await checkLayerStatuses(ctx, statuses);
}

function findVct(claims: Record<string, unknown>, vct: string): Record<string, unknown> | undefined {
  const dp = Array.isArray(claims.delegate_payload) ? claims.delegate_payload : [];
  return dp.find((x): x is Record<string, unknown> => isObj(x) && x.vct === vct);
}

/** The checkout JWT of a final checkout mandate: its hash (Charter: always recomputed), its merchant signature, its payload. */
async function checkoutOf(ctx: Ctx, co: Record<string, unknown>, what: string): Promise<Record<string, unknown>> {
  const jwt = co.checkout_jwt;
  if (typeof jwt !== 'string') refuse('INVALID_CREDENTIAL', `${what} checkout_jwt must be a string`, what);
  if (guard(() => hashAscii(jwt), what, 'INVALID_CREDENTIAL') !== co.checkout_hash) refuse('CHECKOUT_MISMATCH', `${what} checkout_hash is not the hash of checkout_jwt`, what);
  return readCheckout(ctx, jwt, what);
}

/** The payment pays the merchant whose checkout it is for (as AP2 settles it): matched by id, else by name and website. */
function payeeIsMerchant(checkout: Record<string, unknown>, payee: unknown, what: string): void {
  const merchant = checkoutMerchant(checkout);
  if (merchant && !viMerchantMatches(merchant, payee)) refuse('CHECKOUT_MISMATCH', 'the payee is not the merchant of the checkout', what);
}

function checkoutSummary(payload: Record<string, unknown> | undefined, co: Record<string, unknown>) {
  const out: { merchant?: Record<string, unknown>; lineItems?: { id: string; quantity: number }[] } = {};
  // The merchant-signed checkout's items, never the agent's when there is one.
  const lines = payload ? merchantCheckoutLines(payload) : Array.isArray(co.line_items) ? checkoutLines({ line_items: co.line_items }) : undefined;
  const m = payload ? checkoutMerchant(payload) : undefined;
  if (m) out.merchant = m;
  if (lines) out.lineItems = lines;
  return out;
}

/** The line items of a merchant-signed checkout: a checkout listing none is refused. */
function merchantCheckoutLines(payload: Record<string, unknown>): { id: string; quantity: number }[] {
  const lines = checkoutLines(payload);
  if (lines === undefined || lines.length === 0) refuse('INVALID_CREDENTIAL', 'the merchant-signed checkout lists no line items', 'checkout');
  return lines;
}

function finalPayment(m: Record<string, unknown>): FinalPayment {
  const pa = m.payment_amount as Record<string, unknown>;
  const amount = guard(() => fromMinorUnits(pa.amount, String(pa.currency)), 'payment', 'INVALID_CREDENTIAL');
  const out: FinalPayment = { amount, minorUnits: pa.amount as number };
  if (isObj(m.payee)) out.payee = m.payee;
  if (isObj(m.payment_instrument)) out.instrument = m.payment_instrument;
  if (typeof m.transaction_id === 'string') out.transactionId = m.transaction_id;
  return out;
}

/**
 * credential-format §5.7.7: L3 values satisfy every disclosed L2 constraint.
 * Payment constraints against L3a, checkout constraints against L3b and its
 * checkout JWT; unknown types fail closed on these open mandates even when
 * there is no L3 to evaluate.
 */
function evaluateOpen(
  ctx: Ctx,
  pairs: Pair[],
  views: { payment: SdLayer; checkout: SdLayer },
  f: { finalPay?: Record<string, unknown>; finalCo?: Record<string, unknown>; coPayload?: Record<string, unknown>; l3cAud?: string },
): void {
  const d = ctx.decision;
  for (const [i, [co, pm]] of pairs.entries()) {
    for (const [kind, m, view] of [
      ['payment', pm, views.payment],
      ['checkout', co, views.checkout],
    ] as const) {
      if (!m) continue;
      const ref = `L2 ${kind} mandate #${i}`;
      // The user signed the whole mandate; every disclosure the chain carries (the full L2, of which each view is a part) is used.
      const mandate = guard(() => resolveValue(view, m.raw, 'L2', { keepUndisclosed: true }), 'L2') as Record<string, unknown>;
      const constraints = Array.isArray(mandate.constraints) ? (mandate.constraints as unknown[]) : [];
      if (constraints.length === 0) refuse('INVALID_CREDENTIAL', `${ref} has no constraints (credential-format §4.5: at least one)`, 'L2');
      let fulfillment: Record<string, unknown> | undefined;
      if (kind === 'payment' && f.finalPay) fulfillment = f.finalPay;
      if (kind === 'checkout' && f.finalCo) {
        // The merchant-signed checkout's items when there is one: the L3b is the agent's word, and its own
        // line_items must not stand in for what the merchant will ship (they must agree with it).
        const agentLines = Array.isArray(f.finalCo.line_items) ? checkoutLines({ line_items: f.finalCo.line_items }) : undefined;
        // A merchant-signed checkout listing none is refused, never made up from the agent's (readCheckout refuses it first).
        const lines = f.coPayload ? merchantCheckoutLines(f.coPayload) : agentLines;
        if (agentLines && f.coPayload && !sameJsonData(agentLines, lines)) {
          refuse('CONSTRAINT_VIOLATED', "the L3b's line_items differ from the merchant-signed checkout's", 'L3b');
        }
        // The merchant: the checkout JWT's, else the payee of the payment bound to the same checkout, else the audience the merchant verified.
        const merchant =
          (f.coPayload && checkoutMerchant(f.coPayload)) ??
          (f.finalPay && isObj(f.finalPay.payee) ? f.finalPay.payee : undefined) ??
          (f.l3cAud ? { website: f.l3cAud } : undefined);
        fulfillment = { ...(lines ? { line_items: lines } : {}), ...(merchant ? { merchant } : {}) };
      }
      for (const c of constraints) {
        // A member of a constraint the agent withheld (max of an amount range...) would make the rest read as less strict.
        if (hasWithheld(c))
          refuse('CONSTRAINT_VIOLATED', `${ref}: the ${shown(isObj(c) ? c.type : 'constraint', 60)} constraint hides members the user signed: present them all`, 'L2');
      }
      const result = checkViConstraints(constraints, fulfillment ?? {}, {
        mode: 'strict',
        isOpenMandate: true,
        now: ctx.now * 1000,
        timeZone: ctx.opts.calendarTimeZone ?? 'UTC',
      });
      if (kind === 'payment' && f.finalPay) boundPayees(ctx, constraints, f.finalPay.payee);
      for (const c of constraints) {
        if (!isObj(c)) continue;
        const type = typeof c.type === 'string' ? c.type : 'constraints';
        const network = VI_NETWORK_TYPES.has(type);
        const mine = result.violations.filter((v) => v.type === type);
        const report: ConstraintReport = {
          type,
          enforcedBy: network ? 'network' : 'verifier',
          status:
            mine.length > 0
              ? 'violated'
              : network
                ? 'reported'
                : result.checked.includes(`${type} (undisclosed)`)
                  ? 'skipped'
                  : fulfillment || type === 'mandate.payment.reference'
                    ? 'satisfied'
                    : 'skipped',
          ref,
          constraint: c,
        };
        if (mine.length > 0) report.messages = mine.map((v) => v.message);
        d.constraints.push(report);
      }
      for (const v of result.violations) {
        if (!fulfillment && v.code !== 'UNKNOWN_CONSTRAINT' && !v.malformed) continue;
        d.reasons.push({ code: v.code, message: `${ref}: ${v.message}`, ref });
      }
    }
  }
}

/**
 * Which of the payee's identifiers the user's allow-lists bound: its `id` where an allowed entry
 * matched on id, its `website` where one matched on name and website (constraints.md §4.3: by id when
 * both have one, else by name and website). An id beside a website matched that way is the agent's
 * word, never the user's. Without an allowed_payees constraint the user let the agent choose the payee.
 */
function boundPayees(ctx: Ctx, constraints: unknown[], payee: unknown): void {
  const lists = constraints.filter((c): c is Record<string, unknown> => isObj(c) && c.type === 'mandate.payment.allowed_payees');
  if (lists.length === 0 || !isObj(payee)) return;
  const bound = new Set<string>();
  for (const c of lists) {
    for (const m of Array.isArray(c.allowed) ? c.allowed : []) {
      if (!isObj(m) || Object.hasOwn(m, '...') || !viMerchantMatches(m, payee)) continue;
      if (m.id && payee.id) bound.add(String(payee.id));
      else bound.add(String(payee.website));
    }
  }
  ctx.boundPayees = [...(ctx.boundPayees ?? []), ...bound];
}

function recordMandates(ctx: Ctx, pairs: Pair[], l2: SdLayer, kind: 'open' | 'final'): void {
  const d = ctx.decision;
  const issuer = d.principal!.key;
  for (const [i, [co, pm]] of pairs.entries()) {
    for (const [k, m] of [
      ['payment', pm],
      ['checkout', co],
    ] as const) {
      if (!m) continue;
      const rec: MandateRecord = { ref: `L2 ${k} mandate #${i}`, id: `urn:vi:mandate:${m.digest}`, issuer, kind: k, open: kind === 'open' };
      if (d.agent) rec.subject = d.agent.key;
      if (typeof l2.payload.iat === 'number') rec.iat = l2.payload.iat;
      if (typeof l2.payload.exp === 'number') rec.exp = l2.payload.exp;
      if (kind === 'final' && k === 'payment') rec.payment = finalPayment(m.resolved);
      d.mandates.push(rec);
    }
  }
}
