import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { decodeCredential } from '../../src/credentials/index.js';
import { issueMandate, ledgerKey, revokeMandate } from '../../src/agents/index.js';
import { callGuardedTool, guardTool, PRESENTATION_META, presentForTool, toolReceipt, toolRefusal, verifyReceipt, type ToolPresenter } from '../../src/integrations/mcp/index.js';
import type { DecisionReceipt } from '../../src/audit/index.js';
import { toolBinding } from '../../src/integrations/mcp/binding.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { API, openWorld, type World } from '../http/world.js';

/**
 * A real MCP server (McpServer) with a `purchase` tool guarded by Charter,
 * and a real MCP client, connected in-process through the SDK's in-memory
 * transport. Status lists are served by serveHome on 127.0.0.1.
 */
let w: World;

interface Shop {
  client: Client;
  verifier: Verifier;
  /** Every purchase the tool body actually carried out. */
  bodyRuns: { item: string; price: number }[];
  close(): Promise<void>;
}

async function openShop(verifier: Verifier, opts: { failItem?: string } = {}): Promise<Shop> {
  const bodyRuns: Shop['bodyRuns'] = [];
  const server = new McpServer({ name: 'shop', version: '1.0.0' });
  server.registerTool(
    'purchase',
    { description: 'Buy an item', inputSchema: { item: z.string(), price: z.number(), currency: z.string() } },
    guardTool('purchase', { verifier, action: 'purchase', amount: (a) => `${a.price} ${a.currency}`, trust: { principals: [w.principal.did] } }, (args, _extra, decision) => {
      if (args.item === opts.failItem) return { isError: true, content: [{ type: 'text', text: 'out of stock' }] };
      if (args.item === 'nothing') return undefined as unknown as CallToolResult; // a body that returns no result
      bodyRuns.push({ item: args.item, price: args.price });
      return { content: [{ type: 'text', text: `bought ${args.item} for ${decision.agent}` }] };
    }),
  );
  server.registerTool('browse', { description: 'Not a transaction', inputSchema: { q: z.string() } }, ({ q }) => ({ content: [{ type: 'text', text: `results for ${q}` }] }));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return { client, verifier, bodyRuns, close: async () => void (await Promise.all([client.close(), server.close()])) };
}

const presenter = async (chain: string[], over: Partial<ToolPresenter> = {}): Promise<ToolPresenter> => ({ agent: w.agent, identity: w.agentIdentity, chain, aud: API, ...over });
const buy = (item: string, price: number) => ({ name: 'purchase', arguments: { item, price, currency: 'USD' } });
const codes = (r: unknown) => toolRefusal(r)?.reasons.map((x) => x.code);

/** What the API's ledger holds against a mandate: spent (reserved + committed) in its 30-day window. */
async function spent(mandateJwt: string): Promise<string> {
  const c = decodeCredential(mandateJwt);
  const r = await w.apiStore.previewReservation({
    reservationId: 'probe',
    at: new Date(),
    entries: [{ mandateId: ledgerKey(c.issuer as string, c.id!), amount: '0', currency: 'USD', budget: { amount: '100', currency: 'USD', periodSeconds: 30 * 86_400 } }],
  });
  return r.usage[0]!.spent;
}

beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => w.close());

