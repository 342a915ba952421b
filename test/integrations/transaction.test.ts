import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentPresentation, reserveSpend, verifyAgent, orderChain } from '../../src/agents/index.js';
import { createPresentation, decodeCredential } from '../../src/credentials/index.js';
import { authorizeTransaction, guardTransaction } from '../../src/guard/transaction.js';
import { API, openWorld, type World } from '../http/world.js';

/** guardTransaction: the framework-free KYA guard (verify, reserve, run, commit or release). */
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => w.close());

const present = async (chain: string[], claims: Record<string, unknown> = {}) =>
  createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain(chain)], aud: API, claims });
const trust = () => ({ principals: [w.principal.did] });

describe('guardTransaction', () => {
  it('allowed: runs fn with the decision and commits; the remaining budget shrinks', async () => {
    const mandate = await w.mandate();
    const verifier = w.verifier();
    const r = await guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '30 USD', trust: trust() }, (d) => `charged ${d.agent}`);
    expect(r).toMatchObject({ ok: true, value: `charged ${w.agent.did}`, spend: 'committed' });
    const r2 = await guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '10 USD', trust: trust() }, (d) => d.amount);
    expect(r2).toMatchObject({ ok: true, value: { amount: '10', currency: 'USD' }, spend: 'committed' });
    const left = await authorizeTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '1 USD', trust: trust() });
    expect(left.spend?.remaining.budget).toEqual({ amount: '59', currency: 'USD' });
    await left.spend!.release();
  });

  it('fn throws: the spend is released and the error rethrown', async () => {
    const mandate = await w.mandate();
    const verifier = w.verifier();
    const boom = new Error('card declined');
    await expect(
      guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '50 USD', trust: trust() }, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    // Released: two further 50 USD purchases still fit the 100 USD budget.
    for (let i = 0; i < 2; i++) {
      expect((await guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '50 USD', trust: trust() }, () => 'ok')).ok).toBe(true);
    }
    const over = await guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '1 USD', trust: trust() }, () => 'ok');
    expect(over).toMatchObject({ ok: false, status: 403, reasons: [{ code: 'BUDGET_EXCEEDED' }] });
  });

  it('succeeded(value) false releases the spend but still returns the value', async () => {
    const mandate = await w.mandate();
    const verifier = w.verifier();
    const r = await guardTransaction(
      await present([mandate]),
      { verifier, action: 'purchase', amount: '50 USD', trust: trust(), succeeded: (v: { status: number }) => v.status < 400 },
      () => ({ status: 502 }),
    );
    expect(r).toMatchObject({ ok: true, spend: 'released', value: { status: 502 } });
    for (let i = 0; i < 2; i++) {
      const again = await guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '50 USD', trust: trust() }, () => 'ok');
      expect(again).toMatchObject({ ok: true, spend: 'committed' });
    }
  });

  it('a refusal never runs fn: wrong action, untrusted principal, malformed amount, malformed JWT', async () => {
    const mandate = await w.mandate();
    const verifier = w.verifier();
    let runs = 0;
    const fn = () => void runs++;
    expect(await guardTransaction(await present([mandate]), { verifier, action: 'refund', amount: '1 USD', trust: trust() }, fn)).toMatchObject({
      ok: false,
      status: 403,
      reasons: [{ code: 'ACTION_NOT_ALLOWED' }],
    });
    const untrusted = await guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '1 USD', trust: { principals: [w.alice.did] } }, fn);
    expect(untrusted).toMatchObject({ ok: false, status: 403 });
    expect(untrusted.ok ? [] : untrusted.reasons.map((r) => r.code)).toContain('UNTRUSTED_PRINCIPAL');
    expect(await guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: 'lots', trust: trust() }, fn)).toMatchObject({
      ok: false,
      status: 400,
      reasons: [{ code: 'INVALID_ARGUMENT' }],
    });
    expect(await guardTransaction('not.a.jwt', { verifier, action: 'purchase', trust: trust() }, fn)).toMatchObject({
      ok: false,
      status: 401,
      reasons: [{ code: 'MALFORMED_JWT' }],
    });
    // A counterparty that is not a string (a remote party's body field, say): 400, never a TypeError.
    const limited = await w.mandate({ limits: { counterparties: ['did:web:shop.example'] } });
    for (const counterparty of [5, { id: 'did:web:shop.example' }, ['did:web:shop.example'], true, 'x'.repeat(3000)]) {
      const r = await guardTransaction(await present([limited]), { verifier, action: 'purchase', amount: '1 USD', counterparty: counterparty as string, trust: trust() }, fn);
      expect([counterparty, r]).toMatchObject([counterparty, { ok: false, status: 400, reasons: [{ code: 'INVALID_ARGUMENT' }] }]);
      await expect(
        verifyAgent(await present([limited]), {
          resolver: w.resolver,
          status: w.status,
          aud: API,
          allowMissingNonce: true,
          action: 'purchase',
          amount: '1 USD',
          counterparty: counterparty as string,
          trust: trust(),
        }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(runs).toBe(0);
  });

  it('a reputation threshold that cannot be meant (NaN, negative, above 1, a string; minAttesters not a whole number) is a TypeError, never a gate left open', async () => {
    const mandate = await w.mandate();
    const verifier = w.verifier();
    const reputation = async () => ({ score: 0.01, attesters: 1 });
    for (const bad of [
      { minReputation: Number.NaN },
      { minReputation: -1 },
      { minReputation: 1.5 },
      { minReputation: '0.8' },
      { minAttesters: -1 },
      { minAttesters: 1.5 },
      { minAttesters: Number.NaN },
    ]) {
      const t = { ...trust(), ...bad } as ReturnType<typeof trust>;
      await expect(guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '1 USD', trust: t, reputation }, () => 'ran')).rejects.toThrow(TypeError);
      await expect(
        verifyAgent(await present([mandate]), {
          resolver: w.resolver,
          status: w.status,
          aud: API,
          allowMissingNonce: true,
          action: 'purchase',
          amount: '1 USD',
          trust: t,
          reputation,
        }),
      ).rejects.toThrow(TypeError);
    }
    // A threshold that can be meant still refuses the low score.
    expect(
      await guardTransaction(
        await present([mandate]),
        { verifier, action: 'purchase', amount: '1 USD', trust: { ...trust(), minReputation: 0.8, identityIssuers: [w.operator.did] }, reputation },
        () => 'ran',
      ),
    ).toMatchObject({
      ok: false,
      reasons: [{ code: 'REPUTATION_TOO_LOW' }],
    });
  });

  it('a presentation is used once, also across two instances sharing the store; binding claims must match', async () => {
    const mandate = await w.mandate();
    const [a, b] = [w.verifier(), w.verifier()];
    const vp = await present([mandate], { order: 'o-1' });
    const req = { action: 'purchase', amount: '5 USD', trust: trust(), binding: { order: 'o-1' } };
    expect((await guardTransaction(vp, { ...req, verifier: a }, () => 'ok')).ok).toBe(true);
    expect(await guardTransaction(vp, { ...req, verifier: b }, () => 'ok')).toMatchObject({ ok: false, status: 401, reasons: [{ code: 'REPLAY_DETECTED' }] });
    expect(await guardTransaction(await present([mandate], { order: 'o-1' }), { ...req, verifier: a, binding: { order: 'o-2' } }, () => 'ok')).toMatchObject({
      ok: false,
      status: 401,
      reasons: [{ code: 'REQUEST_MISMATCH' }],
    });
  });

  it('concurrent transactions never spend past the budget', async () => {
    const mandate = await w.mandate();
    const verifier = w.verifier();
    const vps = await Promise.all(Array.from({ length: 8 }, () => present([mandate])));
    const results = await Promise.all(vps.map((vp) => guardTransaction(vp, { verifier, action: 'purchase', amount: '30 USD', trust: trust() }, () => 'ok')));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.reasons[0]!.code === 'BUDGET_EXCEEDED')).toBe(true);
    // The agent presentation helper's output works as is (nonce-less presentations carry iat and jti).
    const viaHelper = await createAgentPresentation({ agent: w.agent, identity: w.agentIdentity, chain: [mandate], aud: API, nonce: 'n' });
    expect(await guardTransaction(viaHelper, { verifier, action: 'purchase', amount: '10 USD', trust: trust() }, () => 'ok')).toMatchObject({ ok: true });
    expect(decodeCredential(mandate).id).toBeDefined();
  });

  it('a store fault is a 503 refusal (the documented one), and fn never runs', async () => {
    const mandate = await w.mandate();
    const verifier = w.verifier();
    let runs = 0;
    w.storeDown(true);
    try {
      const r = await guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '5 USD', trust: trust() }, () => void runs++);
      expect(r).toMatchObject({ ok: false, status: 503, reasons: [{ code: 'STORE_UNAVAILABLE' }] });
    } finally {
      w.storeDown(false);
    }
    expect(runs).toBe(0);
  });

  it('a presentation bound to an HTTP request or an MCP call is refused without that binding', async () => {
    const mandate = await w.mandate();
    const verifier = w.verifier();
    for (const claims of [{ htm: 'POST', htu: 'https://shop.example/orders' }, { mcp: { tool: 'purchase', args: 'sha256-x' } }]) {
      expect(await guardTransaction(await present([mandate], claims), { verifier, action: 'purchase', amount: '45 USD', trust: trust() }, () => 'ok')).toMatchObject({
        ok: false,
        status: 401,
        reasons: [{ code: 'REQUEST_MISMATCH' }],
      });
    }
  });

  it('succeeded() throwing releases the spend; a store failing while settling returns the value with the spend held', async () => {
    const mandate = await w.mandate();
    const verifier = w.verifier();
    const bad = guardTransaction(
      await present([mandate]),
      {
        verifier,
        action: 'purchase',
        amount: '50 USD',
        trust: trust(),
        succeeded: () => {
          throw new Error('bad check');
        },
      },
      () => 'ran',
    );
    await expect(bad).rejects.toThrow('bad check');
    const held = await guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '50 USD', trust: trust() }, () => {
      w.storeDown(true); // the database goes away while the payment runs
      return 'paid';
    });
    w.storeDown(false);
    expect(held).toMatchObject({ ok: true, value: 'paid', spend: 'held', settleError: { code: 'STORE_UNAVAILABLE' } });
    // The released 50 no longer counts; the held 50 still does: exactly one more 50 fits.
    expect((await guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '50 USD', trust: trust() }, () => 'ok')).ok).toBe(true);
    expect(await guardTransaction(await present([mandate]), { verifier, action: 'purchase', amount: '1 USD', trust: trust() }, () => 'ok')).toMatchObject({
      ok: false,
      reasons: [{ code: 'BUDGET_EXCEEDED' }],
    });
  });

  it('a commit the store failed settled nothing: the spend can still be released (or committed) once the store is back', async () => {
    const mandate = await w.mandate(); // 50 USD per transaction, 100 USD in all
    const verifier = w.verifier();
    const req = { verifier, action: 'purchase', amount: '50 USD', trust: trust() };
    const d = await authorizeTransaction(await present([mandate]), req);
    w.storeDown(true);
    await expect(d.spend!.commit()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    w.storeDown(false);
    expect(d.spend!.state).toBe('reserved');
    // Not "already committed": the failed commit recorded nothing, so the caller may still give the budget back.
    await d.spend!.release();
    expect(d.spend!.state).toBe('released');
    // Both 50 USD fit again: the release returned the reservation.
    for (let i = 0; i < 2; i++) expect((await guardTransaction(await present([mandate]), req, () => 'ok')).ok).toBe(true);
    // And the other way: a failed release, then a commit that lands and counts.
    const e = await authorizeTransaction(await present([await w.mandate()]), req);
    w.storeDown(true);
    await expect(e.spend!.release()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    w.storeDown(false);
    await e.spend!.commit();
    expect(e.spend!.state).toBe('committed');
  });

  it('copies of one presentation never hold budget: one wins, the rest are replays, a fresh request still fits', async () => {
    const mandate = await w.mandate(); // 50 USD per transaction, 100 USD in all
    const verifier = w.verifier();
    const vp = await present([mandate]);
    const req = { verifier, action: 'purchase', amount: '50 USD', trust: trust() };
    const results = await Promise.all([
      ...Array.from({ length: 6 }, () => guardTransaction(vp, req, () => 'copy')),
      guardTransaction(await present([mandate]), req, () => 'fresh'),
    ]);
    expect(
      results
        .filter((r) => r.ok)
        .map((r) => r.ok && r.value)
        .sort(),
    ).toEqual(['copy', 'fresh']);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reasons[0]!.code)).toEqual(Array(5).fill('REPLAY_DETECTED'));
  });

  it('reserveSpend (the one way spend is reserved) charges the decided amount on every link, and refuses past the budget or a reused id', async () => {
    const mandate = await w.mandate();
    const decide = async (amount: string) =>
      verifyAgent(await present([mandate]), {
        resolver: w.resolver,
        status: w.status,
        aud: API,
        allowMissingNonce: true,
        action: 'purchase',
        amount,
        counterparty: API,
        trust: trust(),
      });
    const d = await decide('40 USD');
    expect(d.cumulativeLimits).toBe(true); // a pure decision: nothing reserved yet
    const a = await reserveSpend(w.apiStore, d, { reservationId: 'fixed-id' });
    expect(a).toMatchObject({ ok: true, reservationId: 'fixed-id', remaining: { budget: { amount: '60', currency: 'USD' } } });
    expect(await reserveSpend(w.apiStore, d, { reservationId: 'fixed-id' })).toMatchObject({ ok: false, reasons: [{ code: 'REPLAY_DETECTED' }] });
    await reserveSpend(w.apiStore, await decide('40 USD'));
    const over = await reserveSpend(w.apiStore, await decide('30 USD'));
    expect(over).toMatchObject({ ok: false, reasons: [{ code: 'BUDGET_EXCEEDED', ref: decodeCredential(mandate).id }] });
    await expect(reserveSpend(w.apiStore, { ...d, ok: false })).rejects.toThrow(TypeError);
  });

  it('misuse is a TypeError', async () => {
    const verifier = w.verifier();
    // (A presentation that is no string is no presentation, a 401: below.)
    await expect(guardTransaction('a.b.c', { verifier, action: '', trust: trust() }, () => 1)).rejects.toThrow(TypeError);
    await expect(guardTransaction('a.b.c', { action: 'x', trust: trust() } as never, () => 1)).rejects.toThrow(TypeError);
  });
});

