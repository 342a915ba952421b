import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createResolver } from '../../src/did/index.js';
import { createPresentation, soleSubject, signJwt, verifyCredential, verifyPresentation } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { parseDateTime } from '../../src/encoding/time.js';
import { makeIssuer } from '../helpers.js';

/**
 * Attacks on the time, claim and media-type rules of vc+jwt / vp+jwt
 * (VC-JOSE-COSE §3.1.3, RFC 7519 §4.1, VCDM 2.0 "Validity Period"): every signature here
 * is valid, so each refusal comes from the rule under test.
 */
const resolver = createResolver();
const alice = makeIssuer('Ed25519');
const bob = makeIssuer('P-256');
const carol = makeIssuer('secp256k1');
const V2 = 'https://www.w3.org/ns/credentials/v2';
const nowS = () => Math.floor(Date.now() / 1000);
const iso = (ms: number) => new Date(ms).toISOString();
const day = 86_400_000;
const aud = 'did:web:verifier.example';

const credential = (over: Record<string, unknown> = {}) => ({
  '@context': [V2],
  id: 'urn:uuid:c1',
  type: ['VerifiableCredential', 'EmailCredential'],
  issuer: alice.did,
  validFrom: iso(Date.now() - day),
  validUntil: iso(Date.now() + day),
  credentialSubject: { id: bob.did, email: 'bob@example.com' },
  ...over,
});
const sign = (payload: object, header: Record<string, unknown> = { typ: 'vc+jwt', cty: 'vc' }, who: Issuer = alice) => signJwt(header, payload, who.signer, who.kid);

/** Signs a payload given as raw JSON text (to carry numbers JSON.stringify cannot write, such as 1e400). */
async function signRaw(payloadJson: string, header: Record<string, unknown>, who: Issuer = alice): Promise<string> {
  const h = Buffer.from(JSON.stringify({ ...header, alg: who.signer.alg, kid: who.kid })).toString('base64url');
  const input = `${h}.${Buffer.from(payloadJson).toString('base64url')}`;
  return `${input}.${Buffer.from(await who.signer.sign(new TextEncoder().encode(input))).toString('base64url')}`;
}
const codes = async (jwt: string, o: Partial<Parameters<typeof verifyCredential>[1]> = {}) => (await verifyCredential(jwt, { resolver, ...o })).reasons.map((r) => r.code);

/** Values that are not NumericDates. */
const NOT_NUMERIC_DATES: unknown[] = ['1700000000', '2030-01-01T00:00:00Z', '', null, {}, [], [1700000000], true, false, { $numberLong: '1700000000' }];

