import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { assertCredential, createPresentation, issueCredential, signJwt, verifyCredential, verifyPresentation } from '../../src/credentials/index.js';
import { isCharterError } from '../../src/errors.js';
import { makeIssuer, tamper } from '../helpers.js';

const resolver = createResolver();
const alice = makeIssuer('Ed25519');
const bob = makeIssuer('P-256');
const carol = makeIssuer('secp256k1', 'jwk');
const day = 86_400_000;
const issue = (over: Partial<Parameters<typeof issueCredential>[0]> = {}) =>
  issueCredential({ issuer: alice, subject: bob.did, type: 'EmailCredential', claims: { email: 'bob@example.com' }, validUntil: new Date(Date.now() + day), ...over });
const codes = async (jwt: string, opts: Partial<Parameters<typeof verifyCredential>[1]> = {}) => (await verifyCredential(jwt, { resolver, ...opts })).reasons.map((r) => r.code);

describe('issue and verify vc+jwt', () => {
  it('a fresh credential verifies with issuer, subject and every field', async () => {
    for (const issuer of [alice, bob, carol]) {
      const vc = await issue({ issuer });
      const v = await verifyCredential(vc.jwt, { resolver });
      expect(v.ok).toBe(true);
      expect(v).toMatchObject({ issuer: issuer.did, subject: bob.did, id: vc.id, format: 'vc+jwt' });
      expect(v.credential!['@context']).toEqual(['https://www.w3.org/ns/credentials/v2']);
      const header = JSON.parse(Buffer.from(vc.jwt.split('.')[0]!, 'base64url').toString());
      expect(header).toMatchObject({ typ: 'vc+jwt', kid: issuer.kid, alg: issuer.signer.alg });
    }
  });
  it('a VCDM 1.1 JWT (vc-jwt-1.1) verifies and normalises to the same shape', async () => {
    const vc = await issue({ format: 'vc-jwt-1.1' });
    const v = await verifyCredential(vc.jwt, { resolver });
    expect(v.ok).toBe(true);
    expect(v).toMatchObject({ issuer: alice.did, subject: bob.did, format: 'vc-jwt-1.1', id: vc.id });
    expect(await codes(vc.jwt, { acceptV1: false })).toEqual(['INVALID_TYP']);
  });
  it('assertCredential throws a CharterError with the first code', async () => {
    const vc = await issue({ validFrom: new Date(Date.now() - 3 * day), validUntil: new Date(Date.now() - day) });
    await expect(assertCredential(vc.jwt, { resolver })).rejects.toMatchObject({ code: 'CREDENTIAL_EXPIRED' });
  });
});

