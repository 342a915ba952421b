import { CharterError } from '../errors.js';
import { parseMoney } from '../agents/index.js';
import { checkDeclaredUse, PROCESSING, type GrantTerms, type Processing, type Split } from '../grants/index.js';

/** The term flags `charter grant issue` and `charter pool propose` share (the purpose flag is named by each). */
export interface TermFlags {
  retention?: string;
  onwardSharing?: string[];
  processing?: string;
  compensation?: string;
  weight?: string[];
}

const list = (vs: string[] | undefined) =>
  (vs ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

/**
 * Flags to a terms object (shape only: issueGrant and propose check the
 * terms themselves). `--compensation 0.05EUR/use` or `10EUR/P1M`;
 * `--onward-sharing none` or DIDs; `--weight DID=2` (pool grants).
 */
export function termsFromFlags(purposes: string[] | undefined, o: TermFlags): GrantTerms | undefined {
  const terms: GrantTerms = {};
  const purpose = list(purposes);
  if (purpose.length > 0) terms.purpose = purpose;
  if (o.retention !== undefined) terms.retention = o.retention;
  const sharing = list(o.onwardSharing);
  if (sharing.length > 0) terms.onwardSharing = sharing.length === 1 && sharing[0] === 'none' ? 'none' : sharing;
  if (o.processing !== undefined) {
    if (!(PROCESSING as readonly string[]).includes(o.processing)) throw new CharterError('INVALID_ARGUMENT', `--processing is one of ${PROCESSING.join(', ')}`);
    terms.processing = o.processing as Processing;
  }
  if (o.compensation !== undefined) {
    const i = o.compensation.lastIndexOf('/');
    if (i < 0) throw new CharterError('INVALID_ARGUMENT', '--compensation is an amount per use or per period, e.g. 0.05EUR/use or 10EUR/P1M');
    // A rate that accrues per use may be finer than the currency's minor unit (payouts round the total).
    const money = parseMoney(o.compensation.slice(0, i), { accrual: true });
    terms.compensation = { amount: money.amount, currency: money.currency, per: o.compensation.slice(i + 1).trim() };
  }
  const weights = list(o.weight);
  if (weights.length > 0) {
    if (!terms.compensation) throw new CharterError('INVALID_ARGUMENT', '--weight splits a --compensation: give one');
    const split: Split = { weights: {} };
    for (const w of weights) {
      const j = w.lastIndexOf('=');
      if (j < 0) throw new CharterError('INVALID_ARGUMENT', '--weight is DID=WEIGHT, e.g. did:key:z6Mk…=2');
      split.weights[w.slice(0, j)] = w.slice(j + 1);
    }
    terms.compensation.split = split;
  }
  return Object.keys(terms).length > 0 ? terms : undefined;
}

/**
 * `grant verify --for --processing`: the use declared, checked here by the
 * library's own rule so a bad value is the caller's mistake (exit 2) for
 * either grant format, not a TypeError from inside the verifier (exit 3).
 */
export function checkUseFlags(o: { for?: string; processing?: string }): void {
  if (o.for !== undefined) {
    try {
      checkDeclaredUse('--for', { purpose: o.for });
    } catch {
      throw new CharterError('INVALID_ARGUMENT', '--for must be a purpose such as model-training or x-NAME (lower case letters, digits and -, at most 64)');
    }
  }
  if (o.processing !== undefined) {
    try {
      checkDeclaredUse('--processing', { processing: o.processing });
    } catch {
      throw new CharterError('INVALID_ARGUMENT', '--processing is on-device or trusted-execution (where this verifier processes the data)');
    }
  }
}
