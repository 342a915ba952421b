import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { didKeyRef } from '../../src/did/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { admitMember, castVote, currentEpoch, joinerOf, propose, type StoredProposal } from '../../src/pools/index.js';
import { openPoolWorld, type PoolWorld } from './world.js';

/*
 * One key is one member, told by the keys a party has shown it holds, not by
 * what a document lists: anyone can list anyone's public key (a did:key is
 * its key). A member whose did:web document lists a newcomer's key must not
 * keep that newcomer out on its own, whatever the rest voted. A newcomer that
 * is another DID of a key a member signed its membership with is still
 * refused (ALREADY_EXISTS).
 */

let w: PoolWorld;
let srv: Server;
let host: string;
const docs = new Map<string, unknown>();

type Key = { publicJwk: Issuer['publicJwk']; signer: Issuer['signer'] };
const fresh = (): Key => {
  const kp = generateKeyPair('Ed25519');
  return { publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) };
};
const unique = () => randomUUID().slice(0, 8);
/** `k` as a did:key or a did:jwk identity. */
const pure = (method: 'key' | 'jwk', k: Key): Issuer => ({ ...didKeyRef(method, k.publicJwk), signer: k.signer }) as Issuer;

/** A did:web on the test host whose document lists `keys` as k0, k1...; `as(i)` signs with key i. */
function webDid(keys: Key[]): { did: string; as: (i: number) => Issuer; setKeys: (k: Key[]) => void } {
  const path = `web-${unique()}`;
  const did = `did:web:${host}:${path}`;
  let current = keys;
  const setKeys = (ks: Key[]) => {
    current = ks;
    const methods = ks.map((k, i) => ({ id: `${did}#k${i}`, type: 'JsonWebKey', controller: did, publicKeyJwk: k.publicJwk }));
    docs.set(`/${path}/did.json`, {
      '@context': ['https://www.w3.org/ns/did/v1'],
      id: did,
      verificationMethod: methods,
      assertionMethod: methods.map((m) => m.id),
      authentication: methods.map((m) => m.id),
    });
    w.resolver.clear(did);
  };
  setKeys(keys);
  const as = (i: number) => ({ did, kid: `${did}#k${i}`, keyType: current[i]!.publicJwk.crv, publicJwk: current[i]!.publicJwk, signer: current[i]!.signer }) as Issuer;
  return { did, as, setKeys };
}

/** Proposes (with a lookup) to admit `member`, has m1 and m2 approve. */
async function approvedAdmission(member: string): Promise<StoredProposal> {
  const p = await propose(w.home.store, w.pool, { action: 'admit', member }, { resolver: w.resolver });
  await castVote(w.home.store, w.members[1]!, p, 'approve');
  await castVote(w.home.store, w.members[2]!, p, 'approve');
  return p;
}

const admit = (p: StoredProposal, who: Issuer) => admitMember(w.home.store, w.pool, p, { resolver: w.resolver, baseUrl: w.server.url, acceptance: joinerOf(who).accept });

let mallory: ReturnType<typeof webDid>;
let malloryKey: Key;

beforeAll(async () => {
  w = await openPoolWorld({ members: 3, threshold: 2 });
  srv = createServer((req, res) => {
    const d = docs.get(req.url ?? '');
    if (!d) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(d));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  host = `127.0.0.1%3A${(srv.address() as { port: number }).port}`;
  // Mallory: a did:web member, admitted with her own key k0.
  malloryKey = fresh();
  mallory = webDid([malloryKey]);
  const r = await admit(await approvedAdmission(mallory.did), mallory.as(0));
  expect(r.ok).toBe(true);
});
afterAll(async () => {
  srv.close();
  await w.close();
});

describe("a member's document listing a newcomer's key does not keep the newcomer out", () => {
  it('a did:key newcomer whose key mallory lists beside her own: proposed and admitted', async () => {
    const carol = await w.home.issuer((await w.home.createIdentity({ alias: `carol-${unique()}` })).alias);
    mallory.setKeys([malloryKey, { publicJwk: carol.publicJwk, signer: carol.signer }]);
    const p = await approvedAdmission(carol.did);
    const r = await admit(p, carol);
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
    expect((await currentEpoch(w.home.store, w.pool.did)).members.map((m) => m.id)).toContain(carol.did);
  });

  it('a did:jwk newcomer whose key mallory lists: admitted', async () => {
    const k = fresh();
    const dave = pure('jwk', k);
    mallory.setKeys([malloryKey, k]);
    const r = await admit(await approvedAdmission(dave.did), dave);
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('a did:web newcomer whose own key mallory lists: admitted', async () => {
    const k = fresh();
    const erin = webDid([k]);
    mallory.setKeys([malloryKey, k]);
    const r = await admit(await approvedAdmission(erin.did), erin.as(0));
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it("mallory's kid re-pointed at the newcomer's key (her acceptance no longer verifies with it): admitted", async () => {
    const k = fresh();
    const frank = pure('jwk', k);
    // k0, the kid her acceptance names, now holds frank's key.
    mallory.setKeys([k, malloryKey]);
    const r = await admit(await approvedAdmission(frank.did), frank);
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
    mallory.setKeys([malloryKey]);
  });
});

describe('a newcomer that is another DID of a key a member signed its membership with is still refused', () => {
  it("the did:key and the did:jwk of mallory's own key: ALREADY_EXISTS, at proposal and at admission", async () => {
    mallory.setKeys([malloryKey]);
    for (const alias of [pure('key', malloryKey), pure('jwk', malloryKey)]) {
      await expect(propose(w.home.store, w.pool, { action: 'admit', member: alias.did }, { resolver: w.resolver })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      const p = await propose(w.home.store, w.pool, { action: 'admit', member: alias.did });
      await castVote(w.home.store, w.members[1]!, p, 'approve');
      await castVote(w.home.store, w.members[2]!, p, 'approve');
      await expect(admit(p, alias)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    }
  });

  it("a did:web newcomer listing a member's key (the one it signed with): ALREADY_EXISTS", async () => {
    const ana = w.members[0]!;
    const alias = webDid([fresh(), { publicJwk: ana.publicJwk, signer: ana.signer }]);
    await expect(propose(w.home.store, w.pool, { action: 'admit', member: alias.did }, { resolver: w.resolver })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });
});
