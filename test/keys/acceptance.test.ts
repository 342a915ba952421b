import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import {
  createSigner,
  generateKeyPair,
  importVerificationKey,
  keyTypeForAlg,
  multibaseToPrivateJwk,
  multibaseToPublicJwk,
  privateJwkToMultibase,
  publicJwkFromBytes,
  publicJwkToMultibase,
  validatePrivateJwk,
  validatePublicJwk,
  verifySignature,
} from '../../src/keys/index.js';
import type { KeyType, VerificationKey } from '../../src/keys/types.js';
import { resolveDidJwk, resolveDidKey } from '../../src/did/index.js';
import { base58btcDecode, base58btcEncode, encodeMulticodec, multibaseEncode } from '../../src/encoding/multibase.js';
import { isCharterError, type CharterErrorCode } from '../../src/errors.js';

const VECTORS = resolve(__dirname, '../../../shared/vectors');
const enc = new TextEncoder();
const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));
const be32 = (n: bigint) => new Uint8Array(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));
const TYPES: KeyType[] = ['Ed25519', 'P-256', 'secp256k1'];
const B64U_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Another base64url string that decodes to the same bytes (the last character's unused low bits changed). */
function aliasOf(s: string): string {
  const i = B64U_ALPHABET.indexOf(s[s.length - 1]!);
  for (const flip of [1, 2, 3, 4, 8]) {
    const t = s.slice(0, -1) + B64U_ALPHABET[i ^ flip];
    if (t !== s && Buffer.from(t, 'base64url').equals(Buffer.from(s, 'base64url'))) return t;
  }
  throw new Error(`no alias for a base64url string of length ${s.length}`);
}
const ALGS = ['EdDSA', 'ES256', 'ES256K'] as const;
const ALG_OF: Record<KeyType, string> = { Ed25519: 'EdDSA', 'P-256': 'ES256', secp256k1: 'ES256K' };
const EC = { 'P-256': p256, secp256k1 } as const;

function codeOf(f: () => unknown): CharterErrorCode | 'NONE' | 'OTHER' {
  try {
    f();
    return 'NONE';
  } catch (e) {
    return isCharterError(e) ? e.code : 'OTHER';
  }
}

describe('alg is bound to the key type (EdDSA-Ed25519, ES256-P-256, ES256K-secp256k1)', () => {
  const keys = TYPES.map((t) => {
    const kp = generateKeyPair(t);
    return { t, kp, key: importVerificationKey(kp.publicJwk), signer: createSigner(kp.privateJwk) };
  });

  it('a signature verifies only under the alg of its key type, never under none, unknown or look-alike algs', () => {
    const data = enc.encode('bound');
    for (const { t, key, signer } of keys) {
      const sig = signer.sign(data);
      expect(signer.alg).toBe(ALG_OF[t]);
      for (const alg of [...ALGS, 'none', 'None', '', 'HS256', 'RS256', 'ES384', 'Ed25519', 'eddsa', 'es256', `${ALG_OF[t]} `, '__proto__', 'constructor']) {
        expect([t, alg, verifySignature(key, alg, data, sig)]).toEqual([t, alg, alg === ALG_OF[t]]);
      }
    }
  });

  it('EdDSA: the S + L twin of a valid signature is refused (RFC 8032 §5.1.7: S < L)', () => {
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const { key, signer } = keys[0]!;
    const data = enc.encode('malleable?');
    const sig = signer.sign(data);
    const s = BigInt('0x' + Buffer.from(sig.slice(32)).reverse().toString('hex'));
    const twin = new Uint8Array([...sig.slice(0, 32), ...Buffer.from((s + L).toString(16).padStart(64, '0'), 'hex').reverse()]);
    expect(verifySignature(key, 'EdDSA', data, sig)).toBe(true);
    expect(verifySignature(key, 'EdDSA', data, twin)).toBe(false);
  });

  it('keyTypeForAlg refuses none, unknown and prototype-named algs with UNSUPPORTED_ALG', () => {
    for (const alg of ['none', 'HS256', 'RS256', 'ES384', '', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(codeOf(() => keyTypeForAlg(alg))).toBe('UNSUPPORTED_ALG');
    }
    expect(TYPES.map((t) => keyTypeForAlg(ALG_OF[t]!))).toEqual(TYPES);
  });

  it('a hand-built key whose alg, type or native key disagree never verifies', () => {
    const data = enc.encode('x');
    const ed = keys[0]!;
    const p = keys[1]!;
    const sig = p.signer.sign(data);
    const lies: VerificationKey[] = [
      { ...p.key, alg: 'EdDSA' },
      { ...p.key, keyType: 'secp256k1' },
      { ...p.key, publicJwk: ed.kp.publicJwk },
      { ...p.key, keyObject: createPublicKey({ key: { ...p.kp.publicJwk }, format: 'jwk' }) },
      { ...ed.key, alg: 'ES256', keyType: 'P-256', keyObject: p.key.keyObject },
    ];
    expect(verifySignature({ ...p.key }, 'ES256', data, sig)).toBe(true);
    for (const k of lies) for (const alg of ALGS) expect(verifySignature(k, alg, data, sig)).toBe(false);
  });
});

describe('JWK parsing', () => {
  const ed = generateKeyPair('Ed25519');
  const p = generateKeyPair('P-256');
  const k1 = generateKeyPair('secp256k1');

  it('kty and crv must agree; unknown curves are unsupported, a missing kty invalid', () => {
    expect(codeOf(() => validatePublicJwk({ ...ed.publicJwk, kty: 'EC' }))).toBe('INVALID_KEY');
    expect(codeOf(() => validatePublicJwk({ ...p.publicJwk, kty: 'OKP' }))).toBe('INVALID_KEY');
    expect(codeOf(() => validatePublicJwk({ ...k1.publicJwk, kty: 'OKP' }))).toBe('INVALID_KEY');
    expect(codeOf(() => validatePublicJwk({ ...p.publicJwk, kty: 'RSA' }))).toBe('INVALID_KEY');
    expect(codeOf(() => validatePublicJwk({ ...p.publicJwk, crv: 'secp256k1' }))).toBe('INVALID_KEY');
    expect(codeOf(() => validatePublicJwk({ ...k1.publicJwk, crv: 'P-256' }))).toBe('INVALID_KEY');
    expect(codeOf(() => validatePublicJwk({ kty: 'OKP', crv: 'X25519', x: ed.publicJwk.x }))).toBe('UNSUPPORTED_KEY_TYPE');
    expect(codeOf(() => validatePublicJwk({ ...p.publicJwk, crv: 'P-384' }))).toBe('UNSUPPORTED_KEY_TYPE');
    expect(codeOf(() => validatePublicJwk({ crv: 'Ed25519', x: ed.publicJwk.x }))).toBe('INVALID_KEY');
    expect(codeOf(() => validatePublicJwk({ kty: ['OKP'], crv: 'Ed25519', x: ed.publicJwk.x }))).toBe('INVALID_KEY');
    expect(codeOf(() => validatePublicJwk({ kty: 'OKP', crv: ['Ed25519'], x: ed.publicJwk.x }))).toBe('UNSUPPORTED_KEY_TYPE');
    expect(codeOf(() => validatePublicJwk([ed.publicJwk]))).toBe('INVALID_KEY');
    expect(codeOf(() => validatePublicJwk('{"kty":"OKP"}'))).toBe('INVALID_KEY');
  });

  it('an OKP key has no y, an EC key needs one', () => {
    expect(codeOf(() => validatePublicJwk({ ...ed.publicJwk, y: p.publicJwk.y }))).toBe('INVALID_KEY');
    expect(codeOf(() => validatePublicJwk({ kty: 'EC', crv: 'P-256', x: p.publicJwk.x }))).toBe('INVALID_KEY');
  });

  it("a JWK alg must be the curve's own", () => {
    expect(validatePublicJwk({ ...ed.publicJwk, alg: 'EdDSA' })).toEqual(ed.publicJwk);
    expect(validatePublicJwk({ ...ed.publicJwk, alg: 'Ed25519' })).toEqual(ed.publicJwk);
    expect(validatePublicJwk({ ...p.publicJwk, alg: 'ES256' })).toEqual(p.publicJwk);
    for (const [jwk, alg] of [
      [ed, 'ES256'],
      [ed, 'none'],
      [p, 'ES256K'],
      [p, 'EdDSA'],
      [k1, 'ES256'],
      [k1, 'HS256'],
      [p, 7],
      [p, null],
    ] as const) {
      expect(codeOf(() => validatePublicJwk({ ...jwk.publicJwk, alg }))).toBe('INVALID_KEY');
    }
  });

  it('a public JWK carrying private members is refused, and importVerificationKey refuses a private JWK', () => {
    for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) {
      expect(codeOf(() => validatePublicJwk({ ...ed.publicJwk, [m]: 'AAAA' }))).toBe('INVALID_KEY');
    }
    expect(codeOf(() => importVerificationKey(ed.privateJwk))).toBe('INVALID_KEY');
    expect(codeOf(() => importVerificationKey(p.privateJwk))).toBe('INVALID_KEY');
  });

  it('coordinates are exact-length base64url in their one spelling', () => {
    for (const kp of [ed, p, k1]) {
      const x = kp.publicJwk.x;
      expect(validatePublicJwk(kp.publicJwk)).toEqual(kp.publicJwk);
      for (const v of [`${x}=`, ` ${x}`, `${x} `, x.slice(0, -1), `${x}A`, b64u(new Uint8Array(31)), b64u(new Uint8Array(33)), '', aliasOf(x)]) {
        expect([v, codeOf(() => validatePublicJwk({ ...kp.publicJwk, x: v }))]).toEqual([v, 'INVALID_KEY']);
      }
      for (const v of [42, null, ['x'], { x }]) expect(codeOf(() => validatePublicJwk({ ...kp.publicJwk, x: v }))).toBe('INVALID_KEY');
    }
    // Standard base64 ('+', '/') is not base64url, even for the right bytes.
    let withUrlChars = generateKeyPair('Ed25519');
    while (!/[-_]/.test(withUrlChars.publicJwk.x)) withUrlChars = generateKeyPair('Ed25519');
    const std = Buffer.from(withUrlChars.publicJwk.x, 'base64url').toString('base64').replace(/=+$/, '');
    expect(codeOf(() => validatePublicJwk({ ...withUrlChars.publicJwk, x: std }))).toBe('INVALID_KEY');
  });

  it('a y coordinate spelled with stray low bits is refused although it decodes to the right point', () => {
    const y = aliasOf(p.publicJwk.y!);
    expect(Buffer.from(y, 'base64url').equals(Buffer.from(p.publicJwk.y!, 'base64url'))).toBe(true);
    expect(codeOf(() => validatePublicJwk({ ...p.publicJwk, y }))).toBe('INVALID_KEY');
    expect(codeOf(() => importVerificationKey({ ...p.publicJwk, y }))).toBe('INVALID_KEY');
  });
});

describe('P-256 and secp256k1 acceptance (SEC 1 §3.2.2)', () => {
  for (const t of ['P-256', 'secp256k1'] as const) {
    const curve = EC[t];
    const prime = curve.Point.CURVE().p;

    it(`${t}: a point off the curve is refused in every encoding (property)`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (x, y) => {
          const X = BigInt('0x' + Buffer.from(x).toString('hex'));
          const Y = BigInt('0x' + Buffer.from(y).toString('hex'));
          const { a, b } = curve.Point.CURVE();
          fc.pre(X >= prime || Y >= prime || (Y * Y - (X * X * X + a * X + b)) % prime !== 0n);
          expect(codeOf(() => validatePublicJwk({ kty: 'EC', crv: t, x: b64u(x), y: b64u(y) }))).toBe('INVALID_KEY');
          expect(codeOf(() => importVerificationKey({ kty: 'EC', crv: t, x: b64u(x), y: b64u(y) }))).toBe('INVALID_KEY');
          expect(codeOf(() => publicJwkFromBytes(t, new Uint8Array([4, ...x, ...y])))).toBe('INVALID_KEY');
        }),
        { numRuns: 100 },
      );
    });

    it(`${t}: a coordinate >= p naming a valid point is refused (JWK, compressed, uncompressed)`, () => {
      // The smallest x on the curve: x + p still fits in 32 bytes for both curves.
      let x = 0n;
      let y = 0n;
      for (; ; x++) {
        try {
          const pt = curve.Point.fromBytes(new Uint8Array([2, ...be32(x)]));
          y = pt.toAffine().y;
          break;
        } catch {
          continue;
        }
      }
      expect(x + prime < 2n ** 256n).toBe(true);
      expect(validatePublicJwk({ kty: 'EC', crv: t, x: b64u(be32(x)), y: b64u(be32(y)) }).crv).toBe(t);
      expect(codeOf(() => validatePublicJwk({ kty: 'EC', crv: t, x: b64u(be32(x + prime)), y: b64u(be32(y)) }))).toBe('INVALID_KEY');
      expect(codeOf(() => publicJwkFromBytes(t, new Uint8Array([2 + Number(y & 1n), ...be32(x + prime)])))).toBe('INVALID_KEY');
      expect(codeOf(() => publicJwkFromBytes(t, new Uint8Array([4, ...be32(x + prime), ...be32(y)])))).toBe('INVALID_KEY');
      const mb = multibaseEncode(encodeMulticodec(t === 'P-256' ? 0x1200 : 0xe7, new Uint8Array([2 + Number(y & 1n), ...be32(x + prime)])));
      expect(codeOf(() => multibaseToPublicJwk(mb))).toBe('INVALID_KEY');
      expect(codeOf(() => resolveDidKey(`did:key:${mb}`))).toBe('INVALID_KEY');
    });

    it(`${t}: exact SEC 1 lengths and prefixes only; Multikey takes the compressed form only`, () => {
      const kp = generateKeyPair(t);
      const full = new Uint8Array([4, ...bytes(kp.publicJwk.x), ...bytes(kp.publicJwk.y!)]);
      const compressed = curve.Point.fromBytes(full).toBytes(true);
      expect(publicJwkFromBytes(t, full)).toEqual(kp.publicJwk);
      expect(publicJwkFromBytes(t, compressed)).toEqual(kp.publicJwk);
      const bad = [
        new Uint8Array([0]),
        new Uint8Array([6, ...full.subarray(1)]),
        new Uint8Array([7, ...full.subarray(1)]),
        new Uint8Array([5, ...full.subarray(1)]),
        new Uint8Array([4, ...compressed.subarray(1)]),
        compressed.subarray(0, 32),
        new Uint8Array([...compressed, 0]),
        full.subarray(1),
        new Uint8Array(33),
        new Uint8Array(65),
      ];
      for (const b of bad) expect(codeOf(() => publicJwkFromBytes(t, b))).toBe('INVALID_KEY');
      const codec = t === 'P-256' ? 0x1200 : 0xe7;
      expect(multibaseToPublicJwk(multibaseEncode(encodeMulticodec(codec, compressed)))).toEqual(kp.publicJwk);
      expect(codeOf(() => multibaseToPublicJwk(multibaseEncode(encodeMulticodec(codec, full))))).toBe('INVALID_KEY');
    });
  }
});

