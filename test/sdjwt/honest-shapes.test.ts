import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { verifySdJwtVc, type VerifySdJwtVcOptions } from '../../src/sdjwt/index.js';
import { isKbJwtTyp } from '../../src/sdjwt/keybinding.js';
import { isSdJwtVcTyp } from '../../src/sdjwt/verify.js';
import { makeIssuer } from '../helpers.js';
import { basePayload, craft, disclosure, salt } from './craft.js';
import { AUD, NONCE, withKb } from './kb-craft.js';

/**
 * Inputs an honest peer sends that a strict reading must still take: `typ`
 * as a full or upper-case media type (RFC 7515 §4.1.9), and array elements
 * that merely contain a "..." member (RFC 9901 §7.1). And the one shape kept
 * refused on purpose: a KB-JWT `aud` that is not a single string.
 */
const resolver = createResolver();
const issuer = makeIssuer();
const holder = makeIssuer('P-256');
const codes = (r: { reasons: { code: string }[] }) => [...new Set(r.reasons.map((x) => x.code))].sort();
const bound = (extra: Record<string, unknown> = {}) => basePayload(issuer, holder.did, { cnf: { jwk: holder.publicJwk }, ...extra });
const vc = (t: string, o: Partial<VerifySdJwtVcOptions> = {}) => verifySdJwtVc(t, { resolver, aud: AUD, nonce: NONCE, ...o });

describe('typ is a media type (RFC 7515 §4.1.9): case-insensitive, application/ optional', () => {
  it('the SD-JWT VC typ in every spelling of the same type verifies', async () => {
    for (const typ of ['dc+sd-jwt', 'application/dc+sd-jwt', 'DC+SD-JWT', 'Application/Dc+Sd-Jwt', 'vc+sd-jwt', 'application/vc+sd-jwt', 'VC+SD-JWT']) {
      const v = await vc(await withKb(holder, await craft(issuer, bound(), [], { typ })));
      expect([typ, v.reasons]).toEqual([typ, []]);
    }
  });

  it('another type, parameters, whitespace, another top-level type or a non-string stays INVALID_TYP', async () => {
    for (const typ of [
      'sd-jwt',
      'jwt',
      'application/jwt',
      'dc+sd-jwt; charset=utf-8',
      ' dc+sd-jwt',
      'dc+sd-jwt ',
      'text/dc+sd-jwt',
      'application/dc+sd-jwt+x',
      '',
      7,
      null,
      ['dc+sd-jwt'],
    ]) {
      const v = await vc(await withKb(holder, await craft(issuer, bound(), [], { typ })));
      expect([typ, codes(v)]).toEqual([typ, ['INVALID_TYP']]);
    }
    const noTyp = await withKb(holder, await craft(issuer, bound(), [], {}));
    expect(codes(await vc(noTyp))).toEqual(['INVALID_TYP']);
  });

  it('the KB-JWT typ likewise: kb+jwt in any spelling verifies, anything else is INVALID_TYP', async () => {
    const t = await craft(issuer, bound());
    for (const typ of ['kb+jwt', 'application/kb+jwt', 'KB+JWT', 'Application/KB+JWT']) {
      expect([typ, (await vc(await withKb(holder, t, {}, { typ }))).reasons]).toEqual([typ, []]);
    }
    for (const typ of ['jwt', 'kb', 'kb+jwt; x=1', 'application/kb+jwt ', 'text/kb+jwt', '', 0, null]) {
      expect([typ, codes(await vc(await withKb(holder, t, {}, { typ })))]).toEqual([typ, ['INVALID_TYP']]);
    }
    expect(codes(await vc(await withKb(holder, t, {}, {})))).toEqual(['INVALID_TYP']);
  });

  it('the exported predicates agree (for a transport pre-check)', () => {
    expect([isKbJwtTyp('application/KB+JWT'), isKbJwtTyp('kb+jwt'), isKbJwtTyp('jwt'), isKbJwtTyp(undefined)]).toEqual([true, true, false, false]);
    expect([isSdJwtVcTyp('APPLICATION/DC+SD-JWT'), isSdJwtVcTyp('vc+sd-jwt'), isSdJwtVcTyp('sd-jwt')]).toEqual([true, true, false]);
  });
});

describe('array element digests (RFC 9901 §7.1): only an object whose one member is "..." naming a string', () => {
  it('an object with "..." beside other members is an ordinary element, kept as it is', async () => {
    for (const el of [
      { '...': 'x', a: 1 },
      { a: 1, '...': 'x' },
      { '...': 'x', _sd: [] },
      { '...': { nested: true }, b: [1] },
    ]) {
      const v = await vc(await withKb(holder, await craft(issuer, bound({ arr: ['first', el] }))));
      expect([el, v.reasons]).toEqual([el, []]);
      expect(v.claims?.arr).toEqual(['first', Object.fromEntries(Object.entries(el).filter(([k]) => k !== '_sd'))]);
      expect(v.selective).toEqual([]);
    }
  });

  it('an object whose one member "..." names no string is an ordinary element too', async () => {
    for (const el of [{ '...': 5 }, { '...': null }, { '...': ['d'] }, { '...': {} }, { '...': true }]) {
      const v = await vc(await withKb(holder, await craft(issuer, bound({ arr: [el] }))));
      expect([el, v.reasons]).toEqual([el, []]);
      expect(v.claims?.arr).toEqual([el]);
    }
  });

  it('a real digest beside a lookalike: the digest is disclosed or dropped, the lookalike kept; digests inside a lookalike are processed', async () => {
    const de = disclosure([salt(), 'DE']);
    const city = disclosure([salt(), 'city', 'Berlin']);
    const t = await craft(issuer, bound({ arr: [{ '...': de.digest }, { '...': 'not-a-digest', note: 1 }, { _sd: [city.digest], '...': 'y', z: 0 }] }), [de.encoded, city.encoded]);
    const v = await vc(await withKb(holder, t));
    expect(v.reasons).toEqual([]);
    expect(v.claims?.arr).toEqual(['DE', { '...': 'not-a-digest', note: 1 }, { '...': 'y', z: 0, city: 'Berlin' }]);
    expect(v.disclosed).toEqual(['arr.0', 'arr.2.city']);
    const withheld = await vc(await withKb(holder, await craft(issuer, bound({ arr: [{ '...': de.digest }, { '...': 'k', k: 1 }] }))));
    expect(withheld.claims?.arr).toEqual([{ '...': 'k', k: 1 }]);
  });

  it('a disclosure referenced only from a lookalike is unreferenced: DISCLOSURE_INVALID', async () => {
    const de = disclosure([salt(), 'DE']);
    for (const el of [{ '...': de.digest, extra: 1 }, { '...': [de.digest] }]) {
      const v = await vc(await withKb(holder, await craft(issuer, bound({ arr: [el] }), [de.encoded])));
      expect(codes(v)).toEqual(['DISCLOSURE_INVALID']);
    }
  });
});

describe('the KB-JWT aud is a single string (RFC 9901 §4.3 narrows RFC 7519 §4.1.3)', () => {
  it('an array, even of the one expected audience, or any non-string is AUDIENCE_MISMATCH', async () => {
    const t = await craft(issuer, bound());
    for (const aud of [[AUD], [AUD, 'did:web:other'], ['did:web:other', AUD], [], { aud: AUD }, 7, null, `${AUD} `, AUD.toUpperCase()]) {
      expect([aud, codes(await vc(await withKb(holder, t, { aud })))]).toEqual([aud, ['AUDIENCE_MISMATCH']]);
    }
    expect((await vc(await withKb(holder, t, { aud: AUD }))).reasons).toEqual([]);
  });
});
