import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as jose from 'jose';
import { Resolver } from 'did-resolver';
import { verifyCredential as didJwtVcVerify } from 'did-jwt-vc';
import { createResolver, resolveDidKey } from '../../src/did/index.js';
import { issueCredential, signJwt, verifyCredential } from '../../src/credentials/index.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyType } from '../../src/keys/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { makeIssuer } from '../helpers.js';

/*
 * Differential: Charter's compact JWS path (credentials/jws.ts, keys/verify.ts)
 * against jose's compactVerify on the very same bytes. Every token starts as a
 * valid vc+jwt from Charter's own issuer and is then mutated: byte flips in each
 * part, non-canonical base64url (pad bits, '=', the '+' '/' alphabet, whitespace),
 * duplicated JSON members, and re-signed headers (crit, b64, jku, jwk, x5u, x5c,
 * kid, alg and typ variants). The property: Charter never accepts what jose
 * refuses. Charter may refuse more; the cases where it does are listed below
 * with the rule that makes it.
 */

const resolver = createResolver();
const enc = new TextEncoder();
const b64u = (s: string) => Buffer.from(s).toString('base64url');

interface World {
  issuer: Issuer;
  alg: string;
  key: CryptoKey | Uint8Array;
  jwt: string;
  header: Record<string, unknown>;
  payloadText: string;
}

