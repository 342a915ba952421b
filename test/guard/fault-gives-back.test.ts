import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderChain } from '../../src/agents/index.js';
import { createPresentation } from '../../src/credentials/index.js';
import { decide } from '../../src/guard/decide.js';
import type { Binding } from '../../src/guard/binding.js';
import type { Policy } from '../../src/guard/policy.js';
import type { SignatureBinding } from '../../src/guard/signature.js';
import { signatureGuardOptions } from '../../src/httpsig/guard.js';
import { CharterError } from '../../src/errors.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import type { Store } from '../../src/store/types.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { dropSchemas, freshSchema, pgUrlOrReport } from '../store/fixtures/pg-env.js';
import { codes, signed } from './seams-fixtures.js';

/**
 * A store fault after the pipeline used up a proof's keys (its second key, the signature's
 * nonce, the spend reservation) makes no decision (503): what the decision used up is given
 * back, so the same request sent again once the store answers is decided, once. Without
 * releaseNonce (a store of the caller's own), the proof stays used: a refusal, never an allow.
 */
const SITE = 'http://127.0.0.1:9999';
const EMAIL = `${SITE}/profile/email`;
const ORDERS = `${SITE}/orders`;
const http = (url: string, method = 'GET', signature?: SignatureBinding): Binding => ({
  kind: 'http',
  method,
  url,
  ...(signature ? { signature } : {}),
});
const grantPolicy = (w: World): Policy => ({ kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did });
const purchase = (w: World): Policy => ({ kind: 'agent', action: 'purchase', amount: '40 USD', trust: { principals: [w.principal.did] } });
const fault = () => Promise.reject(new CharterError('STORE_UNAVAILABLE', 'the store is unreachable: try again'));

let w: World;
beforeAll(async () => {
  w = await openWorld();
}, 60_000);
afterAll(async () => {
  await w?.close();
});

/** `base` whose consumeNonce fails on the calls numbered in `failing` (1-based, counted from now), and whose reserve fails while `reserveDown`. */
function faulty(base: Store, o: { failing?: number[]; reserveDown?: boolean; release?: boolean } = {}) {
  let n = 0;
  const state = { reserveDown: o.reserveDown ?? false, failing: new Set(o.failing ?? []) };
  const store: Store = {
    ...base,
    consumeNonce: (...a) => (state.failing.has(++n) ? fault() : base.consumeNonce(...a)),
    reserve: (...a) => (state.reserveDown ? fault() : base.reserve(...a)),
  };
  if (o.release === false) delete (store as { releaseNonce?: unknown }).releaseNonce;
  return { store, state, heal: () => ((state.reserveDown = false), state.failing.clear()) };
}

async function budgetMandate(w: World) {
  return w.mandate({ limits: { perTransaction: { amount: '50', currency: 'USD' }, budget: { amount: '60', currency: 'USD', period: 'P30D' }, counterparties: [API] } });
}
const order = (w: World, mandate: string) =>
  createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API, claims: { htm: 'POST', htu: ORDERS } });

