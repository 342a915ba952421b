import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, documentResolver } from '../../src/did/index.js';
import { listsKey } from '../../src/did/methods.js';
import { keyString, signingKeysOf } from '../../src/did/parties.js';
import { selectKey, usableKeys } from '../../src/did/select.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { issueCredential, verifyCredential } from '../../src/credentials/index.js';
import { isCharterError } from '../../src/errors.js';
import { serve } from '../helpers.js';

/*
 * Controlled Identifiers 1.0 §2.2: a verification method's `revoked` (MUST NOT
 * be used for proofs at or after it) and `expires` (SHOULD NOT after it).
 * Charter refuses a method carrying `revoked` at all, and one whose `expires`
 * is at or before now or is not an RFC 3339 date-time with a zone.
 */

const DID = 'did:web:lifetime.example';
const KP = generateKeyPair('Ed25519');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const docWith = (did: string, extra: Record<string, unknown>) => ({
  id: did,
  verificationMethod: [{ id: `${did}#key-1`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: KP.publicJwk, ...extra }],
  assertionMethod: [`${did}#key-1`],
  authentication: [`${did}#key-1`],
});

/** Each lifetime marking, and whether the method may verify now. */
const CASES: [string, () => Record<string, unknown>, boolean][] = [
  ['none', () => ({}), true],
  ['revoked in the past', () => ({ revoked: '2020-01-01T00:00:00Z' }), false],
  ['revoked in the future', () => ({ revoked: iso(Date.now() + 365 * 24 * HOUR) }), false],
  ['revoked, malformed', () => ({ revoked: 'yes' }), false],
  ['revoked: null', () => ({ revoked: null }), false],
  ['revoked: false', () => ({ revoked: false }), false],
  ['expires in the past', () => ({ expires: '2020-01-01T00:00:00Z' }), false],
  ['expires an hour ago, with an offset', () => ({ expires: iso(Date.now() - HOUR).replace('Z', '+00:00') }), false],
  ['expires in the future', () => ({ expires: iso(Date.now() + HOUR) }), true],
  ['expires in the future, with an offset', () => ({ expires: '2999-01-01T00:00:00+02:00' }), true],
  ['expires, a bare date', () => ({ expires: '2999-01-01' }), false],
  ['expires, no zone', () => ({ expires: '2999-01-01T00:00:00' }), false],
  ['expires, not a date', () => ({ expires: 'never' }), false],
  ['expires, a number', () => ({ expires: 32503680000 }), false],
  ['expires: null', () => ({ expires: null }), false],
  ['expires, an impossible day', () => ({ expires: '2999-02-30T00:00:00Z' }), false],
];

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'NONE',
    (e: unknown) => (isCharterError(e) ? e.code : 'OTHER'),
  );

describe('a revoked or expired method is not used: resolveKey, listsKey, signingKeysOf', () => {
  for (const [name, extra, usable] of CASES) {
    it(`${name}: ${usable ? 'used' : 'refused'}`, async () => {
      const r = documentResolver(async () => docWith(DID, extra()), { cacheTtlMs: 0 });
      for (const kid of ['#key-1', undefined]) {
        expect(await codeOf(r.resolveKey(DID, kid, 'assertionMethod'))).toBe(usable ? 'NONE' : 'VERIFICATION_METHOD_NOT_AUTHORIZED');
      }
      expect(await listsKey(r, DID, ['authentication', 'assertionMethod'], (j) => j.x === KP.publicJwk.x)).toBe(usable);
      expect(await signingKeysOf(r, DID)).toEqual(usable ? new Set([keyString(KP.publicJwk)]) : new Set());
    });
  }

  it('expires: refused at that very instant, used a millisecond before (selectKey and usableKeys take a now)', () => {
    const at = Date.parse('2030-06-01T12:00:00Z');
    const doc = docWith(DID, { expires: '2030-06-01T12:00:00Z' });
    expect(selectKey(doc, DID, `${DID}#key-1`, 'assertionMethod', at - 1).publicJwk.x).toBe(KP.publicJwk.x);
    expect(() => selectKey(doc, DID, `${DID}#key-1`, 'assertionMethod', at)).toThrow(expect.objectContaining({ code: 'VERIFICATION_METHOD_NOT_AUTHORIZED' }));
    expect(() => selectKey(doc, DID, `${DID}#key-1`, 'assertionMethod', new Date(at + 1))).toThrow(expect.objectContaining({ code: 'VERIFICATION_METHOD_NOT_AUTHORIZED' }));
    // usableKeys keeps its selection with the document, but compares expires with now at each call.
    expect(usableKeys(doc, DID, 'assertionMethod', at - 1)).toHaveLength(1);
    expect(usableKeys(doc, DID, 'assertionMethod', at)).toHaveLength(0);
    expect(usableKeys(doc, DID, 'assertionMethod', at - 1)).toHaveLength(1);
  });

  it('a revoked method is refused at any time, even before the date it names', () => {
    const doc = docWith(DID, { revoked: '2030-06-01T12:00:00Z' });
    expect(() => selectKey(doc, DID, `${DID}#key-1`, 'assertionMethod', Date.parse('2001-01-01T00:00:00Z'))).toThrow(
      expect.objectContaining({ code: 'VERIFICATION_METHOD_NOT_AUTHORIZED' }),
    );
    expect(usableKeys(doc, DID, 'assertionMethod', 0)).toHaveLength(0);
  });

  it('a revoked method does not hide the others', async () => {
    const fresh = generateKeyPair('Ed25519').publicJwk;
    const doc = docWith(DID, { revoked: '2020-01-01T00:00:00Z' });
    doc.verificationMethod.push({ id: `${DID}#key-2`, type: 'JsonWebKey2020', controller: DID, publicKeyJwk: fresh });
    doc.assertionMethod.push(`${DID}#key-2`);
    const r = documentResolver(async () => doc, { cacheTtlMs: 0 });
    expect((await r.resolveKey(DID, '#key-2', 'assertionMethod')).publicJwk.x).toBe(fresh.x);
    expect(await signingKeysOf(r, DID, ['assertionMethod'])).toEqual(new Set([keyString(fresh)]));
  });

  it('now must be a time', () => {
    const doc = docWith(DID, {});
    expect(() => selectKey(doc, DID, undefined, 'assertionMethod', Number.NaN)).toThrow(TypeError);
    expect(() => selectKey(doc, DID, undefined, 'assertionMethod', new Date('nope'))).toThrow(TypeError);
  });
});

