import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import rfc8032 from '../vectors/rfc8032-ed25519.json' with { type: 'json' };
import rfc8037 from '../vectors/rfc8037.json' with { type: 'json' };
import { didKey } from '../vectors/did-key.js';
import {
  createSigner,
  generateKeyPair,
  importVerificationKey,
  multibaseToPrivateJwk,
  multibaseToPublicJwk,
  privateJwkToMultibase,
  publicJwkToMultibase,
  verifySignature,
  publicJwkFromBytes,
  validatePublicJwk,
} from '../../src/keys/index.js';
import { base58btcDecode, base58btcEncode, multibaseDecode, multibaseEncode } from '../../src/encoding/multibase.js';
import { b64uDecode, b64uEncode } from '../../src/encoding/base64url.js';
import { isCharterError } from '../../src/errors.js';
import type { KeyType } from '../../src/keys/types.js';

const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const b64u = (h: string) => Buffer.from(h, 'hex').toString('base64url');
const enc = new TextEncoder();

describe('RFC 8032 §7.1 Ed25519 known answers', () => {
  for (const v of rfc8032) {
    it(`${v.name}: signs to the published signature and verifies`, () => {
      const signer = createSigner({ kty: 'OKP', crv: 'Ed25519', d: b64u(v.secretKey), x: b64u(v.publicKey) });
      const sig = signer.sign(hex(v.message));
      expect(Buffer.from(sig).toString('hex')).toBe(v.signature);
      const key = importVerificationKey({ kty: 'OKP', crv: 'Ed25519', x: b64u(v.publicKey) });
      expect(verifySignature(key, 'EdDSA', hex(v.message), sig)).toBe(true);
    });
  }
});

describe('RFC 8037 Appendix A', () => {
  it('A.4: the EdDSA JWS of "Example of Ed25519 signing" is reproduced exactly', () => {
    const signer = createSigner(rfc8037.privateJwk as never);
    const [h, p] = rfc8037.jws.split('.');
    expect(Buffer.from(p!, 'base64url').toString()).toBe(rfc8037.payload);
    const sig = Buffer.from(signer.sign(enc.encode(`${h}.${p}`))).toString('base64url');
    expect(`${h}.${p}.${sig}`).toBe(rfc8037.jws);
  });
  it('A.5: the JWS verifies with the public JWK and fails when the payload changes', () => {
    const { d: _d, ...pub } = rfc8037.privateJwk;
    const key = importVerificationKey(pub as never);
    const [h, p, s] = rfc8037.jws.split('.') as [string, string, string];
    expect(verifySignature(key, 'EdDSA', enc.encode(`${h}.${p}`), b64uDecode(s))).toBe(true);
    expect(verifySignature(key, 'EdDSA', enc.encode(`${h}.${p}x`), b64uDecode(s))).toBe(false);
  });
});

describe('W3C did:key test vectors (multicodec + base58btc)', () => {
  it('reads every usable vector of the shared files (none silently skipped)', () => {
    expect([didKey.Ed25519.length, didKey['P-256'].length, didKey.secp256k1.length]).toEqual([4, 2, 5]);
  });
  it('Ed25519: the DID encodes the key derived from the seed', () => {
    for (const v of didKey.Ed25519) {
      const mb = v.did.slice('did:key:'.length);
      const jwk = multibaseToPublicJwk(mb);
      expect(Buffer.from(jwk.x, 'base64url').equals(Buffer.from(base58btcDecode(v.publicKeyBase58)))).toBe(true);
      const priv = multibaseToPrivateJwk(multibaseEncode(new Uint8Array([0x80, 0x26, ...hex(v.seedHex)])));
      expect(publicJwkToMultibase(priv)).toBe(mb);
    }
  });
  it('P-256: the zDn… DID decompresses to the published JWK', () => {
    for (const v of didKey['P-256']) {
      expect(multibaseToPublicJwk(v.did.slice(8))).toEqual(v.publicKeyJwk);
      expect(publicJwkToMultibase(v.publicKeyJwk as never)).toBe(v.did.slice(8));
    }
  });
  it('secp256k1: the zQ3s… DID carries the published compressed key, and the private key derives it', () => {
    for (const v of didKey.secp256k1) {
      const jwk = multibaseToPublicJwk(v.did.slice(8));
      expect(publicJwkToMultibase(publicJwkFromBytes('secp256k1', base58btcDecode(v.publicKeyBase58)))).toBe(v.did.slice(8));
      const priv = multibaseToPrivateJwk(multibaseEncode(new Uint8Array([0x81, 0x26, ...base58btcDecode(v.privateKeyBase58)])));
      expect({ kty: priv.kty, crv: priv.crv, x: priv.x, y: priv.y }).toEqual(jwk);
    }
  });
});