function suite(name: string, storeOf: () => Store) {
  describe(`${name}: a store fault after the proof was used up gives it back`, () => {
    it('the reservation fails: 503, no reservation; the same presentation once the store answers is allowed and holds its spend once', async () => {
      const f = faulty(storeOf(), { reserveDown: true });
      const v = w.verifier({ store: f.store, http: false });
      const mandate = await budgetMandate(w);
      const vp = await order(w, mandate);
      const first = await decide(v, vp, purchase(w), http(ORDERS, 'POST'));
      expect([first.status, codes(first), first.spend]).toEqual([503, ['STORE_UNAVAILABLE'], undefined]);
      f.heal();
      const second = await decide(v, vp, purchase(w), http(ORDERS, 'POST'));
      expect([second.status, codes(second)]).toEqual([200, []]);
      const third = await decide(v, vp, purchase(w), http(ORDERS, 'POST'));
      expect([third.status, codes(third)]).toEqual([401, ['REPLAY_DETECTED']]);
      // One hold of 40 on a budget of 60: another 40 is over it.
      expect(codes(await decide(v, await order(w, mandate), purchase(w), http(ORDERS, 'POST')))).toEqual(['BUDGET_EXCEEDED']);
      await second.spend!.release();
    });

    it("the request signature's nonce cannot be stored after the presentation's jti was: 503; the same signed request is then allowed once", async () => {
      const f = faulty(storeOf(), { failing: [2] });
      const v = w.verifier({ store: f.store });
      const options = signatureGuardOptions({ keys: { keys: [w.app.publicJwk] }, store: 'caller' });
      const headers = await signed(w.app, EMAIL);
      const binding = () => http(EMAIL, 'GET', { options, header: (n: string) => headers[n], body: async () => new Uint8Array() });
      const vp = await bound(w.app, [(await w.grant()).jwt], { url: EMAIL });
      const first = await decide(v, vp, grantPolicy(w), binding());
      expect([first.status, codes(first)]).toEqual([503, ['STORE_UNAVAILABLE']]);
      const second = await decide(v, vp, grantPolicy(w), binding());
      expect([second.status, codes(second)]).toEqual([200, []]);
      expect(codes(await decide(v, vp, grantPolicy(w), binding()))).toEqual(['REPLAY_DETECTED']);
    });

    it('challenge mode: the nonce is marked used, then its issuance cannot be read: 503; it stays used (the read may have recorded it as issued), and the fresh nonce of the refusal is good, once', async () => {
      const f = faulty(storeOf());
      const v = w.verifier({ store: f.store, nonces: 'challenge' });
      const { nonce } = await v.issueNonce();
      const vp = await bound(w.app, [(await w.grant()).jwt], { url: EMAIL, nonce });
      // Calls: 1 issued the nonce; 2 marks it used; 3, reading its issuance, fails.
      f.state.failing.add(3);
      const first = await decide(v, vp, grantPolicy(w), http(EMAIL));
      expect([first.status, codes(first)]).toEqual([503, ['STORE_UNAVAILABLE']]);
      // give-back-issuance.test.ts: an issuance read whose outcome is unknown keeps the used slot.
      const second = await decide(v, vp, grantPolicy(w), http(EMAIL));
      expect([second.status, codes(second), typeof second.nonce]).toEqual([401, ['REPLAY_DETECTED'], 'string']);
      const again = await bound(w.app, [(await w.grant()).jwt], { url: EMAIL, nonce: second.nonce! });
      expect(codes(await decide(v, again, grantPolicy(w), http(EMAIL)))).toEqual([]);
      expect(codes(await decide(v, again, grantPolicy(w), http(EMAIL)))).toEqual(['REPLAY_DETECTED']);
    });

    it('a store without releaseNonce keeps the proof used: the retry is refused (REPLAY_DETECTED), never allowed twice', async () => {
      const f = faulty(storeOf(), { reserveDown: true, release: false });
      const v = w.verifier({ store: f.store, http: false });
      const vp = await order(w, await budgetMandate(w));
      expect((await decide(v, vp, purchase(w), http(ORDERS, 'POST'))).status).toBe(503);
      f.heal();
      expect(codes(await decide(v, vp, purchase(w), http(ORDERS, 'POST')))).toEqual(['REPLAY_DETECTED']);
    });

    it('a releaseNonce that throws at once, rejects, or answers no promise leaves the 503 a 503 (and the proof used)', async () => {
      for (const releaseNonce of [
        () => {
          throw new Error('boom');
        },
        () => Promise.reject(new CharterError('STORE_UNAVAILABLE', 'still down')),
        () => 'no promise',
      ]) {
        const f = faulty(storeOf(), { reserveDown: true });
        const v = w.verifier({ store: { ...f.store, releaseNonce } as unknown as Store, http: false });
        const vp = await order(w, await budgetMandate(w));
        const first = await decide(v, vp, purchase(w), http(ORDERS, 'POST'));
        expect([first.status, codes(first)]).toEqual([503, ['STORE_UNAVAILABLE']]);
        f.heal();
        expect(codes(await decide(v, vp, purchase(w), http(ORDERS, 'POST')))).toEqual(['REPLAY_DETECTED']);
      }
    });

    it('a refusal on the merits after the keys were used (over budget) keeps them used: only a fault gives back', async () => {
      const v = w.verifier({ store: storeOf(), http: false });
      const mandate = await budgetMandate(w);
      const held = await decide(v, await order(w, mandate), purchase(w), http(ORDERS, 'POST'));
      expect(held.status).toBe(200);
      const over = await order(w, mandate);
      expect(codes(await decide(v, over, purchase(w), http(ORDERS, 'POST')))).toEqual(['BUDGET_EXCEEDED']);
      await held.spend!.release();
      expect(codes(await decide(v, over, purchase(w), http(ORDERS, 'POST')))).toEqual(['REPLAY_DETECTED']);
    });
  });
}

suite('SQLite', () => w.apiStore);

const pgUrl = pgUrlOrReport('a store fault gives back what the decision used up, on postgres');
if (pgUrl) {
  const schemas = new Set<string>();
  let pg: Store;
  beforeAll(async () => {
    const schema = freshSchema('giveback');
    schemas.add(schema);
    pg = await openPostgresStore(pgUrl, { schema });
  });
  afterAll(async () => {
    await pg?.close();
    await dropSchemas(pgUrl, schemas);
  });
  suite('PostgreSQL', () => pg);
}
