import { CharterError } from '../errors.js';
import { compareDecimal, formatDecimal, parseDecimal } from '../encoding/decimal.js';
import type { Issuer } from '../credentials/types.js';
import type { Budget, Money } from '../agents/types.js';
import { canonicalTimeZone, periodText } from '../agents/limits.js';
import type { PublicJwk } from '../keys/types.js';
import { hashAscii } from './sd.js';
import { fromMajorNumber, toMinorUnits } from './money.js';
import { issueAp2OpenMandate } from './issue-ap2.js';
import { issueViIntent, type AcceptableItem, type IssuedViIntent, type LineItemRequirement, type Merchant, type PaymentInstrument } from './issue-vi.js';

/**
 * A Charter principal's authorization of an agent, written in an external
 * payment mandate format so a Charter-run agent can pay where Verifiable
 * Intent (the user's L2, credential-format §4) or AP2 v0.2 (a root open
 * payment mandate, with its open checkout mandate) is expected. Charter's
 * limits map onto their constraints; a limit the format cannot carry is
 * refused rather than dropped (an authorization must never come out wider):
 *
 * - perTransaction -> `amount_range.max` (VI and AP2, minor units)
 * - a budget with no period -> `payment.budget`, over the mandate's life
 * - a calendar budget -> VI `payment.cumulative` (DAILY..YEARLY). The
 *   proposal names no time zone (verifiers count in their own; Charter's
 *   default is UTC), so only `@UTC` is written; AP2 v0.2 has no calendar budget.
 * - a rolling budget (P30D), rates and DID counterparties have no equivalent:
 *   refused. Payees and merchants are the format's own (id, name, website).
 */
export type ExportFormat = 'verifiable-intent' | 'ap2';

export interface ExportIntent {
  instrument: PaymentInstrument;
  /** Who may be paid (`allowed_payees`). */
  payees: Merchant[];
  /** Where the agent may check out (`allowed_merchants`); default the payees. */
  merchants?: Merchant[];
  /** What may be bought (`line_items`); VI requires at least one. */
  lineItems?: LineItemRequirement[];
  matchMode?: 'minimum' | 'exact';
  promptSummary?: string;
}

export interface ExportMandateInput {
  format: ExportFormat;
  /** The principal: its key signs (ES256: a P-256 key). */
  issuer: Issuer;
  /** The agent's P-256 public key (`cnf`), and its kid. */
  agent: { jwk: PublicJwk; kid?: string };
  limits: { perTransaction: Money; minPerTransaction?: Money; budget?: Money & { period?: Budget['period'] } };
  intent: ExportIntent;
  validUntil: Date;
  now?: Date;
  /** VI: the principal's card credential (L1, `~`-serialized) binding its key; L2 is bound to it. */
  l1?: string;
  /** VI: L2's audience (the agent) and the agent's challenge. */
  aud?: string;
  nonce?: string;
}

export interface ExportedMandate {
  format: ExportFormat;
  /** VI: the full L2 (base JWT and every disclosure). AP2: the root open payment mandate. */
  mandate: string;
  /** AP2: the root open checkout mandate (the payment mandate references it). */
  checkout?: string;
  /** VI: the issued intent with its disclosures, for the agent's selective presentations (issueViAction). */
  intent?: IssuedViIntent;
}

const CALENDAR = { day: 'DAILY', week: 'WEEKLY', month: 'MONTHLY', year: 'YEARLY' } as const;
const bad = (message: string) => new CharterError('INVALID_ARGUMENT', message);

function checkKeys(input: ExportMandateInput): void {
  if (input.issuer?.signer?.alg !== 'ES256') {
    throw bad(`Verifiable Intent v0.1 and AP2 v0.2 sign with ES256: the principal's key signs ${String(input.issuer?.signer?.alg)}, so it needs an identity with a P-256 key`);
  }
  const j = input.agent?.jwk as { kty?: unknown; crv?: unknown } | undefined;
  if (j?.kty !== 'EC' || j.crv !== 'P-256') throw bad("Verifiable Intent v0.1 and AP2 v0.2 delegate to a P-256 key: the agent's key is not one");
}

function sameCurrency(a: Money, b: Money, what: string): void {
  if (a.currency !== b.currency) throw bad(`${what} is in ${b.currency}, the per-transaction limit in ${a.currency}: these formats state one currency per mandate`);
}

/** The budget's lifetime and calendar forms, or a refusal for what the format cannot carry. */
function budgetOf(
  format: ExportFormat,
  b: ExportMandateInput['limits']['budget'],
): { lifetime?: Money; cumulative?: Money & { period: (typeof CALENDAR)[keyof typeof CALENDAR] } } {
  if (!b) return {};
  const money = { amount: b.amount, currency: b.currency };
  if (b.period === undefined) return { lifetime: money };
  if (typeof b.period === 'string')
    throw bad(
      `a budget over a rolling ${b.period} has no equivalent in ${format === 'ap2' ? 'AP2' : 'Verifiable Intent'}: give a budget over the mandate's life (no period)${format === 'ap2' ? '' : ' or per calendar period (@UTC)'}`,
    );
  if (format === 'ap2') throw bad(`AP2 v0.2 has no calendar budget: ${periodText(b.period)} cannot be written; give a budget over the mandate's life`);
  if (canonicalTimeZone(b.period.timeZone) !== canonicalTimeZone('UTC')) {
    throw bad(
      `Verifiable Intent's payment.cumulative names no time zone (a verifier counts in its own; Charter's default is UTC): write the period @UTC, not @${b.period.timeZone}`,
    );
  }
  return { cumulative: { ...money, period: CALENDAR[b.period.calendar] } };
}