describe('private keys must derive their public part', () => {
  for (const t of TYPES) {
    it(`${t}: x / y of another key, or d out of range, is INVALID_KEY wherever a private key enters`, () => {
      const a = generateKeyPair(t);
      const b = generateKeyPair(t);
      const mixed = { ...b.publicJwk, d: a.privateJwk.d };
      for (const enter of [validatePrivateJwk, createSigner, privateJwkToMultibase] as ((j: never) => unknown)[]) {
        expect(codeOf(() => enter(mixed as never))).toBe('INVALID_KEY');
        expect(codeOf(() => enter(a.privateJwk as never))).toBe('NONE');
      }
      if (t !== 'Ed25519') {
        const n = EC[t].Point.CURVE().n;
        for (const d of [0n, n, n + 1n, 2n ** 256n - 1n]) {
          expect(codeOf(() => validatePrivateJwk({ ...a.publicJwk, d: b64u(be32(d)) }))).toBe('INVALID_KEY');
          const codec = t === 'P-256' ? 0x1306 : 0x1301;
          expect(codeOf(() => multibaseToPrivateJwk(multibaseEncode(encodeMulticodec(codec, be32(d)))))).toBe('INVALID_KEY');
        }
        // The negated point (x, p - y) is a valid key, but not the one d derives.
        const neg = EC[t].Point.fromAffine({
          x: BigInt('0x' + Buffer.from(bytes(a.publicJwk.x)).toString('hex')),
          y: BigInt('0x' + Buffer.from(bytes(a.publicJwk.y!)).toString('hex')),
        })
          .negate()
          .toAffine();
        expect(codeOf(() => validatePrivateJwk({ ...a.privateJwk, y: b64u(be32(neg.y)) }))).toBe('INVALID_KEY');
      }
      expect(codeOf(() => validatePrivateJwk({ ...a.privateJwk, d: undefined }))).toBe('INVALID_KEY');
      expect(codeOf(() => validatePrivateJwk({ ...a.privateJwk, d: a.privateJwk.d.slice(1) }))).toBe('INVALID_KEY');
    });
  }
});