describe('end to end: verifyCredential with a did:web served from loopback', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  let doc: unknown;
  let did = '';
  beforeAll(async () => {
    srv = await serve((_req, res) => {
      res.setHeader('content-type', 'application/did+json');
      res.end(JSON.stringify(doc));
    });
    did = `did:web:127.0.0.1%3A${srv.port}`;
  });
  afterAll(() => srv.close());

  for (const [name, extra, usable] of CASES) {
    it(`${name}: ${usable ? 'verifies' : 'VERIFICATION_METHOD_NOT_AUTHORIZED'}`, async () => {
      doc = docWith(did, extra());
      const issuer = { did, kid: `${did}#key-1`, keyType: 'Ed25519' as const, publicJwk: KP.publicJwk, signer: createSigner(KP.privateJwk) };
      const { jwt } = await issueCredential({ issuer, subject: 'did:example:alice', type: 'EmailCredential', claims: { email: 'a@b.c' } });
      const resolver = createResolver({ allowLoopback: true, allowHttp: true, cacheTtlMs: 0 });
      const v = await verifyCredential(jwt, { resolver });
      expect(v.ok).toBe(usable);
      if (!usable) expect(v.reasons.map((r) => r.code)).toContain('VERIFICATION_METHOD_NOT_AUTHORIZED');
    });
  }
});

describe('a cached key lives no longer than its method', () => {
  const codeOfKey = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: unknown) => (isCharterError(e) ? e.code : 'thrown'),
    );

  it('a method expiring while its document is cached stops verifying at its expires, not at the cache end', async () => {
    const did = 'did:web:expiring.example';
    const expires = Date.now() + 800;
    const r = documentResolver(async () => docWith(did, { expires: iso(expires) }), { cacheTtlMs: 300_000 });
    // Listed under verificationMethod by its absolute id, and asked for with and without a kid.
    for (const kid of [`${did}#key-1`, '#key-1', undefined]) expect(await codeOfKey(r.resolveKey(did, kid, 'assertionMethod'))).toBe('ok');
    await new Promise((res) => setTimeout(res, Math.max(0, expires - Date.now()) + 100));
    for (const kid of [`${did}#key-1`, '#key-1', undefined]) expect(await codeOfKey(r.resolveKey(did, kid, 'assertionMethod'))).toBe('VERIFICATION_METHOD_NOT_AUTHORIZED');
  });

  it('the same with the method embedded in the relationship under a relative id', async () => {
    const did = 'did:web:expiring-embedded.example';
    const expires = Date.now() + 800;
    const doc = { id: did, assertionMethod: [{ id: '#key-1', type: 'JsonWebKey2020', controller: did, publicKeyJwk: KP.publicJwk, expires: iso(expires) }] };
    const r = documentResolver(async () => doc, { cacheTtlMs: 300_000 });
    expect(await codeOfKey(r.resolveKey(did, '#key-1', 'assertionMethod'))).toBe('ok');
    await new Promise((res) => setTimeout(res, Math.max(0, expires - Date.now()) + 100));
    expect(await codeOfKey(r.resolveKey(did, '#key-1', 'assertionMethod'))).toBe('VERIFICATION_METHOD_NOT_AUTHORIZED');
    // The document itself is still cached (one load): only the key's own lifetime ended.
  });
});
