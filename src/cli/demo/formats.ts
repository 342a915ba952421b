import { randomUUID } from 'node:crypto';
import { signJwt } from '../../credentials/index.js';
import { revokeGrant } from '../../grants/index.js';
import { issueSdJwtGrant, verifySdJwtGrant } from '../../sdjwt/grant.js';
import { presentSdJwtVc } from '../../sdjwt/present.js';
import { createTokenStatusChecker } from '../../status/token-checker.js';
import { exportMandate, issueViAction, issueViCredential } from '../../mandates/index.js';
import { createVerifier } from '../../guard/verifier.js';
import { guardMandatePayment } from '../../guard/transaction.js';
import type { DemoContext } from './types.js';

/**
 * The 2026 formats: a data grant as an SD-JWT VC, shown one permission at a
 * time; and a Verifiable Intent purchase, checked by a payment network
 * against the monthly budget its owner set.
 */
export async function formatsWalk(ctx: DemoContext): Promise<void> {
  await sdJwtGrant(ctx);
  await viPurchase(ctx);
}

async function sdJwtGrant({ home, step, publicUrl }: DemoContext): Promise<void> {
  const grace = await home.createIdentity({ alias: 'grace' });
  const app = await home.createIdentity({ alias: 'letter-app' });
  const grant = await issueSdJwtGrant(home.store, await home.issuer('grace'), {
    grantee: app.did,
    resources: ['profile/email', 'profile/birthday'],
    actions: ['read'],
    purpose: 'a weekly newsletter',
    validUntil: new Date(Date.now() + 30 * 86_400_000),
    baseUrl: publicUrl,
    resolver: home.resolver,
  });
  step({
    title: 'grace grants letter-app her email and her birthday, as a grant it can show one part of at a time',
    ok: true,
    detail: `SD-JWT VC ${grant.id}, disclosable ${grant.disclosable.join(', ')}, revocable (Token Status List index ${grant.statusIndex})`,
  });
  // A fresh status checker each time: the list is fetched from charter serve (/statuslists/<id>), never cached here.
  const check = async (resource: string, disclose: string[]) => {
    const nonce = randomUUID();
    const shown = await presentSdJwtVc(grant.token, { holder: await home.issuer('letter-app'), disclose, aud: 'did:web:newsletter.example', nonce });
    return verifySdJwtGrant(shown, {
      resolver: home.resolver,
      status: createTokenStatusChecker({ resolver: home.resolver, allowLoopback: true, allowHttp: true }),
      resource,
      action: 'read',
      owner: grace.did,
      aud: 'did:web:newsletter.example',
      nonce,
    });
  };
  const email = await check('profile/email', ['grant.resources.0', 'grant.actions.0']);
  step({
    title: "letter-app reads grace's email, showing only that part of the grant: allowed (her birthday stays hidden)",
    ok: email.ok,
    detail: `disclosed: ${email.disclosed?.join(', ')}`,
  });
  const birthday = await check('profile/birthday', ['grant.resources.0', 'grant.actions.0']);
  step({ title: 'letter-app asks for her birthday while showing only the email part', expect: 'refused', ok: !birthday.ok, code: birthday.reasons[0]?.code });
  await revokeGrant(home.store, grant.id, (did) => home.issuer(did));
  const revoked = await check('profile/email', ['grant.resources.0', 'grant.actions.0']);
  step({ title: 'grace revokes the grant; letter-app checks again against charter serve', expect: 'refused', ok: !revoked.ok, code: revoked.reasons[0]?.code });
}

