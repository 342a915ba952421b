import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import type { GrantPolicy } from '../../src/guard/policy.js';
import { issueCredential } from '../../src/credentials/index.js';
import { allocateStatusEntry } from '../../src/status/index.js';
import { GRANT_TYPE, issueGrant, verifyGrant } from '../../src/grants/index.js';
import { issueSdJwtGrant } from '../../src/sdjwt/index.js';
import { bound } from '../http/present.js';
import { openWorld, type World } from '../http/world.js';
import { codes, oddSdGrant, sdPresent, tokenStatusOf } from '../guard/seams-fixtures.js';

/*
 * `grant.constraints` is a free-form object Charter defines no vocabulary
 * for, so no verifier here enforces what it says: a grant naming any
 * constraint is refused (UNKNOWN_CONSTRAINT), never read as "no
 * restriction", in both formats and on every path; Charter's issuers refuse
 * to sign one. An empty object restricts nothing and is accepted.
 */

const SITE = 'http://127.0.0.1:9999';
const EMAIL = `${SITE}/profile/email`;
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => w.close());

const CONSTRAINTS: Record<string, unknown>[] = [
  { region: 'EU' },
  { maxRequests: 1 },
  { ipRange: '10.0.0.0/8', notAfterHour: 17 },
  { nested: { deeper: { still: true } } },
  { '': null },
  { x: [] },
];
const policy = (): GrantPolicy => ({ kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did });
const http = { kind: 'http' as const, method: 'GET', url: EMAIL };

/** A vc+jwt grant signed by hand (another issuer's software), with `constraints`. */
async function handGrant(constraints: unknown) {
  const id = `urn:uuid:${crypto.randomUUID()}`;
  const status = await allocateStatusEntry(w.home.store, { issuerDid: w.alice.did, baseUrl: w.server.url, purpose: 'revocation', credentialId: id });
  return (
    await issueCredential({
      issuer: w.alice,
      id,
      subject: w.app.did,
      type: GRANT_TYPE,
      claims: { grant: { resources: ['profile/email'], actions: ['read'], purpose: 'p', constraints } },
      validUntil: new Date(Date.now() + 86_400_000),
      extra: { credentialStatus: [status] },
    })
  ).jwt;
}

describe('grant.constraints', () => {
  it.each(CONSTRAINTS.map((c) => [JSON.stringify(c), c]))('vc+jwt naming %s: UNKNOWN_CONSTRAINT from verifyGrant and from the guard', async (_, c) => {
    const jwt = await handGrant(c);
    const d = await verifyGrant(jwt, { resolver: w.resolver, status: w.verifier().status, resource: 'profile/email', action: 'read', owner: w.alice.did, grantee: w.app.did });
    expect([d.ok, codes(d)]).toEqual([false, ['UNKNOWN_CONSTRAINT']]);
    const g = await decide(w.verifier(), await bound(w.app, [jwt], { url: EMAIL }), policy(), http);
    expect([g.ok, codes(g)]).toEqual([false, ['UNKNOWN_CONSTRAINT']]);
  });

  it('vc+jwt with constraints {} (or none): allowed', async () => {
    for (const c of [{}, undefined]) {
      const g = await decide(w.verifier(), await bound(w.app, [await handGrant(c)], { url: EMAIL }), policy(), http);
      expect([g.ok, codes(g)]).toEqual([true, []]);
    }
  });

  it.each(CONSTRAINTS.map((c) => [JSON.stringify(c), c]))('SD-JWT grant naming %s in clear: UNKNOWN_CONSTRAINT', async (_, c) => {
    const odd = await oddSdGrant(w, { resources: ['profile/email'], actions: ['read'], purpose: 'p', constraints: c }, []);
    const v = w.verifier({ tokenStatus: tokenStatusOf(w) });
    const g = await decide(v, await sdPresent(odd.token, { url: EMAIL, holder: w.app }), policy(), http);
    expect([g.ok, codes(g)]).toEqual([false, ['UNKNOWN_CONSTRAINT']]);
  });

  it.each(CONSTRAINTS.map((c) => [JSON.stringify(c), c]))("Charter's issuers refuse to sign %s (INVALID_ARGUMENT)", async (_, c) => {
    const input = {
      grantee: w.app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'p',
      constraints: c,
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.server.url,
    };
    await expect(issueGrant(w.home.store, w.alice, input)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(issueSdJwtGrant(w.home.store, w.alice, input)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
