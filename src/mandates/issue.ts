import { randomBytes, createHash } from 'node:crypto';
import { Disclosure } from '@sd-jwt/utils';
import { CharterError } from '../errors.js';
import type { Issuer } from '../credentials/types.js';
import type { Money } from '../agents/types.js';
import type { PublicJwk, Signer } from '../keys/types.js';
import { validatePublicJwk } from '../keys/index.js';
import { hashAscii } from './sd.js';
import { toMinorUnits } from './money.js';
import { splitChain } from './ap2.js';

/**
 * The issuing side: a Charter principal (an `Issuer`: DID, kid, signer)
 * writes a Verifiable Intent L2 or an AP2 open mandate, and a Charter agent
 * closes them, so Charter-run agents can pay where these protocols are
 * expected. Both protocols sign with ES256 (VI credential-format §12, AP2
 * P-256 keys): the signer must be P-256. Amounts come in as Charter money
 * (decimal strings) and leave as integer minor units.
 */
const HASH = { hasher: (d: string | ArrayBuffer) => new Uint8Array(createHash('sha256').update(typeof d === 'string' ? d : new Uint8Array(d)).digest()), alg: 'sha-256' };

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

interface Disc {
  encoded: string;
  digest: string;
}

/** An RFC 9901 disclosure: [salt, value] (array element) or [salt, name, value]. */
function disclose(value: unknown, key?: string): Disc {
  const salt = randomBytes(16).toString('base64url');
  const d = new Disclosure(key === undefined ? [salt, value] : [salt, key, value]);
  return { encoded: d.encode(), digest: d.digestSync(HASH) };
}

const ref = (d: Disc) => ({ '...': d.digest });

function needEs256(signer: Signer): void {
  if (signer.alg !== 'ES256') throw new CharterError('INVALID_ARGUMENT', 'Verifiable Intent v0.1 and AP2 v0.2 sign with ES256: use a P-256 key');
}

async function sdJwt(header: Record<string, unknown>, payload: Record<string, unknown>, discs: Disc[], signer: Signer, kid: string | undefined): Promise<string> {
  needEs256(signer);
  const h = Buffer.from(JSON.stringify({ alg: signer.alg, ...header, ...(kid ? { kid } : {}) })).toString('base64url');
  const input = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const jwt = `${input}.${Buffer.from(await signer.sign(new TextEncoder().encode(input))).toString('base64url')}`;
  return [jwt, ...discs.map((d) => d.encoded), ''].join('~');
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

function minor(m: Money, path: string): { currency: string; amount: number } {
  try {
    return { currency: m.currency, amount: toMinorUnits(m) };
  } catch (e) {
    throw new CharterError('INVALID_ARGUMENT', `${path}: ${(e as Error).message}`);
  }
}

const jwkOf = (j: PublicJwk, kid?: string) => ({ ...validatePublicJwk(j), ...(kid ? { kid } : {}) });

// ---------------------------------------------------------------- Verifiable Intent

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
  if (a.cumulative) constraints.push({ type: 'payment.cumulative', max_total: minor(a.cumulative, 'autonomous.cumulative').amount, currency: a.cumulative.currency, period: a.cumulative.period });
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
  const pay = disclose({ vct: 'mandate.payment.1', transaction_id: checkoutHash, payee: input.merchant, payment_amount: minor(input.amount, 'amount'), payment_instrument: input.instrument });
  const co = disclose({ vct: 'mandate.checkout.1', checkout_jwt: input.checkoutJwt, checkout_hash: checkoutHash });
  const claims = (aud: string, nonce: string, sdHash: string, discs: Disc[]) => ({ nonce, aud, sd_hash: sdHash, iat: now, exp, iss: input.iss, delegate_payload: discs.map(ref), _sd_alg: 'sha-256' });
  return {
    l3_payment: await sdJwt({ typ: 'kb-sd-jwt' }, claims(input.payment.aud, input.payment.nonce, hashAscii(payView), [merchant, pay]), [merchant, pay], input.signer, input.kid),
    l3_checkout: await sdJwt({ typ: 'kb-sd-jwt' }, claims(input.checkout.aud, input.checkout.nonce, hashAscii(coView), [co]), [co], input.signer, input.kid),
    l2_payment_serialized: payView,
    l2_checkout_serialized: coView,
  };
}

// ---------------------------------------------------------------- AP2