describe('MCP tool guard (real client and server, in-memory transport)', () => {
  it('allowed: the tool runs, the spend is committed in the ledger, other tools are untouched', async () => {
    const shop = await openShop(w.verifier());
    const mandate = await w.mandate();
    const r = (await callGuardedTool(shop.client, buy('book', 30), await presenter([mandate]))) as CallToolResult;
    expect(r.isError).toBeFalsy();
    expect(r.content[0]).toMatchObject({ type: 'text', text: `bought book for ${w.agent.did}` });
    expect(shop.bodyRuns).toEqual([{ item: 'book', price: 30 }]);
    expect(await spent(mandate)).toBe('30');
    const browse = (await shop.client.callTool({ name: 'browse', arguments: { q: 'lamps' } })) as CallToolResult;
    expect(browse.content[0]).toMatchObject({ text: 'results for lamps' });
    await shop.close();
  });

  it('over budget: refused with BUDGET_EXCEEDED, the body does not run, nothing more is spent', async () => {
    const shop = await openShop(w.verifier());
    const mandate = await w.mandate();
    const p = await presenter([mandate]);
    for (const price of [40, 45]) expect(((await callGuardedTool(shop.client, buy('lamp', price), p)) as CallToolResult).isError).toBeFalsy();
    const third = (await callGuardedTool(shop.client, buy('desk', 20), p)) as CallToolResult;
    expect(third.isError).toBe(true);
    expect(toolRefusal(third)).toMatchObject({ status: 403, code: 'BUDGET_EXCEEDED' });
    expect((third.content[0] as { text: string }).text).toContain('BUDGET_EXCEEDED');
    expect(shop.bodyRuns.map((b) => b.item)).toEqual(['lamp', 'lamp']);
    expect(await spent(mandate)).toBe('85');
    // Over the per-transaction limit: AUTHORITY_EXCEEDED.
    expect(codes(await callGuardedTool(shop.client, buy('sofa', 60), p))).toContain('AUTHORITY_EXCEEDED');
    await shop.close();
  });

  it('revoked mandate (status served on loopback): refused with CREDENTIAL_REVOKED', async () => {
    const shop = await openShop(w.verifier());
    const mandate = await w.mandate();
    expect(((await callGuardedTool(shop.client, buy('pen', 5), await presenter([mandate]))) as CallToolResult).isError).toBeFalsy();
    await revokeMandate(w.home.store, decodeCredential(mandate).id!, (did) => w.home.issuer(did));
    w.freshStatus(); // as after the status list's ttl
    const r = await callGuardedTool(shop.client, buy('pen', 5), await presenter([mandate]));
    expect(toolRefusal(r)).toMatchObject({ status: 403, code: 'CREDENTIAL_REVOKED' });
    expect(shop.bodyRuns).toHaveLength(1);
    await shop.close();
  });

  it('unknown agent: no presentation, an untrusted principal, or a stranger holding the mandate', async () => {
    const shop = await openShop(w.verifier());
    const none = await shop.client.callTool(buy('cup', 3));
    expect(toolRefusal(none)).toMatchObject({ status: 401, code: 'INVALID_PRESENTATION' });
    const rogue = await issueMandate(w.home.store, w.alice, {
      agent: w.agent.did,
      authority: { actions: ['purchase'], maxDelegationDepth: 0, limits: { perTransaction: { amount: '50', currency: 'USD' } } },
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.server.url,
    });
    expect(codes(await callGuardedTool(shop.client, buy('cup', 3), await presenter([rogue.jwt])))).toContain('UNTRUSTED_PRINCIPAL');
    // Someone else presents the agent's mandate with their own key.
    expect(codes(await callGuardedTool(shop.client, buy('cup', 3), await presenter([await w.mandate()], { agent: w.app })))).toContain('HOLDER_MISMATCH');
    expect(shop.bodyRuns).toEqual([]);
    await shop.close();
  });

  it('replayed, re-targeted, or meant for another server: refused with 401', async () => {
    const shop = await openShop(w.verifier());
    const p = await presenter([await w.mandate()]);
    const vp = await presentForTool(buy('mug', 10), p);
    const send = (call: ReturnType<typeof buy>, presentation: string) => shop.client.callTool({ ...call, _meta: { [PRESENTATION_META]: presentation } });
    expect(((await send(buy('mug', 10), vp)) as CallToolResult).isError).toBeFalsy();
    expect(toolRefusal(await send(buy('mug', 10), vp))).toMatchObject({ status: 401, code: 'REPLAY_DETECTED' });
    // The same presentation cannot be moved to other arguments (a dearer item).
    expect(toolRefusal(await send(buy('mug', 49), await presentForTool(buy('mug', 10), p)))).toMatchObject({ status: 401, code: 'REQUEST_MISMATCH' });
    expect(toolRefusal(await send(buy('mug', 10), await presentForTool(buy('mug', 10), { ...p, aud: 'did:web:other.example' })))).toMatchObject({
      status: 401,
      code: 'AUDIENCE_MISMATCH',
    });
    expect(shop.bodyRuns).toHaveLength(1);
    await shop.close();
  });

  it('an action or counterparty the arguments give of the wrong type is a 400 refusal (with _meta), never a thrown TypeError; nothing runs', async () => {
    const server = new McpServer({ name: 'shop2', version: '1.0.0' });
    let runs = 0;
    const guarded = (name: string, o: { action: (a: Record<string, unknown>) => unknown; counterparty?: (a: Record<string, unknown>) => unknown }) =>
      server.registerTool(
        name,
        { description: name, inputSchema: { kind: z.unknown().optional(), shop: z.unknown().optional() } },
        guardTool(
          name,
          {
            verifier: w.verifier(),
            action: o.action as (a: unknown) => string,
            ...(o.counterparty ? { counterparty: o.counterparty as (a: unknown) => string } : {}),
            amount: () => '1 USD',
            trust: { principals: [w.principal.did] },
          },
          () => {
            runs++;
            return { content: [{ type: 'text', text: 'done' }] };
          },
        ),
      );
    guarded('by-kind', { action: (a) => a.kind });
    guarded('async-kind', { action: async (a) => a.kind });
    guarded('to-shop', { action: () => 'purchase', counterparty: (a) => a.shop });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    try {
      const p = await presenter([await w.mandate()]);
      const call = async (name: string, args: Record<string, unknown>) =>
        client.callTool({ name, arguments: args, _meta: { [PRESENTATION_META]: await presentForTool({ name, arguments: args }, p) } });
      for (const kind of ['', 5, null, ['purchase'], { a: 1 }, true]) {
        expect([kind, toolRefusal(await call('by-kind', { kind }))]).toMatchObject([kind, { status: 400, code: 'INVALID_ARGUMENT' }]);
      }
      expect(toolRefusal(await call('async-kind', { kind: 'purchase' }))).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
      for (const shop of [5, { id: 'did:web:shop.example' }, ['did:web:shop.example'], true, null]) {
        expect([shop, toolRefusal(await call('to-shop', { shop }))]).toMatchObject([shop, { status: 400, code: 'INVALID_ARGUMENT' }]);
      }
      // Arguments that name no counterparty: not "the verifier itself" (the mandate's limit names only the API).
      expect(toolRefusal(await call('to-shop', {}))).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
      expect(runs).toBe(0);
    } finally {
      await Promise.all([client.close(), server.close()]);
    }
  });

  it('a tool that fails (isError or throws) releases its reservation', async () => {
    const shop = await openShop(w.verifier(), { failItem: 'ghost' });
    const mandate = await w.mandate();
    const r = (await callGuardedTool(shop.client, buy('ghost', 50), await presenter([mandate]))) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(toolRefusal(r)).toBeUndefined(); // the tool's own failure, not Charter's refusal
    expect(await spent(mandate)).toBe('0');
    await callGuardedTool(shop.client, buy('nothing', 50), await presenter([mandate])).catch(() => undefined);
    expect(await spent(mandate)).toBe('0');
    await shop.close();
  });

  it('challenge mode: the refusal carries a nonce and the client helper presents again with it', async () => {
    const shop = await openShop(w.verifier({ nonces: 'challenge' }));
    const mandate = await w.mandate();
    const r = (await callGuardedTool(shop.client, buy('tea', 4), await presenter([mandate]))) as CallToolResult;
    expect(r.isError).toBeFalsy();
    expect(shop.bodyRuns).toEqual([{ item: 'tea', price: 4 }]);
    const bare = await shop.client.callTool({ ...buy('tea', 4), _meta: { [PRESENTATION_META]: await presentForTool(buy('tea', 4), await presenter([mandate])) } });
    expect(toolRefusal(bare)).toMatchObject({ status: 401, code: 'NONCE_MISMATCH', nonce: expect.any(String) });
    await shop.close();
  });

  it('the store unreachable: refused with 503 STORE_UNAVAILABLE before the body runs (fail closed)', async () => {
    const shop = await openShop(w.verifier());
    const mandate = await w.mandate();
    w.storeDown(true);
    try {
      const r = await callGuardedTool(shop.client, buy('kettle', 20), await presenter([mandate]));
      expect(toolRefusal(r)).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });
    } finally {
      w.storeDown(false);
    }
    expect(shop.bodyRuns).toEqual([]);
    expect(((await callGuardedTool(shop.client, buy('kettle', 20), await presenter([mandate]))) as CallToolResult).isError).toBeFalsy();
    await shop.close();
  });

  it('challenge mode with the store unreachable: a 503 refusal, not a thrown fault', async () => {
    const shop = await openShop(w.verifier({ nonces: 'challenge' }));
    w.storeDown(true);
    try {
      const r = await shop.client.callTool({ ...buy('tea', 4), _meta: { [PRESENTATION_META]: await presentForTool(buy('tea', 4), await presenter([await w.mandate()])) } });
      expect(toolRefusal(r)).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });
    } finally {
      w.storeDown(false);
    }
    await shop.close();
  });

  it('guardTool checks its options when built', () => {
    const verifier = w.verifier();
    const ok = () => ({ content: [] });
    expect(() => guardTool('', { verifier, action: 'purchase', trust: { anyPrincipal: true } }, ok)).toThrow(TypeError);
    expect(() => guardTool('purchase', { verifier, action: 'purchase', trust: {} }, ok)).toThrow(TypeError);
    expect(() => guardTool('purchase', { verifier, action: 'purchase', trust: { anyPrincipal: true, minReputation: 0.5 } }, ok)).toThrow(TypeError);
    expect(() => guardTool('purchase', { verifier: {} as Verifier, action: 'purchase', trust: { anyPrincipal: true } }, ok)).toThrow(TypeError);
  });

  it('with a receipts verifier, every call returns the signed receipt in _meta, allowed or refused, bound to the tool and its arguments', async () => {
    await w.home.createIdentity({ alias: 'mcp-shop' });
    const shop = await openShop(w.verifier({ receipts: { signer: await w.home.issuer('mcp-shop') } }));
    const mandate = await w.mandate();
    const ok = await callGuardedTool(shop.client, buy('lamp', 20), await presenter([mandate]));
    const r = await verifyReceipt(toolReceipt(ok)!, { resolver: w.resolver, issuers: [(await w.home.identity('mcp-shop')).did] });
    expect(r.reasons).toEqual([]);
    expect(r.claims).toMatchObject({ decision: 'allow', sub: w.agent.did, request: toolBinding('purchase', { item: 'lamp', price: 20, currency: 'USD' }) });
    const over = await callGuardedTool(shop.client, buy('sofa', 90), await presenter([mandate]));
    expect(codes(over)).toEqual(['AUTHORITY_EXCEEDED']);
    expect(((await verifyReceipt(toolReceipt(over)!, { resolver: w.resolver, issuers: [(await w.home.identity('mcp-shop')).did] })).claims as DecisionReceipt).reasons).toEqual([
      'AUTHORITY_EXCEEDED',
    ]);
    await shop.close();
  });
});

