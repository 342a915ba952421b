import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderChain } from '../../src/agents/index.js';
import { createPresentation } from '../../src/credentials/index.js';
import type { StatusChecker } from '../../src/credentials/types.js';
import { CharterError } from '../../src/errors.js';
import { guardTool, PRESENTATION_META, toolBinding, toolRefusal } from '../../src/integrations/mcp/index.js';
import type { Store } from '../../src/store/types.js';
import { API, openWorld, type World } from '../http/world.js';

/**
 * Over MCP as over HTTP: a tool call answered 503 because a status list is out of reach decided
 * nothing and used nothing up, so the client sending the very same call again (the same `_meta`
 * presentation) once the list is back gets it decided: the tool runs once, its spend held once; a
 * third copy is a replay. A ledger that fails after the presentation was used up leaves it used
 * (fail closed): that copy is a replay, and the tool never runs for it.
 */
let w: World;
beforeAll(async () => {
  w = await openWorld();
}, 60_000);
afterAll(async () => w?.close());

type Args = Record<string, unknown>;
const args = { item: 'mug', price: 40, currency: 'USD' };
const unreachable = () => Promise.reject(new CharterError('STATUS_UNAVAILABLE', 'the status list cannot be retrieved'));
const storeFault = () => Promise.reject(new CharterError('STORE_UNAVAILABLE', 'the store is unreachable: try again'));

async function call(o: { status?: StatusChecker; store?: Store }) {
  const runs: number[] = [];
  const verifier = w.verifier({ http: false, ...(o.status ? { status: o.status } : {}), ...(o.store ? { store: o.store } : {}) });
  const g = guardTool<Args>(
    'purchase',
    { verifier, action: 'purchase', amount: (a) => `${a.price as number} ${a.currency as string}`, trust: { principals: [w.principal.did] } },
    () => {
      runs.push(1);
      return { content: [{ type: 'text', text: 'bought' }] };
    },
  );
  const mandate = await w.mandate({
    limits: { perTransaction: { amount: '50', currency: 'USD' }, budget: { amount: '60', currency: 'USD', period: 'P30D' }, counterparties: [API] },
  });
  const vp = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API, claims: { ...toolBinding('purchase', args) } });
  const send = () => g(args, { _meta: { [PRESENTATION_META]: vp } });
  return { runs, send };
}

describe('MCP: the same tool call after a 503', () => {
  it('a status list out of reach: 503, the tool not run; the same call once it is back runs once; a third is REPLAY_DETECTED', async () => {
    let down = true;
    const status: StatusChecker = (c, ctx) => (down ? unreachable() : w.status(c, ctx));
    const { runs, send } = await call({ status });
    expect(toolRefusal(await send())).toMatchObject({ status: 503, code: 'STATUS_UNAVAILABLE' });
    down = false;
    expect((await send()).isError).not.toBe(true);
    expect(toolRefusal(await send())).toMatchObject({ status: 401, code: 'REPLAY_DETECTED' });
    expect(runs).toEqual([1]);
  });

  it('the ledger fails after the presentation was used up: 503, the tool not run; the same call again is REPLAY_DETECTED and never runs', async () => {
    let down = true;
    const store: Store = { ...w.apiStore, reserve: (...a) => (down ? storeFault() : w.apiStore.reserve(...a)) };
    const { runs, send } = await call({ store });
    expect(toolRefusal(await send())).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });
    down = false;
    expect(toolRefusal(await send())).toMatchObject({ status: 401, code: 'REPLAY_DETECTED' });
    expect(runs).toEqual([]);
  });
});
