import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { decodeCredential } from '../../src/credentials/index.js';
import { ledgerKey } from '../../src/agents/index.js';
import {
  callGuardedTool,
  guardTool,
  toolReceipt,
  toolRefusal,
  verifyReceipt,
  type GuardedToolHandler,
  type ToolExtra,
  type ToolPresenter,
  type TransactionRun,
} from '../../src/integrations/mcp/index.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { SPEND_META } from '../../src/integrations/mcp/binding.js';
import { toolSpend } from '../../src/integrations/mcp/client.js';
import { API, openWorld, type World } from '../http/world.js';

/**
 * What an allowed MCP tool call's spend became, told to the tool body (an
 * AbortSignal when the hold runs out, as guardTransaction hands its function)
 * and to the caller (`_meta["charter.dev/spend"]`: state, holdExpired).
 */
let w: World;

type Args = { item: string; price: number; currency: string };

async function openShop(verifier: Verifier, handler: GuardedToolHandler<Args, ToolExtra>): Promise<{ client: Client; close(): Promise<void> }> {
  const server = new McpServer({ name: 'shop', version: '1.0.0' });
  server.registerTool(
    'purchase',
    { description: 'Buy an item', inputSchema: { item: z.string(), price: z.number(), currency: z.string() } },
    guardTool<Args>('purchase', { verifier, action: 'purchase', amount: (a) => `${a.price} ${a.currency}`, trust: { principals: [w.principal.did] } }, handler),
  );
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return { client, close: async () => void (await Promise.all([client.close(), server.close()])) };
}