describe('time claims of the wrong type are refused, never ignored', () => {
  it('a valid credential is the baseline', async () => {
    expect(await codes(await sign(credential()))).toEqual([]);
    expect(await codes(await sign({ ...credential(), nbf: nowS() - 60, exp: nowS() + 3600, iat: nowS() }))).toEqual([]);
  });

  for (const claim of ['nbf', 'exp', 'iat']) {
    it(`vc+jwt: "${claim}" as a string, null, object, array or boolean is INVALID_CREDENTIAL`, async () => {
      for (const v of NOT_NUMERIC_DATES) {
        expect([v, await codes(await sign({ ...credential(), [claim]: v }))]).toEqual([v, ['INVALID_CREDENTIAL']]);
      }
    });
    it(`vc+jwt: "${claim}" beyond any date is INVALID_CREDENTIAL; a literal overflowing to Infinity (1e400) is no JSON Charter reads (MALFORMED_JWT)`, async () => {
      for (const [raw, code] of [
        ['1e400', 'MALFORMED_JWT'],
        ['-1e400', 'MALFORMED_JWT'],
        ['1e300', 'INVALID_CREDENTIAL'],
        ['9e15', 'INVALID_CREDENTIAL'],
      ]) {
        const json = JSON.stringify(credential()).replace(/}$/, `,"${claim}":${raw}}`);
        expect([raw, await codes(await signRaw(json, { typ: 'vc+jwt' }))]).toEqual([raw, [code]]);
      }
    });
    it(`vp+jwt: "${claim}" of the wrong type refuses the presentation`, async () => {
      const vc = await sign(credential());
      for (const v of NOT_NUMERIC_DATES) {
        const vp = await createPresentation({ holder: bob, credentials: [vc], aud, nonce: 'n', claims: { [claim]: v } });
        const r = await verifyPresentation(vp, { resolver, aud, nonce: 'n' });
        expect([v, r.ok]).toEqual([v, false]);
        expect(r.reasons.map((x) => x.code)).toContain('INVALID_PRESENTATION');
      }
    });
  }

  it('VCDM 1.1 JWT: a string nbf or exp is refused, not dropped', async () => {
    const vc = { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential'], credentialSubject: { degree: 'BSc' } };
    expect(await codes(await sign({ vc, iss: alice.did, sub: bob.did, nbf: nowS() - 10 }, { typ: 'JWT' }))).toEqual([]);
    expect(await codes(await sign({ vc, iss: alice.did, sub: bob.did, exp: '2000-01-01' }, { typ: 'JWT' }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await sign({ vc, iss: alice.did, sub: bob.did, nbf: 'later' }, { typ: 'JWT' }))).toEqual(['INVALID_CREDENTIAL']);
  });

  it('any non-number time claim is refused (property)', async () => {
    const notNumber = fc.anything().filter((v) => typeof v !== 'number' && v !== undefined);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('nbf', 'exp', 'iat'), notNumber, async (claim, v) => {
        const payload = { ...credential(), [claim]: v };
        // Values JSON cannot carry (functions, symbols...) vanish from the payload; those are not under test.
        if (!Object.hasOwn(JSON.parse(JSON.stringify(payload)), claim)) return;
        expect(await codes(await sign(payload))).toContain('INVALID_CREDENTIAL');
      }),
      { numRuns: 150 },
    );
  });
});

describe('every present time bound applies: the strictest wins', () => {
  it('vc+jwt: nbf in the future refuses even with a past validFrom, and validFrom in the future with a past nbf', async () => {
    expect(await codes(await sign({ ...credential(), nbf: nowS() + 3600 }))).toEqual(['CREDENTIAL_NOT_YET_VALID']);
    expect(await codes(await sign({ ...credential({ validFrom: iso(Date.now() + 3_600_000) }), nbf: nowS() - 3600 }))).toEqual(['CREDENTIAL_NOT_YET_VALID']);
  });
  it('vc+jwt: exp in the past refuses even with a future validUntil, and validUntil in the past with a future exp', async () => {
    expect(await codes(await sign({ ...credential(), exp: nowS() - 3600 }))).toEqual(['CREDENTIAL_EXPIRED']);
    expect(await codes(await sign({ ...credential({ validFrom: iso(Date.now() - 2 * day), validUntil: iso(Date.now() - 3_600_000) }), exp: nowS() + 3600 }))).toEqual([
      'CREDENTIAL_EXPIRED',
    ]);
  });
  it('vc+jwt: iat in the future is ISSUED_IN_FUTURE; nbf alone (no validFrom) still binds', async () => {
    expect(await codes(await sign({ ...credential(), iat: nowS() + 3600 }))).toEqual(['ISSUED_IN_FUTURE']);
    const { validFrom: _f, validUntil: _u, ...bare } = credential();
    expect(await codes(await sign({ ...bare, nbf: nowS() + 3600 }))).toEqual(['CREDENTIAL_NOT_YET_VALID']);
    expect(await codes(await sign({ ...bare, exp: nowS() - 3600 }))).toEqual(['CREDENTIAL_EXPIRED']);
  });
  it('VCDM 1.1: vc.expirationDate and vc.issuanceDate bind next to exp and nbf', async () => {
    const vc = (o: Record<string, unknown>) => ({
      '@context': ['https://www.w3.org/2018/credentials/v1'],
      type: ['VerifiableCredential'],
      credentialSubject: { degree: 'BSc' },
      ...o,
    });
    expect(await codes(await sign({ vc: vc({ expirationDate: iso(Date.now() - 3_600_000) }), iss: alice.did, sub: bob.did, exp: nowS() + 3600 }, { typ: 'JWT' }))).toEqual([
      'CREDENTIAL_EXPIRED',
    ]);
    expect(await codes(await sign({ vc: vc({ issuanceDate: iso(Date.now() + 3_600_000) }), iss: alice.did, sub: bob.did, nbf: nowS() - 3600 }, { typ: 'JWT' }))).toEqual([
      'CREDENTIAL_NOT_YET_VALID',
    ]);
    expect(await codes(await sign({ vc: vc({ expirationDate: 'Jan 1 2999' }), iss: alice.did, sub: bob.did }, { typ: 'JWT' }))).toEqual(['INVALID_CREDENTIAL']);
  });
  it('vp+jwt: exp in the past or nbf in the future refuses a fresh presentation', async () => {
    const vc = await sign(credential());
    const at = async (claims: Record<string, unknown>) =>
      (await verifyPresentation(await createPresentation({ holder: bob, credentials: [vc], aud, nonce: 'n', claims }), { resolver, aud, nonce: 'n' })).reasons.map((r) => r.code);
    expect(await at({})).toEqual([]);
    // A presentation out of its window has its own codes: stale, or from the future (never CREDENTIAL_*).
    expect(await at({ exp: nowS() - 120 })).toEqual(['PRESENTATION_STALE']);
    expect(await at({ nbf: nowS() + 3600 })).toEqual(['ISSUED_IN_FUTURE']);
    expect(await at({ validUntil: iso(Date.now() - 3_600_000) })).toEqual(['PRESENTATION_STALE']);
    expect(await at({ validUntil: '2999-01-01' })).toEqual(['INVALID_PRESENTATION']);
  });
});

