import { describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { jwkThumbprint, signRequest, verifyRequestSignature } from '../../src/httpsig/index.js';
import { keyIndex } from '../../src/httpsig/key-sources.js';

/**
 * verifyRequestSignature indexes the caller's `keys` and `directories` once
 * per options object. A caller that changes them in place (a compromised key
 * spliced out of its JWKS, a record name given another key, an origin's JWK
 * Set swapped or edited) must be answered from what it holds now: a key it no
 * longer holds verifies nothing, a key it added verifies.
 */
const SHOP = 'https://shop.example/search?q=tea';
const AGENT = 'https://agent.example';

function agent() {
  const kp = generateKeyPair('Ed25519');
  return { jwk: kp.publicJwk, signer: createSigner(kp.privateJwk), keyId: jwkThumbprint(kp.publicJwk) };
}
type Agent = ReturnType<typeof agent>;

const signed = (a: Agent, extra: { keyId?: string; signatureAgent?: string } = {}) =>
  signRequest({ method: 'GET', url: SHOP, headers: {} as Record<string, string> }, { signer: a.signer, publicJwk: a.jwk, ...extra });
const ok = async (req: Awaited<ReturnType<typeof signed>>, o: Parameters<typeof verifyRequestSignature>[1]) => (await verifyRequestSignature(req, o)).ok;

describe('caller keys changed in place', () => {
  it('a JWK Set: splice, replace an element, reassign its keys, push, edit a JWK', async () => {
    const [a, b, c] = [agent(), agent(), agent()];
    const [ra, rb, rc] = [await signed(a), await signed(b), await signed(c)];
    const jwks: { keys: unknown[] } = { keys: [a.jwk, b.jwk] };
    const o = { keys: jwks };
    expect([await ok(ra, o), await ok(rb, o), await ok(rc, o)]).toEqual([true, true, false]);

    jwks.keys.splice(0, 1); // a revoked
    expect([await ok(ra, o), await ok(rb, o)]).toEqual([false, true]);

    jwks.keys.push(c.jwk); // c added
    expect([await ok(rc, o), await ok(ra, o)]).toEqual([true, false]);

    jwks.keys[0] = a.jwk; // b replaced by a, same length
    expect([await ok(ra, o), await ok(rb, o), await ok(rc, o)]).toEqual([true, false, true]);

    jwks.keys = [b.jwk]; // the array itself swapped
    expect([await ok(ra, o), await ok(rb, o), await ok(rc, o)]).toEqual([false, true, false]);

    // the JWK object edited in place: its x is now c's
    const held = { ...b.jwk };
    jwks.keys = [held];
    expect(await ok(rb, o)).toBe(true);
    held.x = c.jwk.x;
    expect([await ok(rb, o), await ok(rc, o)]).toEqual([false, true]);

    jwks.keys.length = 0; // every key removed
    expect([await ok(ra, o), await ok(rb, o), await ok(rc, o)]).toEqual([false, false, false]);
  });

  it('a record of named keys: reassign a name, delete it, add one, rename', async () => {
    const [a, b] = [agent(), agent()];
    const ra = await signed(a, { keyId: 'partner' });
    const rb = await signed(b, { keyId: 'partner' });
    const rb2 = await signed(b, { keyId: 'other' });
    const rec: Record<string, unknown> = { partner: a.jwk };
    const o = { keys: rec };
    expect([await ok(ra, o), await ok(rb, o)]).toEqual([true, false]);

    rec.partner = b.jwk; // rotated
    expect([await ok(ra, o), await ok(rb, o)]).toEqual([false, true]);

    delete rec.partner;
    rec.other = b.jwk; // renamed
    expect([await ok(rb, o), await ok(rb2, o)]).toEqual([false, true]);

    delete rec.other;
    expect(await ok(rb2, o)).toBe(false);
  });

  it('directories held by the caller: an origin given another set, a key spliced from a set, an origin removed', async () => {
    const [a, b] = [agent(), agent()];
    const [ra, rb] = [await signed(a, { signatureAgent: AGENT }), await signed(b, { signatureAgent: AGENT })];
    const set: { keys: unknown[] } = { keys: [a.jwk] };
    const dirs: Record<string, { keys: unknown[] }> = { [AGENT]: set };
    const o = { directories: dirs };
    expect([await ok(ra, o), await ok(rb, o)]).toEqual([true, false]);

    set.keys.splice(0, 1, b.jwk); // the set edited in place: a out, b in
    expect([await ok(ra, o), await ok(rb, o)]).toEqual([false, true]);

    dirs[AGENT] = { keys: [a.jwk] }; // the origin given another set
    expect([await ok(ra, o), await ok(rb, o)]).toEqual([true, false]);

    delete dirs[AGENT];
    dirs['https://elsewhere.example'] = { keys: [a.jwk] };
    expect(await ok(ra, o)).toBe(false);

    dirs[`${AGENT}/`] = { keys: [b.jwk] }; // back, under its other spelling
    expect([await ok(ra, o), await ok(rb, o)]).toEqual([false, true]);
  });

  it('an unchanged options object keeps its index (not imported again per request)', () => {
    const [a, b] = [agent(), agent()];
    const jwks = { keys: [a.jwk, b.jwk] };
    const first = keyIndex(jwks);
    expect(keyIndex(jwks)).toBe(first);
    expect(keyIndex({ keys: [...jwks.keys] })).not.toBe(first);
    const rec = { x: a.jwk };
    const r1 = keyIndex(rec);
    expect(keyIndex(rec)).toBe(r1);
    jwks.keys.pop();
    expect(keyIndex(jwks)).not.toBe(first);
    expect(keyIndex(jwks).find(b.keyId)).toBeUndefined();
    expect(keyIndex(jwks).find(a.keyId)?.thumbprint).toBe(a.keyId);
  });
});
