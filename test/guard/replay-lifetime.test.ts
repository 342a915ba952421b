import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderChain } from '../../src/agents/index.js';
import { createPresentation, decodeJwt } from '../../src/credentials/index.js';
import { authorizeTransaction } from '../../src/guard/transaction.js';
import { toolBinding } from '../../src/integrations/mcp/binding.js';
import type { Store } from '../../src/store/types.js';
import type { VerifierOptions } from '../../src/guard/verifier.js';
import { API, openWorld, type World } from '../http/world.js';

/**
 * A used-once key (a presentation's jti, a challenge nonce) lives until no
 * verifier of the audience sharing the store could still find the proof
 * fresh, whatever the verifier that used it up is configured with: instances
 * of one API set apart (a rolling deploy changing maxAgeSeconds, a Veramo
 * agent beside a guardTransaction worker) must not take one proof twice.
 */
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => w.close());

const args = { item: 'book', price: 30, currency: 'USD' };
const binding = toolBinding('purchase', args);
const ask = (w: World) => ({ action: 'purchase', amount: '30 USD', trust: { principals: [w.principal.did] }, binding });

/** A verifier of the API on the shared store whose consumeNonce calls are recorded: (scope, expiresAt). */
function recorded(o: Partial<VerifierOptions>) {
  const keys: { scope: string; until: number }[] = [];
  const store: Store = {
    ...w.apiStore,
    consumeNonce: (scope, value, until) => {
      keys.push({ scope, until: until.getTime() });
      return w.apiStore.consumeNonce(scope, value, until);
    },
  };
  return { verifier: w.verifier({ http: false, store, ...o }), keys };
}

/** Each with a mandate of its own (its own budget). */
const presentation = async (claims: Record<string, unknown> = {}) =>
  createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([await w.mandate()])], aud: API, claims: { ...binding, ...claims } });

describe('replay keys outlive every verifier configuration of the audience', () => {
  it('a proof used by a strict verifier (maxAge 1 s) is still refused by a lax one (maxAge 300 s) after the strict one would drop it', async () => {
    const vp = await presentation();
    const strict = w.verifier({ http: false, maxAgeSeconds: 1, skewSeconds: 0 });
    const lax = w.verifier({ http: false, maxAgeSeconds: 300, skewSeconds: 0 });
    expect((await authorizeTransaction(vp, { verifier: strict, ...ask(w) })).ok).toBe(true);
    // 0.1 kept the key until iat + 1 + 0 + 1 s: gone by now, and the lax verifier took the proof (and its spend) again.
    await new Promise((r) => setTimeout(r, 2300));
    const again = await authorizeTransaction(vp, { verifier: lax, ...ask(w) });
    expect([again.ok, again.reasons.map((r) => r.code)]).toEqual([false, ['REPLAY_DETECTED']]);
  });

  it('the key lives until min(exp, iat + 3600 s) + twice the largest skew + 1 s, the same under any maxAge and skew', async () => {
    const configs: Partial<VerifierOptions>[] = [
      { maxAgeSeconds: 1, skewSeconds: 0 },
      { maxAgeSeconds: 30, skewSeconds: 60 },
      { maxAgeSeconds: 3600, skewSeconds: 300 },
    ];
    for (const [claims, life] of [
      [{}, 300], // createPresentation's default exp: iat + 300
      [{ exp: undefined }, 3600], // no exp: the largest maxAge any verifier may set
      [{ exp: Math.floor(Date.now() / 1000) + 7200 }, 3600], // an exp later than any verifier accepts
    ] as const) {
      for (const o of configs) {
        const vp = await presentation(claims);
        const iat = decodeJwt(vp).payload.iat as number;
        const { verifier, keys } = recorded(o);
        const d = await authorizeTransaction(vp, { verifier, ...ask(w) });
        expect(d.ok).toBe(true);
        expect([o, claims, keys.map((k) => k.until - iat * 1000)]).toEqual([o, claims, [(life + 600) * 1000 + 1000]]);
      }
    }
  });

  it('challenge mode: the used slot outlives a short nonceTtlSeconds, so a verifier issuing nonces for longer cannot take the proof again', async () => {
    const { verifier, keys } = recorded({ nonces: 'challenge', nonceTtlSeconds: 1, maxAgeSeconds: 1, skewSeconds: 0 });
    const { nonce } = await verifier.issueNonce();
    const vp = await presentation({ nonce });
    const iat = decodeJwt(vp).payload.iat as number;
    const d = await authorizeTransaction(vp, { verifier, ...ask(w) });
    expect(d.ok).toBe(true);
    const used = keys.filter((k) => k.scope.startsWith('http-nonce-used '));
    expect(used).toHaveLength(1);
    expect(used[0]!.until).toBeGreaterThanOrEqual((iat + 300 + 600) * 1000 + 1000);
    // The jti key an 'iat' verifier of the audience would use is taken as long.
    const jti = keys.filter((k) => k.scope.startsWith('http-jti '));
    expect(jti.map((k) => k.until - iat * 1000)).toEqual([(300 + 600) * 1000 + 1000]);
  });
});