export interface IssueAp2OpenMandateInput {
  /** The root of trust signing it: a user credential issuer or a trusted agent provider (AP2 agent authorization). */
  issuer: Issuer;
  kind: 'payment' | 'checkout';
  agent: { jwk: PublicJwk; kid?: string };
  /** Raw AP2 constraints (`payment.amount_range`, `checkout.line_items`, ...); `allowed` lists become selectively disclosable. */
  constraints: Record<string, unknown>[];
  /** Pre-set claims the closed mandate must repeat (payee, payment_amount, payment_instrument, execution_date). */
  preset?: Record<string, unknown>;
  now?: Date;
  /** Seconds; the AP2 specification recommends the smallest that completes the task. Default 3600. */
  expiresIn?: number;
  /** The issuer's certificate chain (RFC 7515 §4.1.6, base64 DER, leaf first), for verifiers that pin its root. */
  x5c?: string[];
}

/** Writes an AP2 v0.2 open payment or checkout mandate as a root SD-JWT (AP2 SDK `MandateClient.create` shape). */
export async function issueAp2OpenMandate(input: IssueAp2OpenMandateInput): Promise<string> {
  const now = seconds(input.now ?? new Date());
  const nested: Disc[] = [];
  // Schemas mark allowed / acceptable_items `x-selectively-disclosable-array`.
  const sdArray = (list: unknown) =>
    Array.isArray(list)
      ? list.map((x) => {
          const d = disclose(x);
          nested.push(d);
          return ref(d);
        })
      : list;
  const constraints = input.constraints.map((c) => {
    const out: Record<string, unknown> = { ...c };
    if (Array.isArray(c.allowed)) out.allowed = sdArray(c.allowed);
    if (c.type === 'checkout.line_items' && Array.isArray(c.items)) {
      out.items = c.items.map((e) => (e && typeof e === 'object' ? { ...(e as Record<string, unknown>), acceptable_items: sdArray((e as Record<string, unknown>).acceptable_items) } : e));
    }
    return out;
  });
  const mandate = {
    vct: input.kind === 'payment' ? 'mandate.payment.open.1' : 'mandate.checkout.open.1',
    constraints,
    cnf: { jwk: jwkOf(input.agent.jwk, input.agent.kid) },
    ...(input.preset ?? {}),
    iat: now,
    exp: now + (input.expiresIn ?? 3600),
  };
  const m = disclose(mandate);
  const payload = { iss: input.issuer.did, iat: now, delegate_payload: [ref(m)], _sd_alg: 'sha-256' };
  return sdJwt({ typ: 'dc+sd-jwt', ...(input.x5c ? { x5c: input.x5c } : {}) }, payload, [...nested, m], input.issuer.signer, input.issuer.kid);
}

export interface CloseAp2MandateInput {
  /** The `~~` chain so far (an open mandate, possibly already delegated). */
  chain: string;
  /** The key the last open mandate names in cnf. */
  signer: Signer;
  kid?: string;
  /** The closed mandate: `mandate.payment.1` or `mandate.checkout.1` content. */
  mandate: Record<string, unknown>;
  aud: string;
  nonce: string;
  now?: Date;
  /** `sd_hash` (default: locks the disclosures forwarded) or `issuer_jwt_hash` (lets the next party drop disclosures). */
  hashMode?: 'sd_hash' | 'issuer_jwt_hash';
}

/** Appends the agent's closed (terminal, `typ: kb+sd-jwt`) hop to an AP2 chain (AP2 SDK `MandateClient.present`). */
export async function closeAp2Mandate(input: CloseAp2MandateInput): Promise<string> {
  const tokens = splitChain(input.chain);
  const prev = tokens[tokens.length - 1]!;
  const binding = (input.hashMode ?? 'sd_hash') === 'sd_hash' ? { sd_hash: hashAscii(prev) } : { issuer_jwt_hash: hashAscii(prev.split('~')[0]!) };
  const m = disclose(input.mandate);
  const payload = { iat: seconds(input.now ?? new Date()), aud: input.aud, nonce: input.nonce, ...binding, delegate_payload: [ref(m)], _sd_alg: 'sha-256' };
  const hop = await sdJwt({ typ: 'kb+sd-jwt' }, payload, [m], input.signer, input.kid);
  return `${input.chain.trim().replace(/~$/, '')}~~${hop}`;
}