const presenter = (mandate: string): ToolPresenter => ({ agent: w.agent, identity: w.agentIdentity, chain: [mandate], aud: API });
const buy = (item: string, price: number) => ({ name: 'purchase', arguments: { item, price, currency: 'USD' } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the API's ledger holds against a mandate (perTransaction 50, budget 100 USD / 30 days). */
async function spent(mandateJwt: string): Promise<string> {
  const c = decodeCredential(mandateJwt);
  const r = await w.apiStore.previewReservation({
    reservationId: 'probe',
    at: new Date(),
    entries: [{ mandateId: ledgerKey(c.issuer as string, c.id!), amount: '0', currency: 'USD', budget: { amount: '100', currency: 'USD', periodSeconds: 30 * 86_400 } }],
  });
  return r.usage[0]!.spent;
}

/**
 * A tool whose body for item "slow" runs past its 1 s hold: it waits for its signal to fire (at most
 * 2.5 s), reports the signal it was handed, then waits for `go` and either spends anyway (honours:
 * false) or stops (honours: true, an isError result).
 */
function slowShop(honours: boolean) {
  let reached!: (s: AbortSignal | undefined) => void;
  const sawAbort = new Promise<AbortSignal | undefined>((r) => (reached = r));
  let go!: () => void;
  const gate = new Promise<void>((r) => (go = r));
  const handler: GuardedToolHandler<Args, ToolExtra> = async (args, _extra, _decision, run) => {
    if (args.item === 'slow') {
      const signal = (run as TransactionRun | undefined)?.signal;
      await Promise.race([sleep(2500), new Promise((r) => signal?.addEventListener('abort', r, { once: true }))]);
      reached(signal);
      await gate;
      if (honours && signal?.aborted === true) return { isError: true, content: [{ type: 'text', text: 'stopped: the hold ran out' }] };
    }
    return { content: [{ type: 'text', text: `shipped ${args.item}` }] };
  };
  return { handler, sawAbort, go };
}

beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => w.close());

describe('MCP guard: the spend hold and its settlement (holdTimeoutSeconds)', () => {
  it('a body slower than the hold is handed an AbortSignal that fires, and its result reports holdExpired (budget 100, two more 50 USD calls meanwhile)', async () => {
    const { handler, sawAbort, go } = slowShop(false);
    const shop = await openShop(w.verifier({ http: false, holdTimeoutSeconds: 1 }), handler);
    const mandate = await w.mandate(); // perTransaction 50, budget 100 USD
    try {
      const slow = callGuardedTool(shop.client, buy('slow', 50), presenter(mandate));
      const signal = await sawAbort;
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
      await sleep(50);
      // The ledger released the expired hold: two more calls fit the budget meanwhile.
      const b = (await callGuardedTool(shop.client, buy('b', 50), presenter(mandate))) as CallToolResult;
      const c = (await callGuardedTool(shop.client, buy('c', 50), presenter(mandate))) as CallToolResult;
      expect(toolSpend(b)).toEqual({ state: 'committed' });
      expect(toolSpend(c)).toEqual({ state: 'committed' });
      go();
      const a = (await slow) as CallToolResult;
      expect(a.isError).toBeFalsy();
      // The body spent anyway: the commit records it (150 against 100), and the caller is told, not left silent.
      expect(a._meta?.[SPEND_META]).toEqual({ state: 'committed', holdExpired: true });
      expect(toolSpend(a)).toEqual({ state: 'committed', holdExpired: true });
      expect(await spent(mandate)).toBe('150');
    } finally {
      go();
      await shop.close();
    }
  });

  it('a body that honours the signal stops: its spend is released and the budget is never passed', async () => {
    const { handler, sawAbort, go } = slowShop(true);
    const shop = await openShop(w.verifier({ http: false, holdTimeoutSeconds: 1 }), handler);
    const mandate = await w.mandate();
    try {
      const slow = callGuardedTool(shop.client, buy('slow', 50), presenter(mandate));
      expect((await sawAbort)?.aborted).toBe(true);
      await sleep(50);
      expect(toolSpend(await callGuardedTool(shop.client, buy('b', 50), presenter(mandate)))).toEqual({ state: 'committed' });
      expect(toolSpend(await callGuardedTool(shop.client, buy('c', 50), presenter(mandate)))).toEqual({ state: 'committed' });
      go();
      const a = (await slow) as CallToolResult;
      expect(a.isError).toBe(true);
      expect(toolRefusal(a)).toBeUndefined(); // the tool's own failure, not a Charter refusal
      expect(toolSpend(a)).toEqual({ state: 'released', holdExpired: true });
      expect(await spent(mandate)).toBe('100');
    } finally {
      go();
      await shop.close();
    }
  });

  it('an honest quick call: the signal never fires, the result reports committed (beside the receipt), a failed one released', async () => {
    await w.home.createIdentity({ alias: 'mcp-settle-shop' });
    const signals: (AbortSignal | undefined)[] = [];
    const shop = await openShop(w.verifier({ http: false, holdTimeoutSeconds: 1, receipts: { signer: await w.home.issuer('mcp-settle-shop') } }), (args, _extra, decision, run) => {
      signals.push((run as TransactionRun | undefined)?.signal);
      if (args.item === 'broken') return { isError: true, content: [{ type: 'text', text: 'out of stock' }] };
      return { content: [{ type: 'text', text: `shipped ${args.item} to ${decision.agent}` }], _meta: { 'shop.example/order': 7 } };
    });
    const mandate = await w.mandate();
    try {
      const r = (await callGuardedTool(shop.client, buy('mug', 20), presenter(mandate))) as CallToolResult;
      expect(r.isError).toBeFalsy();
      expect(toolSpend(r)).toMatchObject({ state: 'committed' });
      expect(toolSpend(r)?.holdExpired).toBeUndefined();
      expect(r._meta?.['shop.example/order']).toBe(7); // the body's own _meta is kept
      expect((await verifyReceipt(toolReceipt(r)!, { resolver: w.resolver, issuers: [(await w.home.identity('mcp-settle-shop')).did] })).ok).toBe(true);
      const failed = (await callGuardedTool(shop.client, buy('broken', 20), presenter(mandate))) as CallToolResult;
      expect(toolSpend(failed)).toMatchObject({ state: 'released' });
      expect(await spent(mandate)).toBe('20');
      await sleep(1100); // past the hold: the settled calls' signals never fired
      expect(signals).toHaveLength(2);
      expect(signals.every((s) => s instanceof AbortSignal && !s.aborted)).toBe(true);
    } finally {
      await shop.close();
    }
  });

  it('a mandate without a cumulative limit reserves nothing: spend none; a store fault while settling: held, with settleError', async () => {
    const shop = await openShop(w.verifier({ http: false }), (args) => ({ content: [{ type: 'text', text: `shipped ${args.item}` }] }));
    try {
      const free = await w.mandate({ limits: { perTransaction: { amount: '50', currency: 'USD' }, counterparties: [API] } });
      expect(toolSpend(await callGuardedTool(shop.client, buy('pen', 5), presenter(free)))).toEqual({ state: 'none' });
      const mandate = await w.mandate();
      w.faults.commit = true;
      let r: CallToolResult;
      try {
        r = (await callGuardedTool(shop.client, buy('lamp', 10), presenter(mandate))) as CallToolResult;
      } finally {
        w.faults.commit = false;
      }
      expect(r.isError).toBeFalsy();
      expect(toolSpend(r)).toMatchObject({ state: 'held', settleError: { code: 'STORE_UNAVAILABLE' } });
    } finally {
      await shop.close();
    }
  });
});
