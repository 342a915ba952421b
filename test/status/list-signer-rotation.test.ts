import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStatusChecker, encodeBitstring, MIN_LIST_SIZE } from '../../src/status/index.js';
import { issueCredential, signJwt, verifyCredential, schemaIdFor } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createDidWeb, didKeyRef, documentResolver, resolveDidJwk, resolveDidKey } from '../../src/did/index.js';
import type { CharterResolver, DIDDocument } from '../../src/did/types.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { PublicJwk } from '../../src/keys/types.js';
import { createAgentPresentation, issueAgentIdentity } from '../../src/agents/index.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { guardTransaction } from '../../src/guard/transaction.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { serve, tempDir } from '../helpers.js';

/**
 * Who signed a status list is the key its signature verified with, read once. A second lookup of the
 * signer's DID after the signature was checked can read another document (the DID's document changed, or
 * the resolver's cache was cleared or expired, while the check awaited): a did:web that signs a list with
 * its own key, then lists only the issuer's key under that key id, would have its list taken as the
 * issuer's, and a revoked credential read as valid.
 */
const V2 = 'https://www.w3.org/ns/credentials/v2';

const keyParty = () => {
  const kp = generateKeyPair('Ed25519');
  return { kp, key: { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) } as Issuer };
};

let site = 0;
/** A did:web whose one method (#k0) is `first` for the first `firstReads` loads of its document, `then` after. */
function shiftingWeb(first: PublicJwk, then: PublicJwk, firstReads = 1): { did: string; doc: () => DIDDocument } {
  const did = createDidWeb({ domain: `shifting-${++site}.example`, publicJwk: first }).did;
  let loads = 0;
  const docOf = (jwk: PublicJwk): DIDDocument => ({
    '@context': ['https://www.w3.org/ns/did/v1'],
    id: did,
    verificationMethod: [{ id: `${did}#k0`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: jwk as never }],
    assertionMethod: [`${did}#k0`],
    authentication: [`${did}#k0`],
  });
  return { did, doc: () => docOf(loads++ < firstReads ? first : then) };
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
/** A list (entry 7 clear: "valid") signed by `signer` under `did#k0`, served at a fresh URL. */
async function validList(did: string, signer: Issuer['signer']): Promise<string> {
  const path = `/rotating/${++n}`;
  const url = srv.url + path;
  const payload = {
    '@context': [V2],
    id: url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: did,
    validFrom: new Date(Date.now() - 3_600_000).toISOString(),
    credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: encodeBitstring(new Uint8Array(MIN_LIST_SIZE / 8)) },
  };
  served.set(path, await signJwt({ typ: 'vc+jwt', cty: 'vc' }, payload, signer, `${did}#k0`));
  return url;
}

/** A credential by `issuer` whose revocation entry 7 is on the list at `url`. */
async function credential(issuer: Issuer, url: string): Promise<string> {
  return (
    await issueCredential({
      issuer,
      subject: 'did:example:subject',
      type: 'ExampleCredential',
      claims: {},
      credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential: url },
    })
  ).jwt;
}

const pureKeys = (did: string) => (did.startsWith('did:key:') ? resolveDidKey(did) : resolveDidJwk(did));

