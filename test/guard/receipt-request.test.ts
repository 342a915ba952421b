import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReceipt, type DecisionReceipt } from '../../src/audit/index.js';
import { createPresentation } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { decide } from '../../src/guard/decide.js';
import type { GrantPolicy } from '../../src/guard/policy.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { toolBinding } from '../../src/integrations/mcp/binding.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';

/**
 * What a decision receipt records of the request (mutation testing of
 * src/guard/receipt.ts): an HTTP request by its method and its htu (origin
 * and path, as a presentation binds it: never the query or fragment, which
 * may carry a user's data, nor the URL as spelt), an MCP call by tool and
 * args digest only when that is all that is bound, any other claims by one
 * digest of them all.
 */
let w: World;
let v: Verifier;
beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'api' });
  const api: Issuer = await w.home.issuer('api');
  v = w.verifier({ receipts: { signer: api } });
}, 60_000);
afterAll(async () => w.close());

const grant: GrantPolicy = { kind: 'grant', resource: 'profile/email', action: 'read', owner: '' };
const requestOf = (jws: string) => (decodeReceipt(jws) as DecisionReceipt).request;

describe('the request a decision receipt records', () => {
  it('an HTTP request: its htu is origin and path, whatever the query, fragment, port or case of the URL', async () => {
    const g = await w.grant();
    const policy = { ...grant, owner: w.alice.did };
    for (const url of [
      'http://127.0.0.1:9999/profile/email',
      'http://127.0.0.1:9999/profile/email?who=jane%40example.com',
      'http://127.0.0.1:9999/profile/email?who=jane#frag',
      'HTTP://127.0.0.1:9999/profile/./email',
    ]) {
      const d = await decide(v, await bound(w.app, [g.jwt], { url }), policy, { kind: 'http', method: 'GET', url });
      expect(d.ok, url).toBe(true);
      expect(requestOf(d.receipt!), url).toEqual({ htm: 'GET', htu: 'http://127.0.0.1:9999/profile/email' });
      expect(JSON.stringify(decodeReceipt(d.receipt!)), url).not.toContain('jane');
    }
    // A refusal records it the same way.
    const url = 'http://127.0.0.1:9999/profile/email?who=jane';
    const no = await decide(v, await bound(w.app, [g.jwt], { url }), { ...policy, action: 'write' }, { kind: 'http', method: 'GET', url });
    expect(no.ok).toBe(false);
    expect(requestOf(no.receipt!)).toEqual({ htm: 'GET', htu: 'http://127.0.0.1:9999/profile/email' });
  });

  it('an MCP call with other claims bound beside it: one digest of all the claims, not the mcp member alone', async () => {
    const g = await w.grant();
    const policy = { ...grant, owner: w.alice.did };
    const mcp = toolBinding('lookup', { q: 1 });
    const only = await decide(v, await createPresentation({ holder: w.app, credentials: [g.jwt], aud: API, claims: mcp }), policy, { kind: 'claims', claims: mcp });
    expect(only.ok).toBe(true);
    expect(requestOf(only.receipt!)).toEqual(mcp);
    const claims = { ...mcp, order: 'o-1' };
    const both = await decide(v, await createPresentation({ holder: w.app, credentials: [g.jwt], aud: API, claims }), policy, { kind: 'claims', claims });
    expect(both.ok).toBe(true);
    expect(requestOf(both.receipt!)).toEqual({ claims: sha256Digest(claims) });
  });

  it("records the verifier's time window (skew, max age, nonce mode) a re-check needs", async () => {
    const g = await w.grant();
    const api = await w.home.issuer('api');
    for (const [o, window] of [
      // The test world's verifier: no skew, 30 s.
      [{}, { skew: 0, maxAge: 30, nonces: 'iat' }],
      [
        { skewSeconds: 7, maxAgeSeconds: 90 },
        { skew: 7, maxAge: 90, nonces: 'iat' },
      ],
      [
        { skewSeconds: 300, maxAgeSeconds: 3600 },
        { skew: 300, maxAge: 3600, nonces: 'iat' },
      ],
    ] as const) {
      const verifier = w.verifier({ receipts: { signer: api }, ...o });
      const url = 'http://127.0.0.1:9999/profile/email';
      const d = await decide(verifier, await bound(w.app, [g.jwt], { url }), { ...grant, owner: w.alice.did }, { kind: 'http', method: 'GET', url });
      expect(d.ok).toBe(true);
      expect((decodeReceipt(d.receipt!) as DecisionReceipt).window, JSON.stringify(o)).toEqual(window);
    }
  });
});
