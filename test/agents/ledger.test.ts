import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDecimal, compareDecimal } from '../../src/encoding/decimal.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { delegateMandate, issueMandate, ledgerEntries, ledgerKey, type Authority } from '../../src/agents/index.js';
import { tempDir } from '../helpers.js';
import { openWorld, type World } from './fixture.js';
import { attempt, days } from './setup.js';

let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => {
  await w.close();
});

describe('ledger entries', () => {
  it('charge every link, keyed by issuer and id, with its own budget and rate', () => {
    const a: Authority = { actions: ['*'], maxDelegationDepth: 1, limits: { budget: { amount: '100', currency: 'USD', period: 'P30D' } } };
    const b: Authority = { actions: ['*'], maxDelegationDepth: 0, limits: { budget: { amount: '10', currency: 'USD', period: 'P30D' }, rate: { count: 2, period: 'PT1H' } } };
    const entries = ledgerEntries(
      [
        { id: 'urn:uuid:a', issuer: 'did:key:zP', authority: a },
        { id: 'urn:uuid:b', issuer: 'did:key:zA', authority: b },
      ],
      { amount: '5', currency: 'USD' },
    );
    expect(entries).toEqual([
      { mandateId: 'did:key:zP urn:uuid:a', amount: '5', currency: 'USD', budget: { amount: '100', currency: 'USD', periodSeconds: 30 * 86400 } },
      {
        mandateId: 'did:key:zA urn:uuid:b',
        amount: '5',
        currency: 'USD',
        budget: { amount: '10', currency: 'USD', periodSeconds: 30 * 86400 },
        rate: { count: 2, periodSeconds: 3600 },
      },
    ]);
    // Without an amount: a zero spend in the budget's currency (so it counts for the rate only).
    expect(ledgerEntries([{ id: 'x', issuer: 'did:key:z', authority: b }])[0]).toMatchObject({ amount: '0', currency: 'USD' });
  });

  it('another issuer reusing a mandate id does not share its budget', () => {
    expect(ledgerKey('did:key:zA', 'urn:uuid:1')).not.toBe(ledgerKey('did:key:zB', 'urn:uuid:1'));
  });
});

interface Plan {
  budgets: [string, string, string];
  rates: [number, number, number];
  /** `lag`: seconds between the verifier reading its clock and the reservation (requests arrive out of order). */
  requests: { who: 0 | 1 | 2; amount: string; lag: number }[];
}

const plan: fc.Arbitrary<Plan> = fc
  .record({
    b0: fc.integer({ min: 10, max: 200 }),
    f1: fc.integer({ min: 1, max: 100 }),
    f2: fc.integer({ min: 1, max: 100 }),
    r0: fc.integer({ min: 2, max: 12 }),
    rf1: fc.integer({ min: 1, max: 100 }),
    rf2: fc.integer({ min: 1, max: 100 }),
    requests: fc.array(
      fc
        .record({ who: fc.constantFrom<0 | 1 | 2>(0, 1, 2), cents: fc.integer({ min: 1, max: 6000 }), lag: fc.integer({ min: 0, max: Number(process.env.MAX_LAG ?? 30) }) })
        .map(({ who, cents, lag }) => ({ who, amount: (cents / 100).toFixed(2), lag })),
      { minLength: 4, maxLength: 16 },
    ),
  })
  .map(({ b0, f1, f2, r0, rf1, rf2, requests }) => {
    const b1 = Math.max(1, Math.floor((b0 * f1) / 100));
    const b2 = Math.max(1, Math.floor((b1 * f2) / 100));
    const r1 = Math.max(1, Math.floor((r0 * rf1) / 100));
    const r2 = Math.max(1, Math.floor((r1 * rf2) / 100));
    return { budgets: [String(b0), String(b1), String(b2)], rates: [r0, r1, r2], requests };
  });

