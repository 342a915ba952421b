import { CharterError, type Reason } from '../errors.js';
import { isObj } from '../encoding/json.js';
import { isDecimal, parseDecimal } from '../encoding/decimal.js';
import { isCurrency } from '../encoding/currency.js';
import { isDuration } from '../encoding/duration.js';

/**
 * The terms a DataAccessGrant can carry (`grant.terms`), personal and pool
 * grants alike: what the data may be used for, how long it may be kept, who
 * else may see it, where it may be processed, and what its use earns. The
 * verifier checks what it can check at access time (the declared purpose and
 * processing); the rest are obligations it shows and a payout computes with.
 * A term field this verifier does not know is refused (UNKNOWN_TERM), as an
 * unknown mandate constraint is: a newer issuer's tighter rule is never
 * silently dropped.
 */

/**
 * The documented purpose vocabulary. A grant may also name its own purpose
 * as `x-` followed by a name (`x-fraud-screening`); a verifier matches
 * purposes exactly, so an unknown one only ever allows itself.
 */
export const PURPOSES = ['service-delivery', 'analytics', 'inference', 'model-training', 'research', 'marketing'] as const;
export type Purpose = (typeof PURPOSES)[number];
const PURPOSE = /^(?:x-[a-z0-9][a-z0-9-]{0,62}|[a-z][a-z0-9-]{0,63})$/;

/** Where the data may be processed: anywhere, only on the person's device, or only inside a trusted execution environment. */
export const PROCESSING = ['any', 'on-device', 'trusted-execution'] as const;
export type Processing = (typeof PROCESSING)[number];
/** What a verifier may declare about its own processing. */
export type DeclaredProcessing = Exclude<Processing, 'any'>;

const DID = /^did:[a-z0-9]+:[A-Za-z0-9._%:-]+$/;
const MAX_LIST = 64;

/** How a collective grant's compensation is divided among the pool's members: equally, or by fixed weights. */
export type Split = 'equal' | { weights: Record<string, string> };

export interface Compensation {
  /** Decimal string, e.g. "0.05". */
  amount: string;
  /** ISO 4217. */
  currency: string;
  /** `use` (per reported use) or an ISO 8601 duration (per period, e.g. P1M). */
  per: string;
  /** For a pool grant: the split among members (default equal). */
  split?: Split;
}

export interface GrantTerms {
  /** Purposes the data may be used for (vocabulary codes or x- names); absent: as the free-text purpose says. */
  purpose?: string[];
  /** ISO 8601 duration after which the grantee must delete what it obtained. */
  retention?: string;
  /** `none`, or the DIDs the grantee may pass the data on to. */
  onwardSharing?: 'none' | string[];
  processing?: Processing;
  compensation?: Compensation;
}

const KNOWN = new Set(['purpose', 'retention', 'onwardSharing', 'processing', 'compensation']);
const KNOWN_COMPENSATION = new Set(['amount', 'currency', 'per', 'split']);

class Bad extends Error {}

function readPurpose(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_LIST || !v.every((p) => typeof p === 'string' && PURPOSE.test(p))) {
    throw new Bad(`terms.purpose must be a list of 1 to ${MAX_LIST} purposes such as model-training or x-own-name`);
  }
  if (new Set(v).size !== v.length) throw new Bad('terms.purpose names a purpose twice');
  return [...(v as string[])];
}

function readSplit(v: unknown): Split {
  if (v === 'equal') return 'equal';
  if (!isObj(v) || Object.keys(v).length !== 1 || !isObj(v.weights)) throw new Bad('terms.compensation.split must be "equal" or { weights: { <member DID>: "<decimal>" } }');
  const entries = Object.entries(v.weights);
  if (entries.length === 0 || entries.length > 1024) throw new Bad('terms.compensation.split.weights must name 1 to 1024 members');
  for (const [did, w] of entries) {
    if (!DID.test(did)) throw new Bad('terms.compensation.split.weights must be keyed by member DIDs');
    if (!isDecimal(w) || parseDecimal(w) === 0n) throw new Bad('each split weight must be a positive decimal string such as "2" or "0.5"');
  }
  return { weights: Object.fromEntries(entries) as Record<string, string> };
}