describe('Multikey framing', () => {
  it('a non-minimal multicodec varint is refused (one key, one string)', () => {
    const kp = generateKeyPair('Ed25519');
    const raw = bytes(kp.publicJwk.x);
    const padded = 'z' + base58btcEncode(new Uint8Array([0xed, 0x81, 0x00, ...raw]));
    expect(codeOf(() => multibaseToPublicJwk(padded))).toBe('INVALID_KEY');
    expect(codeOf(() => resolveDidKey(`did:key:${padded}`))).toBe('INVALID_DID');
    expect(codeOf(() => multibaseToPublicJwk('u' + b64u(new Uint8Array([0xed, 0x01, ...raw]))))).toBe('INVALID_KEY');
    expect(codeOf(() => multibaseToPublicJwk('z0OIl'))).toBe('INVALID_KEY');
  });

  it('wrong lengths inside a did:key are INVALID_KEY; an unknown codec is INVALID_DID', () => {
    const raw = bytes(generateKeyPair('Ed25519').publicJwk.x);
    for (const b of [raw.subarray(0, 31), new Uint8Array([...raw, 0])]) {
      expect(codeOf(() => resolveDidKey(`did:key:${multibaseEncode(encodeMulticodec(0xed, b))}`))).toBe('INVALID_KEY');
    }
    expect(codeOf(() => resolveDidKey(`did:key:${multibaseEncode(encodeMulticodec(0xec, raw))}`))).toBe('INVALID_DID');
  });
});