async function viPurchase({ home, step }: DemoContext): Promise<void> {
  const bank = await home.createIdentity({ alias: 'card-bank', keyType: 'P-256' });
  const henry = await home.createIdentity({ alias: 'henry', keyType: 'P-256' });
  const agent = await home.createIdentity({ alias: 'gear-agent', keyType: 'P-256' });
  const shop = await home.createIdentity({ alias: 'racket-shop', keyType: 'P-256' });
  const network = await home.createIdentity({ alias: 'card-network' });
  const card = { id: 'card-4411', type: 'mastercard.srcDigitalCard', description: 'Mastercard **** 4411' };
  const merchant = { id: 'racket-shop', name: 'Racket Shop', website: 'https://racket-shop.example' };
  const l1 = await issueViCredential({ issuer: await home.issuer('card-bank'), user: { jwk: henry.publicJwk }, subject: 'henry', cardId: card.id });
  step({ title: 'card-bank gives henry a card credential bound to his key', ok: true, detail: 'Verifiable Intent L1 (sd+jwt), ES256' });

  const agentKey = await home.resolver.resolveKey(agent.did, undefined, 'authentication');
  const intent = await exportMandate({
    format: 'verifiable-intent',
    issuer: await home.issuer('henry'),
    agent: { jwk: agentKey.publicJwk, kid: agentKey.id },
    limits: { perTransaction: { amount: '300', currency: 'USD' }, budget: { amount: '400', currency: 'USD', period: { calendar: 'month', timeZone: 'UTC' } } },
    intent: {
      instrument: card,
      payees: [merchant],
      lineItems: [
        {
          id: 'racket',
          acceptable: [
            { id: 'PURE-AERO', title: 'Pure Aero racket' },
            { id: 'SPEED-MP', title: 'Speed MP racket' },
          ],
          quantity: 1,
        },
      ],
    },
    validUntil: new Date(Date.now() + 7 * 86_400_000),
    l1,
    aud: agent.did,
    nonce: randomUUID(),
  });
  step({
    title: 'henry lets gear-agent buy a racket at racket-shop: at most 300 USD a purchase, 400 USD a month',
    ok: true,
    detail: 'Verifiable Intent L2 (autonomous): amount_range max 30000, payment.cumulative 40000 USD MONTHLY',
  });

  // The payment network's guard: the one decision pipeline, this home's store as its ledger and replay cache.
  const verifier = createVerifier({ aud: network.did, store: home.store, resolver: home.resolver, http: false });
  // Both purchases at one instant, so they fall in the same calendar month even at a month's last second.
  const now = new Date();
  const buy = async (item: string, amount: string) => {
    const checkoutJwt = await signJwt(
      { typ: 'JWT' },
      { merchant, line_items: [{ id: 'line-1', item: { id: item, title: item }, quantity: 1 }], currency: 'USD', total: Number(amount) * 100 },
      (await home.issuer('racket-shop')).signer,
      shop.kid,
    );
    const action = await issueViAction({
      signer: (await home.issuer('gear-agent')).signer,
      kid: agentKey.id,
      iss: agent.did,
      intent: intent.intent!,
      merchant,
      itemIds: [item],
      checkoutJwt,
      amount: { amount, currency: 'USD' },
      instrument: card,
      payment: { aud: network.did, nonce: randomUUID() },
      checkout: { aud: merchant.website, nonce: randomUUID() },
      now,
    });
    return guardMandatePayment(
      { l1, l2: intent.mandate, ...action },
      { verifier, profile: 'verifiable-intent', trust: { issuers: [bank.did], resolver: home.resolver }, amount: `${amount} USD`, payee: merchant.id, now },
      () => 'charged',
    );
  };
  const first = await buy('PURE-AERO', '250');
  step({
    title: "gear-agent buys a 250 USD racket; card-network checks it against henry's monthly budget: allowed, charged",
    ok: first.ok && first.spend === 'committed',
    ...(first.ok ? { detail: `chain verified under card-bank's key; 250 USD reserved then committed on the ledger` } : { code: first.reasons[0]?.code }),
  });
  const second = await buy('SPEED-MP', '200');
  step({
    title: 'gear-agent tries a second racket for 200 USD this month, over the 400 USD monthly budget',
    expect: 'refused',
    ok: !second.ok,
    ...(second.ok ? {} : { code: second.reasons[0]?.code }),
  });
}