function readCompensation(v: unknown): Compensation {
  if (!isObj(v)) throw new Bad('terms.compensation must be { amount, currency, per }');
  const unknown = Object.keys(v).filter((k) => !KNOWN_COMPENSATION.has(k));
  if (unknown.length > 0) throw new CharterError('UNKNOWN_TERM', `the grant's compensation sets ${unknown.slice(0, 5).join(', ')}, which this verifier does not understand`);
  if (!isDecimal(v.amount)) throw new Bad('terms.compensation.amount must be a decimal string such as "0.05"');
  if (!isCurrency(v.currency)) throw new Bad('terms.compensation.currency must be an ISO 4217 code such as EUR');
  if (v.per !== 'use' && !isDuration(v.per)) throw new Bad('terms.compensation.per must be "use" or an ISO 8601 duration such as P1M');
  return { amount: v.amount, currency: v.currency, per: v.per as string, ...(v.split !== undefined ? { split: readSplit(v.split) } : {}) };
}

/**
 * Reads `grant.terms`: the terms, or the reasons they cannot be used
 * (UNKNOWN_TERM for a field this verifier does not understand,
 * INVALID_CREDENTIAL for a malformed one).
 */
export function readTerms(value: unknown): { terms?: GrantTerms; reasons: Reason[] } {
  try {
    if (!isObj(value)) throw new Bad('grant.terms must be an object');
    const unknown = Object.keys(value).filter((k) => !KNOWN.has(k));
    if (unknown.length > 0) throw new CharterError('UNKNOWN_TERM', `the grant sets the terms ${unknown.slice(0, 5).join(', ')}, which this verifier does not understand`);
    const terms: GrantTerms = {};
    if (value.purpose !== undefined) terms.purpose = readPurpose(value.purpose);
    if (value.retention !== undefined) {
      if (!isDuration(value.retention)) throw new Bad('terms.retention must be an ISO 8601 duration such as P30D');
      terms.retention = value.retention as string;
    }
    if (value.onwardSharing !== undefined) {
      const o = value.onwardSharing;
      if (o !== 'none' && !(Array.isArray(o) && o.length > 0 && o.length <= MAX_LIST && o.every((d) => typeof d === 'string' && DID.test(d)))) {
        throw new Bad('terms.onwardSharing must be "none" or a list of recipient DIDs');
      }
      terms.onwardSharing = o === 'none' ? 'none' : [...(o as string[])];
    }
    if (value.processing !== undefined) {
      if (!(PROCESSING as readonly unknown[]).includes(value.processing)) throw new Bad(`terms.processing must be one of ${PROCESSING.join(', ')}`);
      terms.processing = value.processing as Processing;
    }
    if (value.compensation !== undefined) terms.compensation = readCompensation(value.compensation);
    return { terms, reasons: [] };
  } catch (e) {
    if (e instanceof CharterError) return { reasons: [{ code: e.code, message: e.message }] };
    if (e instanceof Bad) return { reasons: [{ code: 'INVALID_CREDENTIAL', message: e.message }] };
    throw e;
  }
}

/**
 * The terms an issuer may write: readable by `readTerms`, and purposes from
 * the documented vocabulary (or `x-` names), so a typo such as "analitics"
 * is refused at issuance instead of silently allowing nothing. Throws
 * INVALID_ARGUMENT.
 */
export function checkTermsInput(terms: GrantTerms, opts: { collective?: boolean } = {}): GrantTerms {
  const r = readTerms(terms);
  if (!r.terms) throw new CharterError('INVALID_ARGUMENT', r.reasons[0]!.message);
  for (const p of r.terms.purpose ?? []) {
    if (!p.startsWith('x-') && !(PURPOSES as readonly string[]).includes(p)) {
      throw new CharterError('INVALID_ARGUMENT', `"${p}" is not a documented purpose (${PURPOSES.join(', ')}); name your own as x-${p}`);
    }
  }
  if (r.terms.compensation?.split !== undefined && !opts.collective) {
    throw new CharterError('INVALID_ARGUMENT', 'a split of the compensation is for pool grants: a personal grant pays its one owner');
  }
  return r.terms;
}

/** What a verifier declares about the use it is about to make (guard options `purpose`, `processing`). */
export interface DeclaredUse {
  purpose?: string;
  processing?: DeclaredProcessing;
}

