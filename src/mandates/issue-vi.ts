import { CharterError } from '../errors.js';
import type { Issuer } from '../credentials/types.js';
import type { Money } from '../agents/types.js';
import type { PublicJwk, Signer } from '../keys/types.js';
import { hashAscii } from './sd.js';
import { disclose, jwkOf, minor, ref, sdJwt, seconds, type Disc } from './issue-common.js';

/** The Verifiable Intent issuing side: a Charter principal's L2 (credential-format §4), a Charter agent's L3a/L3b (§5). */
export interface Merchant {
  id: string;
  name: string;
  website?: string;
}
export interface PaymentInstrument {
  id: string;
  type: string;
  description?: string;
}
export interface AcceptableItem {
  id: string;
  title: string;
}
export interface LineItemRequirement {
  id: string;
  acceptable: AcceptableItem[];
  quantity: number;
}

export interface IssueViIntentInput {
  /** The user: its key must be the one bound in L1 `cnf`. */
  issuer: Issuer;
  /** The user's L1 credential as the user holds it (`~`-serialized); L2 binds to it by sd_hash. */
  l1: string;
  /** The agent or verifier L2 is for, and its challenge. */
  aud: string;
  nonce: string;
  /** The wallet / credential provider URI (L2 `iss`). Default the issuer DID. */
  iss?: string;
  now?: Date;
  /** Seconds until L2 expires. Default 86400 (autonomous) or 900 (immediate), as credential-format §7 recommends. */
  expiresIn?: number;
  /** Autonomous: delegate to an agent key under constraints. */
  autonomous?: {
    agent: { jwk: PublicJwk; kid: string };
    instrument: PaymentInstrument;
    /** Per-payment bounds (`mandate.payment.amount_range`). */
    maxAmount: Money;
    minAmount?: Money;
    payees: Merchant[];
    merchants: Merchant[];
    lineItems: LineItemRequirement[];
    matchMode?: 'minimum' | 'exact';
    /** `mandate.payment.budget`: a total over L2's life. */
    budget?: Money;
    /** VI proposal `payment.cumulative`: at most this much per calendar period. */
    cumulative?: Money & { period: 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY' };
    promptSummary?: string;
    /** Further payment constraints as the wire carries them (a type Charter does not model is still the user's rule). */
    extraPaymentConstraints?: Record<string, unknown>[];
  };
  /** Immediate: the user confirms one checkout and its payment. */
  immediate?: { checkoutJwt: string; instrument: PaymentInstrument; payee: Merchant; amount: Money };
}

export interface IssuedViIntent {
  /** The full L2: base JWT and every disclosure. */
  l2: string;
  /** The issuer-signed JWT alone, for selective presentations. */
  base: string;
  disclosures: { checkout: string; payment: string; merchants: string[]; items: string[] };
}

export interface IssueViCredentialInput {
  /** The credential provider (a card issuer): verifiers pin its key as the root of trust. */
  issuer: Issuer;
  /** The user's public key (P-256), bound in `cnf`: the key that signs L2. */
  user: { jwk: PublicJwk; kid?: string };
  /** The user's id at the provider (`sub`). */
  subject: string;
  /** The provider's URI (`iss`). Default the issuer DID. */
  iss?: string;
  /** `card_id`: the payment instrument a payment mandate must name. */
  cardId?: string;
  /** Default the Mastercard reference profile's (what verifiers expect by default). */
  vct?: string;
  /** Further claims in clear (e.g. `pan_last_four`, `scheme`). */
  claims?: Record<string, unknown>;
  now?: Date;
  /** Seconds. Default one year. */
  expiresIn?: number;
}

/**
 * A Verifiable Intent L1 (credential-format §3): the credential provider's
 * SD-JWT (`typ: sd+jwt`) binding the user's key in `cnf`, so a Charter
 * identity can play the card issuer (a test, a demo, a closed network).
 */
export async function issueViCredential(input: IssueViCredentialInput): Promise<string> {
  const now = seconds(input.now ?? new Date());
  const payload = {
    ...(input.claims ?? {}),
    iss: input.iss ?? input.issuer.did,
    sub: input.subject,
    iat: now,
    exp: now + (input.expiresIn ?? 365 * 86400),
    vct: input.vct ?? 'https://credentials.mastercard.com/card',
    cnf: { jwk: jwkOf(input.user.jwk, input.user.kid) },
    ...(input.cardId !== undefined ? { card_id: input.cardId } : {}),
    _sd_alg: 'sha-256',
  };
  return sdJwt({ typ: 'sd+jwt' }, payload, [], input.issuer.signer, input.issuer.kid);
}

/** VI credential-format §5.4: the L2 view one recipient gets, `base~d1~d2~`. */
export function viPresentation(base: string, disclosures: string[]): string {
  return [base, ...disclosures, ''].join('~');
}

/** Writes a Verifiable Intent L2 (credential-format §4) for a Charter principal. */
export async function issueViIntent(input: IssueViIntentInput): Promise<IssuedViIntent> {
  const { issuer } = input;
  if (!input.autonomous === !input.immediate) throw new CharterError('INVALID_ARGUMENT', 'give exactly one of autonomous and immediate');
  const now = seconds(input.now ?? new Date());
  const base = { nonce: input.nonce, aud: input.aud, iat: now, sd_hash: hashAscii(input.l1), iss: input.iss ?? issuer.did };
  if (input.immediate) {
    const im = input.immediate;
    const checkoutHash = hashAscii(im.checkoutJwt);
    const checkout = disclose({ vct: 'mandate.checkout.1', checkout_jwt: im.checkoutJwt, checkout_hash: checkoutHash });
    const payment = disclose({
      vct: 'mandate.payment.1',
      payment_instrument: im.instrument,
      payee: im.payee,
      payment_amount: minor(im.amount, 'immediate.amount'),
      transaction_id: checkoutHash,
    });
    const payload = { ...base, exp: now + (input.expiresIn ?? 900), delegate_payload: [ref(checkout), ref(payment)], _sd_alg: 'sha-256', _sd: [checkout.digest, payment.digest] };
    const l2 = await sdJwt({ typ: 'kb-sd-jwt' }, payload, [checkout, payment], issuer.signer, issuer.kid);
    return { l2, base: l2.split('~')[0]!, disclosures: { checkout: checkout.encoded, payment: payment.encoded, merchants: [], items: [] } };
  }
  const a = input.autonomous!;
  const cnf = { jwk: jwkOf(a.agent.jwk, a.agent.kid) };
  const merchantDiscs = new Map<string, Disc>();
  const merchantRef = (m: Merchant) => {
    let d = merchantDiscs.get(m.id);
    if (!d) merchantDiscs.set(m.id, (d = disclose({ ...m })));
    return ref(d);
  };
  const items = a.lineItems.flatMap((l) => l.acceptable.map((it) => ({ it, d: disclose({ id: it.id, title: it.title }) })));
  const checkout = disclose({
    vct: 'mandate.checkout.open.1',
    cnf,
    constraints: [
      { type: 'mandate.checkout.allowed_merchants', allowed: a.merchants.map(merchantRef) },
      {
        type: 'mandate.checkout.line_items',
        items: a.lineItems.map((l) => ({ id: l.id, acceptable_items: l.acceptable.map((it) => ref(items.find((x) => x.it === it)!.d)), quantity: l.quantity })),
        match_mode: a.matchMode ?? 'minimum',
      },
    ],
    ...(a.promptSummary ? { prompt_summary: a.promptSummary } : {}),
  });
  const range = minor(a.maxAmount, 'autonomous.maxAmount');
  const constraints: Record<string, unknown>[] = [
    { type: 'mandate.payment.allowed_payees', allowed: a.payees.map(merchantRef) },
    { type: 'mandate.payment.amount_range', currency: range.currency, ...(a.minAmount ? { min: minor(a.minAmount, 'autonomous.minAmount').amount } : {}), max: range.amount },
    // credential-format §4.5.3: the payment mandate names its checkout mandate by disclosure digest.
    { type: 'mandate.payment.reference', conditional_transaction_id: checkout.digest },
  ];
  if (a.budget) constraints.push({ type: 'mandate.payment.budget', currency: a.budget.currency, max: minor(a.budget, 'autonomous.budget').amount });
  if (a.cumulative)
    constraints.push({ type: 'payment.cumulative', max_total: minor(a.cumulative, 'autonomous.cumulative').amount, currency: a.cumulative.currency, period: a.cumulative.period });
  constraints.push(...(a.extraPaymentConstraints ?? []));
  const payment = disclose({ vct: 'mandate.payment.open.1', cnf, constraints, payment_instrument: a.instrument });
  const nested = [...merchantDiscs.values(), ...items.map((x) => x.d)];
  const all = [...nested, checkout, payment];
  // credential-format §9: delegate_payload references the mandates; the reference also lists every digest in _sd.
  const payload = { ...base, exp: now + (input.expiresIn ?? 86400), delegate_payload: [ref(checkout), ref(payment)], _sd_alg: 'sha-256', _sd: all.map((d) => d.digest) };
  const l2 = await sdJwt({ typ: 'kb-sd-jwt+kb' }, payload, all, issuer.signer, issuer.kid);
  return {
    l2,
    base: l2.split('~')[0]!,
    disclosures: { checkout: checkout.encoded, payment: payment.encoded, merchants: [...merchantDiscs.values()].map((d) => d.encoded), items: items.map((x) => x.d.encoded) },
  };
}

export interface IssueViActionInput {
  /** The agent's signer (the key L2 delegates to) and its kid (L2 `cnf.jwk.kid`). */
  signer: Signer;
  kid: string;
  /** The agent's URI (L3 `iss`). */
  iss: string;
  intent: IssuedViIntent;
  /** The merchant chosen (its disclosure goes to the network with L3a) and the items (to the merchant with L3b). */
  merchant: Merchant;
  itemIds: string[];
  checkoutJwt: string;
  amount: Money;
  instrument: PaymentInstrument;
  payment: { aud: string; nonce: string };
  checkout: { aud: string; nonce: string };
  now?: Date;
  /** Seconds; credential-format §5.3: at most 3600, 300 recommended. */
  expiresIn?: number;
}

export interface IssuedViAction {
  l3_payment: string;
  l3_checkout: string;
  l2_payment_serialized: string;
  l2_checkout_serialized: string;
}

const disclosedValue = (encoded: string): unknown => (JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as unknown[]).at(-1);

/** The agent's L3a (payment, for the network) and L3b (checkout, for the merchant), credential-format §5. */
export async function issueViAction(input: IssueViActionInput): Promise<IssuedViAction> {
  const now = seconds(input.now ?? new Date());
  const exp = now + Math.min(input.expiresIn ?? 300, 3600);
  const ds = input.intent.disclosures;
  const merchantDisc = ds.merchants.find((m) => (disclosedValue(m) as Merchant).id === input.merchant.id);
  if (!merchantDisc) throw new CharterError('INVALID_ARGUMENT', 'the merchant is not one the intent allows');
  const itemDiscs = input.itemIds.map((id) => {
    const d = ds.items.find((x) => (disclosedValue(x) as AcceptableItem).id === id);
    if (!d) throw new CharterError('INVALID_ARGUMENT', `item ${id} is not one the intent allows`);
    return d;
  });
  const payView = viPresentation(input.intent.base, [ds.payment, merchantDisc]);
  const coView = viPresentation(input.intent.base, [ds.checkout, ...itemDiscs]);
  const checkoutHash = hashAscii(input.checkoutJwt);
  const merchant = disclose({ ...input.merchant });
  const pay = disclose({
    vct: 'mandate.payment.1',
    transaction_id: checkoutHash,
    payee: input.merchant,
    payment_amount: minor(input.amount, 'amount'),
    payment_instrument: input.instrument,
  });
  const co = disclose({ vct: 'mandate.checkout.1', checkout_jwt: input.checkoutJwt, checkout_hash: checkoutHash });
  const claims = (aud: string, nonce: string, sdHash: string, discs: Disc[]) => ({
    nonce,
    aud,
    sd_hash: sdHash,
    iat: now,
    exp,
    iss: input.iss,
    delegate_payload: discs.map(ref),
    _sd_alg: 'sha-256',
  });
  return {
    l3_payment: await sdJwt({ typ: 'kb-sd-jwt' }, claims(input.payment.aud, input.payment.nonce, hashAscii(payView), [merchant, pay]), [merchant, pay], input.signer, input.kid),
    l3_checkout: await sdJwt({ typ: 'kb-sd-jwt' }, claims(input.checkout.aud, input.checkout.nonce, hashAscii(coView), [co]), [co], input.signer, input.kid),
    l2_payment_serialized: payView,
    l2_checkout_serialized: coView,
  };
}
