import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { verifySdJwtVc } from '../../src/sdjwt/index.js';
import { makeIssuer } from '../helpers.js';
import { basePayload, craft } from './craft.js';

/**
 * SD-JWT VC `cnf` (RFC 7800 §3.1) that does not carry the holder key as a
 * `jwk`: another confirmation method (kid, jkt, jwe), or no object at all.
 * Charter binds only a jwk, so each is KEY_BINDING_INVALID, the code that
 * says "the holder binding is wrong", not a key import error, and never a pass,
 * with or without allowMissingKeyBinding.
 */
const resolver = createResolver();
const issuer = makeIssuer();

describe('cnf without a jwk', () => {
  it.each([
    ['a kid', { kid: 'did:example:holder#1' }],
    ['a jkt', { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' }],
    ['a jwk string', { jwk: 'eyJrdHkiOiJPS1AifQ' }],
    ['a jwk array', { jwk: [] }],
    ['a jwk null', { jwk: null }],
    ['an empty object', {}],
    ['a string', 'x'],
    ['an array', [{ jwk: {} }]],
    ['null', null],
  ])('cnf with %s is KEY_BINDING_INVALID', async (_, cnf) => {
    const token = await craft(issuer, basePayload(issuer, issuer.did, { cnf }));
    for (const allowMissingKeyBinding of [false, true]) {
      const v = await verifySdJwtVc(token, { resolver, allowMissingKeyBinding });
      expect([allowMissingKeyBinding, v.ok, v.reasons.map((r) => r.code)]).toEqual([allowMissingKeyBinding, false, ['KEY_BINDING_INVALID']]);
    }
  });
});
