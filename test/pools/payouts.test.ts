import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseDecimal } from '../../src/encoding/decimal.js';
import { randomUUID } from 'node:crypto';
import { decodeJwt, checkJwtSignature, signJwt } from '../../src/credentials/index.js';
import {
  apportion,
  computePayouts,
  issueUsageReport,
  leavePool,
  membershipOf,
  acceptedStatus,
  poolPayouts,
  signLeave,
  splitExact,
  type PayoutGrant,
  type UsageRecord,
} from '../../src/pools/index.js';
import { openPoolWorld, type PoolWorld } from './world.js';

const A = 'did:key:z6MkA';
const B = 'did:key:z6MkB';
const C = 'did:key:z6MkC';
const T0 = '2026-03-01T00:00:00.000Z';
const at = (days: number) => new Date(Date.parse(T0) + days * 86_400_000).toISOString();

const grant = (o: Partial<PayoutGrant> = {}): PayoutGrant => ({
  id: 'urn:g1',
  grantee: 'did:key:z6MkPlatform',
  validFrom: T0,
  validUntil: at(90),
  compensation: { amount: '0.05', currency: 'EUR', per: 'use' },
  members: [A, B, C],
  withdrawnAt: {},
  ...o,
});
const use = (member: string, day: number, count = 1, g = 'urn:g1'): UsageRecord => ({ report: 'urn:r', reporter: 'did:key:z6MkPlatform', grant: g, member, time: at(day), count });
const run = (grants: PayoutGrant[], uses: UsageRecord[], from = 0, until = 30) =>
  computePayouts({ pool: 'did:key:z6MkPool', from: new Date(at(from)), until: new Date(at(until)), grants, uses });
const shares = (s: ReturnType<typeof run>, currency = 'EUR') => Object.fromEntries(s.currencies.find((c) => c.currency === currency)!.shares.map((x) => [x.member, x.amount]));

