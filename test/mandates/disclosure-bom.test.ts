import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { verifyMandateChain } from '../../src/mandates/index.js';
import { parseSdJwt } from '../../src/mandates/sd.js';
import { CharterError } from '../../src/errors.js';
import { ap2World, NOW, viAutonomous, viPay, viVerifyOptions, viWorld } from './worlds.js';

/*
 * A VI or AP2 layer's disclosures are read twice: by Charter's own strict
 * decoder, then by @sd-jwt/utils for the digest. The two must agree on what a
 * disclosure is, or bytes Charter let through make the peer throw a plain
 * Error out of verifyMandateChain (a 500 where a refusal is due), before any
 * signature is checked. Found by differential testing against @sd-jwt: a
 * leading byte order mark, which TextDecoder strips by default and the peer
 * keeps (and JSON.parse refuses; RFC 8259 §8.1: no BOM in JSON text).
 */

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const disclosureOf = (bytes: Buffer) => bytes.toString('base64url');
const bomDisclosure = disclosureOf(Buffer.concat([BOM, Buffer.from(JSON.stringify(['salt', 'amount', 100]))]));
/** `layer` (jwt~d~...~) with one more disclosure before its trailing `~`. */
const withDisclosure = (layer: string, d: string) => `${layer}${d}~`;

describe('a disclosure Charter and @sd-jwt read differently is refused as a credential fault, never thrown', () => {
  it('parseSdJwt: a leading BOM is INVALID_CREDENTIAL (the minimal case)', async () => {
    const w = await viWorld();
    expect(() => parseSdJwt(withDisclosure(w.l1, bomDisclosure), 'L1')).toThrow(CharterError);
    try {
      parseSdJwt(withDisclosure(w.l1, bomDisclosure), 'L1');
    } catch (e) {
      expect((e as CharterError).code).toBe('INVALID_CREDENTIAL');
      expect((e as Error).message).toMatch(/byte order mark/);
    }
  });

  it('VI: a BOM disclosure in L1, L2 or L3a refuses the chain with a reason (no exception)', async () => {
    const w = await viWorld();
    const intent = await viAutonomous(w);
    const pay = await viPay(w, intent);
    const opts = viVerifyOptions(w, { aud: 'https://agent.example.com', nonce: 'n-l2' });
    const honest = await verifyMandateChain({ l1: w.l1, l2: intent.l2, ...pay }, opts);
    expect(honest.reasons).toEqual([]);
    for (const input of [
      { l1: withDisclosure(w.l1, bomDisclosure), l2: intent.l2, ...pay },
      { l1: w.l1, l2: withDisclosure(intent.l2, bomDisclosure), ...pay },
      { l1: w.l1, l2: intent.l2, ...pay, l3_payment: withDisclosure(pay.l3_payment, bomDisclosure) },
    ]) {
      const d = await verifyMandateChain(input, opts);
      expect(d.ok).toBe(false);
      expect(d.reasons.map((r) => r.code)).toEqual(['INVALID_CREDENTIAL']);
    }
  });

  it('AP2: a BOM disclosure in an open mandate refuses the chain with a reason (no exception)', async () => {
    const w = ap2World();
    const oc = await w.openCheckout();
    const d = await verifyMandateChain(withDisclosure(oc, bomDisclosure), { profile: 'ap2', trust: w.trust, now: NOW });
    expect(d.ok).toBe(false);
    expect(d.reasons.map((r) => r.code)).toEqual(['INVALID_CREDENTIAL']);
  });

  it('property: whatever bytes a disclosure holds, parseSdJwt fails only with a CharterError', async () => {
    const w = await viWorld();
    const text = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), fc.jsonValue()).map((a) => JSON.stringify(a)),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    const prefix = fc.constantFrom('', '\ufeff', ' ', '\ufeff\ufeff', '\u00a0', '\t');
    const bytes = fc.oneof(
      fc.tuple(prefix, text, prefix).map(([a, t, b]) => Buffer.from(a + t + b, 'utf8')),
      fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
      fc.tuple(fc.uint8Array({ maxLength: 4 }), text).map(([u, t]) => Buffer.concat([Buffer.from(u), Buffer.from(t)])),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        const d = disclosureOf(b);
        if (d.length === 0) return;
        try {
          parseSdJwt(withDisclosure(w.l1, d), 'L1');
        } catch (e) {
          expect(e).toBeInstanceOf(CharterError);
        }
      }),
      { seed: 8259, numRuns: 500 },
    );
  });
});
