import { issueAgentIdentity, issueMandate, type AgentDecision } from '../../agents/index.js';
import { createVerifier } from '../../guard/verifier.js';
import { callGuardedTool, guardTool, toolRefusal } from '../../integrations/mcp/index.js';
import type { DemoContext } from './types.js';

/** The optional MCP SDK, loaded only when this walk runs (charter does not depend on it). */
async function loadSdk() {
  try {
    const [{ McpServer }, { Client }, { InMemoryTransport }, { z }] = await Promise.all([
      import('@modelcontextprotocol/sdk/server/mcp.js'),
      import('@modelcontextprotocol/sdk/client/index.js'),
      import('@modelcontextprotocol/sdk/inMemory.js'),
      import('zod'),
    ]);
    return { McpServer, Client, InMemoryTransport, z };
  } catch {
    return undefined;
  }
}

/** An agent calls a shop's MCP `purchase` tool, guarded by Charter, inside and beyond what its principal allowed. */
export async function mcpWalk({ home, step, publicUrl }: DemoContext): Promise<void> {
  const sdk = await loadSdk();
  if (!sdk) {
    step({
      title: "an AI agent pays through a shop's MCP tool",
      ok: true,
      skipped: 'the optional @modelcontextprotocol/sdk (and zod) is not installed: npm i @modelcontextprotocol/sdk zod',
    });
    return;
  }
  const frank = await home.createIdentity({ alias: 'frank' });
  const operator = await home.createIdentity({ alias: 'mcp-operator' });
  const shop = await home.createIdentity({ alias: 'tea-shop' });
  const agent = await home.createIdentity({ alias: 'tea-agent', meta: { role: 'agent', operator: operator.did } });
  const identity = await issueAgentIdentity(home.store, await home.issuer(operator.alias), {
    agent: agent.did,
    name: 'Tea Agent',
    software: { name: 'tea-agent', version: '1.0.0' },
  });
  const mandate = await issueMandate(home.store, await home.issuer('frank'), {
    agent: agent.did,
    authority: {
      actions: ['purchase'],
      maxDelegationDepth: 0,
      limits: { perTransaction: { amount: '30', currency: 'EUR' }, budget: { amount: '50', currency: 'EUR', period: 'P30D' }, counterparties: [shop.did] },
    },
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: publicUrl,
  });
  step({ title: 'frank lets tea-agent buy at tea-shop for a day: at most 30 EUR a purchase, 50 EUR in total', ok: true, detail: `mandate ${mandate.id}` });

  const verifier = createVerifier({ aud: shop.did, store: home.store, resolver: home.resolver, status: home.status, http: false });
  const server = new sdk.McpServer({ name: 'tea-shop', version: '1.0.0' });
  let last: AgentDecision | undefined;
  const shipped: string[] = [];
  server.registerTool(
    'purchase',
    { description: 'Buy tea', inputSchema: { item: sdk.z.string(), price: sdk.z.string(), currency: sdk.z.string() } },
    guardTool(
      'purchase',
      { verifier, action: 'purchase', amount: (a) => `${a.price} ${a.currency}`, trust: { principals: [frank.did], identityIssuers: [operator.did] } },
      (args, _extra, decision) => {
        shipped.push(args.item);
        last = decision;
        return { content: [{ type: 'text', text: `shipped ${args.item}` }] };
      },
    ),
  );
  const [clientSide, serverSide] = sdk.InMemoryTransport.createLinkedPair();
  const client = new sdk.Client({ name: 'tea-agent', version: '1.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  step({
    title: 'tea-shop offers AI agents a "purchase" tool (MCP) and lets Charter check every call',
    ok: true,
    detail: 'the presentation rides in _meta["charter.dev/presentation"], bound to the tool name and a hash of its arguments',
  });

  try {
    const presenter = { agent: await home.issuer('tea-agent'), identity: identity.jwt, chain: [mandate.jwt], aud: shop.did };
    const buy = (item: string, price: string) => callGuardedTool(client, { name: 'purchase', arguments: { item, price, currency: 'EUR' } }, presenter);

    const ok = await buy('sencha', '25');
    step({
      title: 'tea-agent buys sencha for 25 EUR: allowed, the tool runs',
      ok: toolRefusal(ok) === undefined && shipped.length === 1,
      detail: `${last?.amount?.amount} ${last?.amount?.currency} committed to the ledger`,
    });
    const big = toolRefusal(await buy('samovar', '40'));
    step({
      title: 'tea-agent tries a 40 EUR samovar, over its 30 EUR limit (the tool never runs)',
      expect: 'refused',
      ok: big?.code === 'AUTHORITY_EXCEEDED' && shipped.length === 1,
      code: big?.code,
    });
    const over = toolRefusal(await buy('matcha', '26'));
    step({
      title: 'tea-agent tries 26 EUR of matcha, which would pass its 50 EUR',
      expect: 'refused',
      ok: over?.code === 'BUDGET_EXCEEDED' && shipped.length === 1,
      code: over?.code,
    });
    const anon = toolRefusal(await client.callTool({ name: 'purchase', arguments: { item: 'oolong', price: '5', currency: 'EUR' } }));
    step({
      title: 'a caller that shows no permission at all tries to buy oolong',
      expect: 'refused',
      ok: anon?.code === 'INVALID_PRESENTATION' && shipped.length === 1,
      code: anon?.code,
    });
  } finally {
    await Promise.all([client.close(), server.close()]);
  }
}
