import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharterError } from '../../src/errors.js';
import { documentResolver } from '../../src/did/index.js';
import type { CharterResolver, DIDDocument } from '../../src/did/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { requireGrant, requireSignature } from '../../src/http/guards.js';
import { verifyRequest } from '../../src/http/request.js';
import { bound } from '../http/present.js';
import { openWorld, type World } from '../http/world.js';
import { bearer, codes, signed } from './seams-fixtures.js';

/**
 * A request signature proves the presenting holder only with a key its DID document lists for
 * `authentication` (DID Core §5.3.1: "how the DID subject is expected to be authenticated"). A key it
 * lists only for `assertionMethod` (issuing claims, possibly a service's key), `capabilityInvocation`,
 * or under no relationship at all is not the holder authenticating: SIGNER_NOT_HOLDER.
 */
const EMAIL = 'http://127.0.0.1:9999/profile/email';
const HOLDER = 'did:web:holder.example';
const pair = () => {
  const kp = generateKeyPair('Ed25519');
  return { publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) };
};
const auth = pair();
const assertion = pair();
const invocation = pair();
const bare = pair();
const both = pair();
const method = (frag: string, k: { publicJwk: unknown }) => ({ id: `${HOLDER}#${frag}`, type: 'JsonWebKey2020', controller: HOLDER, publicKeyJwk: k.publicJwk as never });
const doc: DIDDocument = {
  '@context': ['https://www.w3.org/ns/did/v1'],
  id: HOLDER,
  verificationMethod: [method('auth', auth), method('assert', assertion), method('invoke', invocation), method('bare', bare), method('both', both)],
  authentication: [`${HOLDER}#auth`, `${HOLDER}#both`],
  assertionMethod: [`${HOLDER}#assert`, `${HOLDER}#both`],
  capabilityInvocation: [`${HOLDER}#invoke`],
};
const holder = { did: HOLDER, kid: `${HOLDER}#auth`, signer: auth.signer } as Issuer;

let w: World;
let resolver: CharterResolver;
beforeAll(async () => {
  w = await openWorld();
  const web = documentResolver(async (did) => {
    if (did !== HOLDER) throw new CharterError('DID_NOT_FOUND', 'no such document');
    return doc;
  });
  // The holder's did:web from this document; every other DID as the world resolves it.
  resolver = {
    resolve: (did) => (did === HOLDER ? web.resolve(did) : w.resolver.resolve(did)),
    resolveKey: (did, kid, rel) => (did === HOLDER ? web.resolveKey(did, kid, rel) : w.resolver.resolveKey(did, kid, rel)),
    clear: (did) => (did === HOLDER ? web.clear(did) : w.resolver.clear(did)),
  };
}, 60_000);
afterAll(async () => w?.close());

describe('a request signature proves the holder only with an authentication key', () => {
  const guards = () =>
    [
      requireSignature({ keys: { keys: [auth, assertion, invocation, bare, both].map((k) => k.publicJwk) } }),
      requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did }),
    ] as const;
  const ask = async (by: { signer: Issuer['signer']; publicJwk: (typeof auth)['publicJwk'] }, vp: string) =>
    verifyRequest(new Request(EMAIL, { headers: { ...(await signed(by, EMAIL)), ...bearer(vp) } }), w.verifier({ resolver }), ...guards());

  it('signed with a key listed for assertionMethod only, capabilityInvocation only, or no relationship: SIGNER_NOT_HOLDER, the presentation not used up', async () => {
    const grant = await w.grant({ to: HOLDER });
    const vp = await bound(holder, [grant.jwt], { url: EMAIL });
    for (const key of [assertion, invocation, bare]) {
      const d = await ask(key, vp);
      expect([d.ok, d.status, codes(d), d.holder]).toEqual([false, 401, ['SIGNER_NOT_HOLDER'], undefined]);
    }
    // Nothing was used up by those refusals: the holder's own authentication key then passes, once.
    expect(codes(await ask(auth, vp))).toEqual([]);
    expect(codes(await ask(auth, vp))).toEqual(['REPLAY_DETECTED']);
  });

  it('a key listed for both authentication and assertionMethod passes', async () => {
    const grant = await w.grant({ to: HOLDER });
    const d = await ask(both, await bound(holder, [grant.jwt], { url: EMAIL }));
    expect([d.ok, codes(d), d.holder]).toEqual([true, [], HOLDER]);
  });
});