describe('payouts: exact decimal arithmetic', () => {
  it('per use, split equally: 7 uses at 0.05 EUR = 0.35, the odd cents to the largest remainders (ties by DID)', () => {
    const s = run([grant()], [use(A, 1, 3), use(B, 2, 2), use(C, 3, 2)]);
    expect(s.currencies).toEqual([
      {
        currency: 'EUR',
        total: '0.35',
        exact: '0.35',
        shares: [
          { member: A, amount: '0.12' },
          { member: B, amount: '0.12' },
          { member: C, amount: '0.11' },
        ],
      },
    ]);
    expect(s.grants[0]).toMatchObject({ uses: 7, earned: '0.35' });
  });

  it('a use after a member withdrew is not paid and is listed; later earnings skip the withdrawn member', () => {
    const s = run([grant({ withdrawnAt: { C: at(10), [C]: at(10) } })], [use(A, 5), use(C, 12), use(A, 15)]);
    // day 5: 0.05 over A, B, C; day 15: 0.05 over A, B only.
    expect(s.currencies[0]).toMatchObject({ total: '0.10', exact: '0.1' });
    expect(shares(s)).toEqual({ [A]: '0.04', [B]: '0.04', [C]: '0.02' });
    expect(s.outOfTerms).toEqual([expect.objectContaining({ member: C, why: 'the member had withdrawn' })]);
  });

  it('per period, by fixed weights: 10 EUR a month for two months, 2:1:1', () => {
    const s = run([grant({ compensation: { amount: '10', currency: 'EUR', per: 'P1M', split: { weights: { [A]: '2', [B]: '1', [C]: '1' } } } })], [], 0, 60);
    expect(s.grants[0]).toMatchObject({ periods: 2, earned: '20' });
    expect(shares(s)).toEqual({ [A]: '10.00', [B]: '5.00', [C]: '5.00' });
  });

  it('per period stops at revocation and at the end of validity', () => {
    expect(run([grant({ compensation: { amount: '1', currency: 'USD', per: 'P1D' }, revokedAt: at(4.5) })], [], 0, 30).grants[0]!.periods).toBe(5);
    expect(run([grant({ compensation: { amount: '1', currency: 'USD', per: 'P1D' }, validUntil: at(3) })], [], 0, 30).grants[0]!.periods).toBe(3);
  });

  it('currencies without cents round to whole units; the total is rounded half up once', () => {
    const s = run([grant({ compensation: { amount: '0.5', currency: 'JPY', per: 'use' } })], [use(A, 1, 5)]);
    expect(s.currencies[0]).toMatchObject({ currency: 'JPY', exact: '2.5', total: '3' });
    expect(shares(s, 'JPY')).toEqual({ [A]: '1', [B]: '1', [C]: '1' });
  });

  it('uses outside the period are left for another statement; after revocation they are listed', () => {
    const s = run([grant({ revokedAt: at(20) })], [use(A, 35), use(A, 25)], 0, 30);
    expect(s.currencies[0]!.total).toBe('0.00');
    expect(s.outOfTerms.map((o) => o.why)).toEqual(['after the pool revoked the grant']);
  });

  it('the shares always add up to the total, each within one minor unit of its exact share (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 12 }),
        fc.bigInt({ min: 0n, max: 10n ** 24n }),
        fc.constantFrom(0, 2, 3, 18),
        (ws, amount, minor) => {
          const weights = new Map(ws.map((w, i) => [`did:key:m${i}`, BigInt(w)]));
          if ([...weights.values()].every((w) => w === 0n)) return;
          const quotas = splitExact(amount, weights);
          const unit = 10n ** BigInt(18 - minor);
          const total = ((amount + unit / 2n) / unit) * unit;
          const out = apportion(total, quotas, minor);
          expect([...out.values()].reduce((a, b) => a + b, 0n)).toBe(total);
          for (const [k, v] of out) {
            const q = quotas.get(k)!;
            // |v - q| < 1 unit + (rounding of the total spread): v is floor(q) or floor(q) + 1 unit.
            expect(v * q.d >= (q.n / q.d / unit) * unit * q.d).toBe(true);
            expect(v * q.d <= q.n + unit * q.d).toBe(true);
          }
        },
      ),
    );
  });

  it('statements over random uses: every currency total is the rounded exact sum, and its shares add up to it (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ m: fc.constantFrom(A, B, C), day: fc.integer({ min: 0, max: 29 }), n: fc.integer({ min: 1, max: 50 }) }), { maxLength: 30 }),
        fc.constantFrom('0.01', '0.005', '1', '0.333333'),
        fc.option(fc.integer({ min: 1, max: 29 }), { nil: undefined }),
        (uses, amount, leaveDay) => {
          const s = run(
            [grant({ compensation: { amount, currency: 'EUR', per: 'use' }, ...(leaveDay !== undefined ? { withdrawnAt: { [B]: at(leaveDay) } } : {}) })],
            uses.map((u) => use(u.m, u.day, u.n)),
          );
          for (const c of s.currencies) {
            const sum = c.shares.reduce((a, x) => a + parseDecimal(x.amount), 0n);
            expect(sum).toBe(parseDecimal(c.total));
            const exact = parseDecimal(c.exact);
            expect(parseDecimal(c.total) - exact <= 5n * 10n ** 15n && exact - parseDecimal(c.total) < 5n * 10n ** 15n).toBe(true);
          }
        },
      ),
    );
  });
});