describe('validFrom and validUntil are RFC 3339 date-times with a time zone', () => {
  const refused = [
    'Jan 1 2999',
    '2999-01-01',
    '2999-01-01T00:00:00',
    '2024-02-30T00:00:00Z',
    '2024-01-01t00:00:00z',
    '2024-01-01 00:00:00Z',
    1893456000,
    null,
    {},
    ['2024-01-01T00:00:00Z'],
    '',
  ];
  for (const key of ['validFrom', 'validUntil']) {
    it(`${key}: anything Date.parse happens to accept, and every non-string, is INVALID_CREDENTIAL`, async () => {
      for (const v of refused) expect([v, await codes(await sign(credential({ [key]: v })))]).toEqual([v, ['INVALID_CREDENTIAL']]);
    });
  }
  it('offsets are honoured: +14:00 and -00:00 read as the instant they name', async () => {
    const past = new Date(Date.now() - day);
    const local = new Date(past.getTime() + 14 * 3_600_000).toISOString().slice(0, 19) + '+14:00';
    expect(await codes(await sign(credential({ validFrom: local })))).toEqual([]);
    expect(await codes(await sign(credential({ validUntil: new Date(Date.now() - 3_600_000).toISOString().slice(0, 19) + '-00:00' })))).toEqual(['CREDENTIAL_EXPIRED']);
  });
  it('any number of fraction digits (RFC 3339 time-secfrac, XSD dateTimeStamp), read to the millisecond', async () => {
    for (const digits of [1, 3, 9, 10, 12, 20, 38]) {
      const frac = '1234567890'.repeat(4).slice(0, digits);
      for (const zone of ['Z', '+14:00', '-00:00']) {
        const t = `2020-01-01T00:00:00.${frac}${zone}`;
        expect([t, parseDateTime(t)]).toEqual([t, Date.parse(`2020-01-01T00:00:00.${frac.padEnd(3, '0').slice(0, 3)}${zone === '-00:00' ? 'Z' : zone}`)]);
        expect([t, await codes(await sign(credential({ validFrom: t })))]).toEqual([t, []]);
      }
      expect(await codes(await sign(credential({ validFrom: '2019-01-01T00:00:00Z', validUntil: `2020-01-01T00:00:00.${frac}Z` })))).toEqual(['CREDENTIAL_EXPIRED']);
    }
    // Still refused: an empty fraction, a comma, non-ASCII digits, and input past the length bound (64 characters).
    for (const t of [
      '2020-01-01T00:00:00.Z',
      '2020-01-01T00:00:00,5Z',
      '2020-01-01T00:00:00.١٢Z',
      `2020-01-01T00:00:00.${'1'.repeat(39)}+14:00`,
      `2020-01-01T00:00:00.${'0'.repeat(1000)}Z`,
    ]) {
      expect([t.slice(0, 40), parseDateTime(t), await codes(await sign(credential({ validFrom: t })))]).toEqual([t.slice(0, 40), undefined, ['INVALID_CREDENTIAL']]);
    }
  });
  it('validFrom after validUntil is INVALID_CREDENTIAL (VCDM 2.0 "Validity Period")', async () => {
    const c = await sign(credential({ validFrom: iso(Date.now() + 2 * day), validUntil: iso(Date.now() + day) }));
    expect(await codes(c)).toContain('INVALID_CREDENTIAL');
  });
  it('a random date string is accepted only when it is a strict date-time (property)', async () => {
    const dateLike = fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
      fc
        .tuple(fc.date({ noInvalidDate: true, min: new Date('1970-01-01'), max: new Date('2020-01-01') }), fc.constantFrom(10, 16, 19, 23, 24))
        .map(([d, n]) => d.toISOString().slice(0, n)),
      fc
        .tuple(fc.integer({ min: 1971, max: 2020 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
        .map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T00:00:00Z`),
      fc.string({ maxLength: 30 }),
    );
    await fc.assert(
      fc.asyncProperty(dateLike, async (s) => {
        const t = Date.parse(s);
        // The oracle: the strict form, on a day that exists (Date.parse rolls 02-30 into March).
        const strict = /^\d{4}-(0[1-9]|1[0-2])-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(s) && !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s.slice(0, 10);
        const c = await codes(await sign(credential({ validFrom: s })));
        if (strict) expect(c).not.toContain('INVALID_CREDENTIAL');
        else expect(c).toEqual(['INVALID_CREDENTIAL']);
      }),
      { numRuns: 120 },
    );
  });
});

describe('JWT claims must not contradict the credential (VC-JOSE-COSE §3.1.3)', () => {
  it('iss: equal to the issuer (string or object) passes; any other value is INVALID_CREDENTIAL', async () => {
    expect(await codes(await sign({ ...credential(), iss: alice.did }))).toEqual([]);
    expect(await codes(await sign({ ...credential({ issuer: { id: alice.did, name: 'Alice' } }), iss: alice.did }))).toEqual([]);
    for (const iss of [bob.did, alice.did + ' ', alice.did.toUpperCase(), '', null, 1, [alice.did], { id: alice.did }]) {
      expect([iss, await codes(await sign({ ...credential(), iss }))]).toEqual([iss, ['INVALID_CREDENTIAL']]);
    }
  });
  it('sub: must name the subject; with several subjects, one of them', async () => {
    expect(await codes(await sign({ ...credential(), sub: bob.did }))).toEqual([]);
    for (const sub of [carol.did, '', null, 7, [bob.did]]) expect([sub, await codes(await sign({ ...credential(), sub }))]).toEqual([sub, ['INVALID_CREDENTIAL']]);
    const { id: _id, ...anonymous } = credential().credentialSubject;
    expect(await codes(await sign({ ...credential({ credentialSubject: anonymous }), sub: bob.did }))).toEqual(['INVALID_CREDENTIAL']);
    const two = credential({ credentialSubject: [{ id: bob.did }, { id: carol.did }] });
    expect(await codes(await sign({ ...two, sub: carol.did }))).toEqual([]);
    expect(await codes(await sign({ ...two, sub: alice.did }))).toEqual(['INVALID_CREDENTIAL']);
  });
  it('jti: must equal the credential id', async () => {
    expect(await codes(await sign({ ...credential(), jti: 'urn:uuid:c1' }))).toEqual([]);
    for (const jti of ['urn:uuid:other', 1, null]) expect([jti, await codes(await sign({ ...credential(), jti }))]).toEqual([jti, ['INVALID_CREDENTIAL']]);
  });
  it('a vc or vp claim inside a vc+jwt is INVALID_CREDENTIAL, whatever its value', async () => {
    for (const claim of ['vc', 'vp']) {
      for (const v of ['oops', null, {}, credential(), false])
        expect([claim, v, await codes(await sign({ ...credential(), [claim]: v }))]).toEqual([claim, v, ['INVALID_CREDENTIAL']]);
    }
  });
  it('a vc or vp claim inside a vp+jwt is INVALID_PRESENTATION', async () => {
    const vc = await sign(credential());
    for (const claim of ['vc', 'vp']) {
      const vp = await createPresentation({ holder: bob, credentials: [vc], aud, nonce: 'n', claims: { [claim]: { verifiableCredential: [] } } });
      expect((await verifyPresentation(vp, { resolver, aud, nonce: 'n' })).reasons.map((r) => r.code)).toEqual(['INVALID_PRESENTATION']);
    }
  });
  it('vp+jwt: an iss other than the holder is INVALID_PRESENTATION', async () => {
    const vc = await sign(credential());
    const ok = await createPresentation({ holder: bob, credentials: [vc], aud, nonce: 'n', claims: { iss: bob.did } });
    expect((await verifyPresentation(ok, { resolver, aud, nonce: 'n' })).ok).toBe(true);
    const other = await createPresentation({ holder: bob, credentials: [vc], aud, nonce: 'n', claims: { iss: alice.did } });
    expect((await verifyPresentation(other, { resolver, aud, nonce: 'n' })).reasons.map((r) => r.code)).toEqual(['INVALID_PRESENTATION']);
  });
  it('VCDM 1.1: vc.issuer must equal iss and vc.credentialSubject.id must equal sub', async () => {
    const vc = (o: Record<string, unknown>) => ({
      '@context': ['https://www.w3.org/2018/credentials/v1'],
      type: ['VerifiableCredential'],
      credentialSubject: { degree: 'BSc' },
      ...o,
    });
    expect(await codes(await sign({ vc: vc({ issuer: bob.did }), iss: alice.did, sub: bob.did }, { typ: 'JWT' }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await sign({ vc: vc({ issuer: alice.did }), iss: alice.did, sub: bob.did }, { typ: 'JWT' }))).toEqual([]);
    expect(await codes(await sign({ vc: vc({ credentialSubject: { id: carol.did } }), iss: alice.did, sub: bob.did }, { typ: 'JWT' }))).toEqual(['INVALID_CREDENTIAL']);
  });
});

describe('media types (RFC 7515 §4.1.9): case-insensitive, optional application/ prefix', () => {
  const spell = (base: string) =>
    fc
      .tuple(fc.boolean(), fc.array(fc.boolean(), { minLength: base.length + 12, maxLength: base.length + 12 }))
      .map(([prefix, upper]) => [...(prefix ? `application/${base}` : base)].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch)).join(''));
  it('any spelling of vc+jwt / vc is accepted (property)', async () => {
    await fc.assert(
      fc.asyncProperty(spell('vc+jwt'), spell('vc'), async (typ, cty) => {
        expect(await codes(await sign(credential(), { typ, cty }))).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
  it('any spelling of vp+jwt / vp is accepted for presentations (property)', async () => {
    const vc = await sign(credential());
    await fc.assert(
      fc.asyncProperty(spell('vp+jwt'), spell('vp'), async (typ, cty) => {
        const payload = {
          '@context': [V2],
          type: 'VerifiablePresentation',
          holder: bob.did,
          verifiableCredential: [{ '@context': V2, id: `data:application/vc+jwt,${vc}`, type: 'EnvelopedVerifiableCredential' }],
          aud,
          nonce: 'n',
          iat: nowS(),
        };
        const vp = await signJwt({ typ, cty }, payload, bob.signer, bob.kid);
        expect((await verifyPresentation(vp, { resolver, aud, nonce: 'n' })).reasons).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });
  it('other media types are refused: INVALID_TYP', async () => {
    for (const typ of [
      'vc+jwt ',
      ' vc+jwt',
      'vc+jwt; charset=utf-8',
      'text/vc+jwt',
      'application/application/vc+jwt',
      'vc+sd-jwt',
      'vc+ld+jwt',
      'vcjwt',
      'vp+jwt',
      '',
      5,
      null,
      ['vc+jwt'],
    ]) {
      expect([typ, await codes(await sign(credential(), { typ }))]).toEqual([typ, ['INVALID_TYP']]);
    }
    for (const cty of ['bad+cty', 'vc+ld+json', 'JWT', 'application/vc+jwt', 1]) {
      expect([cty, await codes(await sign(credential(), { typ: 'vc+jwt', cty }))]).toEqual([cty, ['INVALID_TYP']]);
    }
  });
  it('random typ strings other than a spelling of vc+jwt or JWT are refused (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 24 }), async (typ) => {
        const norm = typ.toLowerCase().includes('/') ? typ.toLowerCase() : `application/${typ.toLowerCase()}`;
        if (norm === 'application/vc+jwt' || norm === 'application/jwt') return;
        expect(await codes(await sign(credential(), { typ }))).toEqual(['INVALID_TYP']);
      }),
      { numRuns: 100 },
    );
  });
});

describe('valid VCDM 2.0 shapes are accepted', () => {
  it('type as a single string, issuer as an object with an id', async () => {
    const v = await verifyCredential(await sign(credential({ type: 'VerifiableCredential', issuer: { id: alice.did, name: 'Alice' } })), { resolver });
    expect(v.reasons).toEqual([]);
    expect(v.credential!.type).toEqual(['VerifiableCredential']);
    expect(v.issuer).toBe(alice.did);
    expect(await codes(await sign(credential({ type: 'EmailCredential' })))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await sign(credential({ type: 'VerifiableCredentialX' })))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await sign(credential({ type: [] })))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await sign(credential({ issuer: { name: 'no id' } })))).toEqual(['INVALID_CREDENTIAL']);
  });
  it('several subjects: subjects lists them, subject is undefined, soleSubject says none', async () => {
    const v = await verifyCredential(await sign(credential({ credentialSubject: [{ id: bob.did, role: 'a' }, { id: carol.did, role: 'b' }, { role: 'anonymous' }] })), {
      resolver,
    });
    expect(v.reasons).toEqual([]);
    expect(v.subjects).toEqual([bob.did, carol.did]);
    expect(v.subject).toBeUndefined();
    expect(soleSubject(v.credential!)).toBeUndefined();
    const one = await verifyCredential(await sign(credential({ credentialSubject: [{ id: bob.did }] })), { resolver });
    expect(one).toMatchObject({ ok: true, subject: bob.did, subjects: [bob.did] });
    const single = await verifyCredential(await sign(credential()), { resolver });
    expect(single).toMatchObject({ ok: true, subject: bob.did, subjects: [bob.did] });
    expect(soleSubject(single.credential!)).toEqual({ id: bob.did, email: 'bob@example.com' });
  });
  it('broken subjects are refused: empty array, non-objects, non-string ids', async () => {
    for (const s of [[], [bob.did], 'did:example:1', null, [{ id: 5 }], { id: { nested: true } }]) {
      expect([s, await codes(await sign(credential({ credentialSubject: s })))]).toEqual([s, ['INVALID_CREDENTIAL']]);
    }
  });
  it('a holder who is one of several subjects presents the credential; someone else is HOLDER_MISMATCH', async () => {
    const vc = await sign(credential({ credentialSubject: [{ id: carol.did }, { id: bob.did }] }));
    const mine = await createPresentation({ holder: bob, credentials: [vc], aud, nonce: 'n' });
    expect((await verifyPresentation(mine, { resolver, aud, nonce: 'n' })).reasons).toEqual([]);
    const theirs = await createPresentation({ holder: alice, credentials: [vc], aud, nonce: 'n' });
    expect((await verifyPresentation(theirs, { resolver, aud, nonce: 'n' })).reasons.map((r) => r.code)).toEqual(['HOLDER_MISMATCH']);
  });
  it('vp+jwt: holder as an object with an id, type as a string, an enveloped credential typed as an array', async () => {
    const vc = await sign(credential());
    const payload = {
      '@context': [V2],
      type: 'VerifiablePresentation',
      holder: { id: bob.did },
      verifiableCredential: [{ '@context': V2, id: `DATA:Application/VC+JWT,${vc}`, type: ['EnvelopedVerifiableCredential'] }],
      aud,
      nonce: 'n',
      iat: nowS(),
    };
    const v = await verifyPresentation(await signJwt({ typ: 'vp+jwt', cty: 'vp' }, payload, bob.signer, bob.kid), { resolver, aud, nonce: 'n' });
    expect(v.reasons).toEqual([]);
    expect(v.holder).toBe(bob.did);
    const wrongType = { ...payload, type: ['VerifiableCredential'] };
    expect((await verifyPresentation(await signJwt({ typ: 'vp+jwt' }, wrongType, bob.signer, bob.kid), { resolver, aud, nonce: 'n' })).reasons.map((r) => r.code)).toEqual([
      'INVALID_PRESENTATION',
    ]);
    for (const env of [
      { id: `data:application/vc+sd-jwt,${vc}`, type: 'EnvelopedVerifiableCredential' },
      { id: `data:application/vc+jwt;base64,${vc}`, type: 'EnvelopedVerifiableCredential' },
      { id: `data:application/vc+jwt,${vc}`, type: ['VerifiableCredential'] },
      vc,
    ]) {
      const p = { ...payload, verifiableCredential: [env] };
      expect((await verifyPresentation(await signJwt({ typ: 'vp+jwt' }, p, bob.signer, bob.kid), { resolver, aud, nonce: 'n' })).reasons.map((r) => r.code)).toEqual([
        'INVALID_PRESENTATION',
      ]);
    }
  });
});

describe('encodings peers read differently', () => {
  const base = () => JSON.stringify(credential()).slice(0, -1);
  it('a member name given twice (anywhere, escaped or not) is MALFORMED_JWT: JSON.parse keeps the last, other parsers the first', async () => {
    expect(await codes(await signRaw(`${base()}}`, { typ: 'vc+jwt' }))).toEqual([]);
    const dups = [
      `${base()},"exp":${nowS() + 3600},"exp":"never"}`,
      `${base()},"iss":"${bob.did}","iss":"${alice.did}"}`,
      `${base()},"\\u0069ssuer":"${bob.did}"}`,
      JSON.stringify(credential()).replace('"email":', '"id":"did:example:other","email":'),
    ];
    for (const json of dups) expect([json.slice(-60), await codes(await signRaw(json, { typ: 'vc+jwt' }))]).toEqual([json.slice(-60), ['MALFORMED_JWT']]);
    // In the header too.
    const h = `{"alg":"EdDSA","kid":"${alice.kid}","typ":"vc+jwt","typ":"JWT"}`;
    const input = `${Buffer.from(h).toString('base64url')}.${Buffer.from(JSON.stringify(credential())).toString('base64url')}`;
    const sig = Buffer.from(await alice.signer.sign(new TextEncoder().encode(input))).toString('base64url');
    expect(await codes(`${input}.${sig}`)).toEqual(['MALFORMED_JWT']);
  });
  it('a payload that is not valid UTF-8 is MALFORMED_JWT, not read with replacement characters', async () => {
    const json = Buffer.concat([Buffer.from(base()), Buffer.from(',"note":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const h = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: alice.kid, typ: 'vc+jwt' })).toString('base64url');
    const input = `${h}.${json.toString('base64url')}`;
    const sig = Buffer.from(await alice.signer.sign(new TextEncoder().encode(input))).toString('base64url');
    expect(await codes(`${input}.${sig}`)).toEqual(['MALFORMED_JWT']);
  });
  it('a claim replicated in the header must equal the claim (RFC 7519 §5.3)', async () => {
    const exp = nowS() + 3600;
    expect(await codes(await sign({ ...credential(), exp, iss: alice.did }, { typ: 'vc+jwt', exp, iss: alice.did }))).toEqual([]);
    expect(await codes(await sign({ ...credential(), exp }, { typ: 'vc+jwt', exp: exp + 86_400 * 365 }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await sign(credential(), { typ: 'vc+jwt', iss: bob.did }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await sign(credential(), { typ: 'vc+jwt', exp: nowS() + 60 }))).toEqual(['INVALID_CREDENTIAL']);
    const vc = await sign(credential());
    const vp = await createPresentation({ holder: bob, credentials: [vc], aud, nonce: 'n' });
    const [h, p] = vp.split('.') as [string, string];
    const header = { ...JSON.parse(Buffer.from(h, 'base64url').toString()), aud: 'did:web:other.example' };
    const forged = await signJwt(header, JSON.parse(Buffer.from(p, 'base64url').toString()), bob.signer, bob.kid);
    expect((await verifyPresentation(forged, { resolver, aud, nonce: 'n' })).reasons.map((r) => r.code)).toEqual(['INVALID_PRESENTATION']);
  });
});

describe('a credential JWT without typ (VC-JOSE-COSE §3.1.1: typ SHOULD be vc+jwt)', () => {
  const untyped = (payload: object, who: Issuer = alice, header: Record<string, unknown> = {}) => sign(payload, header, who);

  it('verifies as VCDM 2.0 when it is one, for every key type and with or without cty vc', async () => {
    for (const who of [alice, bob, carol]) {
      const v = await verifyCredential(await untyped(credential({ issuer: who.did }), who), { resolver });
      expect([who.did.slice(0, 12), v.reasons]).toEqual([who.did.slice(0, 12), []]);
      expect(v.credential?.issuer).toBe(who.did);
    }
    expect(await codes(await untyped(credential(), alice, { cty: 'vc' }))).toEqual([]);
    expect(await codes(await untyped(credential(), alice, { cty: 'application/vc' }))).toEqual([]);
  });

  it('is held to every VCDM 2.0 rule a vc+jwt is', async () => {
    // Another cty, a presentation, a vp or vc claim, the 1.1 context, no VerifiableCredential type, a claim conflict.
    expect(await codes(await untyped(credential(), alice, { cty: 'vp' }))).toEqual(['INVALID_TYP']);
    // The shape rules refuse them (INVALID_CREDENTIAL), not the media type: a typ-less token is read as VCDM 2.0.
    expect(await codes(await untyped({ ...credential(), type: ['VerifiablePresentation'] }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await untyped({ ...credential(), vp: { type: ['VerifiablePresentation'] } }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await untyped(credential({ '@context': ['https://www.w3.org/2018/credentials/v1'] })))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await untyped(credential({ type: ['EmailCredential'] })))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await untyped({ ...credential(), iss: bob.did }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await untyped(credential({ validFrom: iso(Date.now() - 3 * day), validUntil: iso(Date.now() - 2 * day) })))).toEqual(['CREDENTIAL_EXPIRED']);
    // Signed by someone other than the issuer it names.
    expect(await codes(await untyped(credential(), bob))).toEqual(['KID_MISMATCH']);
  });

  it('a vc claim still means VCDM 1.1 (refused with acceptV1: false), and typ JWT or null is no vc+jwt', async () => {
    const v1 = {
      iss: alice.did,
      sub: bob.did,
      nbf: nowS() - 60,
      vc: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential'], credentialSubject: { email: 'b@x' } },
    };
    expect(await codes(await untyped(v1), { acceptV1: false })).toEqual(['INVALID_TYP']);
    expect(await codes(await untyped(v1))).toEqual([]);
    for (const typ of ['JWT', 'jwt', null, '']) expect([typ, await codes(await sign(credential(), { typ }))]).toEqual([typ, ['INVALID_TYP']]);
  });

  it('a presentation stays explicitly typed: without vp+jwt it is INVALID_TYP, never read as a credential', async () => {
    const vc = await sign(credential());
    const typed = await createPresentation({ holder: bob, credentials: [vc], aud });
    const [h, p] = typed
      .split('.')
      .slice(0, 2)
      .map((x) => JSON.parse(Buffer.from(x, 'base64url').toString('utf8')) as Record<string, unknown>);
    delete h!.typ;
    const bare = await signJwt(h!, p!, bob.signer, bob.kid);
    expect((await verifyPresentation(typed, { resolver, aud, allowMissingNonce: true })).reasons).toEqual([]);
    expect((await verifyPresentation(bare, { resolver, aud, allowMissingNonce: true })).reasons.map((r) => r.code)).toEqual(['INVALID_TYP']);
    expect(await codes(bare)).not.toEqual([]);
  });
});