describe("a status list's signer is the key its signature verified with, not a later read of its DID", () => {
  it('a document that changes between two loads (no cache): refused', async () => {
    for (let i = 0; i < 3; i++) {
      const victim = keyParty();
      const attacker = keyParty();
      const web = shiftingWeb(attacker.kp.publicJwk, victim.kp.publicJwk);
      const resolver = documentResolver(async (did) => (did === web.did ? web.doc() : pureKeys(did)), { cacheTtlMs: 0 });
      const url = await validList(web.did, attacker.key.signer);
      const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
      const v = await verifyCredential(await credential(victim.key, url), { resolver, status });
      expect(v.ok).toBe(false);
      expect(v.reasons.map((r) => r.code)).toEqual(['STATUS_INVALID']);
    }
  });

  it('a cached document dropped while the list is checked (a rotation notice, an expiry): refused', async () => {
    const victim = keyParty();
    const attacker = keyParty();
    const web = shiftingWeb(attacker.kp.publicJwk, victim.kp.publicJwk);
    const inner = documentResolver(async (did) => (did === web.did ? web.doc() : pureKeys(did)));
    // The resolver's cache is cleared for the signer right after it hands out its key (as clear(did) on a
    // rotation notice, or the entry expiring, may do while the signature check awaits the thread pool).
    const resolver: CharterResolver = {
      resolve: (did) => inner.resolve(did),
      clear: (did) => inner.clear(did),
      resolveKey: async (did, kid, rel) => {
        const k = await inner.resolveKey(did, kid, rel);
        if (did === web.did) inner.clear(did);
        return k;
      },
    };
    const url = await validList(web.did, attacker.key.signer);
    const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
    const jwt = await credential(victim.key, url);
    const all = await Promise.all(Array.from({ length: 8 }, () => verifyCredential(jwt, { resolver, status })));
    for (const v of all) expect(v.reasons.map((r) => r.code)).toEqual(['STATUS_INVALID']);
  });

  it("the victim's did:web naming the key, with the list signed by that key under the shifting DID: still only the key that signed counts", async () => {
    const victimKey = keyParty();
    const attacker = keyParty();
    // The issuer is a did:web of the victim's own (not a pure-key DID): its document names its key for assertions.
    const victimWeb = createDidWeb({ domain: `victim-${++site}.example`, publicJwk: victimKey.kp.publicJwk });
    const victim: Issuer = { did: victimWeb.did, kid: `${victimWeb.did}#key-1`, signer: victimKey.key.signer } as Issuer;
    const victimDoc: DIDDocument = {
      '@context': ['https://www.w3.org/ns/did/v1'],
      id: victimWeb.did,
      verificationMethod: [{ id: victim.kid, type: 'JsonWebKey2020', controller: victimWeb.did, publicKeyJwk: victimKey.kp.publicJwk as never }],
      assertionMethod: [victim.kid],
      authentication: [victim.kid],
    };
    const web = shiftingWeb(attacker.kp.publicJwk, victimKey.kp.publicJwk);
    const resolver = documentResolver(async (did) => (did === web.did ? web.doc() : did === victimWeb.did ? victimDoc : pureKeys(did)), { cacheTtlMs: 0 });
    const url = await validList(web.did, attacker.key.signer);
    const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
    const v = await verifyCredential(await credential(victim, url), { resolver, status });
    expect(v.reasons.map((r) => r.code)).toEqual(['STATUS_INVALID']);
  });
});

describe('through the guard: a mandate whose status list a stranger signed never pays', () => {
  it('guardTransaction, ten calls at once under one shifting signer: every one refused, nothing runs', async () => {
    const principal = keyParty();
    const agent = keyParty();
    const operator = keyParty();
    const attacker = keyParty();
    const web = shiftingWeb(attacker.kp.publicJwk, principal.kp.publicJwk);
    const resolver = documentResolver(async (did) => (did === web.did ? web.doc() : pureKeys(did)), { cacheTtlMs: 0 });
    const url = await validList(web.did, attacker.key.signer);
    const AUD = 'did:web:shop.example';
    const mandate = (
      await issueCredential({
        issuer: principal.key,
        id: `urn:uuid:${randomUUID()}`,
        subject: agent.key.did,
        type: 'AgentAuthorityCredential',
        claims: { authority: { actions: ['pay:*'], maxDelegationDepth: 0, limits: { perTransaction: { amount: '50', currency: 'USD' } } } },
        validUntil: new Date(Date.now() + 86_400_000),
        credentialSchema: { id: schemaIdFor('AgentAuthorityCredential')!, type: 'JsonSchema' },
        credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential: url },
      })
    ).jwt;
    const identity = (await issueAgentIdentity(null, operator.key, { agent: agent.key.did, name: 'shopper' })).jwt;
    const store = await openSqliteStore(join(tempDir('charter-rotation-'), 'api.db'));
    try {
      const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
      const verifier = createVerifier({ aud: AUD, store, resolver, status, http: false });
      const trust = { principals: [principal.key.did] };
      let ran = 0;
      const presentations = await Promise.all(
        Array.from({ length: 10 }, () => createAgentPresentation({ agent: agent.key, identity, chain: [mandate], aud: AUD, nonce: randomUUID() })),
      );
      const outcomes = await Promise.all(presentations.map((vp) => guardTransaction(vp, { verifier, action: 'pay:card', amount: '5 USD', trust }, () => ran++)));
      expect(ran).toBe(0);
      for (const o of outcomes) expect(o.ok ? 'allowed' : o.reasons.map((r) => r.code)).toEqual(['STATUS_INVALID']);
    } finally {
      await store.close();
    }
  });
});
