import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { expect } from 'vitest';
import {
  createAgentPresentation,
  delegateMandate,
  issueAgentIdentity,
  issueMandate,
  ledgerKey,
  mandateDigest,
  revokeMandate,
  type AmountInput,
  type Authority,
} from '../../src/agents/index.js';
import { decodeCredential } from '../../src/credentials/index.js';
import { formatDecimal } from '../../src/encoding/decimal.js';
import { createStatusChecker } from '../../src/status/index.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { authorizeTransaction, guardTransaction } from '../../src/guard/transaction.js';
import type { GuardDecision } from '../../src/guard/decide.js';
import type { SpendHold } from '../../src/guard/spend.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { Store } from '../../src/store/types.js';
import { CharterError } from '../../src/errors.js';
import type { World } from '../agents/fixture.js';
import { signLink } from '../agents/setup.js';

/**
 * Model-based (stateful) testing of the KYA decision pipeline: fast-check
 * generates command sequences (present and transact, replay, revoke, move the
 * clock, settle, concurrent spends) run against the real guard (real
 * signatures, status lists served over loopback HTTP, a real store) and
 * against a small reference model written from DESIGN.md ("Credentials":
 * AgentAuthorityCredential; "Time"; "HTTP") and README's guard contract. After every command the
 * real decision must equal the model's (allow/deny, status, reason codes,
 * remaining budget), the ledger's rows must equal the model's, and the
 * invariants must hold on the store's own rows: no window ever holds more than
 * a link's budget or rate, a used presentation is never allowed again,
 * nothing is allowed after revocation, a denial changes no row, and a
 * sub-agent's spend is always charged to its parent too.
 *
 * Where the model had to learn from the code (each checked against the docs, and the code kept):
 * a credential's status is read only once nothing else refuses it (an expired or not-yet-valid link is
 * reported so, not as revoked: credentials/verify.ts, no network for what is refused anyway); a
 * presentation's own `exp` is an exclusive bound that can decide before maxAgeSeconds; a delegated
 * budget with a shorter period than its parent's is refused at issuance as widening (so the sub-agent
 * here counts per PT1H like its parent, and its rate per PT20M).
 */

export const AUD = 'did:web:shop.example';
/** Two instances of one audience share the store (a fleet), configured apart: maxAgeSeconds and skewSeconds. */
const MAX_AGE_S = [60, 300] as const;
const SKEW_S = [0, 60] as const;
/** The lifetime every presentation here states (exp = iat + this). */
const PRESENTATION_TTL_S = 300;
export type Via = 0 | 1;
const H = 3_600_000;

type LinkName = 'root' | 'sub' | 'late' | 'wide';
/** The links the ledger may charge. */
type Charged = 'root' | 'sub' | 'late';
export type Who = 'agent' | 'sub' | 'late' | 'wide';

interface LinkModel {
  perTx: number; // cents
  budget: number; // cents
  periodMs: number;
  rate?: { count: number; periodMs: number };
  validFrom?: number;
  validUntil: number;
  revoked: boolean;
}

interface Entry {
  rid: string;
  links: LinkName[];
  cents: number;
  at: number;
  state: 'reserved' | 'committed' | 'released';
}

interface Pres {
  jwt: string;
  jti: string;
  who: Who;
  iatMs: number;
}

export interface Model {
  t0: number;
  now: number;
  links: Record<Charged, LinkModel>;
  entries: Entry[];
  pres: Pres[];
  /** What the replay cache holds: `holder jti` of every presentation used up ('iat' mode keys a vp+jwt by its holder and jti). */
  used: Set<string>;
}

interface Party {
  issuer: Issuer;
  identity: string;
  chain: string[];
}

export interface Real {
  w: World;
  store: Store;
  verifiers: [Verifier, Verifier];
  principal: Issuer;
  parties: Record<Who, Party>;
  ids: Record<LinkName, { id: string; issuer: string }>;
  holds: Map<string, SpendHold>;
  /** One-shot store faults (STORE_UNAVAILABLE, as an unreachable database answers), set by a command for its one call. */
  faults: { nonce: boolean; reserve: boolean; settle: boolean };
  /** jtis of presentations ever allowed: each at most once. */
  allowed: Set<string>;
  /** Which links were revoked when (model time), for "nothing after revocation". */
  revokedAt: Partial<Record<'root' | 'sub', number>>;
}

const chainOf: Record<Who, LinkName[]> = { agent: ['root'], sub: ['root', 'sub'], late: ['root', 'late'], wide: ['root', 'wide'] };
/** The links the ledger charges (the widened link is always refused, so it never reaches the ledger). */
const ledgerLinks = (who: Who): Charged[] => (who === 'sub' ? ['root', 'sub'] : who === 'late' ? ['root', 'late'] : ['root']);

const ROOT: Authority = {
  actions: ['purchase'],
  maxDelegationDepth: 1,
  limits: { perTransaction: { amount: '50', currency: 'USD' }, budget: { amount: '100', currency: 'USD', period: 'PT1H' }, counterparties: [AUD] },
};
const SUB = (parent: { id: string; digest: string } | undefined): Authority => ({
  actions: ['purchase'],
  maxDelegationDepth: 0,
  limits: {
    perTransaction: { amount: '20', currency: 'USD' },
    budget: { amount: '40', currency: 'USD', period: 'PT1H' },
    rate: { count: 3, period: 'PT20M' },
    counterparties: [AUD],
  },
  ...(parent ? { parent } : {}),
});