async function world(type: KeyType): Promise<World> {
  const issuer = makeIssuer(type);
  const subject = makeIssuer().did;
  const { jwt } = await issueCredential({ issuer, subject, type: 'EmailCredential', claims: { email: 'a@example.com' } });
  const [h, p] = jwt.split('.') as [string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
  const alg = header.alg as string;
  return { issuer, alg, key: await jose.importJWK(issuer.publicJwk as jose.JWK, alg), jwt, header, payloadText: Buffer.from(p, 'base64url').toString() };
}

/** Signs raw header and payload parts (already base64url, or any text) with the issuer's key. */
async function signParts(w: World, h: string, p: string): Promise<string> {
  return `${h}.${p}.${Buffer.from(await w.issuer.signer.sign(enc.encode(`${h}.${p}`))).toString('base64url')}`;
}
const signTexts = (w: World, headerText: string, payloadText: string) => signParts(w, b64u(headerText), b64u(payloadText));

async function charterOk(jwt: string): Promise<boolean> {
  return (await verifyCredential(jwt, { resolver })).ok;
}
async function joseOk(w: World, jwt: string): Promise<boolean> {
  try {
    await jose.compactVerify(jwt, w.key, { algorithms: [w.alg] });
    return true;
  } catch {
    return false;
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Byte-level mutations of one part of a compact JWS, keeping the other two. */
const partMutation = fc.oneof(
  fc
    .tuple(fc.nat(), fc.integer({ min: 1, max: 63 }))
    .map(([i, d]) => ({ what: 'flip', f: (s: string) => s.slice(0, i % s.length) + ALPHABET[(ALPHABET.indexOf(s[i % s.length]!) + d) % 64] + s.slice((i % s.length) + 1) })),
  fc.constant({ what: 'pad bits', f: (s: string) => (s.length % 4 === 0 ? s : s.slice(0, -1) + ALPHABET[ALPHABET.indexOf(s.at(-1)!) ^ 1]) }),
  fc.constantFrom('=', '==').map((pad) => ({ what: `pad ${pad}`, f: (s: string) => s + pad })),
  fc.constant({ what: 'std alphabet', f: (s: string) => s.replace(/-/g, '+').replace(/_/g, '/') }),
  fc
    .tuple(fc.nat(), fc.constantFrom(' ', '\n', '\r\n', '\t'))
    .map(([i, ws]) => ({ what: 'whitespace', f: (s: string) => s.slice(0, i % (s.length + 1)) + ws + s.slice(i % (s.length + 1)) })),
  fc.constant({ what: 'truncate', f: (s: string) => s.slice(0, -1) }),
  fc.constantFrom('A', 'AA', 'AAA', 'AAAA').map((x) => ({ what: 'append', f: (s: string) => s + x })),
);

/** Header members added or replaced before signing again (the signature stays valid: only the rules differ). */
const headerChange = fc.constantFrom<Record<string, unknown>>(
  { crit: [] },
  { crit: ['exp'], exp: 1 },
  { crit: ['b64'], b64: true },
  { crit: ['b64'], b64: false },
  { b64: false },
  { b64: 'false' },
  { crit: 'b64' },
  { jku: 'https://attacker.example/jwks.json' },
  { x5u: 'https://attacker.example/cert.pem' },
  { x5c: ['MIIB'] },
  { jwk: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' } },
  { kid: 7 },
  { kid: '' },
  { kid: null },
  { kid: 'did:example:someone-else#key-1' },
  { alg: 'eddsa' },
  { alg: 'EDDSA' },
  { alg: 'Ed25519' },
  { alg: 'es256' },
  { alg: 'none' },
  { alg: 'HS256' },
  { typ: 'JWT' },
  { typ: 'vc+ld+json+jwt' },
  { typ: 'vc+sd-jwt' },
  { typ: 'application/vc+jwt' },
  { typ: 'VC+JWT' },
  { typ: 5 },
  { cty: 'vp' },
);

/** Whole-text edits of the header or payload JSON, signed again. */
const textChange = fc.constantFrom(
  { what: 'duplicate alg first', part: 'header', f: (t: string) => t.replace('{', '{"alg":"none",') },
  { what: 'duplicate alg last', part: 'header', f: (t: string) => t.replace(/}$/, ',"alg":"none"}') },
  { what: 'duplicate iss', part: 'payload', f: (t: string) => t.replace('{', '{"iss":"did:example:evil",') },
  { what: 'escaped duplicate', part: 'payload', f: (t: string) => t.replace('{', '{"\\u0069ss":"did:example:evil",') },
  { what: 'BOM', part: 'header', f: (t: string) => '\ufeff' + t },
  { what: 'BOM', part: 'payload', f: (t: string) => '\ufeff' + t },
  { what: 'array', part: 'payload', f: (t: string) => `[${t}]` },
  { what: 'trailing comma', part: 'payload', f: (t: string) => t.replace(/}$/, ',}') },
  { what: 'null', part: 'header', f: () => 'null' },
  { what: 'whitespace', part: 'header', f: (t: string) => ` ${t}\n` },
);

describe.each<KeyType>(['Ed25519', 'P-256'])('%s vc+jwt: Charter never accepts what jose refuses', (type) => {
  let w: World;
  beforeAll(async () => {
    w = await world(type);
  });

  it('the unmutated token passes both (conformance)', async () => {
    expect(await charterOk(w.jwt)).toBe(true);
    expect(await joseOk(w, w.jwt)).toBe(true);
  });

  it('byte-level mutations of each part (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 }), partMutation, async (which, m) => {
        const parts = w.jwt.split('.');
        parts[which] = m.f(parts[which]!);
        const jwt = parts.join('.');
        if (jwt === w.jwt) return;
        // Every byte-level change refuses in Charter: each part has one spelling (RFC 7515 §2, RFC 4648 §3.5).
        expect(await charterOk(jwt)).toBe(false);
      }),
      { seed: 7515, numRuns: 120 },
    );
  });

  it('the same mutations with the signature made again over the mutated parts (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1 }), partMutation, async (which, m) => {
        const parts = w.jwt.split('.');
        parts[which] = m.f(parts[which]!);
        const jwt = await signParts(w, parts[0]!, parts[1]!);
        if (await charterOk(jwt)) expect(await joseOk(w, jwt)).toBe(true);
      }),
      { seed: 7516, numRuns: 120 },
    );
  });

  it('header members added or changed, signed again (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(headerChange, { minLength: 1, maxLength: 3 }), async (changes) => {
        const header = Object.assign({}, w.header, ...changes) as Record<string, unknown>;
        const jwt = await signTexts(w, JSON.stringify(header), w.payloadText);
        if (await charterOk(jwt)) expect(await joseOk(w, jwt)).toBe(true);
      }),
      { seed: 7797, numRuns: 150 },
    );
  });

  it('JSON text edits of header or payload, signed again (property)', async () => {
    await fc.assert(
      fc.asyncProperty(textChange, async (c) => {
        const h = JSON.stringify(w.header);
        const jwt = c.part === 'header' ? await signTexts(w, c.f(h), w.payloadText) : await signTexts(w, h, c.f(w.payloadText));
        if (await charterOk(jwt)) expect(await joseOk(w, jwt)).toBe(true);
      }),
      { seed: 8259, numRuns: 40 },
    );
  });

  it('where Charter is stricter than jose, it is by a rule it means to keep', async () => {
    const h = JSON.stringify(w.header);
    const stricter: Array<[string, string, string]> = [
      // RFC 7797 §3, §6: b64 false signs another input; Charter reads base64url payloads only.
      ['crit b64 with b64 false', await signTexts(w, JSON.stringify({ ...w.header, crit: ['b64'], b64: false }), w.payloadText), 'UNKNOWN_CRITICAL'],
      // RFC 7515 §5.2 step 4 and RFC 7519 §4: duplicate member names are refused (parsers disagree on which counts).
      ['duplicate header alg', await signTexts(w, h.replace('{', '{"alg":"none",'), w.payloadText), 'MALFORMED_JWT'],
      // RFC 8259 §8.1: no byte order mark.
      ['BOM before the header', await signTexts(w, '\ufeff' + h, w.payloadText), 'MALFORMED_JWT'],
      // RFC 7515 §2: base64url without padding, only its alphabet; RFC 4648 §3.5: zero pad bits.
      ['signature with pad bits set', w.jwt.slice(0, -1) + ALPHABET[ALPHABET.indexOf(w.jwt.at(-1)!) ^ 1], 'MALFORMED_JWT'],
      ['a newline after the token', w.jwt + '\n', 'MALFORMED_JWT'],
      // VC-JOSE-COSE §3.1.1: a vc+jwt is typed so; a plain JWT is not one.
      ['typ JWT', await signTexts(w, JSON.stringify({ ...w.header, typ: 'JWT' }), w.payloadText), 'INVALID_TYP'],
      // The kid must name a key of the issuer DID (VC-JOSE-COSE §3.3).
      ['kid of another DID', await signTexts(w, JSON.stringify({ ...w.header, kid: 'did:example:other#k' }), w.payloadText), 'KID_MISMATCH'],
    ];
    for (const [name, jwt, code] of stricter) {
      const v = await verifyCredential(jwt, { resolver });
      expect({ name, ok: v.ok, codes: v.reasons.map((r) => r.code) }).toMatchObject({ name, ok: false, codes: expect.arrayContaining([code]) });
    }
    // And jose accepts at least the header-level ones: the list is about strictness, not a shared refusal.
    expect(await joseOk(w, await signTexts(w, JSON.stringify({ ...w.header, typ: 'JWT' }), w.payloadText))).toBe(true);
  });

  it('an embedded jwk, jku or x5u never chooses the key: a token signed by another key fails in both', async () => {
    const other = generateKeyPair(type);
    const otherSigner = createSigner(other.privateJwk);
    const header = { ...w.header, jwk: other.publicJwk, jku: 'https://attacker.example/jwks', x5u: 'https://attacker.example/x5' };
    const hb = b64u(JSON.stringify(header));
    const pb = b64u(w.payloadText);
    const jwt = `${hb}.${pb}.${Buffer.from(await otherSigner.sign(enc.encode(`${hb}.${pb}`))).toString('base64url')}`;
    expect(await charterOk(jwt)).toBe(false);
    expect(await joseOk(w, jwt)).toBe(false);
  });
});

