import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderChain } from '../../src/agents/index.js';
import { createPresentation } from '../../src/credentials/index.js';
import { authorizeMandatePayment, authorizeTransaction, guardTransaction } from '../../src/guard/transaction.js';
import { API, openWorld, type World } from '../http/world.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';

/**
 * A transaction or mandate payment request is checked as it is taken: a
 * caller's mistake is a TypeError, never a decision (mutation testing of
 * src/guard/transaction.ts found these checks could go with no test failing).
 */
let store: Store;
let verifier: Verifier;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-tx-request-'), 'v.db'));
  verifier = createVerifier({ aud: 'did:web:api.example', store, http: false });
});
afterAll(async () => store.close());

const jwk = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
const tx = (o: Record<string, unknown>) => authorizeTransaction('x.y.z', { verifier, action: 'purchase', amount: '5 USD', trust: { anyPrincipal: true }, ...o } as never);
const pay = (chain: unknown, o: Record<string, unknown> = {}) => authorizeMandatePayment(chain as never, { verifier, profile: 'ap2', trust: { issuers: [jwk] }, ...o } as never);

describe('authorizeTransaction: the request', () => {
  it('a valid request with a bad presentation is a decision (401), not a TypeError', async () => {
    expect((await tx({})).status).toBe(401);
    expect((await tx({ now: new Date(), binding: { mcp: { tool: 't', args: 'a' } } })).status).toBe(401);
  });

  it('action empty, now not a valid Date, binding not an object: TypeError', async () => {
    for (const o of [{ action: '' }, { now: new Date(Number.NaN) }, { now: Date.now() }, { binding: [] }, { binding: null }, { binding: 'x' }]) {
      await expect(tx(o), JSON.stringify(o)).rejects.toThrow(TypeError);
    }
  });
});

describe('authorizeMandatePayment: the chain and request', () => {
  it('a string or an object chain is decided; any other chain is a TypeError', async () => {
    expect((await pay('x.y.z')).ok).toBe(false);
    expect((await pay({ l1: 'x' })).ok).toBe(false);
    for (const chain of [42, null, true]) await expect(pay(chain), String(chain)).rejects.toThrow(TypeError);
    await expect(pay('x.y.z', { now: new Date(Number.NaN) })).rejects.toThrow(TypeError);
  });
});

describe('the request as a transaction is decided', () => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld();
  }, 60_000);
  afterAll(async () => w.close());
  const vp = async () => createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([await w.mandate()])], aud: API });

  it('request.now is the time the transaction is judged at', async () => {
    const req = { verifier: w.verifier(), action: 'purchase', amount: '5 USD', trust: { principals: [w.principal.did] } };
    const later = await authorizeTransaction(await vp(), { ...req, now: new Date(Date.now() + 400 * 86_400_000) });
    expect(later.ok).toBe(false);
    expect(later.reasons.map((r) => r.code)).toContain('PRESENTATION_STALE');
    const now = await authorizeTransaction(await vp(), { ...req, now: new Date() });
    expect(now.reasons).toEqual([]);
    await now.spend?.release();
  });

  it('a refusal in challenge mode hands back the nonce to answer', async () => {
    const verifier = w.verifier({ nonces: 'challenge' });
    const r = await guardTransaction(await vp(), { verifier, action: 'purchase', amount: '5 USD', trust: { principals: [w.principal.did] } }, () => 'ran');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.status).toBe(401);
    expect(typeof r.nonce).toBe('string');
    expect(r.nonce!.length).toBeGreaterThan(10);
  });
});
