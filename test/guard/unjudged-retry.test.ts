import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderChain } from '../../src/agents/index.js';
import { createPresentation } from '../../src/credentials/index.js';
import type { StatusChecker } from '../../src/credentials/types.js';
import { decide } from '../../src/guard/decide.js';
import type { Policy } from '../../src/guard/policy.js';
import type { Binding } from '../../src/guard/binding.js';
import type { SdJwtStatusChecker } from '../../src/sdjwt/types.js';
import { signatureGuardOptions } from '../../src/httpsig/guard.js';
import { CharterError } from '../../src/errors.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { codes, sdGrant, sdPresent, signed, tokenStatusOf } from './seams-fixtures.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import type { Store } from '../../src/store/types.js';
import { dropSchemas, freshSchema, pgUrlOrReport } from '../store/fixtures/pg-env.js';

/**
 * A decision that judged nothing (a status list or an issuer's DID out of
 * reach: 503 with Retry-After) leaves no trace: the proof it was sent with,
 * its challenge nonce and its request signature's nonce are not used up, and
 * no spend is reserved, so the same request sent again once the list is back
 * is decided on its merits, once. A proof refused on its merits (403) is
 * still used up (the holder signed it; consuming it is deliberate).
 */
const SITE = 'http://127.0.0.1:9999';
const EMAIL = `${SITE}/profile/email`;
const ORDERS = `${SITE}/orders`;
const http = (url: string, method = 'GET'): Binding => ({ kind: 'http', method, url });
const grantPolicy = (w: World): Policy => ({ kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did });

let w: World;
let down = false;
let calls = 0;
/** The world's status checker, or a list out of reach (how each checker reports it: a thrown STATUS_UNAVAILABLE). */
let status: StatusChecker;
let tokenStatus: SdJwtStatusChecker;
const unreachable = () => Promise.reject(new CharterError('STATUS_UNAVAILABLE', 'the status list cannot be retrieved: connection refused'));

beforeAll(async () => {
  w = await openWorld();
  const real = tokenStatusOf(w);
  status = (c, ctx) => (calls++, down ? unreachable() : w.status(c, ctx));
  tokenStatus = (s, ctx) => (calls++, down ? unreachable() : real(s, ctx));
}, 60_000);
afterAll(async () => {
  await w?.close();
});

/** Decides once with the lists out of reach, then once with them back, on one verifier. */
async function outageThenBack(verifier: ReturnType<World['verifier']>, proof: () => unknown, policy: Policy, binding: () => Binding, met = true) {
  down = true;
  calls = 0;
  let first;
  try {
    first = await decide(verifier, proof(), policy, binding());
  } finally {
    down = false;
  }
  // The outage was met (not a refusal before any list was asked).
  if (met) expect(calls).toBeGreaterThan(0);
  const second = await decide(verifier, proof(), policy, binding());
  const third = await decide(verifier, proof(), policy, binding());
  return { first, second, third };
}

