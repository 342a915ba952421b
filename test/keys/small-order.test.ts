import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import {
  createSigner,
  generateKeyPair,
  importVerificationKey,
  multibaseToPublicJwk,
  privateJwkToMultibase,
  publicJwkFromBytes,
  publicJwkToMultibase,
  validatePrivateJwk,
  validatePublicJwk,
  verifySignature,
} from '../../src/keys/index.js';
import type { VerificationKey } from '../../src/keys/types.js';
import { createDidWeb, createResolver, didJwkFromJwk, documentResolver, resolveDidJwk, resolveDidKey } from '../../src/did/index.js';
import { encodeMulticodec, multibaseEncode } from '../../src/encoding/multibase.js';
import { issueCredential, verifyCredential } from '../../src/credentials/index.js';
import { isCharterError, type CharterErrorCode } from '../../src/errors.js';
import { serve } from '../helpers.js';

const P = 2n ** 255n - 19n;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const leToBig = (b: Uint8Array) => BigInt('0x' + Buffer.from(b).reverse().toString('hex'));
const bigToLe = (n: bigint) => new Uint8Array(Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse());
const edMultibase = (raw: Uint8Array) => multibaseEncode(encodeMulticodec(0xed, raw));
const okp = (raw: Uint8Array) => ({ kty: 'OKP', crv: 'Ed25519', x: b64u(raw) });

async function codeOf(f: () => unknown): Promise<CharterErrorCode | 'NONE' | 'OTHER'> {
  try {
    await f();
    return 'NONE';
  } catch (e) {
    return isCharterError(e) ? e.code : 'OTHER';
  }
}

/**
 * Every 32-byte string that decodes, under some reader, to one of the 8
 * small-order points: the canonical encodings, the x = 0 points with the sign
 * bit set (RFC 8032 §5.1.3 step 4 refuses them) and y + p for y < 19
 * (non-canonical, y >= p).
 */
function smallOrderEncodings(): { canonical: Uint8Array[]; nonCanonical: Uint8Array[] } {
  const canonical = ED25519_TORSION_SUBGROUP.map(fromHex);
  const seen = new Set(canonical.map(hex));
  const nonCanonical: Uint8Array[] = [];
  const add = (b: Uint8Array) => {
    if (!seen.has(hex(b))) {
      seen.add(hex(b));
      nonCanonical.push(b);
    }
  };
  for (const enc of canonical) {
    const y = leToBig(Uint8Array.from(enc, (v, i) => (i === 31 ? v & 0x7f : v)));
    const x = ed25519.Point.fromBytes(enc).toAffine().x;
    if (x === 0n) {
      const flipped = Uint8Array.from(enc);
      flipped[31] = flipped[31]! ^ 0x80;
      add(flipped);
    }
    if (y + P < 2n ** 255n) {
      for (const s of [0, 0x80]) {
        const b = bigToLe(y + P);
        b[31] = b[31]! | s;
        add(b);
      }
    }
  }
  return { canonical, nonCanonical };
}

const { canonical: SMALL, nonCanonical: SMALL_NONCANONICAL } = smallOrderEncodings();
const ALL_SMALL = [...SMALL, ...SMALL_NONCANONICAL];

/** A did:web document whose single method carries `raw` as a JWK or as a Multikey. */
function webDocument(did: string, raw: Uint8Array, form: 'jwk' | 'multibase') {
  const kid = `${did}#key-1`;
  const method = form === 'jwk' ? { publicKeyJwk: okp(raw) } : { publicKeyMultibase: edMultibase(raw) };
  return { id: did, verificationMethod: [{ id: kid, type: form === 'jwk' ? 'JsonWebKey2020' : 'Multikey', controller: did, ...method }], assertionMethod: [kid] };
}

