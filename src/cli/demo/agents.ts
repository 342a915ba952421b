import { randomUUID } from 'node:crypto';
import { createAgentPresentation, delegateMandate, issueAgentIdentity, issueMandate, revokeMandate } from '../../agents/index.js';
import { createVerifier } from '../../guard/verifier.js';
import { authorizeTransaction } from '../../guard/transaction.js';
import { createStatusChecker } from '../../status/index.js';
import type { DemoContext } from './types.js';

/** A person lets a shopping agent buy within limits; it hands a narrower part to a helper agent; a shop checks every purchase. */
export async function agentsWalk({ home, step, publicUrl }: DemoContext): Promise<void> {
  const erin = await home.createIdentity({ alias: 'erin' });
  const operator = await home.createIdentity({ alias: 'acme-agents', keyType: 'P-256' });
  const shop = await home.createIdentity({ alias: 'bookshop' });
  const shopper = await home.createIdentity({ alias: 'shopper', meta: { role: 'agent', operator: operator.did } });
  const courier = await home.createIdentity({ alias: 'courier-bot', meta: { role: 'agent', operator: operator.did } });
  const opIssuer = await home.issuer(operator.alias);
  await issueAgentIdentity(home.store, opIssuer, { agent: shopper.did, name: 'Acme Shopper', software: { name: 'shopper', version: '2.1.0' } });
  const courierId = await issueAgentIdentity(home.store, opIssuer, { agent: courier.did, name: 'Acme Courier', software: { name: 'courier', version: '0.9.3' } });
  step({
    title: 'acme-agents, a company that runs AI agents, vouches for two of them: shopper and courier-bot',
    ok: true,
    detail: 'AgentIdentityCredentials signed by the operator (P-256 did:key)',
  });

  const root = await issueMandate(home.store, await home.issuer('erin'), {
    agent: shopper.did,
    authority: {
      actions: ['purchase'],
      maxDelegationDepth: 1,
      limits: {
        perTransaction: { amount: '50', currency: 'EUR' },
        budget: { amount: '120', currency: 'EUR', period: 'P30D' },
        counterparties: [shop.did],
        rate: { count: 10, period: 'P1D' },
      },
    },
    validUntil: new Date(Date.now() + 7 * 86_400_000),
    baseUrl: publicUrl,
  });
  step({
    title: 'erin lets shopper buy at bookshop for 7 days: at most 50 EUR a purchase, 120 EUR in 30 days, 10 purchases a day',
    ok: true,
    detail: `AgentAuthorityCredential (mandate) ${root.id}, max delegation depth 1`,
  });

  // shopper's delegation to courier-bot: 40 EUR in 30 days, 3 purchases a day, at most `perPurchase` EUR each.
  const delegate = async (perPurchase: string) =>
    delegateMandate(home.store, await home.issuer('shopper'), {
      parentJwt: root.jwt,
      to: courier.did,
      authority: {
        actions: ['purchase'],
        maxDelegationDepth: 0,
        limits: {
          perTransaction: { amount: perPurchase, currency: 'EUR' },
          budget: { amount: '40', currency: 'EUR', period: 'P30D' },
          counterparties: [shop.did],
          rate: { count: 3, period: 'P1D' },
        },
      },
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: publicUrl,
    });
  try {
    await delegate('80');
    step({ title: 'shopper tries to let courier-bot spend 80 EUR a purchase, more than shopper itself may', expect: 'refused', ok: false });
  } catch (e) {
    const code = (e as { code?: string }).code;
    step({
      title: 'shopper tries to let courier-bot spend 80 EUR a purchase, more than shopper itself may',
      expect: 'refused',
      ok: code === 'AUTHORITY_WIDENED',
      code,
      detail: 'a delegated mandate may only narrow: refused when it is issued',
    });
  }
  const sub = await delegate('20');
  step({
    title: 'shopper lets courier-bot buy for it instead: at most 20 EUR a purchase, 40 EUR in total, 3 a day',
    ok: true,
    detail: `delegated mandate ${sub.id}, parent ${root.id}`,
  });

  // The bookshop's guard: the one decision pipeline, with this home's store as its replay cache and ledger.
  const guard = (status = home.status) => createVerifier({ aud: shop.did, store: home.store, resolver: home.resolver, status, http: false });
  const buy = async (amount: string, status = home.status) => {
    const vp = await createAgentPresentation({ agent: await home.issuer('courier-bot'), identity: courierId.jwt, chain: [root.jwt, sub.jwt], aud: shop.did, nonce: randomUUID() });
    const d = await authorizeTransaction(vp, {
      verifier: guard(status),
      action: 'purchase',
      amount,
      counterparty: shop.did,
      trust: { principals: [erin.did], identityIssuers: [operator.did] },
    });
    await d.spend?.commit();
    return d;
  };
  const first = await buy('15 EUR');
  step({
    title: 'courier-bot buys a 15 EUR book at bookshop: allowed, and counted against both limits',
    ok: first.ok,
    detail: `spend reserved and committed on both links; ${first.spend?.remaining.budget?.amount} ${first.spend?.remaining.budget?.currency} left`,
  });
  const big = await buy('25 EUR');
  step({
    title: 'courier-bot tries a 25 EUR book, over its 20 EUR limit',
    expect: 'refused',
    ok: !big.ok && big.reasons[0]?.code === 'AUTHORITY_EXCEEDED',
    code: big.reasons[0]?.code,
  });
  const second = await buy('20 EUR');
  step({
    title: 'courier-bot buys a 20 EUR book: allowed (35 of its 40 EUR spent)',
    ok: second.ok,
    detail: `${second.spend?.remaining.budget?.amount} ${second.spend?.remaining.budget?.currency} left`,
  });
  const over = await buy('10 EUR');
  step({
    title: 'courier-bot tries another 10 EUR book, which would pass its 40 EUR',
    expect: 'refused',
    ok: !over.ok && over.reasons[0]?.code === 'BUDGET_EXCEEDED',
    code: over.reasons[0]?.code,
  });
  await revokeMandate(home.store, root.id, (did) => home.issuer(did));
  step({ title: 'erin takes back what she allowed shopper', ok: true, detail: `mandate ${root.id} revoked` });
  // A verifier that has not cached the list yet (a cached one sees it after the list's ttl).
  const cut = await buy('1 EUR', createStatusChecker({ resolver: home.resolver, allowLoopback: true, allowHttp: true }));
  step({
    title: "courier-bot tries a 1 EUR book: its permission came through shopper's, so it ends too",
    expect: 'refused',
    ok: !cut.ok && cut.reasons[0]?.code === 'CREDENTIAL_REVOKED',
    code: cut.reasons[0]?.code,
  });
}
