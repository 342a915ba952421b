import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { didKeyRef } from '../src/did/index.js';
import { createSigner, generateKeyPair } from '../src/keys/index.js';
import { signJwt } from '../src/credentials/index.js';
import { issueViAction, issueViCredential, issueViIntent, verifyMandateChain, type ViChainInput } from '../src/mandates/index.js';
import { createVerifier } from '../src/guard/verifier.js';
import { authorizeMandatePayment } from '../src/guard/transaction.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { printTable, ratio } from './measure.js';

/**
 * A Verifiable Intent payment (L1, L2, L3a, L3b: four ES256 signatures and a
 * checkout hash) verified statelessly, and through the guard: bound (aud,
 * nonce used once in the store), verified, and reserved then committed on
 * a payment.cumulative budget in SQLite. Each guarded payment needs its own
 * L3 (a nonce is used once), so the chains are made before the clock starts.
 */
export async function benchMandates(): Promise<Record<string, number>> {
  const party = () => {
    const kp = generateKeyPair('P-256');
    return { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
  };
  const [bank, user, agent, shop] = [party(), party(), party(), party()];
  const now = new Date();
  const aud = 'https://psp.example';
  const merchant = { id: 'shop', name: 'Shop', website: 'https://shop.example' };
  const card = { id: 'card-1', type: 'card' };
  const l1 = await issueViCredential({ issuer: bank, user: { jwk: user.publicJwk }, subject: 'user', cardId: card.id });
  const intent = await issueViIntent({
    issuer: user,
    l1,
    aud: 'agent',
    nonce: 'n',
    now,
    expiresIn: 86400,
    autonomous: {
      agent: { jwk: agent.publicJwk, kid: agent.kid },
      instrument: card,
      maxAmount: { amount: '100', currency: 'USD' },
      payees: [merchant],
      merchants: [merchant],
      lineItems: [{ id: 'l', acceptable: [{ id: 'item', title: 'Item' }], quantity: 1 }],
      cumulative: { amount: '1000000000', currency: 'USD', period: 'MONTHLY' },
    },
  });
  const checkoutJwt = await signJwt({ typ: 'JWT' }, { merchant, line_items: [{ id: 'l', item: { id: 'item' }, quantity: 1 }] }, shop.signer, shop.kid);
  const chain = async (): Promise<ViChainInput> => ({
    l1,
    l2: intent.l2,
    ...(await issueViAction({
      signer: agent.signer,
      kid: agent.kid,
      iss: 'agent',
      intent,
      merchant,
      itemIds: ['item'],
      checkoutJwt,
      amount: { amount: '1', currency: 'USD' },
      instrument: card,
      payment: { aud, nonce: randomUUID() },
      checkout: { aud: 'shop', nonce: 'n' },
      now,
    })),
  });
  const N = 400;
  const chains = await Promise.all(Array.from({ length: N + 20 }, chain));
  const trust = { issuers: [bank.publicJwk] };
  const options = { profile: 'verifiable-intent' as const, trust, paymentAud: aud, paymentNonce: '', now };

  /** N payments, `inFlight` at a time (a guard serves many requests at once; the store batches their commits). */
  const time = async (fn: (i: number) => Promise<boolean>, inFlight = 1) => {
    for (let i = 0; i < 20; i++) if (!(await fn(N + i))) throw new Error('bench setup: a payment was refused');
    let next = 0;
    const worker = async () => {
      while (next < N) if (!(await fn(next++))) throw new Error('bench: a payment was refused');
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: inFlight }, worker));
    return (N * 1000) / (performance.now() - start);
  };
  const paymentNonce = (c: ViChainInput) => (JSON.parse(Buffer.from(c.l3_payment!.split('.')[1]!, 'base64url').toString()) as { nonce: string }).nonce;
  const m1 = await time(async (i) => (await verifyMandateChain(chains[i]!, { ...options, paymentNonce: paymentNonce(chains[i]!) })).ok);

  const dir = mkdtempSync(join(tmpdir(), 'charter-bench-mandates-'));
  const store = await openSqliteStore(join(dir, 'guard.db'));
  try {
    const verifier = createVerifier({ aud, store, http: false });
    const m2 = await time(async (i) => {
      const d = await authorizeMandatePayment(chains[i]!, { verifier, profile: 'verifiable-intent', trust, now });
      await d.spend?.commit();
      return d.ok;
    }, 8);
    printTable('Payment mandates: a Verifiable Intent payment (4 ES256 signatures), one core', [
      { name: '(m1) verifyMandateChain, stateless', opsPerSec: m1 },
      { name: '(m2) authorizeMandatePayment + commit, SQLite, 8 in flight', opsPerSec: m2, note: 'bound, nonce used once, reserved on payment.cumulative' },
    ]);
    console.log(`  ratio: m2/m1 = ${ratio(m2, m1)} (what the store adds: a nonce insert and a reservation with its commit)`);
    return { m1, m2 };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