let srv: Awaited<ReturnType<typeof serve>>;
const served = new Map<string, unknown>();
let counter = 0;
beforeAll(async () => {
  srv = await serve((req, res) => {
    const doc = served.get(req.url ?? '');
    if (doc === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/did+json' }).end(JSON.stringify(doc));
  });
});
afterAll(() => srv.close());

/** One way a public key enters Charter; each must refuse what the acceptance rule refuses. */
const ENTRY_PATHS: Record<string, (raw: Uint8Array) => unknown> = {
  validatePublicJwk: (raw) => validatePublicJwk(okp(raw)),
  importVerificationKey: (raw) => importVerificationKey(okp(raw) as never),
  publicJwkFromBytes: (raw) => publicJwkFromBytes('Ed25519', raw),
  multibaseToPublicJwk: (raw) => multibaseToPublicJwk(edMultibase(raw)),
  'publicJwkToMultibase (export)': (raw) => publicJwkToMultibase(okp(raw) as never),
  'didJwkFromJwk (export)': (raw) => didJwkFromJwk(okp(raw) as never),
  'createDidWeb (export)': (raw) => createDidWeb({ domain: 'example.com', publicJwk: okp(raw) as never }),
  validatePrivateJwk: (raw) => validatePrivateJwk({ ...okp(raw), d: b64u(new Uint8Array(32).fill(7)) }),
  createSigner: (raw) => createSigner({ ...okp(raw), d: b64u(new Uint8Array(32).fill(7)) } as never),
  resolveDidKey: (raw) => resolveDidKey(`did:key:${edMultibase(raw)}`),
  resolveDidJwk: (raw) => resolveDidJwk(`did:jwk:${b64u(Buffer.from(JSON.stringify(okp(raw))))}`),
  'resolver: did:key': (raw) => {
    const did = `did:key:${edMultibase(raw)}`;
    return createResolver().resolveKey(did, `${did}#${edMultibase(raw)}`, 'assertionMethod');
  },
  'resolver: did:key, no kid': (raw) => createResolver().resolveKey(`did:key:${edMultibase(raw)}`, undefined, 'authentication'),
  'resolver: did:jwk': (raw) => {
    const did = `did:jwk:${b64u(Buffer.from(JSON.stringify(okp(raw))))}`;
    return createResolver().resolveKey(did, '#0', 'assertionMethod');
  },
  'documentResolver: publicKeyJwk': (raw) => {
    const did = 'did:example:small';
    return documentResolver(async () => webDocument(did, raw, 'jwk') as never).resolveKey(did, '#key-1', 'assertionMethod');
  },
  'documentResolver: publicKeyMultibase': (raw) => {
    const did = 'did:example:small';
    return documentResolver(async () => webDocument(did, raw, 'multibase') as never).resolveKey(did, undefined, 'assertionMethod');
  },
  'did:web over HTTP: publicKeyJwk': (raw) => {
    const path = `k${counter++}`;
    const did = `did:web:127.0.0.1%3A${srv.port}:${path}`;
    served.set(`/${path}/did.json`, webDocument(did, raw, 'jwk'));
    return createResolver({ allowLoopback: true, allowHttp: true, timeoutMs: 2000, cacheTtlMs: 0 }).resolveKey(did, `${did}#key-1`, 'assertionMethod');
  },
  'did:web over HTTP: publicKeyMultibase': (raw) => {
    const path = `m${counter++}`;
    const did = `did:web:127.0.0.1%3A${srv.port}:${path}`;
    served.set(`/${path}/did.json`, webDocument(did, raw, 'multibase'));
    return createResolver({ allowLoopback: true, allowHttp: true, timeoutMs: 2000, cacheTtlMs: 0 }).resolveKey(did, '#key-1', 'assertionMethod');
  },
};

describe('Ed25519 small-order keys (RFC 8032 §5.1.3, cofactorless verification)', () => {
  it('the table holds the 8 points of E[8] and their 6 non-canonical encodings', () => {
    expect(SMALL).toHaveLength(8);
    for (const b of SMALL) expect(ed25519.Point.fromBytes(b).isSmallOrder()).toBe(true);
    expect(SMALL_NONCANONICAL.map(hex).sort()).toEqual(
      [
        '0100000000000000000000000000000000000000000000000000000000000080',
        'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
        'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
        'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
        'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
        'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
      ].sort(),
    );
  });

  it('every small-order encoding is refused with INVALID_KEY on every entry path (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ALL_SMALL), fc.constantFrom(...Object.keys(ENTRY_PATHS)), async (raw, path) => {
        expect(await codeOf(() => ENTRY_PATHS[path]!(raw))).toBe('INVALID_KEY');
      }),
      { numRuns: 300 },
    );
  });

  it('each small-order encoding is refused on each path (exhaustive)', async () => {
    for (const raw of ALL_SMALL) {
      for (const [path, enter] of Object.entries(ENTRY_PATHS)) {
        expect([path, hex(raw), await codeOf(() => enter(raw))]).toEqual([path, hex(raw), 'INVALID_KEY']);
      }
    }
  });

  it('a key with a torsion component (aB + T) is refused on every path (property)', async () => {
    const torsion = SMALL.filter((b) => !ed25519.Point.fromBytes(b).is0()).map((b) => ed25519.Point.fromBytes(b));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(...torsion), fc.constantFrom(...Object.keys(ENTRY_PATHS)), async (seed, t, path) => {
        const honest = ed25519.Point.fromBytes(ed25519.getPublicKey(seed));
        const mixed = honest.add(t).toBytes();
        expect(await codeOf(() => ENTRY_PATHS[path]!(mixed))).toBe('INVALID_KEY');
      }),
      { numRuns: 150 },
    );
  });

  it('y >= p encodings and 32-byte strings that are not points are refused (property)', async () => {
    const nonCanonicalY = fc.tuple(fc.integer({ min: 0, max: 18 }), fc.boolean()).map(([k, s]) => {
      const b = bigToLe(P + BigInt(k));
      if (s) b[31] = b[31]! | 0x80;
      return b;
    });
    const notAPoint = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((b) => {
      try {
        ed25519.Point.fromBytes(b, true);
        return false;
      } catch {
        return true;
      }
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(nonCanonicalY, notAPoint), fc.constantFrom(...Object.keys(ENTRY_PATHS)), async (raw, path) => {
        expect(await codeOf(() => ENTRY_PATHS[path]!(raw))).toBe('INVALID_KEY');
      }),
      { numRuns: 200 },
    );
  });

  it('honestly generated keys pass every path (the rule refuses only what it must)', async () => {
    for (let i = 0; i < 3; i++) {
      const kp = generateKeyPair('Ed25519');
      const raw = new Uint8Array(Buffer.from(kp.publicJwk.x, 'base64url'));
      for (const [path, enter] of Object.entries(ENTRY_PATHS)) {
        if (path === 'validatePrivateJwk' || path === 'createSigner') continue;
        expect([path, await codeOf(() => enter(raw))]).toEqual([path, 'NONE']);
      }
      expect(await codeOf(() => validatePrivateJwk(kp.privateJwk))).toBe('NONE');
      expect(multibaseToPublicJwk(publicJwkToMultibase(kp.publicJwk))).toEqual(kp.publicJwk);
      expect(privateJwkToMultibase(kp.privateJwk)).toMatch(/^z/);
    }
  });
});