describe('guardTransaction and authorizeTransaction take any presentation a queue message may hold', () => {
  it.each([
    ['null', null],
    ['a number', 42],
    ['an object', { jwt: 'x' }],
    ['an array', ['a.b.c']],
    ['true', true],
  ])('%s: a 401 INVALID_PRESENTATION with a signed receipt; fn never runs', async (_, presentation) => {
    const signer = await w.home.issuer('alice');
    const verifier = w.verifier({ receipts: { signer } });
    let ran = false;
    const r = await guardTransaction(presentation as never, { verifier, action: 'purchase', amount: '1 USD', trust: trust() }, () => {
      ran = true;
    });
    expect(ran).toBe(false);
    expect(r).toMatchObject({ ok: false, status: 401, reasons: [{ code: 'INVALID_PRESENTATION' }] });
    expect(typeof (r as { receipt?: string }).receipt).toBe('string');
    const d = await authorizeTransaction(presentation as never, { verifier, action: 'purchase', amount: '1 USD', trust: trust() });
    expect(d).toMatchObject({ ok: false, status: 401 });
  });

  it('a binding that is no object of claims, or a now that is no valid Date, is a TypeError naming the option', async () => {
    const verifier = w.verifier();
    const vp = await present([await w.mandate()]);
    const base = { verifier, action: 'purchase', amount: '1 USD', trust: trust() };
    for (const binding of [null, 'GET /x', ['htm'], 42]) {
      await expect(authorizeTransaction(vp, { ...base, binding: binding as never })).rejects.toThrow(/request\.binding/);
      await expect(guardTransaction(vp, { ...base, binding: binding as never }, () => 1)).rejects.toThrow(/request\.binding/);
    }
    for (const now of ['2026-01-01', 1_700_000_000_000, new Date(NaN), {}]) {
      await expect(authorizeTransaction(vp, { ...base, now: now as never })).rejects.toThrow(/request\.now/);
    }
  });
});
