import { describe, expect, it } from 'vitest';
import { encodeBitstring, MIN_LIST_SIZE, setBit } from '../../src/status/index.js';
import { signJwt } from '../../src/credentials/index.js';
import { INDEX, iso, issuer, listServer, T0 } from './rollback-world.js';

/**
 * The rollback watermark (src/status/rollback.ts, checked at
 * src/status/checker.ts where a list's entry is read) with VCDM 1.1 status
 * list credentials whose issuance time is `vc.issuanceDate`, not a
 * `validFrom` and not the JWT's iat/nbf (rollback.test.ts covers a 1.1 list
 * dated by iat). normalize.ts reads issuanceDate as the list's validFrom, so
 * such a list is ordered by it: an older copy served after a newer one is
 * STATUS_UNAVAILABLE (fail closed), never read as the credential's status.
 */
const { setup } = listServer();

type Dating = { issuanceDate?: number; iat?: number; nbf?: number; validFrom?: number };

function subject(url: string, revoked: boolean) {
  const bits = new Uint8Array(MIN_LIST_SIZE / 8);
  if (revoked) setBit(bits, INDEX, true);
  return { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: encodeBitstring(bits), ttl: 1000 };
}

/** A VCDM 1.1 list (vc-jwt-1.1, typ JWT) dated only as `dating` says: no claim is added that it does not name. */
async function vc11Copy(url: string, revoked: boolean, dating: Dating): Promise<string> {
  const vc: Record<string, unknown> = {
    '@context': ['https://www.w3.org/2018/credentials/v1'],
    id: url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: issuer.did,
    credentialSubject: subject(url, revoked),
  };
  if (dating.issuanceDate !== undefined) vc.issuanceDate = iso(dating.issuanceDate);
  const payload: Record<string, unknown> = { iss: issuer.did, jti: url, vc, exp: Math.floor((T0 + 86_400_000) / 1000) };
  if (dating.iat !== undefined) payload.iat = Math.floor(dating.iat / 1000);
  if (dating.nbf !== undefined) payload.nbf = Math.floor(dating.nbf / 1000);
  return signJwt({ typ: 'JWT' }, payload, issuer.signer, issuer.kid);
}

/** A VCDM 2.0 list dated by validFrom only. */
async function v2Copy(url: string, revoked: boolean, validFrom: number): Promise<string> {
  const payload = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: issuer.did,
    validFrom: iso(validFrom),
    validUntil: iso(T0 + 86_400_000),
    credentialSubject: subject(url, revoked),
  };
  return signJwt({ typ: 'vc+jwt', cty: 'vc' }, payload, issuer.signer, issuer.kid);
}

describe('a VCDM 1.1 status list dated by issuanceDate: an older copy never undoes a revocation seen', () => {
  it('issuanceDate alone (no iat, no nbf): the list is read, and the older pre-revocation copy is refused after the newer one', async () => {
    const t = await setup({ kind: 'vc11-lists' });
    const older = await vc11Copy(t.url, false, { issuanceDate: T0 });
    const newer = await vc11Copy(t.url, true, { issuanceDate: T0 + 10_000 });
    // Not refused outright: a VCDM 1.1 list is a list this checker reads.
    t.serve(older);
    expect(await t.codes()).toEqual([]);
    t.later();
    t.serve(newer);
    expect(await t.codes()).toEqual(['CREDENTIAL_REVOKED']);
    t.later();
    t.serve(older);
    expect(await t.codes()).toEqual(['STATUS_UNAVAILABLE']);
    // The current copy back: revoked, as it always was.
    t.later();
    t.serve(newer);
    expect(await t.codes()).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('one second older is enough, and the same copy again is read as it says', async () => {
    const t = await setup({ kind: 'vc11-lists' });
    const newer = await vc11Copy(t.url, true, { issuanceDate: T0 + 10_000 });
    t.serve(newer);
    expect(await t.codes()).toEqual(['CREDENTIAL_REVOKED']);
    t.later();
    t.serve(await vc11Copy(t.url, false, { issuanceDate: T0 + 9_000 }));
    expect(await t.codes()).toEqual(['STATUS_UNAVAILABLE']);
    t.later();
    t.serve(newer);
    expect(await t.codes()).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('issuanceDate with an iat of the same second: ordered the same way', async () => {
    const t = await setup({ kind: 'vc11-lists' });
    t.serve(await vc11Copy(t.url, true, { issuanceDate: T0 + 10_000, iat: T0 + 10_000 }));
    expect(await t.codes()).toEqual(['CREDENTIAL_REVOKED']);
    t.later();
    t.serve(await vc11Copy(t.url, false, { issuanceDate: T0, iat: T0 }));
    expect(await t.codes()).toEqual(['STATUS_UNAVAILABLE']);
  });

  it('an older copy dated only by issuanceDate after a newer VCDM 2.0 copy (validFrom), and the other way round: refused', async () => {
    const a = await setup({ kind: 'vc11-lists' });
    a.serve(await v2Copy(a.url, true, T0 + 10_000));
    expect(await a.codes()).toEqual(['CREDENTIAL_REVOKED']);
    a.later();
    a.serve(await vc11Copy(a.url, false, { issuanceDate: T0 }));
    expect(await a.codes()).toEqual(['STATUS_UNAVAILABLE']);

    const b = await setup({ kind: 'vc11-lists' });
    b.serve(await vc11Copy(b.url, true, { issuanceDate: T0 + 10_000 }));
    expect(await b.codes()).toEqual(['CREDENTIAL_REVOKED']);
    b.later();
    b.serve(await v2Copy(b.url, false, T0));
    expect(await b.codes()).toEqual(['STATUS_UNAVAILABLE']);
  });

  it('a newer issuanceDate is read as it says: the mark refuses only older copies', async () => {
    // The mark only refuses older copies: a newer copy (the issuer's own, however it reads) is read.
    const t = await setup({ kind: 'vc11-lists' });
    t.serve(await vc11Copy(t.url, false, { issuanceDate: T0 }));
    expect(await t.codes()).toEqual([]);
    t.later();
    t.serve(await vc11Copy(t.url, true, { issuanceDate: T0 + 10_000 }));
    expect(await t.codes()).toEqual(['CREDENTIAL_REVOKED']);
  });
});
