import { describe, expect, it } from 'vitest';
import { createStatusChecker, encodeBitstring, MIN_LIST_SIZE, setBit } from '../../src/status/index.js';
import { createTokenStatusChecker } from '../../src/status/token-checker.js';
import { encodeTokenStatusList, writeTokenStatus } from '../../src/status/token-codec.js';
import { signJwt } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { makeIssuer } from '../helpers.js';
import { INDEX, iso, issuer, listServer, resolver, T0 } from './rollback-world.js';

/**
 * A verifier that has seen a credential revoked must not take it back as
 * valid when a later fetch returns an older copy of the list, still within
 * its validity (a lagging CDN edge, a stale mirror, a cache on the path):
 * Bitstring Status List v1.0 §2.1, a revocation "is not reversible". Each
 * list URL keeps the issuance time of the newest copy accepted; an older
 * copy is STATUS_UNAVAILABLE (fail closed), a same or newer one is read.
 */
const V2 = 'https://www.w3.org/ns/credentials/v2';
const { fresh, setup } = listServer();

/** A Bitstring Status List copy issued at `issued` (validFrom), revoking INDEX when `revoked`. */
async function bslCopy(url: string, issued: number, revoked: boolean, o: { by?: Issuer; vc11?: boolean; purpose?: string } = {}): Promise<string> {
  const bits = new Uint8Array(MIN_LIST_SIZE / 8);
  if (revoked) setBit(bits, INDEX, true);
  const by = o.by ?? issuer;
  const subject = { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: o.purpose ?? 'revocation', encodedList: encodeBitstring(bits), ttl: 1000 };
  if (o.vc11) {
    // A VCDM 1.1 list (vc-jwt-1.1): no validFrom; the JWT's iat and nbf date it.
    const vc = {
      '@context': ['https://www.w3.org/2018/credentials/v1'],
      id: url,
      type: ['VerifiableCredential', 'BitstringStatusListCredential'],
      issuer: by.did,
      credentialSubject: subject,
    };
    const s = Math.floor(issued / 1000);
    return signJwt({ typ: 'JWT' }, { iss: by.did, jti: url, iat: s, nbf: s, exp: s + 86_400, vc }, by.signer, by.kid);
  }
  const payload = {
    '@context': [V2],
    id: url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: by.did,
    validFrom: iso(issued),
    validUntil: iso(issued + 86_400_000),
    credentialSubject: subject,
  };
  return signJwt({ typ: 'vc+jwt', cty: 'vc' }, payload, by.signer, by.kid);
}

