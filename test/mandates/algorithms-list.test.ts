import { beforeAll, describe, expect, it } from 'vitest';
import { verifyMandateChain } from '../../src/mandates/index.js';
import type { JwsAlg } from '../../src/keys/types.js';
import { ap2Payment, ap2World, type Ap2World } from '../guard/chains.js';

/**
 * `algorithms` narrows what every layer may be signed with. A readonly list
 * (`as const`, a frozen module constant) was refused by the type
 * (`JwsAlg[]`) though nothing writes to it. And it is read once, as a dense
 * list (readOptions copies it): a sparse list (`new Array(2)`, `[, 'ES256']`)
 * must not pass the name check (Array.prototype.some skips holes, which
 * `includes` would read as undefined), and a list the caller changes while
 * the chain is verified must not change what that verification accepts.
 */
const AUD = 'https://psp.example';
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
let ap2: Ap2World;

beforeAll(async () => {
  ap2 = await ap2World(NOW);
});

const verify = async (algorithms: readonly JwsAlg[]) =>
  verifyMandateChain(await ap2Payment(ap2, { minor: 100, aud: AUD, now: NOW }), {
    profile: 'ap2',
    trust: { issuers: [ap2.root.publicJwk], merchants: [ap2.merchant.publicJwk] },
    now: NOW,
    allowMissingNonce: true,
    algorithms,
  });

describe('verifyMandateChain reads algorithms once, as a dense list', () => {
  it('a readonly (frozen, `as const`) list is taken as it is', async () => {
    const only = Object.freeze(['ES256'] as const);
    expect((await verify(only)).ok).toBe(true);
  });

  it.each([
    ['a list of holes only', () => new Array<JwsAlg>(2)],
    // eslint-disable-next-line no-sparse-arrays
    ['a hole before a name', () => [, 'ES256'] as JwsAlg[]],
    ['a hole after a name', () => Object.assign(['ES256'] as JwsAlg[], { length: 2 })],
  ])('%s is a TypeError, not a list that quietly holds undefined', async (_, make) => {
    await expect(verify(make())).rejects.toThrow(TypeError);
    await expect(verify(make())).rejects.toThrow(/algorithms must be a non-empty list/);
  });

  it('a list changed after the call does not widen what this verification accepts', async () => {
    const chain = await ap2Payment(ap2, { minor: 100, aud: AUD, now: NOW });
    const algorithms: JwsAlg[] = ['ES256K'];
    const pending = verifyMandateChain(chain, {
      profile: 'ap2',
      trust: { issuers: [ap2.root.publicJwk], merchants: [ap2.merchant.publicJwk] },
      now: NOW,
      allowMissingNonce: true,
      algorithms,
    });
    algorithms[0] = 'ES256';
    const d = await pending;
    expect([d.ok, d.reasons[0]?.code]).toEqual([false, 'INVALID_SIGNATURE']);
  });
});