describe('a signature forged for a small-order key', () => {
  /** (R = identity, S = 0): [S]B = R + [k]A holds whenever [k]A is the identity, i.e. for 1 message in ord(A). */
  const forged = new Uint8Array([...fromHex(ED25519_TORSION_SUBGROUP[0]!), ...new Uint8Array(32)]);

  it('verifies under OpenSSL for every small-order key, so Charter refuses the key before any crypto', () => {
    for (const raw of SMALL) {
      const native = createPublicKey({ key: okp(raw), format: 'jwk' });
      const messages = Array.from({ length: 200 }, (_, i) => Buffer.from(`pay 1000 EUR to mallory #${i}`));
      const message = messages.find((m) => nodeVerify(null, m, native, forged));
      // The danger is real on Node 20 and 22: Node accepts a signature nobody made. Node 24 refuses
      // small-order keys itself, so there the premise does not hold; Charter's refusal must, on every Node.
      if (Number(process.versions.node.split('.')[0]) < 24) expect(message, hex(raw)).toBeDefined();
      // Charter never gets that far: the key is refused where it enters...
      expect(() => importVerificationKey(okp(raw) as never)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
      // ...and a hand-built key object that skipped the rule is not used for verification at all.
      const handBuilt: VerificationKey = { alg: 'EdDSA', keyType: 'Ed25519', publicJwk: okp(raw) as never, keyObject: native };
      expect(verifySignature(handBuilt, 'EdDSA', message ?? messages[0]!, forged)).toBe(false);
    }
  });

  it('a vc+jwt "signed" for a did:key of the identity point is refused with INVALID_KEY', async () => {
    const raw = fromHex(ED25519_TORSION_SUBGROUP[0]!);
    const did = `did:key:${edMultibase(raw)}`;
    const issuer = {
      did,
      kid: `${did}#${edMultibase(raw)}`,
      keyType: 'Ed25519' as const,
      publicJwk: okp(raw) as never,
      signer: { alg: 'EdDSA' as const, keyType: 'Ed25519' as const, sign: () => forged },
    };
    const { jwt } = await issueCredential({ issuer, subject: 'did:example:victim', type: 'EmailCredential', claims: { email: 'a@example.com' } });
    const [h, p] = jwt.split('.');
    // The forgery is valid under OpenSSL's rules for this very JWS (as Node 20 and 22 apply them; Node 24 refuses it itself)...
    if (Number(process.versions.node.split('.')[0]) < 24) expect(nodeVerify(null, Buffer.from(`${h}.${p}`), createPublicKey({ key: okp(raw), format: 'jwk' }), forged)).toBe(true);
    // ...and Charter refuses it at the key.
    const v = await verifyCredential(jwt, { resolver: createResolver() });
    expect(v.ok).toBe(false);
    expect(v.reasons.map((r) => r.code)).toContain('INVALID_KEY');
    expect(v.reasons.map((r) => r.code)).not.toContain('INVALID_SIGNATURE');
  });
});
