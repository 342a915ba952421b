import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCredential } from '../../src/credentials/index.js';
import { createPresentation } from '../../src/credentials/present.js';
import { signJwt } from '../../src/credentials/jws.js';
import type { StatusChecker } from '../../src/credentials/types.js';
import { issueGrant, revokeGrant, verifyGrant } from '../../src/grants/index.js';
import { openWorld, type World } from '../agents/fixture.js';
import { makeIssuer, serve } from '../helpers.js';

/**
 * verifyGrant makes the status check (a fetch per list URL) only for a grant
 * that passes every other rule: a stranger's grant, one for another owner,
 * resource, action or grantee, makes no request, whatever lists it names.
 * And a VCDM 1.1 presentation (typ "JWT", or none: did-jwt-vc, Veramo) is a
 * presentation to verifyGrant as it is to verifyPresentation.
 */
let w: World;
let hits = 0;
let lists: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  w = await openWorld();
  lists = await serve((_req, res) => {
    hits++;
    res.writeHead(404).end();
  });
});
afterAll(async () => {
  await lists.close();
  await w.close();
});

const AUD = 'did:web:platform.example';
const mallory = makeIssuer();
/** Bob's grant from the owner (profile/email, read), on the world's status list. */
async function ownerGrant() {
  const owner = w.issuer('owner');
  const bob = w.issuer('bob');
  const g = await issueGrant(w.store, owner, {
    grantee: bob.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'p',
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.baseUrl,
  });
  return { owner, bob, g };
}
/** A counting checker around the real one: how often a status check was asked for. */
function counting(): { status: StatusChecker; calls: () => number } {
  const real = w.status();
  let calls = 0;
  return {
    status: (c, ctx) => {
      calls++;
      return real(c, ctx);
    },
    calls: () => calls,
  };
}