describe('concurrent reservations', () => {
  it('a request whose clock was read earlier but reserves later still sees the later spend', async () => {
    // Two verifiers read their clocks 5 s apart; the earlier reading reaches the ledger second.
    // Needs src/store/ledger.ts to count rows after `at` too (see the report); fails until then.
    const tag = randomUUID();
    const [p, a] = [w.issuer(`p-${tag}`), w.issuer(`a-${tag}`)];
    const m = await issueMandate(w.store, p, {
      agent: a.did,
      authority: { actions: ['*'], maxDelegationDepth: 0, limits: { budget: { amount: '10', currency: 'USD', period: 'P1D' } } },
      validUntil: days(30),
      baseUrl: w.baseUrl,
    });
    const t = Date.now();
    const spend = async (at: number) =>
      attempt(w, { agent: a, chain: [m.jwt], options: { action: 'pay', amount: '8 USD', trust: { anyPrincipal: true, requireIdentity: false }, record: true, now: new Date(at) } });
    expect((await spend(t)).ok).toBe(true);
    const late = await spend(t - 5000);
    expect(late.reasons.map((r) => r.code)).toEqual(['BUDGET_EXCEEDED']);
  });

  it('a random burst of concurrent reservations never exceeds any budget or rate of the chain', async () => {
    const path = join(tempDir('charter-ledger-'), 'ledger.db');
    // Several verifier instances, each with its own connection to one SQLite file.
    const ledgers: Store[] = await Promise.all([0, 1, 2].map(() => openSqliteStore(path)));
    try {
      await fc.assert(
        fc.asyncProperty(plan, async (p) => {
          const tag = randomUUID();
          const principal = w.issuer(`p-${tag}`);
          const agents = [0, 1, 2].map((i) => w.issuer(`a${i}-${tag}`));
          const auth = (i: number): Authority => ({
            actions: ['*'],
            maxDelegationDepth: 2 - i,
            limits: { budget: { amount: p.budgets[i]!, currency: 'USD', period: 'P30D' }, rate: { count: p.rates[i]!, period: 'P1D' } },
          });
          const m0 = await issueMandate(w.store, principal, { agent: agents[0]!.did, authority: auth(0), validUntil: days(30), baseUrl: w.baseUrl });
          const m1 = await delegateMandate(w.store, agents[0]!, { parentJwt: m0.jwt, to: agents[1]!.did, authority: auth(1), validUntil: days(20), baseUrl: w.baseUrl });
          const m2 = await delegateMandate(w.store, agents[1]!, { parentJwt: m1.jwt, to: agents[2]!.did, authority: auth(2), validUntil: days(10), baseUrl: w.baseUrl });
          const chain = [m0.jwt, m1.jwt, m2.jwt];
          const status = w.status();
          const now = Date.now();

          const decisions = await Promise.all(
            p.requests.map(async (r, i) => {
              const d = await attempt(w, {
                agent: agents[r.who]!,
                chain: chain.slice(0, r.who + 1),
                options: {
                  status,
                  action: 'pay:card',
                  amount: { amount: r.amount, currency: 'USD' },
                  trust: { principals: [principal.did], requireIdentity: false },
                  store: ledgers[i % ledgers.length]!,
                  record: true,
                  now: new Date(now - r.lag * 1000),
                },
              });
              return { ...r, d };
            }),
          );

          // What each link was charged: a request by agent k is charged to links 0..k.
          const spent = ['0', '0', '0'];
          const count = [0, 0, 0];
          for (const { who, amount, d } of decisions) {
            expect(d.reasons.every((x) => x.code === 'BUDGET_EXCEEDED' || x.code === 'RATE_EXCEEDED')).toBe(true);
            if (!d.ok) continue;
            expect(d.reservationId).toBeDefined();
            for (let l = 0; l <= who; l++) {
              spent[l] = addDecimal(spent[l]!, amount);
              count[l]!++;
            }
          }
          for (let l = 0; l < 3; l++) {
            expect(compareDecimal(spent[l]!, p.budgets[l]!)).toBeLessThanOrEqual(0);
            expect(count[l]).toBeLessThanOrEqual(p.rates[l]!);
          }
          // Every refusal is justified by the final totals (nothing is released here, so totals only grew).
          for (const { d, amount } of decisions.filter((x) => !x.d.ok)) {
            const justified = d.reasons.some((x) => {
              const l = [m0.id, m1.id, m2.id].indexOf(x.ref ?? '');
              if (l < 0) return false;
              return x.code === 'BUDGET_EXCEEDED' ? compareDecimal(addDecimal(spent[l]!, amount), p.budgets[l]!) > 0 : count[l]! + 1 > p.rates[l]!;
            });
            expect(justified).toBe(true);
          }
        }),
        { numRuns: Number(process.env.RUNS ?? 15), endOnFailure: true },
      );
    } finally {
      await Promise.all(ledgers.map((l) => l.close()));
    }
  });
});