describe('a 503 judged nothing: the same proof sent again once the list is back is decided on its merits', () => {
  it('vp+jwt grant, iat mode: 503 STATUS_UNAVAILABLE, then 200, then REPLAY_DETECTED (the proof is used once, by the decision that judged it)', async () => {
    const v = w.verifier({ status });
    const grant = await w.grant();
    const vp = await bound(w.app, [grant.jwt], { url: EMAIL });
    const { first, second, third } = await outageThenBack(
      v,
      () => vp,
      grantPolicy(w),
      () => http(EMAIL),
    );
    expect([first.status, codes(first)]).toEqual([503, ['STATUS_UNAVAILABLE']]);
    expect([second.status, codes(second)]).toEqual([200, []]);
    expect([third.status, codes(third)]).toEqual([401, ['REPLAY_DETECTED']]);
  });

  it('vp+jwt grant, challenge mode: the issued nonce is still good after the 503, and only once', async () => {
    const v = w.verifier({ status, nonces: 'challenge' });
    const grant = await w.grant();
    const { nonce } = await v.issueNonce();
    const vp = await bound(w.app, [grant.jwt], { url: EMAIL, nonce });
    const { first, second, third } = await outageThenBack(
      v,
      () => vp,
      grantPolicy(w),
      () => http(EMAIL),
    );
    expect([first.status, codes(first)]).toEqual([503, ['STATUS_UNAVAILABLE']]);
    expect([second.status, codes(second)]).toEqual([200, []]);
    expect([third.status, codes(third)]).toEqual([401, ['REPLAY_DETECTED']]);
  });

  it('SD-JWT grant: its KB-JWT nonce is not used up by the 503', async () => {
    const v = w.verifier({ tokenStatus });
    const g = await sdGrant(w);
    const p = await sdPresent(g.token, { url: EMAIL, holder: w.app });
    const { first, second, third } = await outageThenBack(
      v,
      () => p,
      grantPolicy(w),
      () => http(EMAIL),
    );
    expect([first.status, codes(first)]).toEqual([503, ['STATUS_UNAVAILABLE']]);
    expect([second.status, codes(second)]).toEqual([200, []]);
    expect([third.status, codes(third)]).toEqual([401, ['REPLAY_DETECTED']]);
  });

  it("the request signature's nonce is not used up either: the same signed request is allowed once the list is back", async () => {
    const options = signatureGuardOptions({ keys: { keys: [w.app.publicJwk] }, store: 'caller' });
    const v = w.verifier({ status });
    const grant = await w.grant();
    const vp = await bound(w.app, [grant.jwt], { url: EMAIL });
    const headers = await signed(w.app, EMAIL);
    const binding = (): Binding => ({
      kind: 'http',
      method: 'GET',
      url: EMAIL,
      signature: { options, header: (n) => headers[n], body: async () => new Uint8Array() },
    });
    const { first, second, third } = await outageThenBack(v, () => vp, grantPolicy(w), binding);
    expect([first.status, codes(first)]).toEqual([503, ['STATUS_UNAVAILABLE']]);
    expect([second.status, codes(second), second.signature?.ok]).toEqual([200, [], true]);
    expect([third.status, codes(third)]).toEqual([401, ['REPLAY_DETECTED']]);
  });

  it('agent call with a budget: the 503 reserves nothing and uses nothing up; the retry reserves the amount once', async () => {
    const v = w.verifier({ status, http: false });
    const mandate = await w.mandate({
      limits: { perTransaction: { amount: '50', currency: 'USD' }, budget: { amount: '60', currency: 'USD', period: 'P30D' }, counterparties: [API] },
    });
    const vp = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API, claims: { htm: 'POST', htu: ORDERS } });
    const policy: Policy = { kind: 'agent', action: 'purchase', amount: '40 USD', trust: { principals: [w.principal.did] } };
    const { first, second, third } = await outageThenBack(
      v,
      () => vp,
      policy,
      () => http(ORDERS, 'POST'),
    );
    expect([first.status, codes(first), first.spend]).toEqual([503, ['STATUS_UNAVAILABLE'], undefined]);
    expect([second.status, codes(second)]).toEqual([200, []]);
    expect(second.spend).toBeDefined();
    expect([third.status, codes(third), third.spend]).toEqual([401, ['REPLAY_DETECTED'], undefined]);
    // 40 of 60 held by the one allowed call: a second, fresh 40 is over budget (the 503 held nothing, the retry held once).
    const fresh = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API, claims: { htm: 'POST', htu: ORDERS } });
    const over = await decide(v, fresh, policy, http(ORDERS, 'POST'));
    expect([over.status, codes(over)]).toEqual([403, ['BUDGET_EXCEEDED']]);
    await second.spend!.release();
    const after = await decide(
      v,
      await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API, claims: { htm: 'POST', htu: ORDERS } }),
      policy,
      http(ORDERS, 'POST'),
    );
    expect([after.status, codes(after)]).toEqual([200, []]);
    await after.spend!.release();
  });

  it('a proof refused on its merits (403, out of scope) while the lists are out of reach is still used up: the holder signed it', async () => {
    const v = w.verifier({ status });
    const grant = await w.grant({ resources: ['photos/*'] });
    const vp = await bound(w.app, [grant.jwt], { url: EMAIL });
    const { first, second } = await outageThenBack(
      v,
      () => vp,
      grantPolicy(w),
      () => http(EMAIL),
      false,
    );
    expect(first.status).toBe(403);
    expect(codes(first)).toContain('GRANT_SCOPE');
    expect([second.status, codes(second)]).toEqual([401, ['REPLAY_DETECTED']]);
  });
});

