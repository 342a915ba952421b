import { randomUUID } from 'node:crypto';
import { createAgentPresentation, delegateMandate, issueAgentIdentity, issueMandate, revokeMandate } from '../../agents/index.js';
import { createVerifier } from '../../guard/verifier.js';
import { authorizeTransaction } from '../../guard/transaction.js';
import { createStatusChecker } from '../../status/index.js';
import type { DemoContext } from './types.js';

/** A person authorizes a shopping agent, it delegates to a narrower sub-agent, a shop checks purchases. */
export async function agentsWalk({ home, step, publicUrl }: DemoContext): Promise<void> {
  const erin = await home.createIdentity({ alias: 'erin' });
  const operator = await home.createIdentity({ alias: 'acme-agents', keyType: 'P-256' });
  const shop = await home.createIdentity({ alias: 'bookshop' });
  const shopper = await home.createIdentity({ alias: 'shopper', meta: { role: 'agent', operator: operator.did } });
  const courier = await home.createIdentity({ alias: 'courier-bot', meta: { role: 'agent', operator: operator.did } });
  const opIssuer = await home.issuer(operator.alias);
  await issueAgentIdentity(home.store, opIssuer, { agent: shopper.did, name: 'Acme Shopper', software: { name: 'shopper', version: '2.1.0' } });
  const courierId = await issueAgentIdentity(home.store, opIssuer, { agent: courier.did, name: 'Acme Courier', software: { name: 'courier', version: '0.9.3' } });
  step({ title: 'acme-agents (operator) vouches for two agents: shopper and courier-bot', ok: true });

  const root = await issueMandate(home.store, await home.issuer('erin'), {
    agent: shopper.did,
    authority: {
      actions: ['purchase'],
      maxDelegationDepth: 1,
      limits: { perTransaction: { amount: '50', currency: 'EUR' }, budget: { amount: '120', currency: 'EUR', period: 'P30D' }, counterparties: [shop.did], rate: { count: 10, period: 'P1D' } },
    },
    validUntil: new Date(Date.now() + 7 * 86_400_000),
    baseUrl: publicUrl,
  });
  step({ title: 'erin authorizes shopper: purchase at bookshop, ≤ 50 EUR each, 120 EUR per 30 days, 10 a day', ok: true, detail: root.id });

  try {
    await delegateMandate(home.store, await home.issuer('shopper'), {
      parentJwt: root.jwt,
      to: courier.did,
      authority: { actions: ['purchase'], maxDelegationDepth: 0, limits: { perTransaction: { amount: '80', currency: 'EUR' }, budget: { amount: '40', currency: 'EUR', period: 'P30D' }, counterparties: [shop.did], rate: { count: 3, period: 'P1D' } } },
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: publicUrl,
    });
    step({ title: 'shopper tries to give courier-bot more than it has: refused', ok: false });
  } catch (e) {
    step({ title: 'shopper tries to give courier-bot 80 EUR per purchase: refused at issuance', ok: true, code: (e as { code?: string }).code });
  }
  const sub = await delegateMandate(home.store, await home.issuer('shopper'), {
    parentJwt: root.jwt,
    to: courier.did,
    authority: { actions: ['purchase'], maxDelegationDepth: 0, limits: { perTransaction: { amount: '20', currency: 'EUR' }, budget: { amount: '40', currency: 'EUR', period: 'P30D' }, counterparties: [shop.did], rate: { count: 3, period: 'P1D' } } },
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: publicUrl,
  });
  step({ title: 'shopper delegates to courier-bot: ≤ 20 EUR each, 40 EUR in total, 3 a day', ok: true, detail: sub.id });

  // The bookshop's guard: the one decision pipeline, with this home's store as its replay cache and ledger.
  const guard = (status = home.status) => createVerifier({ aud: shop.did, store: home.store, resolver: home.resolver, status, http: false });
  const buy = async (amount: string, status = home.status) => {
    const vp = await createAgentPresentation({ agent: await home.issuer('courier-bot'), identity: courierId.jwt, chain: [root.jwt, sub.jwt], aud: shop.did, nonce: randomUUID() });
    const d = await authorizeTransaction(vp, { verifier: guard(status), action: 'purchase', amount, counterparty: shop.did, trust: { principals: [erin.did], identityIssuers: [operator.did] } });
    await d.spend?.commit();
    return d;
  };
  const first = await buy('15 EUR');
  step({ title: 'bookshop checks courier-bot buying for 15 EUR: allowed, spend reserved on both links', ok: first.ok, detail: `remaining ${first.spend?.remaining.budget?.amount} ${first.spend?.remaining.budget?.currency}` });
  const big = await buy('25 EUR');
  step({ title: 'courier-bot tries 25 EUR: refused, over its per-transaction limit', expect: 'refused', ok: !big.ok, code: big.reasons[0]?.code });
  await buy('20 EUR');
  const over = await buy('10 EUR');
  step({ title: 'after 15 + 20 EUR, another 10 EUR would pass 40 EUR: refused', expect: 'refused', ok: !over.ok, code: over.reasons[0]?.code });
  await revokeMandate(home.store, root.id, (did) => home.issuer(did));
  // A verifier that has not cached the list yet (a cached one sees it after the list's ttl).
  const cut = await buy('1 EUR', createStatusChecker({ resolver: home.resolver, allowLoopback: true, allowHttp: true }));
  step({ title: "erin revokes shopper's mandate: courier-bot's link below it stops working too", expect: 'refused', ok: !cut.ok, code: cut.reasons[0]?.code });
}
