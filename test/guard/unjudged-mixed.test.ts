import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderChain } from '../../src/agents/index.js';
import { createPresentation } from '../../src/credentials/index.js';
import type { StatusChecker } from '../../src/credentials/types.js';
import { decide } from '../../src/guard/decide.js';
import type { Binding } from '../../src/guard/binding.js';
import type { Policy } from '../../src/guard/policy.js';
import { CharterError } from '../../src/errors.js';
import { API, openWorld, type World } from '../http/world.js';
import { codes } from './seams-fixtures.js';

/**
 * The early 503 (nothing used up) is only for a decision whose ONLY reasons are a list out of
 * reach. A list out of reach next to a refusal on the merits (an amount over the per-call limit)
 * is that refusal: decided, and the proof used up, so making a
 * list unreachable never turns a refusable proof into one that may be tried again and again.
 */
const ORDERS = 'http://127.0.0.1:9999/orders';
const http = (): Binding => ({ kind: 'http', method: 'POST', url: ORDERS });

let w: World;
beforeAll(async () => {
  w = await openWorld();
}, 60_000);
afterAll(async () => {
  await w?.close();
});

describe('a list out of reach next to a refusal on the merits', () => {
  it('over the per-call limit while every list is out of reach: 403, the proof used up', async () => {
    let asked = 0;
    const status: StatusChecker = () => (asked++, Promise.reject(new CharterError('STATUS_UNAVAILABLE', 'the status list cannot be retrieved')));
    const v = w.verifier({ status, http: false });
    const mandate = await w.mandate({ limits: { perTransaction: { amount: '50', currency: 'USD' }, counterparties: [API] } });
    const vp = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API, claims: { htm: 'POST', htu: ORDERS } });
    const policy: Policy = { kind: 'agent', action: 'purchase', amount: '70 USD', trust: { principals: [w.principal.did] } };
    const first = await decide(v, vp, policy, http());
    expect(asked).toBeGreaterThan(0);
    expect(first.status).toBe(403);
    expect(codes(first)).toContain('STATUS_UNAVAILABLE');
    const again = await decide(v, vp, policy, http());
    expect([again.status, codes(again)]).toEqual([401, ['REPLAY_DETECTED']]);
  });
});
