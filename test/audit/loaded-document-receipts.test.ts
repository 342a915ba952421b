import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import type { Issuer } from '../../src/credentials/types.js';
import { documentResolver } from '../../src/did/index.js';
import { openWorld, type World } from '../http/world.js';

/**
 * A verifier keeping receipts records the DID documents of each decision as RFC 8785 JSON. One its
 * documentResolver loaded that JSON cannot carry (a Date from a database driver, a NaN) made every
 * decision a 503 "the decision could not be logged: try again", for as long as the document stayed so.
 */
let w: World;
let shop: Issuer;
beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'shop' });
  shop = await w.home.issuer('shop');
}, 30_000);
afterAll(async () => w?.close());

describe("a verifier's own document that is not JSON data", () => {
  it.each([
    ['a Date', { updated: new Date(0) }],
    ['NaN', { weight: Number.NaN }],
  ])('holding %s: decisions are still made and logged, not 503', async (_name, extra) => {
    const resolver = documentResolver(async (did) => {
      const doc = await w.resolver.resolve(did);
      return did === shop.did ? { ...doc, ...extra } : doc;
    });
    const v = w.verifier({ resolver, receipts: { signer: shop } });
    const url = 'http://127.0.0.1:9999/profile/email';
    const d = await decide(v, 'not-a-presentation', { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did }, { kind: 'http', method: 'GET', url });
    expect(d.status).toBe(401);
    expect(d.receiptId).toEqual(expect.any(String));
  });
});