/** Issues the principal's authorization in `format` (see the module comment for the mapping). Throws INVALID_ARGUMENT for what cannot be expressed. */
export async function exportMandate(input: ExportMandateInput): Promise<ExportedMandate> {
  checkKeys(input);
  const { limits, intent } = input;
  if (!limits?.perTransaction) throw bad('these formats bound every payment: give a per-transaction limit (--max)');
  if (limits.minPerTransaction) sameCurrency(limits.perTransaction, limits.minPerTransaction, 'the minimum');
  if (limits.budget) sameCurrency(limits.perTransaction, limits.budget, 'the budget');
  if (!intent || !intent.instrument || !Array.isArray(intent.payees) || intent.payees.length === 0) throw bad('the intent needs a payment instrument and at least one payee');
  const now = input.now ?? new Date();
  const expiresIn = Math.floor((input.validUntil.getTime() - now.getTime()) / 1000);
  if (!(expiresIn > 0)) throw bad('a mandate must expire in the future');
  const { lifetime, cumulative } = budgetOf(input.format, limits.budget);
  if (lifetime && compareDecimal(lifetime.amount, limits.perTransaction.amount) < 0) {
    // Not wrong, but every payment over the budget would be refused: almost surely a typo.
    throw bad(`the budget (${lifetime.amount}) is smaller than one payment may be (${limits.perTransaction.amount})`);
  }
  const merchants = intent.merchants ?? intent.payees;
  // VI pairs every payment mandate with a checkout mandate (credential-format §4.6); an AP2 open payment
  // mandate must reference an open checkout mandate (payment_mandate_open.json: contains payment.reference).
  if (!intent.lineItems || intent.lineItems.length === 0) throw bad('the checkout mandate needs at least one line item (what may be bought)');

  if (input.format === 'verifiable-intent') {
    if (!input.l1) throw bad("a Verifiable Intent L2 is bound to the principal's card credential (L1): give it");
    // credential-format §5: the payee of a payment is checked for id, name and website; a payee without them could never be paid.
    const incomplete = [...intent.payees, ...merchants].find((m) => typeof m?.id !== 'string' || typeof m.name !== 'string' || typeof m.website !== 'string');
    if (incomplete) throw bad(`Verifiable Intent payees and merchants need an id, a name and a website (${JSON.stringify(String(incomplete?.id ?? '?')).slice(0, 60)} lacks one)`);
    const issued = await issueViIntent({
      issuer: input.issuer,
      l1: input.l1,
      aud: input.aud ?? 'agent',
      nonce: input.nonce ?? 'none',
      now,
      expiresIn,
      autonomous: {
        agent: { jwk: input.agent.jwk, kid: input.agent.kid ?? 'agent' },
        instrument: intent.instrument,
        maxAmount: limits.perTransaction,
        ...(limits.minPerTransaction ? { minAmount: limits.minPerTransaction } : {}),
        payees: intent.payees,
        merchants,
        lineItems: intent.lineItems,
        ...(intent.matchMode ? { matchMode: intent.matchMode } : {}),
        ...(lifetime ? { budget: lifetime } : {}),
        ...(cumulative ? { cumulative } : {}),
        ...(intent.promptSummary ? { promptSummary: intent.promptSummary } : {}),
      },
    });
    return { format: input.format, mandate: issued.l2, intent: issued };
  }

  const agent = { jwk: input.agent.jwk, ...(input.agent.kid ? { kid: input.agent.kid } : {}) };
  const items = intent.lineItems.map((l) => ({ id: l.id, acceptable_items: l.acceptable.map((a: AcceptableItem) => ({ id: a.id, title: a.title })), quantity: l.quantity }));
  const checkout = await issueAp2OpenMandate({
    issuer: input.issuer,
    kind: 'checkout',
    agent,
    constraints: [
      { type: 'checkout.line_items', items },
      { type: 'checkout.allowed_merchants', allowed: merchants },
    ],
    now,
    expiresIn,
  });
  const range: Record<string, unknown> = { type: 'payment.amount_range', currency: limits.perTransaction.currency, max: toMinorUnits(limits.perTransaction) };
  if (limits.minPerTransaction) range.min = toMinorUnits(limits.minPerTransaction);
  const constraints: Record<string, unknown>[] = [
    { type: 'payment.reference', conditional_transaction_id: hashAscii(checkout) },
    range,
    { type: 'payment.allowed_payees', allowed: intent.payees },
  ];
  if (lifetime) {
    // AP2 payment mandate §Budget: a JSON number in major units; written only when it reads back exactly.
    const major = Number(lifetime.amount);
    if (formatDecimal(parseDecimal(fromMajorNumber(major, lifetime.currency).amount)) !== formatDecimal(parseDecimal(lifetime.amount))) {
      throw bad(`${lifetime.amount} ${lifetime.currency} cannot be written exactly as an AP2 budget (a JSON number)`);
    }
    constraints.push({ type: 'payment.budget', max: major, currency: lifetime.currency });
  }
  const mandate = await issueAp2OpenMandate({ issuer: input.issuer, kind: 'payment', agent, constraints, preset: { payment_instrument: intent.instrument }, now, expiresIn });
  return { format: input.format, mandate, checkout };
}
