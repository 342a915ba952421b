import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderChain } from '../../src/agents/index.js';
import type { SettlementReceipt } from '../../src/audit/index.js';
import { createPresentation } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { authorizeTransaction } from '../../src/guard/transaction.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { API, openWorld, type World } from '../http/world.js';

/**
 * A spend's settlement is logged once, whenever it lands (mutation testing of
 * src/guard/receipt.ts: the once-only rule and the background watch could
 * each go with no test failing): a second commit() adds no second settlement
 * receipt, and a settlement the store refused at first, finished later in
 * the background, is still logged.
 */
let w: World;
let api: Issuer;
beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'api' });
  api = await w.home.issuer('api');
}, 60_000);
afterAll(async () => w.close());

const claimsOf = <T>(jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as T;

async function authorized(v: Verifier, amount = '5 USD') {
  const mandate = await w.mandate();
  const vp = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API });
  const d = await authorizeTransaction(vp, { verifier: v, action: 'purchase', amount, trust: { principals: [w.principal.did] } });
  expect(d.reasons).toEqual([]);
  return d;
}

describe('settlement receipts', () => {
  it('commit() twice, or commit then settle: one settlement receipt, the same one', async () => {
    const v = w.verifier({ receipts: { signer: api } });
    const d = await authorized(v);
    await d.spend!.commit();
    const first = d.spend!.receipt;
    expect(claimsOf<SettlementReceipt>(first!).spend.state).toBe('committed');
    await d.spend!.commit();
    expect(await d.spend!.settle(true)).toBe('committed');
    expect(d.spend!.receipt).toBe(first);
    const entries = await w.apiStore.listAudit({ chain: v.receipts!.chain });
    expect(entries.map((e) => e.outcome)).toEqual(['allow', 'committed']);
  });

  it('release() twice: one settlement receipt', async () => {
    const v = w.verifier({ receipts: { signer: api } });
    const d = await authorized(v);
    await d.spend!.release();
    await d.spend!.release();
    const entries = await w.apiStore.listAudit({ chain: v.receipts!.chain });
    expect(entries.map((e) => e.outcome)).toEqual(['allow', 'released']);
  });

  it('a commit the store refused, retried in the background, is logged when it lands', async () => {
    const v = w.verifier({ receipts: { signer: api } });
    const d = await authorized(v);
    w.faults.commit = true;
    try {
      expect(await d.spend!.settle(true)).toBe('held');
    } finally {
      w.faults.commit = false;
    }
    await expect.poll(() => d.spend!.state, { timeout: 5000, interval: 50 }).toBe('committed');
    await expect.poll(() => d.spend!.receipt, { timeout: 6000, interval: 100 }).toBeDefined();
    expect(claimsOf<SettlementReceipt>(d.spend!.receipt!).spend.state).toBe('committed');
    await v.receipts!.flush();
    const entries = await w.apiStore.listAudit({ chain: v.receipts!.chain });
    expect(entries.map((e) => e.outcome)).toEqual(['allow', 'committed']);
  }, 20_000);
});