/** One world (issuer store, status list server) per file; a fresh principal, agents and mandates per run. */
export async function setupRun(w: World, realStore: Store, tag: string): Promise<{ model: Model; real: Real }> {
  const faults = { nonce: false, reserve: false, settle: false };
  const down = () => Promise.reject(new CharterError('STORE_UNAVAILABLE', 'the store is unreachable: try again'));
  const store: Store = {
    ...realStore,
    consumeNonce: (...a) => (faults.nonce ? down() : realStore.consumeNonce(...a)),
    reserve: (...a) => (faults.reserve ? down() : realStore.reserve(...a)),
    commitReservation: (...a) => (faults.settle ? down() : realStore.commitReservation(...a)),
    releaseReservation: (...a) => (faults.settle ? down() : realStore.releaseReservation(...a)),
  };
  const principal = w.issuer(`principal-${tag}`);
  const operator = w.issuer(`operator-${tag}`);
  const agent = w.issuer(`agent-${tag}`);
  const sub = w.issuer(`sub-${tag}`);
  const wide = w.issuer(`wide-${tag}`);
  const late = w.issuer(`late-${tag}`);
  const start = Date.now();
  const root = await issueMandate(w.store, principal, { agent: agent.did, authority: ROOT, validUntil: new Date(start + 3 * H), baseUrl: w.baseUrl });
  const subM = await delegateMandate(w.store, agent, { parentJwt: root.jwt, to: sub.did, authority: SUB(undefined), validUntil: new Date(start + 2 * H), baseUrl: w.baseUrl });
  // A link that widens its parent (a budget ten times the root's), signed directly: delegateMandate would refuse it.
  const wideJwt = await signLink(
    w,
    agent,
    wide.did,
    {
      actions: ['purchase'],
      maxDelegationDepth: 0,
      limits: { perTransaction: { amount: '500', currency: 'USD' }, budget: { amount: '1000', currency: 'USD', period: 'PT1H' }, counterparties: [AUD] },
      parent: { id: decodeCredential(root.jwt).id!, digest: mandateDigest(root.jwt) },
    },
    { validUntil: new Date(start + H) },
  );
  // A sub-agent whose mandate (narrowing like SUB) starts half an hour into the run: not valid before then.
  const lateJwt = await signLink(w, agent, late.did, SUB({ id: decodeCredential(root.jwt).id!, digest: mandateDigest(root.jwt) }), {
    validFrom: new Date(start + H / 2),
    validUntil: new Date(start + 2 * H),
  });
  const identity = async (a: Issuer) => (await issueAgentIdentity(w.store, operator, { agent: a.did, name: 'shopper', software: { name: 'bot', version: '1.0.0' } })).jwt;
  const until = (jwt: string) => Date.parse(decodeCredential(jwt).validUntil as string);
  const verifier = (maxAgeSeconds: number, skewSeconds: number) =>
    createVerifier({
      aud: AUD,
      store,
      resolver: w.resolver,
      // Never cached: a revocation is seen by the next decision.
      status: createStatusChecker({ resolver: w.resolver, allowLoopback: true, allowHttp: true, maxStalenessSeconds: 0 }),
      http: false,
      skewSeconds,
      maxAgeSeconds,
    });
  const t0 = Date.now() + 1000;
  const idOf = (jwt: string, by: Issuer) => ({ id: decodeCredential(jwt).id!, issuer: by.did });
  const real: Real = {
    w,
    store,
    verifiers: [verifier(MAX_AGE_S[0], SKEW_S[0]), verifier(MAX_AGE_S[1], SKEW_S[1])],
    principal,
    parties: {
      agent: { issuer: agent, identity: await identity(agent), chain: [root.jwt] },
      sub: { issuer: sub, identity: await identity(sub), chain: [root.jwt, subM.jwt] },
      late: { issuer: late, identity: await identity(late), chain: [root.jwt, lateJwt] },
      wide: { issuer: wide, identity: await identity(wide), chain: [root.jwt, wideJwt] },
    },
    ids: { root: idOf(root.jwt, principal), sub: idOf(subM.jwt, agent), late: idOf(lateJwt, agent), wide: idOf(wideJwt, agent) },
    holds: new Map(),
    faults,
    allowed: new Set(),
    revokedAt: {},
  };
  const model: Model = {
    t0,
    now: t0,
    links: {
      root: { perTx: 5000, budget: 10000, periodMs: H, validUntil: until(root.jwt), revoked: false },
      sub: { perTx: 2000, budget: 4000, periodMs: H, rate: { count: 3, periodMs: H / 3 }, validUntil: until(subM.jwt), revoked: false },
      late: {
        perTx: 2000,
        budget: 4000,
        periodMs: H,
        rate: { count: 3, periodMs: H / 3 },
        validFrom: Date.parse(decodeCredential(lateJwt).validFrom as string),
        validUntil: until(lateJwt),
        revoked: false,
      },
    },
    entries: [],
    pres: [],
    used: new Set(),
  };
  return { model, real };
}

// ---------------------------------------------------------------- amounts

export type AmountSpec =
  | { k: 'cents'; cents: number; form: 'str' | 'obj' | 'num' | 'lower' | 'pad' }
  | { k: 'edge'; of: 'perTx' | 'remaining'; delta: -1 | 0 | 1 }
  | { k: 'neg'; form: number }
  | { k: 'fine'; form: number }
  | { k: 'other'; cur: 'EUR' | 'JPY' | 'XXX'; units: number }
  | { k: 'none' };

type Amount = { input: AmountInput | undefined; cls: 'usd'; cents: number } | { input: AmountInput | undefined; cls: 'invalid' | 'missing' | 'currency' };

const dec = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;

