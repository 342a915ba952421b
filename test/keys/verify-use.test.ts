import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { documentResolver } from '../../src/did/index.js';
import { importHttpSigKey } from '../../src/httpsig/keys.js';
import { assertVerifyUse, generateKeyPair, validatePublicJwk } from '../../src/keys/index.js';
import { closeAp2Mandate, hashAscii, issueAp2OpenMandate, verifyMandateChain } from '../../src/mandates/index.js';
import { disclose, ref, sdJwt } from '../../src/mandates/issue-common.js';
import { keyFromJwk, trustedKeysFor } from '../../src/mandates/trust.js';
import { ap2World, AP2_MERCHANT, NOW, T0 } from '../mandates/worlds.js';

/**
 * RFC 7517 §4.2, §4.3: a JWK whose `use` is not "sig", or whose `key_ops`
 * are not a list holding "verify", verifies no signature, wherever the key
 * comes from: a DID method (src/did), a mandate's pinned or delegated key
 * (src/mandates keyFromJwk), an HTTP message signature key (src/httpsig).
 * One rule, src/keys assertVerifyUse; INVALID_KEY.
 */
const REFUSED: Record<string, unknown>[] = [
  { use: 'enc' },
  { use: 'SIG' },
  { use: '' },
  { use: ['sig'] },
  { use: null },
  { key_ops: ['encrypt'] },
  { key_ops: ['deriveKey'] },
  { key_ops: ['sign'] },
  { key_ops: [] },
  { key_ops: 'verify' },
  { key_ops: { 0: 'verify' } },
  { key_ops: null },
  { use: 'enc', key_ops: ['verify'] },
  { use: 'sig', key_ops: ['encrypt'] },
];
const ACCEPTED: Record<string, unknown>[] = [{}, { use: 'sig' }, { key_ops: ['verify'] }, { key_ops: ['sign', 'verify'] }, { use: 'sig', key_ops: ['verify'] }];
const label = (x: Record<string, unknown>) => JSON.stringify(x);

const ed = generateKeyPair('Ed25519').publicJwk;
const p256 = generateKeyPair('P-256').publicJwk;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;