describe('VCDM 1.1 JWT: Charter never accepts what did-jwt-vc refuses', () => {
  const issuer = makeIssuer('Ed25519');
  const subject = makeIssuer().did;
  const peerResolver = new Resolver({ key: async (did) => ({ didDocument: resolveDidKey(did) as never, didDocumentMetadata: {}, didResolutionMetadata: {} }) });
  const now = Math.floor(Date.now() / 1000);
  const V1 = 'https://www.w3.org/2018/credentials/v1';
  type Payload = Record<string, unknown> & { vc: Record<string, unknown> & { credentialSubject?: Record<string, unknown> } };
  const base = (): Payload => ({ iss: issuer.did, sub: subject, nbf: now - 10, vc: { '@context': [V1], type: ['VerifiableCredential', 'X'], credentialSubject: { a: 1 } } });
  const change = fc.constantFrom<[string, (p: Payload) => void]>(
    ['none', () => {}],
    ['no VerifiableCredential type', (p) => void (p.vc.type = ['X'])],
    ['type a string', (p) => void (p.vc.type = 'VerifiableCredential')],
    ['no @context', (p) => delete p.vc['@context']],
    ['another context first', (p) => void (p.vc['@context'] = ['https://example.com/x', V1])],
    ['no subject', (p) => delete p.vc.credentialSubject],
    ['nbf a string', (p) => void (p.nbf = String(p.nbf))],
    ['nbf in the future', (p) => void (p.nbf = now + 10_000)],
    ['no nbf', (p) => delete p.nbf],
    ['expired', (p) => void (p.exp = now - 100)],
    ['iss not a DID', (p) => void (p.iss = 'https://issuer.example')],
    ['iss another DID', (p) => void (p.iss = subject)],
    ['subject id differs from sub', (p) => void (p.vc.credentialSubject = { id: 'did:example:other' })],
    ['vc.issuer differs from iss', (p) => void (p.vc.issuer = 'did:example:other')],
    ['aud present', (p) => void (p.aud = 'did:example:verifier')],
    ['vc null', (p) => void (p.vc = null as never)],
  );

  it('payload changes, signed by the issuer (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 2 }), async (changes) => {
        const p = base();
        try {
          for (const [, f] of changes) f(p);
        } catch {
          return; // a change to a vc another change removed
        }
        const jwt = await signJwt({ typ: 'JWT' }, p, issuer.signer, issuer.kid);
        if (!(await verifyCredential(jwt, { resolver })).ok) return;
        await expect(didJwtVcVerify(jwt, peerResolver)).resolves.toBeDefined();
      }),
      { seed: 1111, numRuns: 60 },
    );
  });
});