/**
 * The terms a verifier can check at access time, against what it declares:
 * a grant that limits purposes allows only a declared purpose it names
 * (PURPOSE_NOT_ALLOWED, also when none is declared); a grant that limits
 * processing allows only a verifier that declares exactly that processing
 * (PROCESSING_NOT_ALLOWED).
 */
export function termsReasons(terms: GrantTerms | undefined, use: DeclaredUse): Reason[] {
  const out: Reason[] = [];
  if (terms?.purpose !== undefined) {
    if (use.purpose === undefined)
      out.push({ code: 'PURPOSE_NOT_ALLOWED', message: `the grant allows use only for ${terms.purpose.join(', ')}, and this verifier declares no purpose` });
    else if (!terms.purpose.includes(use.purpose))
      out.push({ code: 'PURPOSE_NOT_ALLOWED', message: `the grant allows use for ${terms.purpose.join(', ')}, not for ${use.purpose.slice(0, 64)}` });
  }
  if (terms?.processing !== undefined && terms.processing !== 'any' && use.processing !== terms.processing) {
    out.push({ code: 'PROCESSING_NOT_ALLOWED', message: `the grant allows processing only ${terms.processing}, and this verifier declares ${use.processing ?? 'none'}` });
  }
  return out;
}

/** Checks a declared use when a guard or a verifyGrant call is built (TypeError for misuse). */
export function checkDeclaredUse(who: string, use: { purpose?: unknown; processing?: unknown }, perRequest = false): void {
  // A guard may take the purpose from each request (a function); a single decision takes the purpose itself.
  if (use.purpose !== undefined && !(perRequest && typeof use.purpose === 'function') && !(typeof use.purpose === 'string' && PURPOSE.test(use.purpose))) {
    throw new TypeError(`${who}: purpose must be a purpose such as model-training (or x-own-name)`);
  }
  if (use.processing !== undefined && use.processing !== 'on-device' && use.processing !== 'trusted-execution') {
    throw new TypeError(`${who}: processing must be on-device or trusted-execution (what this verifier does with the data)`);
  }
}

const PURPOSE_WORDS: Record<string, string> = {
  'service-delivery': 'providing the service you asked for',
  analytics: 'analytics',
  inference: 'running AI models on it (inference)',
  'model-training': 'training AI models',
  research: 'research',
  marketing: 'marketing',
};

function duration(d: string): string {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(d);
  if (!m) return d;
  const names = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'];
  const parts = names.flatMap((n, i) => (m[i + 1] !== undefined ? [`${Number(m[i + 1])} ${n}${Number(m[i + 1]) === 1 ? '' : 's'}`] : []));
  return parts.join(' ');
}

/** The terms in plain words, one sentence each (the consent page, `charter grant list`, the demo). */
export function describeTerms(terms: GrantTerms | undefined): string[] {
  if (!terms) return [];
  const out: string[] = [];
  if (terms.purpose)
    out.push(`Only for ${terms.purpose.map((p) => (Object.hasOwn(PURPOSE_WORDS, p) ? PURPOSE_WORDS[p] : undefined) ?? p.replace(/^x-/, '').replace(/-/g, ' ')).join(' or ')}.`);
  if (terms.retention) out.push(`Deleted within ${duration(terms.retention)} of being obtained.`);
  if (terms.onwardSharing === 'none') out.push('Not passed on to anyone else.');
  else if (terms.onwardSharing) out.push(`May be passed on only to ${terms.onwardSharing.join(', ')}.`);
  if (terms.processing === 'on-device') out.push('Processed only on your own device.');
  else if (terms.processing === 'trusted-execution') out.push('Processed only inside a trusted execution environment.');
  else if (terms.processing === 'any') out.push('May be processed anywhere.');
  const c = terms.compensation;
  if (c) {
    const per = c.per === 'use' ? 'each use' : `every ${duration(c.per)}`;
    const split = c.split === undefined || c.split === 'equal' ? '' : ', shared by fixed weights';
    out.push(`Pays ${c.amount} ${c.currency} for ${per}${c.split === 'equal' ? ', shared equally' : split}.`);
  }
  return out;
}