function usd(cents: number, form: 'str' | 'obj' | 'num' | 'lower' | 'pad'): AmountInput {
  if (form === 'obj') return { amount: dec(cents), currency: 'USD' };
  if (form === 'num') return { amount: cents / 100, currency: 'USD' };
  if (form === 'lower') return `${dec(cents)}usd`;
  if (form === 'pad') return `${dec(cents)}0 USD`;
  return `${dec(cents)} USD`;
}

export const amountArb: fc.Arbitrary<AmountSpec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('cents' as const),
      cents: fc.oneof(fc.integer({ min: 0, max: 6000 }), fc.constantFrom(0, 1, 1000, 1999, 2000, 2001, 4000, 4999, 5000, 5001)),
      form: fc.constantFrom('str', 'obj', 'num', 'lower', 'pad'),
    }),
  },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('edge' as const), of: fc.constantFrom('perTx', 'remaining'), delta: fc.constantFrom(-1, 0, 1) as fc.Arbitrary<-1 | 0 | 1> }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('neg' as const), form: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('fine' as const), form: fc.nat(13) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('other' as const), cur: fc.constantFrom('EUR', 'JPY', 'XXX'), units: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'none' as const }) },
);

function resolveAmount(m: Model, who: Who, s: AmountSpec): Amount {
  switch (s.k) {
    case 'cents':
      return { input: usd(s.cents, s.form), cls: 'usd', cents: s.cents };
    case 'edge': {
      const links = ledgerLinks(who);
      const base = s.of === 'perTx' ? Math.min(...links.map((l) => m.links[l].perTx)) : Math.min(...links.map((l) => m.links[l].budget - spent(m, l)));
      const cents = Math.max(0, base + s.delta);
      return { input: usd(cents, 'str'), cls: 'usd', cents };
    }
    case 'neg':
      return { input: (['-1 USD', { amount: -1, currency: 'USD' }, { amount: '-1', currency: 'USD' }, { amount: -0, currency: 'USD' }] as AmountInput[])[s.form]!, cls: 'invalid' };
    case 'fine':
      return {
        input: (
          [
            '1.001 USD',
            '0.5 JPY',
            { amount: '49.999', currency: 'USD' },
            { amount: 1e-7, currency: 'USD' },
            '1e2 USD',
            '050 USD',
            '50. USD',
            { amount: '5', currency: 'usd' },
            { amount: '5', currency: 'ZZZ' },
            '5 US',
            '',
            { amount: Number.NaN, currency: 'USD' },
            { amount: Infinity, currency: 'USD' },
            { amount: '1 000', currency: 'USD' },
          ] as AmountInput[]
        )[s.form]!,
        cls: 'invalid',
      };
    case 'other':
      return { input: `${s.units} ${s.cur}`, cls: 'currency' };
    case 'none':
      return { input: undefined, cls: 'missing' };
  }
}

// ---------------------------------------------------------------- the reference model

const live = (e: Entry) => e.state !== 'released';
/** Live spend charged to `link` in its budget window now: rows with at > now - period count (store/window.ts). */
export function spent(m: Model, link: Charged): number {
  const since = m.now - m.links[link].periodMs;
  return m.entries.filter((e) => live(e) && e.links.includes(link) && e.at > since).reduce((s, e) => s + e.cents, 0);
}
function used(m: Model, link: Charged): number {
  const r = m.links[link].rate;
  if (!r) return 0;
  return m.entries.filter((e) => live(e) && e.links.includes(link) && e.at > m.now - r.periodMs).length;
}

interface Expected {
  status: number;
  /** The exact set of reason codes (undefined: only `must` is checked). */
  codes?: string[];
  must: string[];
  consume: boolean;
  /** Reached the ledger: allowed (200) or refused there (403). */
  ledger?: { cents: number };
}

/** What the guard must decide, DESIGN.md and decide.ts's documented order: freshness, request, replay, merits, ledger. */
const usedKey = (p: { who: Who; jti: string }) => `${p.who} ${p.jti}`;

/** What the request asks besides its amount: the mandate's action and counterparty, or another. */
export type Ask = 'ok' | 'action' | 'counterparty';

export function predict(m: Model, who: Who, p: { iatMs: number; jti: string }, amt: Amount, via: Via = 0, ask: Ask = 'ok'): Expected {
  // credentials/binding.ts and time.ts: skew widens every bound, on both sides.
  const skew = SKEW_S[via] * 1000;
  if (p.iatMs > m.now + skew) return { status: 401, codes: ['ISSUED_IN_FUTURE'], must: [], consume: false };
  // Stale by age, or past its own exp (iat + 300 s here: createPresentation's default lifetime), an exclusive bound.
  if (m.now - p.iatMs > MAX_AGE_S[via] * 1000 + skew || m.now - skew >= p.iatMs + PRESENTATION_TTL_S * 1000)
    return { status: 401, codes: ['PRESENTATION_STALE'], must: [], consume: false };
  if (amt.cls === 'invalid') return { status: 400, codes: ['INVALID_ARGUMENT'], must: [], consume: false };
  // The request, not the proof, is wrong (a missing amount under a money limit): nothing used up.
  if (amt.cls === 'missing') return { status: 400, must: ['AMOUNT_REQUIRED'], consume: false };
  if (m.used.has(usedKey({ who, jti: p.jti }))) return { status: 401, codes: ['REPLAY_DETECTED'], must: [], consume: false };
  const codes = new Set<string>();
  for (const l of chainOf[who]) {
    if (l === 'wide') {
      codes.add('AUTHORITY_WIDENED');
      continue;
    }
    const L = m.links[l];
    if (ask === 'action') codes.add('ACTION_NOT_ALLOWED');
    if (ask === 'counterparty') codes.add('COUNTERPARTY_NOT_ALLOWED');
    // A credential's status is asked only once everything else about it holds (credentials/verify.ts: no
    // network for what is refused anyway), so an expired link is reported expired, not revoked.
    const early = L.validFrom !== undefined && m.now + skew < L.validFrom;
    const expired = m.now - skew >= L.validUntil;
    if (expired) codes.add('CREDENTIAL_EXPIRED');
    if (early) codes.add('CREDENTIAL_NOT_YET_VALID');
    if (!expired && !early && L.revoked) codes.add('CREDENTIAL_REVOKED');
    if (amt.cls === 'currency') codes.add('CURRENCY_MISMATCH');
    else if (amt.cls === 'usd') {
      if (amt.cents > L.perTx) codes.add('AUTHORITY_EXCEEDED');
      if (amt.cents > L.budget) codes.add('BUDGET_EXCEEDED');
    }
  }
  if (who === 'wide') return { status: 403, must: ['AUTHORITY_WIDENED'], consume: true };
  if (codes.size > 0) return { status: 403, codes: [...codes].sort(), must: [], consume: true };
  const cents = (amt as { cents: number }).cents;
  for (const l of ledgerLinks(who)) {
    if (spent(m, l) + cents > m.links[l].budget) codes.add('BUDGET_EXCEEDED');
    const r = m.links[l].rate;
    if (r && used(m, l) + 1 > r.count) codes.add('RATE_EXCEEDED');
  }
  if (codes.size > 0) return { status: 403, codes: [...codes].sort(), must: [], consume: true, ledger: { cents } };
  return { status: 200, codes: [], must: [], consume: true, ledger: { cents } };
}

