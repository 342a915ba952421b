import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharterError } from '../../src/errors.js';
import { documentResolver } from '../../src/did/index.js';
import type { CharterResolver, DIDDocument } from '../../src/did/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { createTokenStatusChecker, issueSdJwtGrant, presentSdJwtVc, verifySdJwtGrant } from '../../src/sdjwt/index.js';
import { requireGrant } from '../../src/http/guards.js';
import { verifyRequest } from '../../src/http/request.js';
import { bearer, codes } from '../guard/seams-fixtures.js';
import { openWorld, API, type World } from '../http/world.js';

/**
 * An SD-JWT grant's key binding proves the grant's subject only when `cnf` is one of the subject's
 * authentication keys (DID Core §5.3.1), as a vp+jwt's signature does. When it is not, the refusal says
 * why as the vp+jwt path says it: a key the subject lists for another purpose (assertionMethod,
 * capabilityInvocation, capabilityDelegation) is VERIFICATION_METHOD_NOT_AUTHORIZED; a document that
 * could not be had is that failure (DID_RESOLUTION_FAILED, DID_NOT_FOUND), never HOLDER_MISMATCH,
 * which says "this key is not the subject's" and was said for both before.
 */
const EMAIL = 'http://127.0.0.1:9999/profile/email';
const HOLDER = 'did:web:holder.example';
const SLOTS = ['authentication', 'assertionMethod', 'capabilityInvocation', 'capabilityDelegation', 'keyAgreement'] as const;
const pairs = Object.fromEntries(SLOTS.map((k) => [k, generateKeyPair('P-256')])) as Record<(typeof SLOTS)[number], ReturnType<typeof generateKeyPair>>;
const doc: DIDDocument = {
  '@context': ['https://www.w3.org/ns/did/v1'],
  id: HOLDER,
  verificationMethod: SLOTS.map((k) => ({ id: `${HOLDER}#${k}`, type: 'JsonWebKey2020', controller: HOLDER, publicKeyJwk: pairs[k].publicJwk })),
  ...Object.fromEntries(SLOTS.map((k) => [k, [`${HOLDER}#${k}`]])),
} as DIDDocument;
const as = (k: (typeof SLOTS)[number]): Issuer => ({ did: HOLDER, kid: `${HOLDER}#${k}`, signer: createSigner(pairs[k].privateJwk), publicJwk: pairs[k].publicJwk }) as Issuer;

let w: World;
/** What the holder's document loader does now: serve it, fail as an unreachable host does, or say there is none. */
let mode: 'up' | 'down' | 'gone' = 'up';
let resolver: CharterResolver;
beforeAll(async () => {
  w = await openWorld();
  const load = async (did: string) => {
    if (did !== HOLDER || mode === 'gone') throw new CharterError('DID_NOT_FOUND', 'no such document');
    if (mode === 'down') throw new CharterError('DID_RESOLUTION_FAILED', 'could not reach holder.example');
    return doc;
  };
  resolver = {
    resolve: (did) => (did === HOLDER ? documentResolver(load).resolve(did) : w.resolver.resolve(did)),
    resolveKey: (did, kid, rel) => (did === HOLDER ? documentResolver(load).resolveKey(did, kid, rel) : w.resolver.resolveKey(did, kid, rel)),
    clear: (did) => (did === HOLDER ? undefined : w.resolver.clear(did)),
  };
}, 60_000);
afterAll(async () => w?.close());

const grantBoundTo = (k: (typeof SLOTS)[number]) =>
  issueSdJwtGrant(w.home.store, w.alice, {
    grantee: HOLDER,
    holderKey: pairs[k].publicJwk,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'holder key purposes',
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
  });
const present = async (k: (typeof SLOTS)[number], nonce = 'n') => {
  const g = await grantBoundTo(k);
  return presentSdJwtVc(g.token, { holder: as(k), disclose: g.disclosable, aud: API, nonce, claims: { htm: 'GET', htu: EMAIL } });
};
const tokenStatus = () => createTokenStatusChecker({ resolver: w.resolver, allowLoopback: true, allowHttp: true });
const check = (t: string) => verifySdJwtGrant(t, { resolver, status: tokenStatus(), resource: 'profile/email', action: 'read', owner: w.alice.did, aud: API, nonce: 'n' });

describe('an SD-JWT grant key binding with a key of the wrong purpose', () => {
  it('a key the subject lists only to assert, invoke or delegate: VERIFICATION_METHOD_NOT_AUTHORIZED, no holder named', async () => {
    mode = 'up';
    for (const k of ['assertionMethod', 'capabilityInvocation', 'capabilityDelegation'] as const) {
      const d = await check(await present(k));
      expect([k, d.ok, codes(d), d.holder]).toEqual([k, false, ['VERIFICATION_METHOD_NOT_AUTHORIZED'], undefined]);
    }
    // The authentication key passes (so the refusals above are the key's purpose, nothing else).
    const ok = await check(await present('authentication'));
    expect([ok.ok, codes(ok), ok.holder]).toEqual([true, [], HOLDER]);
  });

  it('a key agreement key is no signing key of the subject at all: HOLDER_MISMATCH', async () => {
    mode = 'up';
    expect(codes(await check(await present('keyAgreement')))).toEqual(['HOLDER_MISMATCH']);
  });

  it('through the HTTP guard, as a vp+jwt signed with a wrong-purpose key is: 401 VERIFICATION_METHOD_NOT_AUTHORIZED', async () => {
    mode = 'up';
    const v = w.verifier({ resolver, tokenStatus: tokenStatus() });
    const d = await verifyRequest(
      new Request(EMAIL, { headers: bearer(await present('assertionMethod', 'g1')) }),
      v,
      requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did }),
    );
    expect([d.ok, d.status, codes(d), d.holder]).toEqual([false, 401, ['VERIFICATION_METHOD_NOT_AUTHORIZED'], undefined]);
  });
});

describe("an SD-JWT grant whose subject's document cannot be had", () => {
  it('unreachable: DID_RESOLUTION_FAILED (what happened), not HOLDER_MISMATCH (a verdict on the key); back up, the same token passes', async () => {
    const t = await present('authentication');
    mode = 'down';
    const d = await check(t);
    expect([d.ok, codes(d), d.holder]).toEqual([false, ['DID_RESOLUTION_FAILED'], undefined]);
    mode = 'up';
    expect((await check(t)).ok).toBe(true);
  });

  it('gone (no such DID): DID_NOT_FOUND', async () => {
    const t = await present('authentication');
    mode = 'gone';
    try {
      expect(codes(await check(t))).toEqual(['DID_NOT_FOUND']);
    } finally {
      mode = 'up';
    }
  });

  it("through the HTTP guard: the resolution code and its status, the grant not taken for a stranger's", async () => {
    const v = w.verifier({ resolver, tokenStatus: tokenStatus() });
    const t = await present('authentication', 'g2');
    mode = 'down';
    try {
      const d = await verifyRequest(new Request(EMAIL, { headers: bearer(t) }), v, requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did }));
      expect([d.ok, codes(d)]).toEqual([false, ['DID_RESOLUTION_FAILED']]);
    } finally {
      mode = 'up';
    }
  });
});