describe('every rejection path has its code', () => {
  it('tampered payload: INVALID_SIGNATURE', async () => {
    const vc = await issue();
    expect(await codes(tamper(vc.jwt, 1, (p) => ((p.credentialSubject as Record<string, unknown>).email = 'mallory@example.com')))).toEqual(['INVALID_SIGNATURE']);
  });
  it('a memoised signature covers only the exact bytes verified, and only while the resolver keeps that key', async () => {
    const vc = await issue();
    expect(await codes(vc.jwt)).toEqual([]);
    expect(await codes(vc.jwt)).toEqual([]); // second time from the memo
    // Same signature, altered payload or header: never a memo hit.
    expect(await codes(tamper(vc.jwt, 1, (p) => ((p.credentialSubject as Record<string, unknown>).email = 'mallory@example.com')))).toEqual(['INVALID_SIGNATURE']);
    const [h, p, sig] = vc.jwt.split('.') as [string, string, string];
    expect(await codes(`${h}.${p}.${sig.slice(0, -4)}AAAA`)).toEqual(['INVALID_SIGNATURE']);
    // A resolver that resolves the issuer's DID to another key (a rotation) re-verifies and refuses.
    const rotated = {
      ...resolver,
      resolveKey: async (did: string, kid: string | undefined, rel: Parameters<typeof resolver.resolveKey>[2]) => {
        const real = await resolver.resolveKey(did, kid, rel);
        return did === alice.did ? { ...(await resolver.resolveKey(bob.did, undefined, rel)), id: real.id, alg: real.alg, keyType: real.keyType } : real;
      },
    };
    expect((await verifyCredential(vc.jwt, { resolver: rotated })).reasons.map((r) => r.code)).toEqual(['INVALID_SIGNATURE']);
  });
  it('signed by another key under the issuer DID: INVALID_SIGNATURE', async () => {
    const vc = await issue();
    const payload = JSON.parse(Buffer.from(vc.jwt.split('.')[1]!, 'base64url').toString());
    const forged = await signJwt({ typ: 'vc+jwt' }, payload, makeIssuer().signer, alice.kid);
    expect(await codes(forged)).toEqual(['INVALID_SIGNATURE']);
  });
  it('alg none and unknown algs: UNSUPPORTED_ALG', async () => {
    const vc = await issue();
    const [, p] = vc.jwt.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'vc+jwt' })).toString('base64url')}.${p}.`;
    // The Unsecured JWS form (RFC 7515 A.5: an empty signature) is refused for its alg, as README promises.
    expect(await codes(none)).toEqual(['UNSUPPORTED_ALG']);
    for (const alg of ['None', 'NONE', 'HS256', ''])
      expect(await codes(`${Buffer.from(JSON.stringify({ alg, typ: 'vc+jwt' })).toString('base64url')}.${p}.`), alg).toEqual(['UNSUPPORTED_ALG']);
    expect(await codes(`${Buffer.from(JSON.stringify({ typ: 'vc+jwt' })).toString('base64url')}.${p}.`)).toEqual(['UNSUPPORTED_ALG']);
    // An allowed alg with an empty signature is a malformed token (no signature to check).
    const [h] = vc.jwt.split('.');
    expect(await codes(`${h}.${p}.`)).toEqual(['MALFORMED_JWT']);
    expect(await codes(`${Buffer.from(JSON.stringify({ alg: 'none', typ: 'vc+jwt' })).toString('base64url')}.${p}.AAAA`)).toEqual(['UNSUPPORTED_ALG']);
    expect(await codes(tamper(vc.jwt, 0, (h) => (h.alg = 'HS256')))).toEqual(['UNSUPPORTED_ALG']);
  });
  it('algorithm that does not fit the key type: ALG_KEY_MISMATCH', async () => {
    const vc = await issue();
    expect(await codes(tamper(vc.jwt, 0, (h) => (h.alg = 'ES256')))).toEqual(['ALG_KEY_MISMATCH']);
  });
  it('kid of another DID: KID_MISMATCH', async () => {
    const vc = await issue();
    expect(await codes(tamper(vc.jwt, 0, (h) => (h.kid = bob.kid)))).toEqual(['KID_MISMATCH']);
  });
  it('unknown critical header: UNKNOWN_CRITICAL', async () => {
    const vc = await issue();
    expect(await codes(tamper(vc.jwt, 0, (h) => ((h.crit = ['exp']), (h.exp = 1))))).toEqual(['UNKNOWN_CRITICAL']);
  });
  it('b64 (RFC 7797) other than true, with or without crit naming it: refused; b64: true is the ordinary encoding', async () => {
    const vc = await issue();
    const payload = JSON.parse(Buffer.from(vc.jwt.split('.')[1]!, 'base64url').toString());
    for (const b64 of [false, 'false', 0, null, 'true', 1, {}]) {
      const signed = await signJwt({ typ: 'vc+jwt', b64 }, payload, alice.signer, alice.kid);
      expect([b64, await codes(signed)]).toEqual([b64, ['MALFORMED_JWT']]);
      // crit naming it: Charter does not implement RFC 7797, so the critical parameter is not understood.
      expect([b64, await codes(await signJwt({ typ: 'vc+jwt', b64, crit: ['b64'] }, payload, alice.signer, alice.kid))]).toEqual([b64, ['UNKNOWN_CRITICAL']]);
    }
    expect(await codes(await signJwt({ typ: 'vc+jwt', b64: true }, payload, alice.signer, alice.kid))).toEqual([]);
    // A presentation's header too.
    const vp = await signJwt(
      { typ: 'vp+jwt', b64: false },
      { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiablePresentation'], holder: alice.did, aud: 'did:web:v.example', iat: Math.floor(Date.now() / 1000) },
      alice.signer,
      alice.kid,
    );
    expect((await verifyPresentation(vp, { resolver, aud: 'did:web:v.example', allowMissingNonce: true })).reasons.map((r) => r.code)).toEqual(['MALFORMED_JWT']);
  });
  it('a byte order mark before the header or payload JSON (RFC 8259 §8.1) is MALFORMED_JWT, however validly signed', async () => {
    const vc = await issue();
    const [h, p] = vc.jwt.split('.') as [string, string];
    const bom = (part: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(part, 'base64url')]).toString('base64url');
    for (const [hh, pp] of [
      [bom(h), p],
      [h, bom(p)],
      [bom(h), bom(p)],
    ] as const) {
      const input = `${hh}.${pp}`;
      const sig = Buffer.from(await alice.signer.sign(new TextEncoder().encode(input))).toString('base64url');
      expect(await codes(`${input}.${sig}`)).toEqual(['MALFORMED_JWT']);
    }
    // A BOM inside a string value is just a character.
    const inside = await issue({ claims: { note: '\ufeffhello' } });
    expect(await codes(inside.jwt)).toEqual([]);
  });
  it('expired, and not yet valid: default skew 60 s, configurable, capped at 300 s', async () => {
    const now = Date.now();
    const vc = await issue({ validFrom: new Date(now - 2 * day), validUntil: new Date(now - 400_000) });
    expect(await codes(vc.jwt)).toEqual(['CREDENTIAL_EXPIRED']);
    // Expired 90 s ago: refused by default (60 s), accepted with 120 s of skew.
    const lately = await issue({ validFrom: new Date(now - 2 * day), validUntil: new Date(now - 90_000) });
    expect(await codes(lately.jwt)).toEqual(['CREDENTIAL_EXPIRED']);
    expect(await codes(lately.jwt, { skewSeconds: 120 })).toEqual([]);
    const soon = await issue({ validFrom: new Date(now + 200_000), validUntil: new Date(now + day) });
    expect(await codes(soon.jwt)).toEqual(['CREDENTIAL_NOT_YET_VALID']);
    expect(await codes(soon.jwt, { skewSeconds: 300 })).toEqual([]);
    const near = await issue({ validFrom: new Date(now + 30_000), validUntil: new Date(now + day) });
    expect(await codes(near.jwt)).toEqual([]);
    expect(await codes(near.jwt, { skewSeconds: 0 })).toEqual(['CREDENTIAL_NOT_YET_VALID']);
    const later = await issue({ validFrom: new Date(now + 400_000), validUntil: new Date(now + day) });
    expect(await codes(later.jwt, { skewSeconds: 10_000 })).toEqual(['CREDENTIAL_NOT_YET_VALID']);
    for (const bad of [-1, Number.NaN, Infinity, '60' as unknown as number]) await expect(verifyCredential(vc.jwt, { resolver, skewSeconds: bad })).rejects.toThrow(TypeError);
  });
  it('unknown DID method of the issuer: UNSUPPORTED_DID_METHOD', async () => {
    const vc = await issue();
    expect(await codes(tamper(vc.jwt, 1, (p) => (p.issuer = 'did:example:123')))).toEqual(['UNSUPPORTED_DID_METHOD']);
  });
  it('malformed JWTs, non-JSON payloads and absurdly large input', async () => {
    expect(await codes('abc')).toEqual(['MALFORMED_JWT']);
    expect(await codes('a.b.c.d')).toEqual(['MALFORMED_JWT']);
    const h = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'vc+jwt' })).toString('base64url');
    expect(await codes(`${h}.${Buffer.from('not json').toString('base64url')}.AAAA`)).toEqual(['MALFORMED_JWT']);
    expect(await codes(`${h}.${Buffer.from('[1,2]').toString('base64url')}.AAAA`)).toEqual(['MALFORMED_JWT']);
    expect(await codes(`${h}.${'A'.repeat(5_000_000)}.AAAA`)).toEqual(['INPUT_TOO_LARGE']);
  });
  it('a signature spelt with non-zero pad bits (the same bytes, another string) is refused for every key type and token', async () => {
    const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Every other spelling of the signature's last character that decodes to the same bytes.
    const aliases = (jwt: string) => {
      const i = A.indexOf(jwt.at(-1)!);
      return [1, 2, 3, 4, 8, 15]
        .map((f) => jwt.slice(0, -1) + A[i ^ f]!)
        .filter((t) => t !== jwt && Buffer.from(t.split('.')[2]!, 'base64url').equals(Buffer.from(jwt.split('.')[2]!, 'base64url')));
    };
    for (const issuer of [alice, bob, carol]) {
      const vc = await issue({ issuer });
      expect((await verifyCredential(vc.jwt, { resolver })).ok).toBe(true);
      const spelt = aliases(vc.jwt);
      // A 64-byte signature is 86 characters: the last carries 2 bits and 4 unused ones (15 other spellings).
      expect(spelt.length).toBeGreaterThan(0);
      for (const t of spelt) expect(await codes(t)).toEqual(['MALFORMED_JWT']);
      const vp = await createPresentation({ holder: issuer, credentials: [vc.jwt], aud: 'did:web:v.example', nonce: 'n1' });
      for (const t of aliases(vp)) expect((await verifyPresentation(t, { resolver, aud: 'did:web:v.example', nonce: 'n1' })).reasons.map((r) => r.code)).toEqual(['MALFORMED_JWT']);
      // The credential inside a presentation is held to the same rule.
      const inner = await createPresentation({ holder: issuer, credentials: [aliases(vc.jwt)[0]!], aud: 'did:web:v.example', nonce: 'n1' });
      const v = await verifyPresentation(inner, { resolver, aud: 'did:web:v.example', nonce: 'n1' });
      expect(v.ok).toBe(false);
      expect(v.reasons.map((r) => r.code)).toContain('MALFORMED_JWT');
    }
  });
  it('a header or payload in any spelling but canonical base64url is refused, even when the signer signed that spelling', async () => {
    const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const vc = await issue();
    const [h0, p0] = vc.jwt.split('.') as [string, string];
    // A payload whose length leaves pad bits in its last character (JSON allows trailing spaces).
    let json = Buffer.from(p0, 'base64url').toString();
    while (Buffer.from(json).toString('base64url').length % 4 === 0) json += ' ';
    const p = Buffer.from(json).toString('base64url');
    const i = A.indexOf(p.at(-1)!);
    const padAlias = [1, 2, 3].map((f) => p.slice(0, -1) + A[i ^ f]!).find((t) => Buffer.from(t, 'base64url').equals(Buffer.from(p, 'base64url')))!;
    expect(padAlias).toBeDefined();
    const std = (s: string) => Buffer.from(s, 'base64url').toString('base64');
    const spellings: Array<[string, string]> = [
      [h0, padAlias], // non-zero pad bits
      [h0, p + '='], // padding
      [h0, std(p)], // the standard alphabet (+ and /), read the same by Node's decoder
      [std(h0), p],
      [h0, `${p.slice(0, 10)} ${p.slice(10)}`], // whitespace, skipped by Node's decoder
      [h0, `${p.slice(0, 10)}!${p.slice(10)}`], // a character outside the alphabet, skipped too
      [`${h0.slice(0, 4)}\n${h0.slice(4)}`, p],
    ];
    // Each is signed as spelt, so only the spelling rule can refuse it.
    for (const [h, pl] of spellings) {
      if (h === h0 && pl === p) continue;
      const input = `${h}.${pl}`;
      const sig = Buffer.from(await alice.signer.sign(new TextEncoder().encode(input))).toString('base64url');
      expect(await codes(`${input}.${sig}`)).toEqual(['MALFORMED_JWT']);
    }
    // The canonical spelling of the same payload, signed the same way, verifies.
    const good = `${h0}.${p}`;
    expect(await codes(`${good}.${Buffer.from(await alice.signer.sign(new TextEncoder().encode(good))).toString('base64url')}`)).toEqual([]);
  });
  it('wrong typ and broken credential shape', async () => {
    const vc = await issue();
    expect(await codes(tamper(vc.jwt, 0, (h) => (h.typ = 'vp+jwt')))).toEqual(['INVALID_TYP']);
    const noCtx = await signJwt({ typ: 'vc+jwt' }, { type: ['VerifiableCredential'], issuer: alice.did, credentialSubject: {} }, alice.signer, alice.kid);
    expect(await codes(noCtx)).toEqual(['INVALID_CREDENTIAL']);
  });
  it('a subject that breaks its JSON Schema, or an unknown schema: SCHEMA_INVALID', async () => {
    await expect(
      issueCredential({
        issuer: alice,
        subject: bob.did,
        type: 'DataAccessGrant',
        claims: { grant: { resources: [] } },
        credentialSchema: { id: 'https://charter.dev/schemas/DataAccessGrant.json', type: 'JsonSchema' },
      }),
    ).rejects.toMatchObject({ code: 'SCHEMA_INVALID' });
    const vc = await issue({ credentialSchema: { id: 'https://example.org/unknown.json', type: 'JsonSchema' } }).catch((e) => e);
    expect(isCharterError(vc) && vc.code).toBe('SCHEMA_INVALID');
    const raw = await signJwt(
      { typ: 'vc+jwt' },
      {
        '@context': ['https://www.w3.org/ns/credentials/v2'],
        type: ['VerifiableCredential', 'DataAccessGrant'],
        issuer: alice.did,
        credentialSubject: { id: bob.did, grant: { resources: ['a'], actions: ['read'] } },
        credentialSchema: { id: 'https://charter.dev/schemas/DataAccessGrant.json', type: 'JsonSchema' },
      },
      alice.signer,
      alice.kid,
    );
    expect(await codes(raw)).toEqual(['SCHEMA_INVALID']);
  });
  it('a status entry without a status checker fails closed: STATUS_UNAVAILABLE', async () => {
    const vc = await issue({
      credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential: 'https://example.org/status/1' },
    });
    expect(await codes(vc.jwt)).toEqual(['STATUS_UNAVAILABLE']);
    expect(await codes(vc.jwt, { status: async () => [] })).toEqual([]);
  });
});

describe('presentations (vp+jwt)', () => {
  const aud = 'did:web:shop.example';
  it('a holder presents its credential bound to audience and nonce', async () => {
    const vc = await issue();
    const vp = await createPresentation({ holder: bob, credentials: [vc.jwt], aud, nonce: 'n-1' });
    const v = await verifyPresentation(vp, { resolver, aud, nonce: 'n-1' });
    expect(v.ok).toBe(true);
    expect(v.holder).toBe(bob.did);
    expect(v.credentials.map((c) => c.ok)).toEqual([true]);
  });
  it('wrong aud, wrong nonce, holder mismatch, stale and tampered presentations are refused', async () => {
    const vc = await issue();
    const vp = await createPresentation({ holder: bob, credentials: [vc.jwt], aud, nonce: 'n-1' });
    const reasons = async (jwt: string, o: Partial<Parameters<typeof verifyPresentation>[1]> = {}) =>
      (await verifyPresentation(jwt, { resolver, aud, nonce: 'n-1', ...o })).reasons.map((r) => r.code);
    expect(await reasons(vp, { aud: 'did:web:other.example' })).toEqual(['AUDIENCE_MISMATCH']);
    expect(await reasons(vp, { nonce: 'n-2' })).toEqual(['NONCE_MISMATCH']);
    const stolen = await createPresentation({ holder: carol, credentials: [vc.jwt], aud, nonce: 'n-1' });
    expect(await reasons(stolen)).toEqual(['HOLDER_MISMATCH']);
    expect(await reasons(stolen, { allowHolderMismatch: true })).toEqual([]);
    expect(await reasons(vp, { now: new Date(Date.now() + 3_600_000) })).toContain('PRESENTATION_STALE');
    expect(
      await reasons(
        tamper(vp, 1, (p) => (p.nonce = 'n-3')),
        { nonce: 'n-3' },
      ),
    ).toEqual(['INVALID_SIGNATURE']);
    const future = tamper(vp, 1, (p) => (p.iat = Math.floor(Date.now() / 1000) + 3600));
    expect(await reasons(future)).toContain('ISSUED_IN_FUTURE');
  });
  it('a refused credential inside refuses the presentation, naming it', async () => {
    const vc = await issue();
    const bad = tamper(vc.jwt, 1, (p) => ((p.credentialSubject as Record<string, unknown>).email = 'x'));
    const vp = await createPresentation({ holder: bob, credentials: [bad], aud, nonce: 'n' });
    const v = await verifyPresentation(vp, { resolver, aud, nonce: 'n' });
    expect(v.ok).toBe(false);
    expect(v.reasons).toEqual([expect.objectContaining({ code: 'INVALID_SIGNATURE', ref: vc.id })]);
  });
  it('a data:application/vc+jwt envelope holds a VCDM 2.0 credential: a VCDM 1.1 JWT in one is refused, in a 1.1 presentation accepted', async () => {
    const v1 = (await issueCredential({ issuer: alice, subject: bob.did, type: 'TestCredential', claims: {}, format: 'vc-jwt-1.1' })).jwt;
    // Whether the 1.1 token was seen (and cached) before under the default setting or not.
    expect((await verifyCredential(v1, { resolver })).ok).toBe(true);
    const enveloped = await createPresentation({ holder: bob, credentials: [v1], aud, nonce: 'n' });
    const v = await verifyPresentation(enveloped, { resolver, aud, nonce: 'n' });
    expect(v.ok).toBe(false);
    expect(v.reasons.map((r) => r.code)).toEqual(['INVALID_TYP']);
    const legacy = await createPresentation({ holder: bob, credentials: [v1], aud, nonce: 'n', format: 'vp-jwt-1.1' });
    expect((await verifyPresentation(legacy, { resolver, aud, nonce: 'n' })).ok).toBe(true);
    // The same 2.0 credential in either presentation is accepted.
    const vc = await issue();
    for (const format of ['vp-jwt-1.1', undefined] as const) {
      const vp = await createPresentation({ holder: bob, credentials: [vc.jwt], aud, nonce: 'n', ...(format ? { format } : {}) });
      expect((await verifyPresentation(vp, { resolver, aud, nonce: 'n' })).ok).toBe(true);
    }
  });
});

describe('one token, one credential (VCDM 1.1 JWTs)', () => {
  const v1Body = (extra: Record<string, unknown> = {}) => ({
    iss: alice.did,
    sub: bob.did,
    nbf: Math.floor(Date.now() / 1000) - 10,
    vc: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential'], credentialSubject: { name: 'Bob' } },
    ...extra,
  });
  it('a 1.1 JWT with a second credential body at the top level is refused, naming each member', async () => {
    expect((await verifyCredential(await signJwt({ typ: 'JWT' }, v1Body(), alice.signer, alice.kid), { resolver })).ok).toBe(true);
    const second = {
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      type: ['VerifiableCredential'],
      issuer: carol.did,
      credentialSubject: { id: carol.did, role: 'admin' },
      validFrom: '2020-01-01T00:00:00Z',
      validUntil: '2020-01-02T00:00:00Z',
      credentialStatus: { type: 'BitstringStatusListEntry' },
      credentialSchema: { id: 'https://x.example/s', type: 'JsonSchema' },
    };
    for (const [k, value] of Object.entries(second)) {
      const jwt = await signJwt({ typ: 'JWT' }, v1Body({ [k]: value }), alice.signer, alice.kid);
      const v = await verifyCredential(jwt, { resolver });
      expect([k, v.ok, v.reasons.map((r) => r.code)]).toEqual([k, false, ['INVALID_CREDENTIAL']]);
    }
  });
  it('a 1.1 presentation JWT with another holder or credentials at the top level is refused', async () => {
    const vc = await signJwt({ typ: 'JWT' }, v1Body(), alice.signer, alice.kid);
    const aud = 'did:web:verifier.example';
    const body = (extra: Record<string, unknown>) => ({
      iss: bob.did,
      aud,
      nonce: 'n',
      vp: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], verifiableCredential: [vc] },
      ...extra,
    });
    expect((await verifyPresentation(await signJwt({ typ: 'JWT' }, body({}), bob.signer, bob.kid), { resolver, aud, nonce: 'n' })).ok).toBe(true);
    for (const extra of [{ holder: carol.did }, { verifiableCredential: [] }, { '@context': ['https://www.w3.org/ns/credentials/v2'] }, { type: ['VerifiablePresentation'] }]) {
      const v = await verifyPresentation(await signJwt({ typ: 'JWT' }, body(extra), bob.signer, bob.kid), { resolver, aud, nonce: 'n' });
      expect([Object.keys(extra)[0], v.ok, v.reasons.map((r) => r.code)]).toEqual([Object.keys(extra)[0], false, ['INVALID_PRESENTATION']]);
    }
  });
});

describe('JSON nesting depth', () => {
  it('a signed credential nested beyond 64 levels is MALFORMED_JWT, the same with or without the caches; 64 levels verify', async () => {
    const signedWith = async (depth: number) => {
      // The payload is level 1, credentialSubject level 2: `x` adds the rest.
      const body = { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential'], issuer: alice.did, credentialSubject: { id: bob.did } };
      const text = JSON.stringify(body).slice(0, -1) + ',"x":' + '['.repeat(depth - 1) + ']'.repeat(depth - 1) + '}';
      const input = `${Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'vc+jwt', kid: alice.kid })).toString('base64url')}.${Buffer.from(text).toString('base64url')}`;
      return `${input}.${Buffer.from(await alice.signer.sign(new TextEncoder().encode(input))).toString('base64url')}`;
    };
    for (const depth of [65, 1000, 20_000]) {
      const jwt = await signedWith(depth);
      for (const once of [true, false]) {
        const v = await verifyCredential(jwt, { resolver, once });
        expect([depth, once, v.ok, v.reasons.map((r) => r.code)]).toEqual([depth, once, false, ['MALFORMED_JWT']]);
        expect(v.reasons[0]!.message).toMatch(/deeper than 64/);
      }
    }
    for (const once of [true, false]) expect((await verifyCredential(await signedWith(64), { resolver, once })).ok).toBe(true);
  });
});

describe('the parse cache cannot be poisoned', () => {
  it('a verified credential is deep-frozen: a caller changing it throws, and the next verification reads the issued bytes', async () => {
    const vc = await issue();
    const first = await verifyCredential(vc.jwt, { resolver });
    expect(first.ok).toBe(true);
    expect(() => {
      (first.credential!.credentialSubject as Record<string, unknown>).email = 'mallory@example.com';
    }).toThrow(TypeError);
    expect(() => {
      first.credential!.type.push('Admin');
    }).toThrow(TypeError);
    const again = await verifyCredential(vc.jwt, { resolver });
    expect((again.credential!.credentialSubject as Record<string, unknown>).email).toBe('bob@example.com');
    // A custom schema checker still runs on every call; a changed byte is another cache entry, and refused.
    let calls = 0;
    await verifyCredential(vc.jwt, { resolver, schemas: () => (calls++, []) });
    await verifyCredential(vc.jwt, { resolver, schemas: () => (calls++, []) });
    expect(calls).toBe(2);
    expect(await codes(tamper(vc.jwt, 1, (p) => ((p.credentialSubject as Record<string, unknown>).email = 'x@example.com')))).toEqual(['INVALID_SIGNATURE']);
  });

  it('a string that names a cached token is not that token: whatever it adds, in either acceptV1 setting and order', async () => {
    const vc = await issue();
    for (const warm of [false, true]) {
      // The genuine token cached under one setting...
      expect((await verifyCredential(vc.jwt, { resolver, acceptV1: warm })).ok).toBe(true);
      for (const bogus of [`v2only ${vc.jwt}`, `v1 ${vc.jwt}`, ` ${vc.jwt}`, `${vc.jwt} `, `${vc.jwt}\n`, `v2only${vc.jwt}`]) {
        // ...never makes a string around it verify, under either setting, nor through a presentation.
        for (const acceptV1 of [true, false]) expect(await codes(bogus, { acceptV1 })).toEqual(['MALFORMED_JWT']);
        const vp = await createPresentation({ holder: bob, credentials: [bogus], aud: 'did:web:verifier.example', nonce: 'n' });
        const p = await verifyPresentation(vp, { resolver, aud: 'did:web:verifier.example', nonce: 'n' });
        expect(p.ok).toBe(false);
        expect(p.reasons.map((r) => r.code)).toContain('MALFORMED_JWT');
      }
    }
  });
});

describe('once: a credential verified without the per-JWS caches (bulk import)', () => {
  it('decides exactly as the cached path, tampering and time included, and its result is not shared with the cache', async () => {
    const vc = await issue();
    const expired = await issue({ validFrom: new Date(Date.now() - 3 * day), validUntil: new Date(Date.now() - day) });
    const forged = tamper(vc.jwt, 1, (p) => ((p.credentialSubject as Record<string, unknown>).email = 'x@example.com'));
    const badSig = vc.jwt.slice(0, -4) + (vc.jwt.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const jwt of [vc.jwt, expired.jwt, forged, badSig, 'not.a.jwt']) {
      expect(await codes(jwt, { once: true })).toEqual(await codes(jwt));
    }
    // A signature memoised by the cached path does not vouch for the once path, and the reverse.
    expect(await codes(vc.jwt, { once: true })).toEqual([]);
    const own = await verifyCredential(vc.jwt, { resolver, once: true });
    (own.credential!.credentialSubject as Record<string, unknown>).email = 'mallory@example.com';
    const cached = await verifyCredential(vc.jwt, { resolver });
    expect((cached.credential!.credentialSubject as Record<string, unknown>).email).toBe('bob@example.com');
  });
});