const codesOf = (reasons: readonly { code: string }[]) => [...new Set(reasons.map((r) => r.code))].sort();

/** What the runs decided, by status and reason codes (printed by the tests, so a run that exercises nothing shows). */
export const seen = new Map<string, number>();
const tally = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);

function checkAgainst(e: Expected, got: { ok: boolean; status: number; reasons: readonly { code: string }[] }, label: string): void {
  const codes = codesOf(got.reasons);
  tally(`${label.split('(')[0]} ${got.status} ${codes.join('+')}`);
  expect({ label, status: got.status, ok: got.ok }).toEqual({ label, status: e.status, ok: e.status === 200 });
  if (e.codes) expect({ label, codes }).toEqual({ label, codes: e.codes });
  for (const c of e.must) expect({ label, codes }).toEqual({ label, codes: expect.arrayContaining([c]) });
}

/** The remaining budget and rate an allowed decision reports: the tightest over the chain's links after this spend. */
function remainingAfter(m: Model, who: Who, cents: number): { budget: { amount: string; currency: string }; rate?: number } {
  const links = ledgerLinks(who);
  const budget = Math.min(...links.map((l) => m.links[l].budget - spent(m, l) - cents));
  const rates = links.flatMap((l) => (m.links[l].rate ? [m.links[l].rate!.count - used(m, l) - 1] : []));
  return {
    budget: {
      amount: dec(budget)
        .replace(/\.00$/, '')
        .replace(/(\.\d)0$/, '$1'),
      currency: 'USD',
    },
    ...(rates.length ? { rate: Math.min(...rates) } : {}),
  };
}

// ---------------------------------------------------------------- the real side

async function present(r: Real, who: Who, iatMs: number, jti = `urn:uuid:${randomUUID()}`): Promise<{ jwt: string; jti: string }> {
  const p = r.parties[who];
  const iat = Math.floor(iatMs / 1000);
  const jwt = await createAgentPresentation({
    agent: p.issuer,
    identity: p.identity,
    chain: p.chain,
    aud: AUD,
    nonce: randomUUID(),
    claims: { iat, exp: iat + PRESENTATION_TTL_S, jti },
  });
  return { jwt, jti };
}

const trust = (r: Real) => ({ principals: [r.principal.did] });

export type Settle = 'hold' | 'commit' | 'release' | 'guard-ok' | 'guard-throw' | 'guard-fail';

interface Outcome {
  ok: boolean;
  status: number;
  reasons: readonly { code: string }[];
  rid?: string;
  state?: Entry['state'];
  remaining?: unknown;
}

/** One transaction through the real guard: authorizeTransaction (then settle as asked) or guardTransaction. */
async function transact(r: Real, m: Model, jwt: string, amount: AmountInput | undefined, settle: Settle, via: Via = 0, ask: Ask = 'ok'): Promise<Outcome> {
  const request = {
    verifier: r.verifiers[via],
    action: ask === 'action' ? 'refund' : 'purchase',
    ...(ask === 'counterparty' ? { counterparty: 'did:web:elsewhere.example' } : {}),
    ...(amount !== undefined ? { amount } : {}),
    trust: trust(r),
    now: new Date(m.now),
  };
  if (settle === 'hold' || settle === 'commit' || settle === 'release') {
    const d: GuardDecision = await authorizeTransaction(jwt, request);
    if (!d.ok) {
      expect(d.spend).toBeUndefined();
      return { ok: false, status: d.status, reasons: d.reasons };
    }
    const spend = d.spend!;
    expect(spend.state).toBe('reserved');
    r.holds.set(spend.reservationId, spend);
    if (settle === 'commit' || settle === 'release') {
      const settling = settle === 'commit' ? spend.commit() : spend.release();
      if (r.faults.settle) {
        // The store failed while settling: nothing settled, the spend still held (counting), settleable later either way.
        await expect(settling).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
        expect(spend.state).toBe('reserved');
      } else await settling;
    }
    return { ok: true, status: 200, reasons: [], rid: spend.reservationId, state: spend.state as Entry['state'], remaining: spend.remaining };
  }
  let ran = 0;
  let rid: string | undefined;
  const boom = new Error('the transaction failed');
  try {
    const out = await guardTransaction(jwt, { ...request, ...(settle === 'guard-fail' ? { succeeded: () => false } : {}) }, () => {
      ran++;
      if (settle === 'guard-throw') throw boom;
      return 'done';
    });
    if (!out.ok) {
      expect(ran).toBe(0);
      return { ok: false, status: out.status, reasons: out.reasons };
    }
    expect(ran).toBe(1);
    expect(out.spend).toBe(settle === 'guard-ok' ? 'committed' : 'released');
    // guardTransaction keeps the reservation id to itself: read it back from the ledger (the newest row on the leaf link).
    rid = await newestReservation(r, m);
    return { ok: true, status: 200, reasons: [], rid, state: settle === 'guard-ok' ? 'committed' : 'released' };
  } catch (e) {
    expect(e).toBe(boom);
    expect(ran).toBe(1);
    rid = await newestReservation(r, m);
    return { ok: true, status: 200, reasons: [], rid, state: 'released' };
  }
}

