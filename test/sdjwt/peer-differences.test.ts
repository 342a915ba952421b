import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { createResolver } from '../../src/did/index.js';
import { verifySdJwtVc } from '../../src/sdjwt/index.js';
import { sdJwtHasher } from '../../src/sdjwt/hash.js';
import { makeIssuer } from '../helpers.js';
import { basePayload, craft, disclosure, salt } from './craft.js';

/**
 * Why Charter verifies disclosures itself instead of with @sd-jwt (0.19):
 * each token below is one RFC 9901 §7.1 or SD-JWT VC §3.2.2.1 says to
 * reject. The peer's verifier accepts every one; Charter refuses each with
 * a code. If a later peer version starts refusing one, this test says so.
 */
describe('tokens the @sd-jwt verifier accepts and Charter refuses', () => {
  const issuer = makeIssuer();
  const holder = makeIssuer();
  const resolver = createResolver();
  const key = createPublicKey({ key: { ...issuer.publicJwk }, format: 'jwk' });
  const peer = new SDJwtVcInstance({ hasher: sdJwtHasher, verifier: (data, sig) => nodeVerify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url')) });
  const bearer = (extra: Record<string, unknown>, d: string[]) => craft(issuer, basePayload(issuer, holder.did, extra), d);
  const email = disclosure([salt(), 'email', 'a@b.c']);
  const stray = disclosure([salt(), 'admin', true]);
  const sdName = disclosure([salt(), '_sd', ['x']]);
  const exp = disclosure([salt(), 'exp', 1]);
  const sub = disclosure([salt(), 'sub', 'did:example:someone-else']);

  const cases: [string, () => Promise<string>, string][] = [
    ['a disclosure no digest references', () => bearer({ _sd: [email.digest] }, [email.encoded, stray.encoded]), 'DISCLOSURE_INVALID'],
    ['the same disclosure twice', () => bearer({ _sd: [email.digest] }, [email.encoded, email.encoded]), 'DISCLOSURE_INVALID'],
    ['a digest that appears twice', () => bearer({ _sd: [email.digest], other: { _sd: [email.digest] } }, [email.encoded]), 'DISCLOSURE_INVALID'],
    ['a disclosed claim named _sd', () => bearer({ _sd: [sdName.digest] }, [sdName.encoded]), 'DISCLOSURE_INVALID'],
    ['an expiry made selectively disclosable (a holder could withhold it)', () => bearer({ _sd: [exp.digest], exp: undefined }, [exp.encoded]), 'DISCLOSURE_INVALID'],
    ['a disclosure that replaces a signed claim (sub)', () => bearer({ _sd: [sub.digest] }, [sub.encoded]), 'DISCLOSURE_INVALID'],
    ['exp of the wrong type', () => bearer({ exp: 'never' }, []), 'INVALID_CREDENTIAL'],
    ['typ JWT instead of dc+sd-jwt', () => craft(issuer, basePayload(issuer, holder.did), [], { typ: 'JWT' }), 'INVALID_TYP'],
  ];

  for (const [name, make, code] of cases) {
    it(name, async () => {
      const token = await make();
      await expect(peer.verify(token)).resolves.toBeDefined();
      const v = await verifySdJwtVc(token, { resolver });
      expect(v.ok).toBe(false);
      expect(v.reasons.map((r) => r.code)).toContain(code);
    });
  }

  it('the peer lets a withheld disclosure replace a signed claim: sub becomes whatever the disclosure says', async () => {
    const r = await peer.verify(await bearer({ _sd: [sub.digest] }, [sub.encoded]));
    expect((r.payload as { sub: string }).sub).toBe('did:example:someone-else');
  });
});
