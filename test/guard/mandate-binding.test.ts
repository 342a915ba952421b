import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { decide } from '../../src/guard/decide.js';
import type { MandatePolicy } from '../../src/guard/policy.js';
import { authorizeMandatePayment } from '../../src/guard/transaction.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';
import { ap2Checkout, ap2Open, ap2Pay, type Ap2Open } from './mandate-build.js';

/**
 * A payment mandate chain's closing layer has no place for transport claims in either profile, so one that
 * carries none is bound by aud, its used-once nonce and the payment it signs (decide.ts mandateFront). One
 * that does carry htm/htu or mcp was made for that one request: anywhere else it is REQUEST_MISMATCH, before
 * any signature is checked, and nothing is used up (the right request still goes through).
 */
const AUD = 'https://psp.example';
const PAY = `${AUD}/pay`;
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const codes = (r: { reasons?: { code: string }[] }) => (r.reasons ?? []).map((x) => x.code);

let store: Store;
let w: Ap2Open;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-mandate-binding-'), 'guard.db'));
  w = await ap2Open(NOW, (ref) => [
    { type: 'payment.reference', conditional_transaction_id: ref },
    { type: 'payment.amount_range', currency: 'USD', max: 20000 },
    { type: 'payment.budget', max: 1000, currency: 'USD' },
    { type: 'payment.agent_recurrence', frequency: 'ON_DEMAND' },
  ]);
});
afterAll(async () => store.close());

const verifierOn = (): Verifier => createVerifier({ aud: AUD, store, resolver: createResolver(), publicOrigin: AUD });
const policy = (): MandatePolicy => ({ kind: 'mandate', profile: 'ap2', trust: { issuers: [w.root.publicJwk] } });

/** The closing hop re-signed by the agent with `extra` claims beside aud, nonce and iat (what a client binding it to a request would sign). */
async function closedWith(extra: Record<string, unknown>): Promise<{ payment: string; checkout: string }> {
  const c = await ap2Checkout(w, NOW);
  const chain = await ap2Pay(w, c.hash, AUD, NOW);
  const at = chain.lastIndexOf('~~') + 2;
  const hop = chain.slice(at);
  const [jwt, ...rest] = hop.split('~');
  const [h, p] = jwt!.split('.');
  const payload = { ...(JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>), ...extra };
  const input = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const sig = Buffer.from(await w.agent.signer.sign(new TextEncoder().encode(input))).toString('base64url');
  return { payment: `${chain.slice(0, at)}${[`${input}.${sig}`, ...rest].join('~')}`, checkout: c.checkout };
}

describe("a mandate chain's closing layer that carries transport claims is bound by them", () => {
  it('htm/htu: refused for another URL or method (nothing used up), allowed for its own request', async () => {
    const v = verifierOn();
    const chain = await closedWith({ htm: 'POST', htu: PAY });
    for (const binding of [
      { kind: 'http' as const, method: 'POST', url: `${AUD}/refund` },
      { kind: 'http' as const, method: 'GET', url: PAY },
    ]) {
      const d = await decide(v, chain, policy(), binding);
      expect([d.status, codes(d)], `${binding.method} ${binding.url}`).toEqual([401, ['REQUEST_MISMATCH']]);
    }
    // Not an HTTP request at all (an MCP call; a direct authorizeMandatePayment): bound elsewhere.
    expect(codes(await decide(v, chain, policy(), { kind: 'claims', claims: { mcp: { tool: 'pay', args: '{}' } } }))).toContain('REQUEST_MISMATCH');
    expect(codes(await authorizeMandatePayment(chain, { verifier: v, profile: 'ap2', trust: { issuers: [w.root.publicJwk] }, now: NOW }))).toContain('REQUEST_MISMATCH');
    // None of those used the nonce up: the request it was made for is decided, and allowed.
    const ok = await decide(v, chain, policy(), { kind: 'http', method: 'POST', url: PAY });
    expect([ok.ok, codes(ok)]).toEqual([true, []]);
    await ok.spend?.release();
  });

  it('mcp: refused for another tool call or its arguments changed, allowed for its own call', async () => {
    const v = verifierOn();
    const mcp = { tool: 'pay', args: '{"cart":"c-1"}' };
    const chain = await closedWith({ mcp });
    expect(codes(await decide(v, chain, policy(), { kind: 'claims', claims: { mcp: { ...mcp, args: '{"cart":"c-2"}' } } }))).toEqual(['REQUEST_MISMATCH']);
    expect(codes(await decide(v, chain, policy(), { kind: 'claims', claims: { mcp: { ...mcp, tool: 'refund' } } }))).toEqual(['REQUEST_MISMATCH']);
    expect(codes(await decide(v, chain, policy(), { kind: 'http', method: 'POST', url: PAY }))).toContain('REQUEST_MISMATCH');
    const ok = await decide(v, chain, policy(), { kind: 'claims', claims: { mcp } });
    expect([ok.ok, codes(ok)]).toEqual([true, []]);
    await ok.spend?.release();
  });

  it("authorizeMandatePayment's binding: the call's own claims are what the closing layer is checked against", async () => {
    const v = verifierOn();
    const mcp = { tool: 'pay', args: '{"cart":"c-3"}' };
    const req = (binding?: Record<string, unknown>) => ({
      verifier: v,
      profile: 'ap2' as const,
      trust: { issuers: [w.root.publicJwk] },
      now: NOW,
      ...(binding ? { binding } : {}),
    });
    const chain = await closedWith({ mcp });
    expect(codes(await authorizeMandatePayment(chain, req({ mcp: { ...mcp, args: '{"cart":"c-4"}' } })))).toEqual(['REQUEST_MISMATCH']);
    const ok = await authorizeMandatePayment(chain, req({ mcp }));
    expect([ok.ok, codes(ok)]).toEqual([true, []]);
    await ok.spend?.release();
  });
});