/** The reservation on the root link the model does not know yet (guardTransaction does not hand its id out). */
async function newestReservation(r: Real, m: Model): Promise<string> {
  const known = new Set(m.entries.map((e) => e.rid));
  const rows = (await r.store.listReservations({ mandateId: ledgerKey(r.ids.root.issuer, r.ids.root.id) })).filter((x) => !known.has(x.reservationId));
  expect(rows).toHaveLength(1);
  return rows[0]!.reservationId;
}

// ---------------------------------------------------------------- invariants on the store's own rows

async function rowsOf(r: Real, link: LinkName) {
  return r.store.listReservations({ mandateId: ledgerKey(r.ids[link].issuer, r.ids[link].id), limit: 100_000 });
}

const CHARGED: Charged[] = ['root', 'sub', 'late'];

export async function checkInvariants(m: Model, r: Real): Promise<void> {
  // What the ledger itself counts in each window now (a read-only preview of a zero spend) is the model's count.
  const probe = await r.store.previewReservation({
    reservationId: 'model-probe',
    at: new Date(m.now),
    entries: CHARGED.map((l) => {
      const L = m.links[l];
      return {
        mandateId: ledgerKey(r.ids[l].issuer, r.ids[l].id),
        amount: '0',
        currency: 'USD',
        budget: { amount: dec(L.budget), currency: 'USD', periodSeconds: L.periodMs / 1000 },
        ...(L.rate ? { rate: { count: L.rate.count, periodSeconds: L.rate.periodMs / 1000 } } : {}),
      };
    }),
  });
  expect({ now: m.now - m.t0, usage: probe.usage.map((u) => [u.spent, u.count]) }).toEqual({
    now: m.now - m.t0,
    usage: CHARGED.map((l) => [formatDecimal(BigInt(spent(m, l)) * 10n ** 16n), used(m, l)]),
  });
  // The widened link never reaches the ledger: it is refused before anything is reserved.
  expect(await rowsOf(r, 'wide')).toEqual([]);
  // The ledger is exactly the model's: every allowed spend, none of the denied ones, each in its settled state.
  const view = (rows: Awaited<ReturnType<typeof rowsOf>>, link: LinkName) =>
    rows
      .map((x) => {
        const e = x.entries.find((y) => y.mandateId === ledgerKey(r.ids[link].issuer, r.ids[link].id))!;
        return { rid: x.reservationId, state: x.state, cents: Math.round(Number(e.amount) * 100), currency: e.currency, at: Date.parse(x.at) };
      })
      .sort((a, b) => a.rid.localeCompare(b.rid));
  const modelView = (link: Charged) =>
    m.entries
      .filter((e) => e.links.includes(link))
      .map((e) => ({ rid: e.rid, state: e.state, cents: e.cents, currency: 'USD', at: e.at }))
      .sort((a, b) => a.rid.localeCompare(b.rid));
  const views = Object.fromEntries(await Promise.all(CHARGED.map(async (l) => [l, view(await rowsOf(r, l), l)] as const))) as Record<Charged, ReturnType<typeof view>>;
  for (const l of CHARGED) expect({ l, rows: views[l] }).toEqual({ l, rows: modelView(l) });
  // A sub-agent's every spend is charged to its parent too, for the same amount.
  const rootByRid = new Map(views.root.map((x) => [x.rid, x]));
  for (const s of [...views.sub, ...views.late]) expect(rootByRid.get(s.rid)).toEqual({ ...s });
  // No window of any link ever holds more than its budget or its rate, whatever the model says.
  for (const [link, rows] of Object.entries(views) as [Charged, ReturnType<typeof view>][]) {
    const L = m.links[link];
    const liveRows = rows.filter((x) => x.state !== 'released');
    for (const x of liveRows) {
      const inWindow = liveRows.filter((y) => y.at > x.at - L.periodMs && y.at <= x.at);
      expect(inWindow.reduce((s, y) => s + y.cents, 0)).toBeLessThanOrEqual(L.budget);
      if (L.rate) expect(liveRows.filter((y) => y.at > x.at - L.rate!.periodMs && y.at <= x.at).length).toBeLessThanOrEqual(L.rate.count);
    }
  }
}

/** After an allowed decision: never twice for one presentation, never after its chain was revoked. */
function noteAllowed(r: Real, who: Who, jti: string): void {
  expect(r.allowed.has(`${who} ${jti}`), `presentation ${jti} of ${who} allowed twice`).toBe(false);
  r.allowed.add(`${who} ${jti}`);
  expect(r.revokedAt.root, 'allowed after the root mandate was revoked').toBeUndefined();
  if (who === 'sub') expect(r.revokedAt.sub, "allowed after the sub-agent's mandate was revoked").toBeUndefined();
  expect(who).not.toBe('wide');
}

