import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresentation, signJwt } from '../../src/credentials/index.js';
import { allocateStatusEntry, setStatus } from '../../src/status/index.js';
import { verifyGrant, type VerifyGrantOptions } from '../../src/grants/index.js';
import { openWorld, type World } from '../http/world.js';

/**
 * Downgrade of revocability: a grant must carry a revocation entry the
 * verifier reads (DESIGN.md "status required"). A presenter cannot make a
 * grant that its owner cannot revoke pass by giving it a status of another
 * purpose (suspension, refresh), a purpose spelt otherwise, another entry
 * type (the older StatusList2021Entry), an empty list, or a revocation
 * entry beside one of those: each is refused, bare or presented.
 */
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(() => w.close());

const AUD = 'did:web:api.example';
const base = (): VerifyGrantOptions => ({ resolver: w.resolver, status: w.status, resource: 'profile/email', action: 'read', owner: w.alice.did });
const codes = (d: { reasons: { code: string }[] }) => [...new Set(d.reasons.map((r) => r.code))].sort();

type Entry = Record<string, unknown>;
/** A grant from alice to the app, signed by hand with the credentialStatus `status` makes of alice's own entries. */
async function grantWith(status: (e: { revocation: Entry; suspension: Entry }) => unknown, id = `urn:uuid:${randomUUID()}`) {
  const revocation = (await allocateStatusEntry(w.home.store, { issuerDid: w.alice.did, baseUrl: w.server.url, purpose: 'revocation', credentialId: id })) as unknown as Entry;
  const suspension = (await allocateStatusEntry(w.home.store, { issuerDid: w.alice.did, baseUrl: w.server.url, purpose: 'suspension', credentialId: id })) as unknown as Entry;
  const s = status({ revocation, suspension });
  const now = Math.floor(Date.now() / 1000) * 1000;
  const jwt = await signJwt(
    { typ: 'vc+jwt' },
    {
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      id,
      type: ['VerifiableCredential', 'DataAccessGrant'],
      issuer: w.alice.did,
      validFrom: new Date(now).toISOString(),
      validUntil: new Date(now + 86_400_000).toISOString(),
      credentialSubject: { id: w.app.did, grant: { resources: ['profile/email'], actions: ['read'], purpose: 'p' } },
      ...(s !== undefined ? { credentialStatus: s } : {}),
    },
    w.alice.signer,
    w.alice.kid,
  );
  return { jwt, revocation, suspension, id };
}

const both = async (jwt: string) => {
  const bare = await verifyGrant(jwt, base());
  const vp = await createPresentation({ holder: w.app, credentials: [jwt], aud: AUD, nonce: 'n' });
  const presented = await verifyGrant(vp, { ...base(), aud: AUD, nonce: 'n' });
  return [codes(bare), codes(presented)];
};

describe('a grant the owner cannot revoke is refused, whatever status it carries instead', () => {
  it('the control: a revocation entry, as an object or in an array beside a suspension entry, verifies; revoked, it is refused', async () => {
    for (const make of [(e: { revocation: Entry }) => e.revocation, (e: { revocation: Entry; suspension: Entry }) => [e.suspension, e.revocation]]) {
      const g = await grantWith(make);
      expect(await both(g.jwt)).toEqual([[], []]);
    }
    const g = await grantWith((e) => [e.suspension, e.revocation]);
    // The revocation bit only (the suspension entry stays unset): refused as revoked.
    for (const a of await w.home.store.findStatusAllocation(g.id)) {
      if ((await w.home.store.getStatusList(a.listId))?.purpose === 'revocation') await setStatus(w.home.store, a.listId, a.index, true, (did) => w.home.issuer(did));
    }
    w.freshStatus();
    expect(await both(g.jwt)).toEqual([['CREDENTIAL_REVOKED'], ['CREDENTIAL_REVOKED']]);
  });

  it.each<[string, (e: { revocation: Entry; suspension: Entry }) => unknown]>([
    ['no credentialStatus', () => undefined],
    ['an empty array', () => []],
    ['a suspension entry only', (e) => e.suspension],
    ['a suspension entry only, in an array', (e) => [e.suspension]],
    ['the revocation entry relabelled "refresh"', (e) => ({ ...e.revocation, statusPurpose: 'refresh' })],
    ['the revocation entry relabelled "message"', (e) => ({ ...e.revocation, statusPurpose: 'message' })],
    ['"Revocation" (another spelling)', (e) => ({ ...e.revocation, statusPurpose: 'Revocation' })],
    ['" revocation" (a leading space)', (e) => ({ ...e.revocation, statusPurpose: ' revocation' })],
  ])('%s: STATUS_INVALID, bare and presented', async (_, make) => {
    const g = await grantWith(make);
    const [bare, presented] = await both(g.jwt);
    expect(bare).toContain('STATUS_INVALID');
    expect(presented).toContain('STATUS_INVALID');
  });

  it.each<[string, (e: { revocation: Entry; suspension: Entry }) => unknown]>([
    ['the older StatusList2021Entry type', (e) => ({ ...e.revocation, type: 'StatusList2021Entry' })],
    ['no type', (e) => ({ ...e.revocation, type: undefined })],
    ['a revocation entry of an unknown type beside a good suspension entry', (e) => [e.suspension, { ...e.revocation, type: 'TokenStatusListEntry' }]],
  ])('%s: refused (STATUS_INVALID), never read as "no status to check"', async (_, make) => {
    const g = await grantWith(make);
    expect(await both(g.jwt)).toEqual([['STATUS_INVALID'], ['STATUS_INVALID']]);
  });
});
