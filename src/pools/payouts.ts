import { CharterError } from '../errors.js';
import { parseDecimal } from '../encoding/decimal.js';
import { parseDuration } from '../encoding/duration.js';
import { minorUnits } from '../encoding/currency.js';
import { signJwt } from '../credentials/index.js';
import type { Issuer } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import { getBit } from '../status/index.js';
import type { Compensation, Proposal } from '../grants/index.js';
import type { Store } from '../store/types.js';
import { poolEpochs, type PoolEpochRecord } from './membership.js';
import { DECISION_TYPE, list } from './records.js';
import { readUsage, trustedReporterSet, type UsageRecord } from './usage.js';
import { add, apportion, decimalOf, frac, roundHalfUp, splitExact, type Fraction } from './split.js';

/** A pool grant as the payouts see it. */
export interface PayoutGrant {
  id: string;
  grantee: string;
  validFrom: string;
  validUntil: string;
  /** When the pool revoked it, if it did. */
  revokedAt?: string;
  compensation?: Compensation;
  /** The members of the snapshot the grant was approved in: whose data it covers. */
  members: string[];
  /** When each of them withdrew after that snapshot, if they did. */
  withdrawnAt: Record<string, string>;
}

export const ROUNDING =
  "Each currency's total is the exact sum of what the grants earned, rounded half up to the currency's minor unit (ISO 4217). " +
  'Each member gets its exact share rounded down to a minor unit; the minor units left go one each to the members with the largest remainders ' +
  '(ties: member DID in code-point order). The shares add up to the total exactly.';

export interface PayoutStatement {
  pool: string;
  period: { from: string; until: string };
  currencies: { currency: string; total: string; exact: string; shares: { member: string; amount: string }[] }[];
  grants: { id: string; grantee: string; currency?: string; uses: number; periods: number; earned: string }[];
  /** Reported uses the grant did not cover (after the member withdrew, after revocation, outside validity): not paid, listed for the pool to act on. */
  outOfTerms: { report: string; grant: string; member: string; time: string; count: number; why: string }[];
  /** Reports that did not count, with why. */
  ignored: { index: number; code: string; message: string }[];
  rounding: string;
}

const t = (s: string) => Date.parse(s);

/** A whole number of minor units as money is written: "0.10", "3" (JPY); full precision where ISO 4217 has no minor unit. */
function money(scaled: bigint, minor: number): string {
  const d = decimalOf(scaled);
  if (minor === 0 || minor > 4) return d;
  const [int, frac = ''] = d.split('.');
  return `${int}.${frac.padEnd(minor, '0')}`;
}

/** Is the member's data covered by the grant at `at` (in the snapshot, not yet withdrawn)? */
const covered = (g: PayoutGrant, member: string, at: number) => g.members.includes(member) && !(g.withdrawnAt[member] !== undefined && t(g.withdrawnAt[member]!) <= at);

function weightsAt(g: PayoutGrant, at: number): Map<string, bigint> {
  const split = g.compensation?.split;
  const out = new Map<string, bigint>();
  for (const m of g.members) {
    if (!covered(g, m, at)) continue;
    out.set(m, split === undefined || split === 'equal' ? 1n : split.weights[m] !== undefined ? parseDecimal(split.weights[m]!) : 0n);
  }
  return out;
}

/**
 * What each member is owed for a period (pure: no I/O). A per-use grant
 * earns its amount times each reported use in the period that it covered; a
 * per-period grant earns its amount for each of its periods (counted from
 * its validFrom) that starts in the statement's period while it is valid and
 * not revoked. Each earning is split among the members covered at that
 * moment (equally, or by the weights fixed in its terms), exactly; rounding
 * happens once per currency (ROUNDING).
 */
export function computePayouts(input: {
  pool: string;
  from: Date;
  until: Date;
  grants: PayoutGrant[];
  uses: UsageRecord[];
  ignored?: PayoutStatement['ignored'];
}): PayoutStatement {
  const from = input.from.getTime();
  const until = input.until.getTime();
  if (!(until > from)) throw new CharterError('INVALID_ARGUMENT', 'the period must end after it starts');
  const byCurrency = new Map<string, { exact: bigint; quotas: Map<string, Fraction> }>();
  const grantsOut: PayoutStatement['grants'] = [];
  const outOfTerms: PayoutStatement['outOfTerms'] = [];
  const accrue = (currency: string, amount: bigint, weights: Map<string, bigint>) => {
    const c = byCurrency.get(currency) ?? { exact: 0n, quotas: new Map<string, Fraction>() };
    byCurrency.set(currency, c);
    const shares = splitExact(amount, weights);
    if (shares.size === 0) return false;
    c.exact += amount;
    for (const [m, f] of shares) c.quotas.set(m, add(c.quotas.get(m) ?? frac(0n), f));
    return true;
  };
  for (const g of input.grants) {
    const comp = g.compensation;
    if (comp && !byCurrency.has(comp.currency)) byCurrency.set(comp.currency, { exact: 0n, quotas: new Map() });
    const vf = t(g.validFrom);
    const end = Math.min(t(g.validUntil), g.revokedAt ? t(g.revokedAt) : Infinity);
    let uses = 0;
    let periods = 0;
    let earned = 0n;
    const amount = comp ? parseDecimal(comp.amount) : 0n;
    if (comp?.per === 'use') {
      for (const u of input.uses.filter((x) => x.grant === g.id)) {
        const at = t(u.time);
        if (!(at >= from && at < until)) continue;
        const why = !g.members.includes(u.member)
          ? 'not a member of the pool when the grant was approved'
          : !covered(g, u.member, at)
            ? 'the member had withdrawn'
            : at < vf || at >= t(g.validUntil)
              ? "outside the grant's validity"
              : g.revokedAt && at >= t(g.revokedAt)
                ? 'after the pool revoked the grant'
                : undefined;
        const value = amount * BigInt(u.count);
        if (why === undefined && accrue(comp.currency, value, weightsAt(g, at))) {
          uses += u.count;
          earned += value;
        } else {
          outOfTerms.push({ report: u.report, grant: g.id, member: u.member, time: u.time, count: u.count, why: why ?? 'no member has a share at that time (split weights)' });
        }
      }
    } else if (comp) {
      const step = parseDuration(comp.per) * 1000;
      const first = Math.max(0, Math.ceil((from - vf) / step));
      for (let i = first; ; i++) {
        const start = vf + i * step;
        if (start >= until || start >= end) break;
        if (accrue(comp.currency, amount, weightsAt(g, start))) {
          periods++;
          earned += amount;
        }
      }
    }
    grantsOut.push({ id: g.id, grantee: g.grantee, ...(comp ? { currency: comp.currency } : {}), uses, periods, earned: decimalOf(earned) });
  }
  const currencies = [...byCurrency]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([currency, c]) => {
      const minor = minorUnits(currency);
      const total = roundHalfUp(c.exact, minor);
      const shares = apportion(total, c.quotas, minor);
      return {
        currency,
        total: money(total, minor),
        exact: decimalOf(c.exact),
        shares: [...shares].sort(([a], [b]) => (a < b ? -1 : 1)).map(([member, v]) => ({ member, amount: money(v, minor) })),
      };
    });
  return {
    pool: input.pool,
    period: { from: input.from.toISOString(), until: input.until.toISOString() },
    currencies,
    grants: grantsOut,
    outOfTerms,
    ignored: input.ignored ?? [],
    rounding: ROUNDING,
  };
}