// ---------------------------------------------------------------- commands

type Cmd = fc.AsyncCommand<Model, Real>;

/** Runs one presentation through the real guard and the model; returns nothing, asserts everything. */
export type Fault = 'none' | 'nonce' | 'reserve' | 'settle';

async function decideOne(m: Model, r: Real, pres: Pres, spec: AmountSpec, settle: Settle, label: string, via: Via = 0, ask: Ask = 'ok', fault: Fault = 'none'): Promise<void> {
  const amt = resolveAmount(m, pres.who, spec);
  let expected = predict(m, pres.who, pres, amt, via, ask);
  // A store fault decides nothing (503). The replay cache failing uses nothing up; the ledger failing after the
  // proof was used up leaves it used (the preamble's "known and left alone": fail closed, no give-back).
  const fault503 = (consume: boolean): Expected => ({ status: 503, codes: ['STORE_UNAVAILABLE'], must: [], consume });
  if (fault === 'nonce' && expected.consume) expected = fault503(false);
  if (fault === 'reserve' && expected.ledger) expected = fault503(true);
  if (fault === 'settle' && settle !== 'commit' && settle !== 'release') fault = 'none';
  const before = [await rowsOf(r, 'root'), await rowsOf(r, 'sub')];
  const rem = expected.status === 200 ? remainingAfter(m, pres.who, expected.ledger!.cents) : undefined;
  if (fault !== 'none') r.faults[fault] = true;
  let got: Outcome;
  try {
    got = await transact(r, m, pres.jwt, amt.input, settle, via, ask);
  } finally {
    Object.assign(r.faults, { nonce: false, reserve: false, settle: false });
  }
  checkAgainst(expected, got, `${label} amount=${JSON.stringify(amt.input)}`);
  if (expected.consume) m.used.add(usedKey(pres));
  if (got.ok) {
    noteAllowed(r, pres.who, pres.jti);
    if (got.remaining !== undefined) expect(got.remaining).toEqual(rem);
    m.entries.push({ rid: got.rid!, links: ledgerLinks(pres.who), cents: expected.ledger!.cents, at: m.now, state: fault === 'settle' ? 'reserved' : got.state! });
  } else {
    // A denial changes no row.
    expect([await rowsOf(r, 'root'), await rowsOf(r, 'sub')]).toEqual(before);
  }
}

class Attempt implements Cmd {
  constructor(
    readonly who: Who,
    readonly age: number,
    readonly spec: AmountSpec,
    readonly settle: Settle,
    readonly via: Via,
    readonly ask: Ask,
    readonly fault: Fault,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    // age: seconds before now the presentation says it was made (-1: from the future; MAX_AGE_S and over: at and past the edge).
    const iatMs = Math.floor(m.now / 1000) * 1000 - this.age * 1000;
    const { jwt, jti } = await present(r, this.who, iatMs);
    const pres: Pres = { jwt, jti, who: this.who, iatMs };
    m.pres.push(pres);
    await decideOne(m, r, pres, this.spec, this.settle, this.toString(), this.via, this.ask, this.fault);
    await checkInvariants(m, r);
  }
  toString = () => `attempt(${this.who}, age=${this.age}, ${JSON.stringify(this.spec)}, ${this.settle}, via=${this.via}, ${this.ask}, fault=${this.fault})`;
}

class Replay implements Cmd {
  constructor(
    readonly pick: number,
    readonly spec: AmountSpec,
    readonly settle: Settle,
    readonly via: Via,
  ) {}
  check = (m: Readonly<Model>) => m.pres.length > 0;
  async run(m: Model, r: Real) {
    const pres = m.pres[this.pick % m.pres.length]!;
    await decideOne(m, r, pres, this.spec, this.settle, this.toString(), this.via);
    await checkInvariants(m, r);
  }
  toString = () => `replay(#${this.pick}, ${JSON.stringify(this.spec)}, ${this.settle}, via=${this.via})`;
}

class Revoke implements Cmd {
  constructor(readonly link: 'root' | 'sub') {}
  // Late in a run: after a revocation most of what follows is refused, which tests less.
  check = (m: Readonly<Model>) => !m.links[this.link].revoked && m.pres.length >= 8;
  async run(m: Model, r: Real) {
    await revokeMandate(r.w.store, r.ids[this.link].id, r.w.issuerFor);
    m.links[this.link].revoked = true;
    r.revokedAt[this.link] = m.now;
    await checkInvariants(m, r);
  }
  toString = () => `revoke(${this.link})`;
}

export type Advance =
  { k: 'ms'; ms: number } | { k: 'window'; link: Charged; delta: -1 | 0 | 1 } | { k: 'expiry'; link: 'root' | 'sub'; delta: number } | { k: 'from'; delta: number };

class Tick implements Cmd {
  constructor(readonly a: Advance) {}
  // Bounded: the run stays within the mandates' lives and a few budget windows.
  check = (m: Readonly<Model>) => m.now - m.t0 < 4 * H && (this.a.k !== 'expiry' || m.pres.length >= 8);
  async run(m: Model, r: Real) {
    let target = m.now;
    const a = this.a;
    if (a.k === 'ms') target = m.now + a.ms;
    else if (a.k === 'expiry') target = m.links[a.link].validUntil + a.delta;
    else if (a.k === 'from') target = m.links.late.validFrom! + a.delta;
    else {
      // The moment the oldest live spend on the link leaves its budget window (rows with at > now - period count).
      const oldest = m.entries.filter((e) => live(e) && e.links.includes(a.link) && e.at > m.now - m.links[a.link].periodMs).map((e) => e.at);
      if (oldest.length) target = Math.min(...oldest) + m.links[a.link].periodMs + a.delta;
    }
    if (target > m.now) m.now = target;
    await checkInvariants(m, r);
  }
  toString = () => `tick(${JSON.stringify(this.a)})`;
}

