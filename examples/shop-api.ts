// A shop that sells to AI agents within their principal's mandate: per-order limit, budget, counterparty.
// Run: npx tsx examples/shop-api.ts
import express from 'express';
// In your project: import { … } from 'charter/express' and 'charter'.
import { charter, charterFetch, createVerifier, requireAgent } from '../src/http/adapters/express.js';
import { issueAgentIdentity, issueMandate } from '../src/agents/index.js';
import { listen, show, throwawayHome } from './setup.js';

const { home, baseUrl, apiStore, done } = await throwawayHome(['alice', 'acme', 'shopper']);
const SHOP = 'did:web:shop.example';
const [alice, acme, shopper] = await Promise.all(['alice', 'acme', 'shopper'].map((a) => home.issuer(a)));

// ---- the shop ----
const app = express();
app.use(express.json());
const shop = await listen(app);
const verifier = createVerifier({ aud: SHOP, store: apiStore, publicOrigin: shop.url, allowLoopback: true });
app.post(
  '/orders',
  charter(
    verifier,
    requireAgent({
      action: 'purchase',
      // "40 USD": the mandate limits money, so a request without an amount is refused (AMOUNT_REQUIRED)
      amount: (req) => (req.body as { amount?: string }).amount,
      trust: { principals: [alice!.did], identityIssuers: [acme!.did] },
    }),
  ),
  async (req, res) => {
    const paid = (req.body as { sku: string }).sku !== 'out-of-stock';
    if (!paid) {
      await req.charter!.release(); // the order did not happen: give the budget back
      return void res.status(409).json({ code: 'OUT_OF_STOCK' });
    }
    await req.charter!.commit(); // the spend is recorded before the order ships (a store fault answers 503 instead)
    res.status(201).json({ order: 'ok', agent: req.charter!.holder, budgetLeft: req.charter!.spend?.remaining.budget });
  },
);

// ---- Alice lets her shopping agent (operated by acme) spend 50 USD per order, 100 USD per 30 days, here only ----
const identity = await issueAgentIdentity(home.store, acme!, { agent: shopper!.did, name: 'shopper', software: { name: 'shopper', version: '2.1.0' } });
const mandate = await issueMandate(home.store, alice!, {
  agent: shopper!.did,
  authority: {
    actions: ['purchase'],
    maxDelegationDepth: 0,
    limits: { perTransaction: { amount: '50', currency: 'USD' }, budget: { amount: '100', currency: 'USD', period: 'P30D' }, counterparties: [SHOP] },
  },
  validUntil: new Date(Date.now() + 7 * 86_400_000),
  baseUrl,
});

// ---- the agent buys ----
const asAgent = { holder: shopper!, credentials: [identity.jwt, mandate.jwt], aud: SHOP };
const order = (sku: string, amount: string | undefined) =>
  charterFetch(`${shop.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku, amount }) }, asAgent);
await show('order tea for 40 USD', await order('tea', '40 USD'));
await show('order a lamp for 60 USD (over 50/order)', await order('lamp', '60 USD'));
await show('out-of-stock for 40 USD (released)', await order('out-of-stock', '40 USD'));
await show('order cups for 40 USD', await order('cups', '40 USD'));
await show('order jam for 40 USD (budget spent)', await order('jam', '40 USD'));
await show('order jam, leaving the amount out', await order('jam', undefined));

shop.close();
await done();