describe('payouts from signed usage reports (a pool on loopback)', () => {
  let w: PoolWorld;
  beforeAll(async () => {
    w = await openPoolWorld();
  });
  afterAll(async () => {
    await w.close();
  });

  it('the platform reports its uses; the pool signs what each member is owed', async () => {
    const g = await w.grant({ terms: { purpose: ['model-training'], compensation: { amount: '0.10', currency: 'EUR', per: 'use' } } });
    const [a, b, c] = w.members.map((m) => m.did) as [string, string, string];
    const now = Date.now();
    const report = await issueUsageReport(w.platform, {
      pool: w.pool.did,
      grant: g.id,
      uses: [
        { member: a, time: new Date(now + 1000).toISOString(), count: 2 },
        { member: b, time: new Date(now + 2000).toISOString() },
      ],
    });
    // A report signed by someone else, and the same report twice: ignored.
    const stranger = await issueUsageReport(w.members[2]!, { pool: w.pool.did, grant: g.id, uses: [{ member: c, time: new Date(now + 1000).toISOString(), count: 100 }] });
    const out = await poolPayouts(w.home.store, w.pool, { resolver: w.resolver, period: 'P1D', until: new Date(now + 60_000), reports: [report.jwt, stranger.jwt, report.jwt] });
    expect(out.statement.currencies).toEqual([{ currency: 'EUR', total: '0.30', exact: '0.3', shares: expect.any(Array) }]);
    expect(out.statement.currencies[0]!.shares.map((s) => s.amount)).toEqual(['0.10', '0.10', '0.10']);
    expect(out.statement.ignored.map((i) => i.code)).toEqual(['UNTRUSTED_ISSUER', 'RECEIPT_REUSED']);
    const d = decodeJwt(out.jwt);
    expect(d.header.typ).toBe('charter-payout+jwt');
    expect(await checkJwtSignature(d, w.pool.did, w.resolver, 'assertionMethod')).toEqual([]);
    expect(d.payload.statement).toEqual(out.statement);

    // After c withdraws, its later reported use is listed as out of terms and earns nothing.
    const held = await membershipOf(w.home.store, w.pool.did, c);
    await leavePool(w.home.store, w.pool, {
      notice: await signLeave(w.members[2]!, w.pool.did, acceptedStatus((held!.subject.membership as { accepted: string }).accepted)),
      resolver: w.resolver,
    });
    const late = await issueUsageReport(w.platform, { pool: w.pool.did, grant: g.id, uses: [{ member: c, time: new Date(Date.now() + 3000).toISOString() }] });
    const after = await poolPayouts(w.home.store, w.pool, { resolver: w.resolver, period: 'P1D', until: new Date(now + 60_000), reports: [report.jwt, late.jwt] });
    expect(after.statement.outOfTerms).toEqual([expect.objectContaining({ member: c, why: 'the member had withdrawn' })]);
    expect(after.statement.currencies[0]!.total).toBe('0.30');
  });

  it('a report breaking the usage schema is ignored whether or not it names the schema: a count of -10 cannot cancel uses, 0.5 cannot break the statement', async () => {
    const g = await w.grant({ terms: { purpose: ['model-training'], compensation: { amount: '1.00', currency: 'EUR', per: 'use' } } });
    const a = w.members[0]!.did;
    const now = Date.now();
    const time = new Date(now + 1000).toISOString();
    const honest = await issueUsageReport(w.platform, { pool: w.pool.did, grant: g.id, uses: [{ member: a, time, count: 10 }] });
    // Signed by hand: issueCredential itself refuses a report its schema refuses.
    const forged = (use: Record<string, unknown>) =>
      signJwt(
        { typ: 'vc+jwt' },
        {
          '@context': ['https://www.w3.org/ns/credentials/v2'],
          id: `urn:uuid:${randomUUID()}`,
          type: ['VerifiableCredential', 'PoolUsageReport'],
          issuer: w.platform.did,
          validFrom: new Date(now + 2000).toISOString(),
          credentialSubject: { id: w.pool.did, usage: { grant: g.id, uses: [{ member: a, time, ...use }] } },
        },
        w.platform.signer,
        w.platform.kid,
      );
    const bad = [{ count: -10 }, { count: 0 }, { count: 0.5 }, { count: '3' }, { count: 1e7 }, { count: null }, { member: 'alice' }, { time: 'yesterday' }, { extra: true }];
    const out = await poolPayouts(w.home.store, w.pool, {
      resolver: w.resolver,
      period: 'P1D',
      until: new Date(now + 60_000),
      reports: [honest.jwt, ...(await Promise.all(bad.map(forged)))],
    });
    expect(out.statement.currencies[0]!.total).toBe('10.00');
    expect(out.statement.ignored.map((i) => i.code)).toEqual(bad.map(() => 'SCHEMA_INVALID'));
  });
});