class SettleCmd implements Cmd {
  constructor(
    readonly pick: number,
    readonly how: 'commit' | 'release',
  ) {}
  check = (m: Readonly<Model>) => m.entries.some((e) => e.state === 'reserved');
  async run(m: Model, r: Real) {
    const open = m.entries.filter((e) => e.state === 'reserved');
    const e = open[this.pick % open.length]!;
    const hold = r.holds.get(e.rid)!;
    await (this.how === 'commit' ? hold.commit() : hold.release());
    e.state = this.how === 'commit' ? 'committed' : 'released';
    // The same way again is idempotent; the other way is refused and changes nothing.
    await (this.how === 'commit' ? hold.commit() : hold.release());
    await expect(this.how === 'commit' ? hold.release() : hold.commit()).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
    expect(hold.state).toBe(e.state);
    await checkInvariants(m, r);
  }
  toString = () => `settle(#${this.pick}, ${this.how})`;
}

/**
 * A new presentation (newly signed, fresh iat) that reuses an earlier one's jti, by the same party or another:
 * the replay cache keys a vp+jwt by holder and jti, so the same holder's is a replay and another holder's is not.
 */
class ReuseJti implements Cmd {
  constructor(
    readonly pick: number,
    readonly who: Who,
    readonly spec: AmountSpec,
  ) {}
  check = (m: Readonly<Model>) => m.pres.length > 0;
  async run(m: Model, r: Real) {
    const earlier = m.pres[this.pick % m.pres.length]!;
    const iatMs = Math.floor(m.now / 1000) * 1000;
    const pres: Pres = { ...(await present(r, this.who, iatMs, earlier.jti)), who: this.who, iatMs };
    m.pres.push(pres);
    await decideOne(m, r, pres, this.spec, 'hold', this.toString());
    await checkInvariants(m, r);
  }
  toString = () => `reuseJti(#${this.pick}, ${this.who}, ${JSON.stringify(this.spec)})`;
}

/** Several fresh presentations of one party at once, together often over the budget or rate. */
class Concurrent implements Cmd {
  constructor(
    readonly who: 'agent' | 'sub' | 'late',
    readonly cents: number[],
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const links = ledgerLinks(this.who);
    const pres = await Promise.all(
      this.cents.map(async () => ({ ...(await present(r, this.who, Math.floor(m.now / 1000) * 1000)), who: this.who, iatMs: Math.floor(m.now / 1000) * 1000 })),
    );
    m.pres.push(...pres);
    // Stateless parts first (each request alone against an empty ledger), the ledger's part checked afterwards.
    const stateless = this.cents.map((c, i) => predict({ ...m, entries: [] }, this.who, pres[i]!, { input: undefined, cls: 'usd', cents: c }));
    const before = { spent: Object.fromEntries(links.map((l) => [l, spent(m, l)])), used: Object.fromEntries(links.map((l) => [l, used(m, l)])) };
    const got = await Promise.all(pres.map((p, i) => transact(r, m, p.jwt, usd(this.cents[i]!, 'str'), 'hold')));
    const allowed: number[] = [];
    got.forEach((g, i) => {
      m.used.add(usedKey(pres[i]!));
      const s = stateless[i]!;
      if (s.status !== 200) return checkAgainst(s, g, `${this.toString()} [${i}]`);
      tally(`concurrent ${g.status} ${codesOf(g.reasons).join('+')}`);
      if (g.ok) {
        noteAllowed(r, this.who, pres[i]!.jti);
        allowed.push(i);
        m.entries.push({ rid: g.rid!, links, cents: this.cents[i]!, at: m.now, state: 'reserved' });
      } else {
        expect(g.status).toBe(403);
        for (const c of codesOf(g.reasons)) expect(['BUDGET_EXCEEDED', 'RATE_EXCEEDED']).toContain(c);
      }
    });
    // Together within every budget and rate ...
    for (const l of links) {
      expect(before.spent[l]! + allowed.reduce((s, i) => s + this.cents[i]!, 0)).toBeLessThanOrEqual(m.links[l].budget);
      if (m.links[l].rate) expect(before.used[l]! + allowed.length).toBeLessThanOrEqual(m.links[l].rate!.count);
    }
    // ... and every ledger refusal justified: it would not fit even now (never a wrong "no").
    got.forEach((g, i) => {
      if (stateless[i]!.status !== 200 || g.ok) return;
      // Refused at its turn, with at most what was allowed by the end counted before it: so it cannot fit at the end either.
      const codes = codesOf(g.reasons);
      const over = links.some((l) => spent(m, l) + this.cents[i]! > m.links[l].budget);
      const full = links.some((l) => m.links[l].rate !== undefined && used(m, l) + 1 > m.links[l].rate!.count);
      expect(codes.length).toBeGreaterThan(0);
      if (codes.includes('BUDGET_EXCEEDED')) expect({ i, codes, over }).toEqual({ i, codes, over: true });
      if (codes.includes('RATE_EXCEEDED')) expect({ i, codes, full }).toEqual({ i, codes, full: true });
    });
    await checkInvariants(m, r);
  }
  toString = () => `concurrent(${this.who}, ${JSON.stringify(this.cents)})`;
}