describe('Bitstring Status List: an older copy never undoes a revocation seen', () => {
  it('revoked in the newer copy, then the older pre-revocation copy: STATUS_UNAVAILABLE, never accepted', async () => {
    const t = await setup();
    const older = await bslCopy(t.url, T0, false);
    const newer = await bslCopy(t.url, T0 + 10_000, true);
    t.serve(newer);
    expect(await t.codes()).toEqual(['CREDENTIAL_REVOKED']);
    t.serve(older);
    t.later();
    const c = await t.codes();
    expect(c).toEqual(['STATUS_UNAVAILABLE']);
    // The current copy back (the next edge): revoked again, as it always was.
    t.serve(newer);
    t.later();
    expect(await t.codes()).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('an older copy one second before, by refresh(), and after clear(): still refused', async () => {
    const t = await setup();
    t.serve(await bslCopy(t.url, T0 + 10_000, true));
    expect(await t.codes()).toEqual(['CREDENTIAL_REVOKED']);
    t.serve(await bslCopy(t.url, T0 + 9_000, false));
    await t.status.refresh(t.url);
    expect(await t.codes()).toEqual(['STATUS_UNAVAILABLE']);
    t.status.clear();
    expect(await t.codes()).toEqual(['STATUS_UNAVAILABLE']);
  });

  it('the same copy again, or a newer one, is read as it says (a suspension lifted in a newer copy passes)', async () => {
    const t = await setup({ purpose: 'suspension' });
    const first = await bslCopy(t.url, T0, true, { purpose: 'suspension' });
    t.serve(first);
    expect(await t.codes()).toEqual(['CREDENTIAL_SUSPENDED']);
    t.later();
    expect(await t.codes()).toEqual(['CREDENTIAL_SUSPENDED']);
    t.serve(await bslCopy(t.url, T0 + 5_000, false, { purpose: 'suspension' }));
    t.later();
    expect(await t.codes()).toEqual([]);
    // ...and the suspended copy from before the lift is not served as current either.
    t.serve(first);
    t.later();
    expect(await t.codes()).toEqual(['STATUS_UNAVAILABLE']);
  });

  it('a VCDM 1.1 list (no validFrom) is ordered by its iat', async () => {
    const t = await setup();
    t.serve(await bslCopy(t.url, T0 + 10_000, true, { vc11: true }));
    expect(await t.codes()).toEqual(['CREDENTIAL_REVOKED']);
    t.serve(await bslCopy(t.url, T0, false, { vc11: true }));
    t.later();
    expect(await t.codes()).toEqual(['STATUS_UNAVAILABLE']);
  });

  it("a list someone else signed, dated later, does not raise the mark: the issuer's own list still reads", async () => {
    const t = await setup();
    const mallory = makeIssuer();
    t.serve(await bslCopy(t.url, T0 + 50_000, false, { by: mallory }));
    expect(await t.codes()).toEqual(['STATUS_INVALID']);
    t.serve(await bslCopy(t.url, T0 + 10_000, true));
    t.later();
    expect(await t.codes()).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('each URL has its own mark, and each checker its own (a new verifier has seen nothing)', async () => {
    const a = await setup();
    const b = await setup();
    a.serve(await bslCopy(a.url, T0 + 10_000, true));
    b.serve(await bslCopy(b.url, T0, false));
    expect(await a.codes()).toEqual(['CREDENTIAL_REVOKED']);
    expect(await b.codes()).toEqual([]);
    a.serve(await bslCopy(a.url, T0, false));
    a.later();
    expect(await a.codes()).toEqual(['STATUS_UNAVAILABLE']);
    const fresh = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true, now: () => T0 + 60_000 });
    expect(await a.codes(fresh)).toEqual([]);
  });
});

describe('Token Status List: an older token never undoes a revocation seen', () => {
  it('revoked at iat T+10, then the token of iat T: STATUS_UNAVAILABLE; the current one again: revoked', async () => {
    const { url, serve: serveToken } = fresh('tokens');
    const token = (iat: number, revoked: boolean) => {
      const bytes = new Uint8Array(16);
      if (revoked) writeTokenStatus(bytes, 1, 3, 1);
      return signJwt(
        { typ: 'statuslist+jwt' },
        { iss: issuer.did, sub: url, iat, exp: iat + 3600, ttl: 1, status_list: { bits: 1, lst: encodeTokenStatusList(bytes) } },
        issuer.signer,
        issuer.kid,
      );
    };
    let clock = T0 + 60_000;
    const tsc = createTokenStatusChecker({ resolver, allowLoopback: true, allowHttp: true, now: () => clock });
    const check = async () => (await tsc({ status_list: { idx: 3, uri: url } }, { issuer: issuer.did, now: new Date(clock) })).map((r) => r.code);
    const newer = await token(T0 / 1000 + 10, true);
    serveToken(newer);
    expect(await check()).toEqual(['CREDENTIAL_REVOKED']);
    serveToken(await token(T0 / 1000, false));
    clock += 2_000;
    expect(await check()).toEqual(['STATUS_UNAVAILABLE']);
    serveToken(newer);
    clock += 2_000;
    expect(await check()).toEqual(['CREDENTIAL_REVOKED']);
  });
});