describe('assertVerifyUse', () => {
  it.each(REFUSED.map((x) => [label(x), x]))('refuses %s (INVALID_KEY)', (_, extra) => {
    expect(() => assertVerifyUse({ ...ed, ...extra })).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
    expect(() => assertVerifyUse({ ...ed, ...extra }, 'did:example:1#k')).toThrow(/did:example:1#k/);
  });
  it.each(ACCEPTED.map((x) => [label(x), x]))('accepts %s', (_, extra) => {
    expect(() => assertVerifyUse({ ...ed, ...extra })).not.toThrow();
  });
  it('leaves what is not an object to the key rules', () => {
    for (const v of [null, undefined, 'jwk', 1]) expect(() => assertVerifyUse(v)).not.toThrow();
    // validatePublicJwk reads the key material alone: it is not where use is judged
    expect(validatePublicJwk({ ...ed, use: 'enc' })).toEqual(ed);
  });
});

describe('HTTP message signature keys (importHttpSigKey)', () => {
  for (const [name, jwk] of [
    ['Ed25519', ed],
    ['P-256', p256],
    ['RSA', rsa],
  ] as const) {
    it(`${name}: a key not for verifying is refused, a signing key accepted`, () => {
      for (const extra of REFUSED) expect(() => importHttpSigKey({ ...jwk, ...extra }), label(extra)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
      for (const extra of ACCEPTED) expect(importHttpSigKey({ ...jwk, ...extra }).thumbprint, label(extra)).toBe(importHttpSigKey(jwk).thumbprint);
    });
  }
});

describe('mandate keys (keyFromJwk, trust anchors, cnf)', () => {
  it('keyFromJwk refuses a key not for verifying, accepts a signing key', () => {
    for (const jwk of [ed, p256]) {
      for (const extra of REFUSED) expect(() => keyFromJwk({ ...jwk, ...extra }), label(extra)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
      for (const extra of ACCEPTED) expect(keyFromJwk({ ...jwk, ...extra }).publicJwk, label(extra)).toEqual(jwk);
    }
  });

  it('a pinned JWKS: an encryption key in it is no candidate, its signing key is', async () => {
    const keys = await trustedKeysFor(
      [
        {
          keys: [
            { ...p256, use: 'enc' },
            { ...ed, key_ops: ['deriveKey'] },
          ],
        },
      ],
      { alg: 'ES256' },
      { now: NOW, faults: [] },
    );
    expect(keys).toEqual([]);
    const both = await trustedKeysFor(
      [
        {
          keys: [
            { ...p256, use: 'enc' },
            { ...ed, use: 'sig' },
          ],
        },
      ],
      { alg: 'EdDSA' },
      { now: NOW, faults: [] },
    );
    expect(both.map((k) => k.key.publicJwk)).toEqual([ed]);
  });

  it('an AP2 root pinned as a key for encryption is refused; pinned for signing it verifies', async () => {
    const w = ap2World();
    const oc = await w.openCheckout();
    const order = await w.order('o1', 100);
    const payment = await w.closePayment(await w.openPayment(oc, []), hashAscii(order), 100, 'n-psp');
    const checkout = await w.closeCheckout(oc, order, 'n-merchant');
    const opts = (root: unknown) => ({
      profile: 'ap2' as const,
      trust: { issuers: [root as never], merchants: w.trust.merchants },
      now: NOW,
      paymentAud: 'psp',
      paymentNonce: 'n-psp',
      checkoutAud: 'merchant',
      checkoutNonce: 'n-merchant',
    });
    for (const extra of [{ use: 'enc' }, { key_ops: ['encrypt'] }]) {
      await expect(verifyMandateChain({ payment, checkout }, opts({ ...w.root.publicJwk, ...extra }))).rejects.toMatchObject({ code: 'INVALID_KEY' });
    }
    expect((await verifyMandateChain({ payment, checkout }, opts({ ...w.root.publicJwk, use: 'sig', key_ops: ['verify'] }))).ok).toBe(true);
  });

  it('an AP2 open mandate delegating to an agent key for encryption: the agent’s hop is refused (INVALID_KEY)', async () => {
    const w = ap2World();
    const oc = await w.openCheckout();
    const order = await w.order('o1', 100);
    const checkout = await w.closeCheckout(oc, order, 'n-merchant');
    const openWith = async (cnf: Record<string, unknown>) => {
      const m = disclose({
        vct: 'mandate.payment.open.1',
        constraints: [{ type: 'payment.reference', conditional_transaction_id: hashAscii(oc) }],
        cnf: { jwk: cnf },
        iat: T0,
        exp: T0 + 3600,
      });
      return sdJwt({ typ: 'dc+sd-jwt' }, { iss: w.root.issuer.did, iat: T0, delegate_payload: [ref(m)], _sd_alg: 'sha-256' }, [m], w.root.signer, w.root.kid);
    };
    const run = async (cnf: Record<string, unknown>) => {
      const payment = await closeAp2Mandate({
        chain: await openWith(cnf),
        signer: w.agent.signer,
        aud: 'psp',
        nonce: 'n-psp',
        now: new Date((T0 + 30) * 1000),
        mandate: {
          vct: 'mandate.payment.1',
          transaction_id: hashAscii(order),
          payee: AP2_MERCHANT,
          payment_amount: { amount: 100, currency: 'USD' },
          payment_instrument: { id: 'i', type: 'card' },
        },
      });
      return verifyMandateChain(
        { payment, checkout },
        { profile: 'ap2', trust: w.trust, now: NOW, paymentAud: 'psp', paymentNonce: 'n-psp', checkoutAud: 'merchant', checkoutNonce: 'n-merchant' },
      );
    };
    for (const extra of [{ use: 'enc' }, { key_ops: ['encrypt'] }, { key_ops: [] }]) {
      const d = await run({ ...w.agent.publicJwk, ...extra });
      expect(d.ok, label(extra)).toBe(false);
      expect(d.reasons.map((r) => r.code)).toContain('INVALID_KEY');
    }
    expect((await run({ ...w.agent.publicJwk, use: 'sig' })).ok).toBe(true);
    // Charter's issuer writes the agent key without use or key_ops (validatePublicJwk keeps the key material only)
    const issued = await issueAp2OpenMandate({
      issuer: w.root.issuer,
      kind: 'payment',
      agent: { jwk: { ...w.agent.publicJwk, key_ops: ['verify'] } as never },
      constraints: [{ type: 'payment.reference', conditional_transaction_id: hashAscii(oc) }],
    });
    expect(issued).toMatch(/~$/);
  });
});

describe('DID verification methods (the same rule, through select.ts)', () => {
  it('a publicKeyJwk not for verifying is no key for the DID; a signing one is', async () => {
    const did = 'did:web:keys.example';
    const resolverFor = (extra: Record<string, unknown>) =>
      documentResolver(
        async () =>
          ({
            '@context': ['https://www.w3.org/ns/did/v1'],
            id: did,
            verificationMethod: [{ id: `${did}#k`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: { ...ed, ...extra } }],
            assertionMethod: [`${did}#k`],
          }) as never,
      );
    for (const extra of REFUSED) await expect(resolverFor(extra).resolveKey(did, undefined, 'assertionMethod'), label(extra)).rejects.toMatchObject({ code: 'INVALID_KEY' });
    for (const extra of ACCEPTED) expect((await resolverFor(extra).resolveKey(did, undefined, 'assertionMethod')).id, label(extra)).toBe(`${did}#k`);
  });
});