/** One presentation sent several times at once: at most one is decided, every other is a replay. */
class ConcurrentReplay implements Cmd {
  constructor(
    readonly who: Who,
    readonly n: number,
    readonly cents: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const iatMs = Math.floor(m.now / 1000) * 1000;
    const p: Pres = { ...(await present(r, this.who, iatMs)), who: this.who, iatMs };
    m.pres.push(p);
    const amt = resolveAmount(m, this.who, { k: 'cents', cents: this.cents, form: 'str' });
    // Sent to both instances of the fleet at once: the shared replay cache lets one through at most. Which
    // instance decides is a race, and their skews differ at a validity edge: the decision is one of theirs.
    const expected = ([0, 1] as const).map((v) => predict(m, this.who, p, amt, v));
    const got = await Promise.all(Array.from({ length: this.n }, (_, i) => transact(r, m, p.jwt, amt.input, 'hold', (i % 2) as Via)));
    const replays = got.filter((g) => !g.ok && g.status === 401 && codesOf(g.reasons).join() === 'REPLAY_DETECTED');
    const decided = got.filter((g) => !replays.includes(g));
    expect(decided).toHaveLength(1);
    expect(replays).toHaveLength(this.n - 1);
    const d = decided[0]!;
    const matches = (e: Expected) =>
      d.status === e.status && (e.codes === undefined || codesOf(d.reasons).join() === e.codes.join()) && e.must.every((c) => codesOf(d.reasons).includes(c));
    checkAgainst(expected.find(matches) ?? expected[0]!, d, this.toString());
    m.used.add(usedKey(p));
    if (decided[0]!.ok) {
      noteAllowed(r, this.who, p.jti);
      m.entries.push({ rid: decided[0]!.rid!, links: ledgerLinks(this.who), cents: this.cents, at: m.now, state: 'reserved' });
    }
    await checkInvariants(m, r);
  }
  toString = () => `concurrentReplay(${this.who}, n=${this.n}, ${this.cents})`;
}

const who = fc.constantFrom<Who>('agent', 'agent', 'sub', 'sub', 'late', 'wide');
const settleArb = fc.constantFrom<Settle>('hold', 'hold', 'commit', 'release', 'guard-ok', 'guard-throw', 'guard-fail');
const age = fc.oneof(
  { weight: 5, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.constantFrom(-61, -60, -1, 1, ...MAX_AGE_S.flatMap((a) => [a - 1, a, a + 1, a + 59, a + 60, a + 61])) },
);

const via = fc.constantFrom<Via>(0, 0, 1);
const ask = fc.constantFrom<Ask>('ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'action', 'counterparty');
const fault = fc.constantFrom<Fault>('none', 'none', 'none', 'none', 'none', 'none', 'nonce', 'reserve', 'settle');
const attemptArb = fc.tuple(who, age, amountArb, settleArb, via, ask, fault).map(([w, a, s, st, v, k, f]) => new Attempt(w, a, s, st, v, k, f));
const replayArb = fc.tuple(fc.nat(), amountArb, settleArb, via).map(([p, s, st, v]) => new Replay(p, s, st, v));
const settleCmdArb = fc.tuple(fc.nat(), fc.constantFrom<'commit' | 'release'>('commit', 'release')).map(([p, h]) => new SettleCmd(p, h));

/** Around a validity bound, for each instance: its own (skew 0) and 60 s either side (the other's skew). */
const edgeDelta = fc.constantFrom(-60_001, -60_000, -59_999, -1, 0, 1, 59_999, 60_000, 60_001);
const tickArb = fc
  .oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        k: fc.constant('ms' as const),
        ms: fc.oneof(
          fc.integer({ min: 1, max: 5_000 }),
          fc.integer({ min: 1, max: 40 }).map((x) => x * 60_000),
        ),
      }),
    },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('window' as const), link: fc.constantFrom<Charged>('root', 'sub', 'late'), delta: fc.constantFrom<-1 | 0 | 1>(-1, 0, 1) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('from' as const), delta: edgeDelta }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('expiry' as const), link: fc.constantFrom<'root' | 'sub'>('root', 'sub'), delta: edgeDelta }) },
  )
  .map((a) => new Tick(a as Advance));

/** fast-check picks among these uniformly: the common commands are listed more than once (a revocation ends most of a run's interest). */
export const commandArbs: fc.Arbitrary<Cmd>[] = [
  attemptArb,
  attemptArb,
  attemptArb,
  attemptArb,
  replayArb,
  replayArb,
  fc.tuple(fc.nat(), who, amountArb).map(([p, w, s]) => new ReuseJti(p, w, s)),
  settleCmdArb,
  settleCmdArb,
  fc.constantFrom<'root' | 'sub'>('root', 'sub').map((l) => new Revoke(l)),
  tickArb,
  tickArb,
  fc
    .tuple(
      fc.constantFrom<'agent' | 'sub' | 'late'>('agent', 'sub', 'late'),
      fc.array(fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.constantFrom(1000, 2000, 2500, 5000)), { minLength: 2, maxLength: 6 }),
    )
    .map(([w, c]) => new Concurrent(w, c)),
  fc.tuple(who, fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 2500 })).map(([w, n, c]) => new ConcurrentReplay(w, n, c)),
];

/** The property: any sequence of commands keeps the real guard and the model in step. */
export function modelProperty(w: World, store: Store, maxCommands: number) {
  let run = 0;
  return fc.asyncProperty(fc.commands(commandArbs, { maxCommands, size: 'max' }), async (cmds) => {
    const { model, real } = await setupRun(w, store, `${process.pid}-${run++}-${randomUUID().slice(0, 8)}`);
    await fc.asyncModelRun(() => ({ model, real }), cmds);
  });
}