describe('did:jwk carries a public key only', () => {
  const didJwk = (o: unknown) => `did:jwk:${Buffer.from(JSON.stringify(o)).toString('base64url')}`;
  const ed = generateKeyPair('Ed25519');
  const p = generateKeyPair('P-256');

  it('private members of any key type make the DID invalid', () => {
    for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) {
      expect(codeOf(() => resolveDidJwk(didJwk({ ...ed.publicJwk, [m]: 'AAAA' })))).toBe('INVALID_DID');
    }
    expect(codeOf(() => resolveDidJwk(didJwk(p.privateJwk)))).toBe('INVALID_DID');
  });

  it('kty / crv / alg mismatches are INVALID_KEY; a non-object or non-canonical DID is INVALID_DID', () => {
    expect(codeOf(() => resolveDidJwk(didJwk({ ...ed.publicJwk, kty: 'EC' })))).toBe('INVALID_KEY');
    expect(codeOf(() => resolveDidJwk(didJwk({ ...p.publicJwk, crv: 'secp256k1' })))).toBe('INVALID_KEY');
    expect(codeOf(() => resolveDidJwk(didJwk({ ...p.publicJwk, alg: 'ES256K' })))).toBe('INVALID_KEY');
    expect(codeOf(() => resolveDidJwk(didJwk([ed.publicJwk, ed.publicJwk])))).toBe('INVALID_DID');
    expect(codeOf(() => resolveDidJwk(didJwk('a string that is long enough')))).toBe('INVALID_DID');
    // A JSON length that is not a multiple of 3 leaves unused bits in the last character.
    let jwk: Record<string, unknown> = { ...ed.publicJwk };
    while (JSON.stringify(jwk).length % 3 === 0) jwk = { ...jwk, kid: `${String(jwk.kid ?? '')}a` };
    const good = didJwk(jwk);
    expect(resolveDidJwk(good).id).toBe(good);
    expect(codeOf(() => resolveDidJwk(`did:jwk:${aliasOf(good.slice('did:jwk:'.length))}`))).toBe('INVALID_DID');
  });
});

