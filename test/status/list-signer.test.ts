import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStatusChecker, encodeBitstring, MIN_LIST_SIZE, setBit } from '../../src/status/index.js';
import { issueCredential, signJwt, verifyCredential } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createDidWeb, didKeyRef, documentResolver, resolveDidJwk, resolveDidKey } from '../../src/did/index.js';
import type { DIDDocument } from '../../src/did/types.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyType, PublicJwk } from '../../src/keys/types.js';
import { serve } from '../helpers.js';

/**
 * Bitstring Status List §2.2 lets anyone publish a list; Charter takes a list
 * only from the credential's issuer. A did:web document listing a key claims
 * it (DID Core §5.3) and proves nothing: what counts is the key that signed
 * the list, and whether the issuer's own DID names that key. So a stranger
 * whose did:web lists the issuer's key, and signs with its own, is refused;
 * the issuer's did:web naming the did:key that signed is the issuer.
 */
const V2 = 'https://www.w3.org/ns/credentials/v2';
const docs = new Map<string, DIDDocument>();
const resolver = documentResolver(async (did) => docs.get(did) ?? (did.startsWith('did:key:') ? resolveDidKey(did) : resolveDidJwk(did)));
const keyParty = (type: KeyType = 'Ed25519') => {
  const kp = generateKeyPair(type);
  const as = (method: 'key' | 'jwk'): Issuer => ({ ...didKeyRef(method, kp.publicJwk), signer: createSigner(kp.privateJwk) });
  return { kp, key: as('key'), jwk: as('jwk') };
};

let site = 0;
/** A did:web whose document lists `methods` (its own key first, signing with it), each under the relationships given. */
function webParty(
  own: ReturnType<typeof keyParty>,
  others: { jwk: PublicJwk; in?: ('assertionMethod' | 'authentication')[] }[] = [],
  ownIn: ('assertionMethod' | 'authentication')[] = ['assertionMethod', 'authentication'],
): Issuer {
  const base = createDidWeb({ domain: `party-${++site}.example`, publicJwk: own.kp.publicJwk });
  const did = base.did;
  const methods = [{ jwk: own.kp.publicJwk, in: ownIn }, ...others].map((m, i) => ({ id: `${did}#k${i}`, jwk: m.jwk, in: m.in ?? ['assertionMethod', 'authentication'] }));
  const document: DIDDocument = {
    ...base.document,
    verificationMethod: methods.map((m) => ({ id: m.id, type: 'JsonWebKey2020', controller: did, publicKeyJwk: m.jwk as never })),
    assertionMethod: methods.filter((m) => m.in.includes('assertionMethod')).map((m) => m.id),
    authentication: methods.filter((m) => m.in.includes('authentication')).map((m) => m.id),
  };
  docs.set(did, document);
  return { did, kid: `${did}#k0`, signer: createSigner(own.kp.privateJwk) } as Issuer;
}

let srv: Awaited<ReturnType<typeof serve>>;
const served = new Map<string, string>();
beforeAll(async () => {
  srv = await serve((req, res) => {
    const jwt = served.get(req.url ?? '');
    if (jwt === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/vc+jwt' }).end(jwt);
  });
});
afterAll(() => srv.close());

let n = 0;
/** A revocation list signed by `by` (with `kid`), entry 7 set as `revoked` says; served at a fresh URL. */
async function list(by: Issuer, revoked: boolean, kid = by.kid): Promise<string> {
  const path = `/signer/${++n}`;
  const url = srv.url + path;
  const bits = new Uint8Array(MIN_LIST_SIZE / 8);
  if (revoked) setBit(bits, 7, true);
  const payload = {
    '@context': [V2],
    id: url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: by.did,
    validFrom: new Date(Date.now() - 3_600_000).toISOString(),
    credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: encodeBitstring(bits) },
  };
  served.set(path, await signJwt({ typ: 'vc+jwt', cty: 'vc' }, payload, by.signer, kid));
  return url;
}

/** The codes verifying a credential by `issuer` whose revocation entry 7 is on the list at `url`. */
async function codes(issuer: Issuer, url: string): Promise<string[]> {
  const { jwt } = await issueCredential({
    issuer,
    subject: 'did:example:subject',
    type: 'ExampleCredential',
    claims: {},
    credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential: url },
  });
  const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
  return (await verifyCredential(jwt, { resolver, status })).reasons.map((r) => r.code);
}

describe("a status list is the issuer's only when the issuer's own DID names the key that signed it", () => {
  it.each(['Ed25519', 'P-256', 'secp256k1'] as const)(
    "a stranger's did:web listing the issuer's key, signing with its own, cannot clear a revoked credential (%s)",
    async (type) => {
      const victim = keyParty(type);
      const attacker = keyParty(type);
      // The attacker's document claims the victim's key, under every signing relationship.
      const evil = webParty(attacker, [{ jwk: victim.kp.publicJwk }]);
      // Honest control: the victim's own list says revoked.
      expect(await codes(victim.key, await list(victim.key, true))).toEqual(['CREDENTIAL_REVOKED']);
      for (const issuer of [victim.key, victim.jwk, webParty(victim)]) {
        expect(await codes(issuer, await list(evil, false))).toEqual(['STATUS_INVALID']);
        expect(await codes(issuer, await list(evil, true))).toEqual(['STATUS_INVALID']);
      }
    },
  );

  it("the issuer's did:web naming, for assertions, the did:key that signed the list: the issuer's list", async () => {
    const issuerKey = keyParty();
    const listKey = keyParty();
    const web = webParty(issuerKey, [{ jwk: listKey.kp.publicJwk, in: ['assertionMethod'] }]);
    expect(await codes(web, await list(listKey.key, true))).toEqual(['CREDENTIAL_REVOKED']);
    expect(await codes(web, await list(listKey.jwk, false))).toEqual([]);
  });

  it('a key the issuer lists for authentication only does not sign its lists', async () => {
    const issuerKey = keyParty();
    const loginKey = keyParty();
    const web = webParty(issuerKey, [{ jwk: loginKey.kp.publicJwk, in: ['authentication'] }]);
    expect(await codes(web, await list(loginKey.key, false))).toEqual(['STATUS_INVALID']);
  });

  it("a did:web that lists the issuer's key and signs with that key: the issuer signed", async () => {
    const issuerKey = keyParty();
    const other = keyParty();
    const host = webParty(other, [{ jwk: issuerKey.kp.publicJwk }]);
    // The list names the host's DID, but its signature is the issuer's key's (the host's second method).
    const signedByIssuer: Issuer = { ...host, kid: `${host.did}#k1`, signer: issuerKey.key.signer };
    expect(await codes(issuerKey.key, await list(signedByIssuer, true))).toEqual(['CREDENTIAL_REVOKED']);
    // Signed with the host's own key, the same list is someone else's.
    expect(await codes(issuerKey.key, await list(host, false))).toEqual(['STATUS_INVALID']);
  });

  it("another key of the issuer's own did:web, or a pure-key DID of a stranger, is not the issuer", async () => {
    const issuerKey = keyParty();
    const web = webParty(issuerKey);
    const stranger = keyParty();
    for (const by of [stranger.key, stranger.jwk, webParty(stranger)]) expect(await codes(web, await list(by, false))).toEqual(['STATUS_INVALID']);
    // Its own list, signed under its own DID: accepted.
    expect(await codes(web, await list(web, true))).toEqual(['CREDENTIAL_REVOKED']);
  });
});
