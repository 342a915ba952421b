import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readOptions, type OptionSpec } from '../../src/encoding/options.js';
import { createAgentPresentation, verifyAgent, revokeMandate } from '../../src/agents/index.js';
import { createPresentation, verifyCredential, verifyPresentation } from '../../src/credentials/index.js';
import { openWorld, type World } from '../agents/fixture.js';
import { AUD, buildChain, codes, type Chain } from '../agents/setup.js';

/**
 * Prototype pollution elsewhere in the process (a vulnerable dependency's
 * merge, say) sets a key on Object.prototype. A verifier must not read it as
 * an option its caller never set: every opt-out stays off, every check on.
 */
const proto = Object.prototype as unknown as Record<string, unknown>;
const polluted: string[] = [];
function pollute(key: string, value: unknown): void {
  proto[key] = value;
  polluted.push(key);
}
afterEach(() => {
  for (const k of polluted.splice(0)) delete proto[k];
});

describe('readOptions ignores what Object.prototype carries', () => {
  interface Opts {
    maxAgeSeconds?: number;
    allowHolderMismatch?: boolean;
    trust?: { principals?: string[]; anyPrincipal?: boolean };
  }
  const SPEC: OptionSpec<Opts> = { maxAgeSeconds: true, allowHolderMismatch: 'boolean', trust: { principals: true, anyPrincipal: 'boolean' } };

  it('an inherited boolean, number or nested opt-out is neither read nor inherited by the copy', () => {
    pollute('allowHolderMismatch', true);
    pollute('maxAgeSeconds', 1e9);
    pollute('anyPrincipal', true);
    const o = readOptions('f', { trust: { principals: ['did:x:a'] } } as Opts, SPEC);
    expect(o.allowHolderMismatch).toBeUndefined();
    expect(o.maxAgeSeconds).toBeUndefined();
    expect(o.trust!.anyPrincipal).toBeUndefined();
    expect(o.trust!.principals).toEqual(['did:x:a']);
    // An inherited value that is not even a valid boolean is not read either (it would have thrown).
    pollute('allowHolderMismatch', 'yes');
    expect(() => readOptions('f', {} as Opts, SPEC)).not.toThrow();
  });

  it('a class instance still gives what its own prototype defines, never what Object.prototype carries', () => {
    pollute('allowHolderMismatch', true);
    class Config {
      get maxAgeSeconds() {
        return 9;
      }
    }
    const o = readOptions('f', new Config() as Opts, SPEC);
    expect(o.maxAgeSeconds).toBe(9);
    expect(o.allowHolderMismatch).toBeUndefined();
  });
});

describe('verifiers under a polluted Object.prototype', () => {
  let w: World;
  let c: Chain;
  beforeAll(async () => {
    w = await openWorld();
  }, 30_000);
  afterAll(async () => w?.close());

  // Each test its own chain: a refusal while polluted may be remembered (a schema validator walks
  // inherited enumerable keys too, so a polluted prototype fails closed with SCHEMA_INVALID, cached).
  beforeEach(async () => {
    c = await buildChain(w, 1);
  });
  const decide = async (trust: { principals: string[] }, withIdentity = true) => {
    const nonce = randomUUID();
    const jwt = await createAgentPresentation({ agent: c.agents[0]!, ...(withIdentity ? { identity: c.identity } : {}), chain: c.mandates.map((m) => m.jwt), aud: AUD, nonce });
    return verifyAgent(jwt, { resolver: w.resolver, status: w.status(), aud: AUD, nonce, action: 'pay:card', amount: '10 USD', counterparty: AUD, trust });
  };

  it('verifyAgent: an inherited anyPrincipal trusts no one more', async () => {
    pollute('anyPrincipal', true);
    const d = await decide({ principals: ['did:web:nobody.example'] });
    expect(d.ok).toBe(false);
    expect(codes(d)).toContain('UNTRUSTED_PRINCIPAL');
  });

  it('verifyAgent: an inherited requireIdentity: false still needs the identity credential', async () => {
    // The control: the same chain with its identity is allowed, so the refusal below is the identity's.
    expect(codes(await decide({ principals: [c.principal.did] }))).toEqual([]);
    pollute('requireIdentity', false);
    const d = await decide({ principals: [c.principal.did] }, false);
    expect(d.ok).toBe(false);
    expect(codes(d)).toContain('IDENTITY_MISSING');
  });

  it('verifyCredential: an inherited status function does not stand in for the missing checker', async () => {
    const m = c.mandates[0]!;
    await revokeMandate(w.store, m.id, w.issuerFor);
    pollute('status', async () => []);
    const v = await verifyCredential(m.jwt, { resolver: w.resolver });
    expect(v.ok).toBe(false);
    expect(codes(v)).toEqual(['STATUS_UNAVAILABLE']);
  });

  it('verifyPresentation: an inherited allowHolderMismatch or allowMissingNonce changes nothing', async () => {
    pollute('allowHolderMismatch', true);
    pollute('allowMissingNonce', true);
    const stranger = w.issuer('stranger');
    const vp = await createPresentation({ holder: stranger, credentials: [c.identity], aud: 'did:web:v.example', nonce: 'n1' });
    const p = await verifyPresentation(vp, { resolver: w.resolver, status: w.status(), aud: 'did:web:v.example', nonce: 'n1' });
    expect(p.ok).toBe(false);
    expect(codes(p)).toContain('HOLDER_MISMATCH');
    await expect(verifyPresentation(vp, { resolver: w.resolver, status: w.status(), aud: 'did:web:v.example' } as never)).rejects.toThrow(/nonce/);
  });
});