/** The grants a pool of this home issued, with what the payouts need (snapshot members, withdrawals, revocation time). */
export async function poolGrantsForPayouts(store: Store, pool: string, epochs?: PoolEpochRecord[]): Promise<PayoutGrant[]> {
  const history = epochs ?? (await poolEpochs(store, pool));
  const revoked = new Map<string, string>();
  for (const d of await list(store, { issuer: pool, type: DECISION_TYPE })) {
    const dec = d.subject.decision as { action: string; result: string };
    if (dec.action === 'revoke') revoked.set(dec.result, d.credential.validFrom!);
  }
  const out: PayoutGrant[] = [];
  for (const g of await list(store, { issuer: pool, type: 'DataAccessGrant', direction: 'issued' })) {
    const evidence = g.subject.pool as { proposal: Proposal } | undefined;
    if (!evidence) continue;
    const grant = g.subject.grant as { terms?: { compensation?: Compensation } };
    const epoch = evidence.proposal.epoch.number;
    const withdrawnAt: Record<string, string> = {};
    for (const e of history) {
      if (e.number <= epoch || e.change.kind !== 'withdraw') continue;
      for (const m of e.change.members) withdrawnAt[m] ??= e.since;
    }
    const revokedAt = revoked.get(g.record.id) ?? (await revokedWithoutRecord(store, g.record.id));
    out.push({
      id: g.record.id,
      grantee: g.record.subject ?? '',
      validFrom: g.credential.validFrom!,
      validUntil: g.credential.validUntil!,
      ...(revokedAt ? { revokedAt } : {}),
      ...(grant.terms?.compensation ? { compensation: grant.terms.compensation } : {}),
      members: evidence.proposal.epoch.members.map((m) => m.id),
      withdrawnAt,
    });
  }
  return out;
}

/** A grant whose bit is set without a decision record (a crash in between): revoked, from its start (pays nothing). */
async function revokedWithoutRecord(store: Store, id: string): Promise<string | undefined> {
  for (const a of await store.findStatusAllocation(id)) {
    const l = await store.getStatusList(a.listId);
    if (l?.purpose === 'revocation' && getBit(l.bits, a.index)) return new Date(0).toISOString();
  }
  return undefined;
}

export interface PoolPayoutsOptions {
  resolver: CharterResolver;
  /** The statement's period: `period` (ISO 8601, e.g. P1M) ending at `until` (default now), or from `from`. */
  period: string;
  until?: Date;
  from?: Date;
  /** Usage reports (JWTs) from the platforms holding the pool's grants. */
  reports: readonly string[];
  trustedReporters?: readonly string[];
}

/**
 * The pool's payout statement for one period, signed by the pool (a JWS of
 * type charter-payout+jwt whose payload is the statement): what each member
 * is owed, for a payment system or a contract to act on.
 */
export async function poolPayouts(store: Store, pool: Issuer, o: PoolPayoutsOptions): Promise<{ statement: PayoutStatement; jwt: string }> {
  trustedReporterSet('poolPayouts', o?.trustedReporters);
  const span = parseDuration(o.period) * 1000;
  const from = o.from ?? new Date((o.until ?? new Date()).getTime() - span);
  const until = o.from ? new Date(o.from.getTime() + span) : (o.until ?? new Date());
  const grants = await poolGrantsForPayouts(store, pool.did);
  const usage = await readUsage(o.reports, {
    resolver: o.resolver,
    pool: pool.did,
    grants: new Map(grants.map((g) => [g.id, { grantee: g.grantee }])),
    ...(o.trustedReporters ? { trustedReporters: o.trustedReporters } : {}),
  });
  const statement = computePayouts({ pool: pool.did, from, until, grants, uses: usage.uses, ignored: usage.ignored });
  const jwt = await signJwt({ typ: 'charter-payout+jwt' }, { iss: pool.did, iat: Math.floor(Date.now() / 1000), statement }, pool.signer, pool.kid);
  return { statement, jwt };
}
