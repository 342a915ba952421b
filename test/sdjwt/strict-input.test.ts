import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { verifySdJwtGrant, verifySdJwtVc } from '../../src/sdjwt/index.js';
import { presentSdJwtVc } from '../../src/sdjwt/present.js';
import { signJwt } from '../../src/credentials/index.js';
import { makeIssuer } from '../helpers.js';
import { basePayload, craft, salt } from './craft.js';

/**
 * Values an issuer (or a forger: verification goes on after a bad signature)
 * can put in an SD-JWT that a lenient reader would take, or choke on: time
 * claims beyond any date, disclosures naming a member twice or not in UTF-8.
 * Each is refused with a reason; nothing throws.
 */
const resolver = createResolver();
const issuer = makeIssuer('Ed25519');
const holder = makeIssuer('Ed25519');
const AUD = 'did:web:api.example';
const codes = (r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code);
const forge = (token: string) => token.replace(/^([^.]+\.[^.]+\.)[^~]+/, (_m, hp: string) => hp + 'A'.repeat(86));

describe('SD-JWT values out of range or of two readings', () => {
  it('exp, nbf and iat beyond the range of a date: INVALID_CREDENTIAL, signed or forged, VC or grant', async () => {
    for (const [k, v] of [
      ['exp', 1e13],
      ['exp', -1e13],
      ['nbf', -1e13],
      ['nbf', 8.64e12 + 1],
      ['exp', 1e300],
      ['iat', 1e16],
    ] as const) {
      const token = await craft(issuer, basePayload(issuer, holder.did, { [k]: v }));
      for (const t of [token, forge(token)]) {
        const r = await verifySdJwtVc(t, { resolver, allowMissingKeyBinding: true });
        expect([k, v, r.ok]).toEqual([k, v, false]);
        expect(codes(r)).toContain('INVALID_CREDENTIAL');
      }
      // As a grant presented with its key binding, as the HTTP guard reads it.
      const grant = await craft(
        issuer,
        basePayload(issuer, holder.did, {
          vct: 'https://charter.dev/vct/DataAccessGrant',
          cnf: { jwk: holder.publicJwk },
          status: { status_list: { idx: 0, uri: 'https://example.com/sl' } },
          grant: { resources: ['x'], actions: ['read'], purpose: 'p' },
          [k]: v,
        }),
      );
      const presented = await presentSdJwtVc(grant, { holder, disclose: [], aud: AUD, nonce: 'n-1' });
      const g = await verifySdJwtGrant(presented, { resolver, status: async () => [], resource: 'x', action: 'read', anyOwner: true, aud: AUD, nonce: 'n-1' });
      expect(g.ok).toBe(false);
      expect(codes(g)).toContain('INVALID_CREDENTIAL');
    }
  });

  it('a key binding JWT whose iat is beyond any date: KEY_BINDING_INVALID, no throw', async () => {
    const token = await craft(issuer, basePayload(issuer, holder.did, { cnf: { jwk: holder.publicJwk } }));
    const sdHash = createHash('sha256').update(token).digest('base64url');
    for (const iat of [1e13, -1e13, 1e300]) {
      const kb = await signJwt({ typ: 'kb+jwt' }, { iat, aud: AUD, nonce: 'n', sd_hash: sdHash }, holder.signer, holder.kid);
      const r = await verifySdJwtVc(token + kb, { resolver, aud: AUD, nonce: 'n' });
      expect(r.ok).toBe(false);
      expect(codes(r)).toContain('KEY_BINDING_INVALID');
    }
  });

  it('a disclosure naming a member twice, or not in UTF-8, is refused (as the issuer-signed JWT would be)', async () => {
    const enc = (bytes: Buffer) => {
      const e = bytes.toString('base64url');
      return { e, d: createHash('sha256').update(e).digest('base64url') };
    };
    const bad = [
      enc(Buffer.from(`["${salt()}","scope",{"resource":"public/*","resource":"private/*"}]`)),
      enc(Buffer.from(`["${salt()}","scope",{"a":{"b":1,"b":2}}]`)),
      enc(Buffer.from(`["${salt()}",{"x":1,"x":2}]`)),
      enc(Buffer.concat([Buffer.from(`["${salt()}","name","a`), Buffer.from([0xff, 0xfe]), Buffer.from('"]')])),
      enc(Buffer.concat([Buffer.from(`["${salt()}","name","`), Buffer.from([0xc0, 0xaf]), Buffer.from('"]')])),
    ];
    for (const [i, d] of bad.entries()) {
      const where = i === 2 ? { list: [{ '...': d.d }] } : { _sd: [d.d] };
      const r = await verifySdJwtVc(await craft(issuer, basePayload(issuer, holder.did, where), [d.e]), { resolver, allowMissingKeyBinding: true });
      expect([i, r.ok]).toEqual([i, false]);
      expect(codes(r)).toContain('DISCLOSURE_INVALID');
    }
    // The same names in separate objects are fine.
    const fine = enc(Buffer.from(`["${salt()}","scope",{"a":{"b":1},"c":{"b":2}}]`));
    expect((await verifySdJwtVc(await craft(issuer, basePayload(issuer, holder.did, { _sd: [fine.d] }), [fine.e]), { resolver, allowMissingKeyBinding: true })).reasons).toEqual(
      [],
    );
  });
});