describe('races: the same proof sent at once during the outage and after it', () => {
  it('eight copies while the list is out of reach are all 503; eight copies once it is back: exactly one allowed, seven REPLAY_DETECTED', async () => {
    const v = w.verifier({ status });
    const grant = await w.grant();
    const vp = await bound(w.app, [grant.jwt], { url: EMAIL });
    down = true;
    let during;
    try {
      during = await Promise.all(Array.from({ length: 8 }, () => decide(v, vp, grantPolicy(w), http(EMAIL))));
    } finally {
      down = false;
    }
    expect(during.map((d) => d.status)).toEqual(Array(8).fill(503));
    const after = await Promise.all(Array.from({ length: 8 }, () => decide(v, vp, grantPolicy(w), http(EMAIL))));
    expect(after.map((d) => codes(d).join()).sort()).toEqual(['', ...Array(7).fill('REPLAY_DETECTED')]);
  });

  it('with receipts: the 503 is not logged; the retry that is allowed is, once', async () => {
    const v = w.verifier({ status, receipts: { signer: w.operator } });
    const grant = await w.grant();
    const vp = await bound(w.app, [grant.jwt], { url: EMAIL });
    const { first, second, third } = await outageThenBack(
      v,
      () => vp,
      grantPolicy(w),
      () => http(EMAIL),
    );
    expect([first.status, first.receipt]).toEqual([503, undefined]);
    expect([second.status, typeof second.receipt]).toEqual([200, 'string']);
    expect([third.status, codes(third), typeof third.receipt]).toEqual([401, ['REPLAY_DETECTED'], 'string']);
  });
});

const pgUrl = pgUrlOrReport('a 503 uses nothing up, on postgres');
describe.runIf(pgUrl)('on PostgreSQL: two verifier instances sharing one store', () => {
  const schemas = new Set<string>();
  const stores: Store[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    await dropSchemas(pgUrl!, schemas);
  });

  it('a 503 on one instance uses nothing up; the retry on the other is allowed once, and its spend held once', async () => {
    const schema = freshSchema('unjudged');
    schemas.add(schema);
    const [a, b] = await Promise.all([openPostgresStore(pgUrl!, { schema }), openPostgresStore(pgUrl!, { schema })]);
    stores.push(a!, b!);
    const va = w.verifier({ status, store: a, http: false });
    const vb = w.verifier({ status, store: b, http: false });
    const grant = await w.grant();
    const vp = await bound(w.app, [grant.jwt], { url: EMAIL });
    down = true;
    let first;
    try {
      first = await decide(va, vp, grantPolicy(w), http(EMAIL));
    } finally {
      down = false;
    }
    expect([first.status, codes(first)]).toEqual([503, ['STATUS_UNAVAILABLE']]);
    expect([(await decide(vb, vp, grantPolicy(w), http(EMAIL))).status, codes(await decide(va, vp, grantPolicy(w), http(EMAIL)))]).toEqual([200, ['REPLAY_DETECTED']]);

    const mandate = await w.mandate({
      limits: { perTransaction: { amount: '50', currency: 'USD' }, budget: { amount: '60', currency: 'USD', period: 'P30D' }, counterparties: [API] },
    });
    const order = () => createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API, claims: { htm: 'POST', htu: ORDERS } });
    const policy: Policy = { kind: 'agent', action: 'purchase', amount: '40 USD', trust: { principals: [w.principal.did] } };
    const ovp = await order();
    down = true;
    try {
      expect((await decide(va, ovp, policy, http(ORDERS, 'POST'))).status).toBe(503);
    } finally {
      down = false;
    }
    expect(await a!.listReservations({})).toEqual([]);
    const allowed = await decide(vb, ovp, policy, http(ORDERS, 'POST'));
    expect([allowed.status, codes(allowed)]).toEqual([200, []]);
    expect((await a!.listReservations({})).map((r) => r.state)).toEqual(['reserved']);
    expect(codes(await decide(va, await order(), policy, http(ORDERS, 'POST')))).toEqual(['BUDGET_EXCEEDED']);
    await allowed.spend!.release();
  });
});
