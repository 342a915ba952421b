import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { guardTool, PRESENTATION_META, toolRefusal } from '../../src/integrations/mcp/index.js';
import { requireMandate } from '../../src/http/guards.js';
import { verifyRequest } from '../../src/http/request.js';
import { closeAp2Mandate, hashAscii, issueAp2OpenMandate, mandateToken } from '../../src/mandates/index.js';
import { tempDir } from '../helpers.js';
import { freshParty } from './helpers.js';

/**
 * A route or tool whose payee is a function of the request must name a
 * merchant as a string: nothing, or anything else, is COUNTERPARTY_NOT_ALLOWED
 * (never coerced, never left unchecked), and an empty payee id in the chain
 * names no one: an AP2 closed mandate with one is INVALID_CREDENTIAL, so the
 * two empties can never match.
 */
const AUD = 'https://psp.example';
const root = freshParty();
const agent = freshParty();
/** Each checkout is paid once (the ledger): every payment here is for a checkout of its own. */
let checkoutHash = hashAscii('some-checkout-jwt');
const nextCheckout = () => (checkoutHash = hashAscii(`checkout-${randomUUID()}`));
const now = () => new Date(Math.floor(Date.now() / 1000) * 1000);
let store: Store;
let verifier: Verifier;
let httpVerifier: Verifier;

beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-payee-'), 'p.db'));
  verifier = createVerifier({ aud: AUD, store, resolver: createResolver(), http: false });
  httpVerifier = createVerifier({ aud: AUD, store, resolver: createResolver(), publicOrigin: AUD });
});
afterAll(async () => store.close());

/** An open payment mandate (paid once, as AP2 pays one without agent_recurrence) with no payee restriction, closed by the agent for `payee`. */
const close = async (payee: Record<string, string>) =>
  (nextCheckout(), closeAp2Mandate)({
    chain: await issueAp2OpenMandate({
      issuer: root.issuer,
      kind: 'payment',
      agent: { jwk: agent.publicJwk },
      now: now(),
      expiresIn: 3600,
      constraints: [
        { type: 'payment.reference', conditional_transaction_id: hashAscii('open-co') },
        { type: 'payment.amount_range', currency: 'USD', max: 20000, min: 0 },
      ] as never,
    }),
    signer: agent.signer,
    aud: AUD,
    nonce: randomUUID(),
    now: now(),
    mandate: {
      vct: 'mandate.payment.1',
      transaction_id: checkoutHash,
      payee,
      payment_amount: { amount: 1000, currency: 'USD' },
      payment_instrument: { id: 'c1', type: 'card' },
    } as never,
  });

describe('the payee a request names is checked whatever it is', () => {
  it('MCP: undefined, an array, a number or "" is COUNTERPARTY_NOT_ALLOWED; the right merchant pays; the tool runs once', async () => {
    const runs: unknown[] = [];
    const tool = guardTool<{ amount: string; merchant?: unknown }>(
      'pay',
      {
        verifier,
        mandate: {
          profile: 'ap2',
          trust: { issuers: [root.publicJwk] },
          payee: (a) => a.merchant as string,
          checkoutHash: () => checkoutHash,
          openCheckoutHash: () => hashAscii('open-co'),
        },
        amount: (a) => `${a.amount} USD`,
      },
      (args) => {
        runs.push(args.merchant);
        return { content: [{ type: 'text', text: 'paid' }] };
      },
    );
    const payee = { id: 'merchant_1', name: 'M', website: 'https://m.example' };
    for (const merchant of [undefined, ['merchant_1'], 1, '', 'merchant_2']) {
      const r = await tool({ amount: '10', ...(merchant !== undefined ? { merchant } : {}) }, { _meta: { [PRESENTATION_META]: await close(payee) } } as never);
      expect([merchant, toolRefusal(r)?.code]).toEqual([merchant, 'COUNTERPARTY_NOT_ALLOWED']);
    }
    const ok = await tool({ amount: '10', merchant: 'merchant_1' }, { _meta: { [PRESENTATION_META]: await close(payee) } } as never);
    expect(toolRefusal(ok)).toBeUndefined();
    expect(runs).toEqual(['merchant_1']);
  });

  it('HTTP: a payee header missing or repeated is refused the same way', async () => {
    const guard = requireMandate({
      profile: 'ap2',
      trust: { issuers: [root.publicJwk] },
      payee: (r: Request) => (r.headers.get('x-merchant') ?? undefined) as string,
      checkoutHash: () => checkoutHash,
      openCheckoutHash: () => hashAscii('open-co'),
      amount: () => '10 USD',
    });
    const pay = async (headers: Record<string, string>) => {
      const req = new Request(`${AUD}/pay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${mandateToken('ap2', await close({ id: 'merchant_1', name: 'M', website: 'https://m.example' }))}`, ...headers },
      });
      const d = await verifyRequest(req, httpVerifier, guard);
      await d.spend?.release();
      return [d.status, d.reasons.map((r) => r.code)];
    };
    expect(await pay({})).toEqual([403, ['COUNTERPARTY_NOT_ALLOWED']]);
    expect(await pay({ 'x-merchant': '' })).toEqual([403, ['COUNTERPARTY_NOT_ALLOWED']]);
    expect(await pay({ 'x-merchant': 'merchant_1' })).toEqual([200, []]);
  });

  it('an AP2 payee with an empty id names no one: INVALID_CREDENTIAL, whatever the route names (even nothing)', async () => {
    const tool = guardTool<{ amount: string; merchant?: string }>(
      'pay',
      {
        verifier,
        mandate: { profile: 'ap2', trust: { issuers: [root.publicJwk] }, payee: (a) => a.merchant, checkoutHash: () => checkoutHash, openCheckoutHash: () => hashAscii('open-co') },
        amount: (a) => `${a.amount} USD`,
      },
      () => ({ content: [{ type: 'text', text: 'paid' }] }),
    );
    for (const merchant of [undefined, '']) {
      const r = await tool({ amount: '10', ...(merchant !== undefined ? { merchant } : {}) }, {
        _meta: { [PRESENTATION_META]: await close({ id: '', name: 'M', website: '' }) },
      } as never);
      expect([merchant, toolRefusal(r)?.code]).toEqual([merchant, 'INVALID_CREDENTIAL']);
    }
  });
});