describe('status is checked last, only for a grant that passes everything else', () => {
  const strangerGrant = async (issuer = mallory, subject = mallory.did) => {
    const entries = Array.from({ length: 16 }, (_, i) => ({
      type: 'BitstringStatusListEntry',
      statusPurpose: 'revocation',
      statusListIndex: '1',
      statusListCredential: `${lists.url}/s${i}?n=${Math.random()}`,
    }));
    return (
      await issueCredential({
        issuer,
        subject,
        type: 'DataAccessGrant',
        claims: { grant: { resources: ['profile/email'], actions: ['read'], purpose: 'x' } },
        validUntil: new Date(Date.now() + 3_600_000),
        extra: { credentialStatus: entries },
      })
    ).jwt;
  };

  it("a stranger's grant naming 16 list URLs: GRANT_NOT_OWNER alone, and no request to any of them", async () => {
    const owner = w.issuer('owner');
    const before = hits;
    const d = await verifyGrant(await strangerGrant(), { resolver: w.resolver, status: w.status(), resource: 'profile/email', action: 'read', owner: owner.did });
    expect(d.reasons.map((r) => r.code)).toEqual(['GRANT_NOT_OWNER']);
    expect(hits - before).toBe(0);
  });

  it('the same grant presented by its subject: no request either', async () => {
    const owner = w.issuer('owner');
    const before = hits;
    const vp = await createPresentation({ holder: mallory, credentials: [await strangerGrant()], aud: AUD, nonce: 'n' });
    const d = await verifyGrant(vp, { resolver: w.resolver, status: w.status(), resource: 'profile/email', action: 'read', owner: owner.did, aud: AUD, nonce: 'n' });
    expect(d.reasons.map((r) => r.code)).toEqual(['GRANT_NOT_OWNER']);
    expect(hits - before).toBe(0);
  });

  it('an owner-issued grant asked for another resource, action, grantee or owner: refused without a status check', async () => {
    const { owner, g } = await ownerGrant();
    const base = { resolver: w.resolver, resource: 'profile/email', action: 'read', owner: owner.did };
    for (const [over, code] of [
      [{ resource: 'profile/phone' }, 'GRANT_SCOPE'],
      [{ action: 'write' }, 'GRANT_SCOPE'],
      [{ grantee: mallory.did }, 'GRANTEE_MISMATCH'],
      [{ owner: mallory.did }, 'GRANT_NOT_OWNER'],
    ] as const) {
      const c = counting();
      const d = await verifyGrant(g.jwt, { ...base, ...over, status: c.status });
      expect(
        d.reasons.map((r) => r.code),
        JSON.stringify(over),
      ).toEqual([code]);
      expect(c.calls(), JSON.stringify(over)).toBe(0);
    }
    // The honest ask: checked, and a revocation bites.
    const c = counting();
    expect((await verifyGrant(g.jwt, { ...base, status: c.status })).ok).toBe(true);
    expect(c.calls()).toBe(1);
    await revokeGrant(w.store, g.id, w.issuerFor);
    const after = await verifyGrant(g.jwt, { ...base, status: w.status() });
    expect(after.reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('a status checker that throws is STATUS_UNAVAILABLE (fail closed), as before', async () => {
    const { owner, g } = await ownerGrant();
    const boom: StatusChecker = () => Promise.reject(new Error('network down'));
    const d = await verifyGrant(g.jwt, { resolver: w.resolver, status: boom, resource: 'profile/email', action: 'read', owner: owner.did });
    expect(d.ok).toBe(false);
    expect(d.reasons.map((r) => r.code)).toEqual(['STATUS_UNAVAILABLE']);
  });
});

describe('a VCDM 1.1 presentation (typ JWT or none) is a presentation to verifyGrant', () => {
  it.each([{}, { typ: 'JWT' }, { typ: 'jwt' }, { typ: 'application/jwt' }])('header %j: verified as the grantee presenting the grant', async (header) => {
    const { owner, bob, g } = await ownerGrant();
    const iat = Math.floor(Date.now() / 1000);
    const body = {
      vp: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], verifiableCredential: [g.jwt] },
      iss: bob.did,
      aud: AUD,
      nonce: 'n-1',
      iat,
      nbf: iat,
      exp: iat + 300,
      jti: `urn:uuid:${crypto.randomUUID()}`,
    };
    const vp = await signJwt(header, body, bob.signer, bob.kid);
    const ask = { resolver: w.resolver, status: w.status(), resource: 'profile/email', action: 'read', owner: owner.did, aud: AUD, nonce: 'n-1' };
    const d = await verifyGrant(vp, ask);
    expect(d.reasons).toEqual([]);
    expect(d).toMatchObject({ ok: true, holder: bob.did, grantee: bob.did });
    // Signed by someone else than the grantee: refused as a presentation would be.
    const forged = await signJwt(header, { ...body, iss: mallory.did }, mallory.signer, mallory.kid);
    expect((await verifyGrant(forged, ask)).ok).toBe(false);
  });

  it("createPresentation's vp-jwt-1.1 format verifies; a VCDM 1.1 credential (typ JWT, no vp) is still a bare credential", async () => {
    const { owner, bob, g } = await ownerGrant();
    const ask = { resolver: w.resolver, status: w.status(), resource: 'profile/email', action: 'read', owner: owner.did, aud: AUD, nonce: 'n-2' };
    const vp = await createPresentation({ holder: bob, credentials: [g.jwt], aud: AUD, nonce: 'n-2', format: 'vp-jwt-1.1' });
    expect((await verifyGrant(vp, ask)).reasons).toEqual([]);
    const v11 = (
      await issueCredential({
        issuer: mallory,
        subject: bob.did,
        type: 'DataAccessGrant',
        claims: { grant: { resources: ['profile/email'], actions: ['read'], purpose: 'x' } },
        format: 'vc-jwt-1.1',
      })
    ).jwt;
    const d = await verifyGrant(v11, ask);
    expect(d.reasons.map((r) => r.code)).toEqual(['INVALID_PRESENTATION']);
  });
});
