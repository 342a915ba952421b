import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createResolver } from '../../src/did/index.js';
import { createPresentation, signJwt, verifyCredential, verifyPresentation } from '../../src/credentials/index.js';
import { makeIssuer } from '../helpers.js';
import { ERROR_CODES } from '../../src/errors.js';

const resolver = createResolver();
const codes = new Set<string>(ERROR_CODES);
const part = fc.oneof(
  fc.string(),
  fc.base64String().map((s) => s.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
  fc.constantFrom(
    Buffer.from('{"alg":"EdDSA","typ":"vc+jwt","kid":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}').toString(
      'base64url',
    ),
  ),
);

describe('verification never throws on hostile input', () => {
  it('any three-part string is refused with a known code (property)', async () => {
    await fc.assert(
      fc.asyncProperty(part, part, part, async (h, p, s) => {
        const v = await verifyCredential(`${h}.${p}.${s}`, { resolver });
        expect(v.ok).toBe(false);
        for (const r of v.reasons) expect(codes.has(r.code)).toBe(true);
        const vp = await verifyPresentation(`${h}.${p}.${s}`, { resolver, aud: 'x', nonce: 'n' });
        expect(vp.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('validly signed hostile payloads never throw and never pass malformed', () => {
  const alice = makeIssuer('Ed25519');
  const bob = makeIssuer('P-256');
  const V2 = 'https://www.w3.org/ns/credentials/v2';
  /** Each field: mostly a plausible value, else absent or any JSON value, so that some payloads pass and the invariants bite. */
  const field = <T>(good: T) => fc.oneof({ weight: 8, arbitrary: fc.constant(good) }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.jsonValue() });
  /** Usually absent, sometimes any JSON value. */
  const rarely = fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.jsonValue() });
  let passed = 0;
  const payload = fc.record({
    '@context': field([V2]),
    type: field(['VerifiableCredential']),
    issuer: field(alice.did),
    id: field('urn:uuid:1'),
    credentialSubject: field({ id: bob.did }),
    validFrom: field('2020-01-01T00:00:00Z'),
    validUntil: field('2999-01-01T00:00:00Z'),
    nbf: field(1_600_000_000),
    exp: field(32_000_000_000),
    iat: field(1_600_000_000),
    iss: field(alice.did),
    sub: field(bob.did),
    jti: field('urn:uuid:1'),
    vc: rarely,
  });
  const header = fc.record({ typ: field('vc+jwt'), cty: field('vc') });

  it('credentials: a known code for every refusal; what passes is well formed (property)', async () => {
    await fc.assert(
      fc.asyncProperty(payload, header, async (p, h) => {
        const body = JSON.parse(JSON.stringify(p)) as Record<string, unknown>;
        const jwt = await signJwt(JSON.parse(JSON.stringify(h)), body, alice.signer, alice.kid);
        const v = await verifyCredential(jwt, { resolver, schemas: () => [] });
        for (const r of v.reasons) expect(codes.has(r.code)).toBe(true);
        if (!v.ok) return;
        passed++;
        expect(v.issuer).toBe(alice.did);
        expect(v.credential!.type).toContain('VerifiableCredential');
        for (const k of ['nbf', 'exp', 'iat'] as const) if (k in body) expect(typeof body[k]).toBe('number');
        for (const k of ['validFrom', 'validUntil'] as const) if (k in body) expect(body[k]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
        if ('iss' in body) expect(body.iss).toBe(alice.did);
        expect('vc' in body).toBe(false);
      }),
      { numRuns: 300 },
    );
    expect(passed).toBeGreaterThan(10);
  });

  it('presentations: random claims never throw, and a passing presentation has numeric time claims (property)', async () => {
    const vc = await signJwt(
      { typ: 'vc+jwt' },
      { '@context': [V2], type: ['VerifiableCredential'], issuer: alice.did, credentialSubject: { id: bob.did } },
      alice.signer,
      alice.kid,
    );
    const claims = fc.record({
      nbf: field(1_600_000_000),
      exp: field(32_000_000_000),
      iat: field(Math.floor(Date.now() / 1000)),
      iss: field(bob.did),
      vp: rarely,
      holder: field({ id: bob.did }),
      type: field('VerifiablePresentation'),
    });
    await fc.assert(
      fc.asyncProperty(claims, async (c) => {
        const extra = JSON.parse(JSON.stringify(c)) as Record<string, unknown>;
        const vp = await createPresentation({ holder: bob, credentials: [vc], aud: 'a', nonce: 'n', claims: extra });
        const v = await verifyPresentation(vp, { resolver, aud: 'a', nonce: 'n' });
        for (const r of v.reasons) expect(codes.has(r.code)).toBe(true);
        if (!v.ok) return;
        for (const k of ['nbf', 'exp', 'iat'] as const) if (k in extra) expect(typeof extra[k]).toBe('number');
        expect('vp' in extra).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