describe('MCP tool paid with a payment mandate chain (guardTool with options.mandate)', () => {
  it('a Verifiable Intent payment runs the tool once and is charged against payment.cumulative; over it, the body never runs', async () => {
    const { viIntent, viPayment, viWorld } = await import('../guard/chains.js');
    const vw = await viWorld(new Date());
    const intent = await viIntent(vw, new Date(), { cumulative: { amount: '250', currency: 'USD', period: 'DAILY' } });
    const verifier = w.verifier();
    const runs: string[] = [];
    const server = new McpServer({ name: 'psp', version: '1.0.0' });
    server.registerTool(
      'pay',
      { description: 'Pay a checkout', inputSchema: { amount: z.string() } },
      guardTool(
        'pay',
        { verifier, mandate: { profile: 'verifiable-intent', trust: { issuers: [vw.issuer.publicJwk] }, payee: 'merchant-uuid-1' }, amount: (a) => `${a.amount} USD` },
        (args, _extra, decision) => {
          runs.push(`${args.amount} to ${String(decision.payment?.payee?.name)}`);
          return { content: [{ type: 'text', text: 'paid' }] };
        },
      ),
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    try {
      const { callMandateTool } = await import('../../src/integrations/mcp/index.js');
      const pay = async (amount: string, sent = amount) =>
        callMandateTool(client, { name: 'pay', arguments: { amount: sent } }, await viPayment(vw, intent, { amount, aud: API, now: new Date() }));
      expect(((await pay('150')) as CallToolResult).isError).toBeFalsy();
      const chain = await viPayment(vw, intent, { amount: '50', aud: API, now: new Date() });
      expect(((await callMandateTool(client, { name: 'pay', arguments: { amount: '50' } }, chain)) as CallToolResult).isError).toBeFalsy();
      expect(toolRefusal(await callMandateTool(client, { name: 'pay', arguments: { amount: '50' } }, chain))).toMatchObject({ status: 401, code: 'REPLAY_DETECTED' });
      expect(toolRefusal(await pay('100'))).toMatchObject({ status: 403, code: 'BUDGET_EXCEEDED' });
      expect(toolRefusal(await pay('10', '20'))).toMatchObject({ status: 401, code: 'REQUEST_MISMATCH' });
      expect(toolRefusal(await client.callTool({ name: 'pay', arguments: { amount: '1' } }))).toMatchObject({ status: 401, code: 'INVALID_PRESENTATION' });
      expect(runs).toEqual(['150 to Tennis Warehouse', '50 to Tennis Warehouse']);
    } finally {
      await Promise.all([client.close(), server.close()]);
    }
  });

  it('a payee function is checked whatever it returns: naming no merchant, or another one, refuses and the body never runs', async () => {
    const { viIntent, viPayment, viWorld } = await import('../guard/chains.js');
    const vw = await viWorld(new Date());
    const intent = await viIntent(vw, new Date());
    const runs: unknown[] = [];
    const tool = guardTool<{ amount: string; merchant?: unknown }>(
      'pay',
      {
        verifier: w.verifier(),
        mandate: { profile: 'verifiable-intent', trust: { issuers: [vw.issuer.publicJwk] }, payee: (a) => a.merchant as string },
        amount: (a) => `${a.amount} USD`,
      },
      (args) => {
        runs.push(args.merchant);
        return { content: [{ type: 'text', text: 'paid' }] };
      },
    );
    const pay = async (args: { amount: string; merchant?: unknown }) =>
      tool(args, { _meta: { [PRESENTATION_META]: await viPayment(vw, intent, { amount: '10', aud: API, now: new Date() }) } });
    for (const merchant of [undefined, '', 'merchant-uuid-2', null]) {
      const r = await pay({ amount: '10', ...(merchant !== undefined ? { merchant } : {}) });
      expect([merchant, toolRefusal(r)?.code]).toEqual([merchant, 'COUNTERPARTY_NOT_ALLOWED']);
    }
    expect(runs).toEqual([]);
    // The chain's merchant is paid.
    expect((await pay({ amount: '10', merchant: 'merchant-uuid-1' })).isError).toBeFalsy();
    expect(runs).toEqual(['merchant-uuid-1']);
  });

  it('misuse is a TypeError when the guard is built: no pinned issuers', () => {
    expect(() => guardTool('pay', { verifier: w.verifier(), mandate: { profile: 'ap2', trust: {} } }, () => ({ content: [] }))).toThrow(TypeError);
  });
});