describe('keys', () => {
  const types: KeyType[] = ['Ed25519', 'P-256', 'secp256k1'];
  for (const t of types) {
    it(`${t}: generate, sign, verify, and round-trip JWK <-> multibase`, () => {
      const kp = generateKeyPair(t);
      const signer = createSigner(kp.privateJwk);
      const data = enc.encode('charter');
      const sig = signer.sign(data);
      const key = importVerificationKey(kp.publicJwk);
      expect(verifySignature(key, signer.alg, data, sig)).toBe(true);
      expect(verifySignature(key, signer.alg, enc.encode('charteR'), sig)).toBe(false);
      expect(verifySignature(importVerificationKey(generateKeyPair(t).publicJwk), signer.alg, data, sig)).toBe(false);
      expect(multibaseToPublicJwk(publicJwkToMultibase(kp.publicJwk))).toEqual(kp.publicJwk);
      expect(multibaseToPrivateJwk(privateJwkToMultibase(kp.privateJwk))).toEqual(kp.privateJwk);
    });
  }

  it('refuses an alg that does not belong to the key type', () => {
    const kp = generateKeyPair('P-256');
    const data = enc.encode('x');
    const sig = createSigner(kp.privateJwk).sign(data);
    const key = importVerificationKey(kp.publicJwk);
    expect(verifySignature(key, 'ES256K', data, sig)).toBe(false);
    expect(verifySignature(key, 'EdDSA', data, sig)).toBe(false);
    expect(verifySignature(key, 'none', data, new Uint8Array())).toBe(false);
  });

  it('ES256K: signatures are low-S, and the high-S twin of a valid signature is refused', () => {
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const kp = generateKeyPair('secp256k1');
    const data = enc.encode('malleable?');
    const sig = createSigner(kp.privateJwk).sign(data);
    const s = BigInt('0x' + Buffer.from(sig.slice(32)).toString('hex'));
    expect(s <= n / 2n).toBe(true);
    const high = new Uint8Array(sig);
    high.set(hex((n - s).toString(16).padStart(64, '0')), 32);
    const key = importVerificationKey(kp.publicJwk);
    expect(verifySignature(key, 'ES256K', data, sig)).toBe(true);
    expect(verifySignature(key, 'ES256K', data, high)).toBe(false);
  });

  it('never throws on garbage signatures', () => {
    const key = importVerificationKey(generateKeyPair().publicJwk);
    for (const sig of [new Uint8Array(), new Uint8Array(63), new Uint8Array(65), new Uint8Array(64).fill(255)]) {
      expect(verifySignature(key, 'EdDSA', enc.encode('x'), sig)).toBe(false);
    }
  });

  it('rejects malformed and unsupported JWKs with codes', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isCharterError(e) ? e.code : 'OTHER';
      }
      return 'NONE';
    };
    expect(code(() => validatePublicJwk({ kty: 'RSA', n: 'x', e: 'AQAB' }))).toBe('UNSUPPORTED_KEY_TYPE');
    expect(code(() => validatePublicJwk({ kty: 'OKP', crv: 'Ed25519', x: 'short' }))).toBe('INVALID_KEY');
    expect(code(() => validatePublicJwk(null))).toBe('INVALID_KEY');
    expect(code(() => multibaseToPublicJwk('z' + base58btcEncode(new Uint8Array([0x12, 0x34, 1, 2, 3]))))).toBe('UNSUPPORTED_KEY_TYPE');
  });
});

describe('encoding round trips (property)', () => {
  it('base64url and base58btc multibase decode what they encode', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
        expect(Buffer.from(b64uDecode(b64uEncode(bytes))).equals(Buffer.from(bytes))).toBe(true);
        expect(Buffer.from(multibaseDecode(multibaseEncode(bytes))).equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });
});