/** One entry of the did:key vector files, in either of their shapes. */
interface VectorKey {
  publicKeyJwk?: { kty: string; crv: string; x: string; y?: string };
  publicKeyBase58?: string;
  privateKeyJwk?: { d?: string };
  privateKeyBase58?: string;
}
interface Vector {
  verificationKeyPair?: VectorKey;
  verificationMethod?: VectorKey;
  seed?: string;
}

describe('published did:key vectors still resolve (w3c-ccg/did-method-key test-vectors)', () => {
  const load = (f: string) => JSON.parse(readFileSync(resolve(VECTORS, 'interop/did-key', f), 'utf8')) as Record<string, Record<string, Vector>>;
  const CODEC: Record<KeyType, { pub: number; priv: number }> = {
    Ed25519: { pub: 0xed, priv: 0x1300 },
    'P-256': { pub: 0x1200, priv: 0x1306 },
    secp256k1: { pub: 0xe7, priv: 0x1301 },
  };

  /** The key each vector publishes, whichever of the file's shapes it uses. */
  function check(type: KeyType, did: string, entry: Vector): void {
    const vm = entry.verificationKeyPair ?? entry.verificationMethod;
    if (!vm) throw new Error(`${did}: the vector has no key`);
    const resolved = multibaseToPublicJwk(resolveDidKey(did).verificationMethod![0]!.publicKeyMultibase!);
    const published = vm.publicKeyJwk
      ? { kty: vm.publicKeyJwk.kty, crv: vm.publicKeyJwk.crv, x: vm.publicKeyJwk.x, ...(vm.publicKeyJwk.y ? { y: vm.publicKeyJwk.y } : {}) }
      : publicJwkFromBytes(type, base58btcDecode(vm.publicKeyBase58 ?? ''));
    expect(resolved).toEqual(published);
    expect(importVerificationKey(resolved).alg).toBe(ALG_OF[type]);
    const d: string | undefined = vm.privateKeyJwk?.d;
    const priv = d
      ? validatePrivateJwk({ ...published, d })
      : vm.privateKeyBase58 && type !== 'Ed25519'
        ? multibaseToPrivateJwk(multibaseEncode(encodeMulticodec(CODEC[type].priv, base58btcDecode(vm.privateKeyBase58))))
        : entry.seed
          ? multibaseToPrivateJwk(multibaseEncode(encodeMulticodec(CODEC[type].priv, new Uint8Array(Buffer.from(entry.seed, 'hex')))))
          : undefined;
    if (priv) expect(publicJwkToMultibase(priv)).toBe(did.slice('did:key:'.length));
  }

  it('Ed25519: every DID resolves to the published key, and each seed derives it', () => {
    const v = load('ed25519-x25519.json');
    expect(Object.keys(v).length).toBeGreaterThan(0);
    for (const [did, entry] of Object.entries(v)) check('Ed25519', did, entry);
  });

  it('P-256: every DID resolves to the published key; P-384 and P-521 are refused, not misread', () => {
    let count = 0;
    for (const [did, entry] of Object.entries(load('nist-curves.json'))) {
      if (did.startsWith('did:key:zDn')) {
        count++;
        check('P-256', did, entry);
      } else {
        expect(codeOf(() => resolveDidKey(did))).toBe('INVALID_DID');
      }
    }
    expect(count).toBeGreaterThan(1);
  });

  it('secp256k1: every DID resolves to the published key, and each private key derives it', () => {
    const v = load('secp256k1.json');
    expect(Object.keys(v).length).toBeGreaterThan(0);
    for (const [did, entry] of Object.entries(v)) check('secp256k1', did, entry);
  });
});

describe('cost of refusing', () => {
  it('an oversized publicKeyMultibase is refused before base58 decoding (quadratic in its length)', () => {
    const start = performance.now();
    expect(codeOf(() => multibaseToPublicJwk('z' + '2'.repeat(90_000)))).toBe('INVALID_KEY');
    expect(codeOf(() => multibaseToPrivateJwk('z' + '2'.repeat(90_000)))).toBe('INVALID_KEY');
    expect(performance.now() - start).toBeLessThan(500);
  });
});
