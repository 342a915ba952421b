import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome, type Home } from '../../src/home/home.js';
import { serveHome, type RunningServer } from '../../src/server/serve.js';
import { issueGrant, listGrants, revokeGrantsTo, verifyGrant } from '../../src/grants/index.js';
import { issueSdJwtGrant } from '../../src/sdjwt/index.js';
import { createPresentation } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createStatusChecker } from '../../src/status/index.js';
import { createResolver, didKeyRef } from '../../src/did/index.js';
import { makeIssuer, tempDir } from '../helpers.js';

/*
 * "Revoke every grant to this grantee" names the grantee by one DID, but a did:key and the did:jwk of its
 * key (in any member order, with or without kid or alg) are one party: the key's holder presents a grant
 * issued to either. revokeGrantsTo and listGrants({ grantee }) must find them all, or a grant to another
 * spelling of the same grantee stays live after the owner revoked "everything to it".
 */
describe('a grantee is one party under every DID of its key', () => {
  let home: Home;
  let server: RunningServer;
  const dir = tempDir();
  const resolver = createResolver();
  const AUD = 'did:web:data.example';
  beforeAll(async () => {
    home = await openHome({ home: dir, passphrase: async () => 'grantee spellings passphrase' });
    await home.init();
    server = await serveHome(home, { port: 0 });
    await home.setPublicUrl(server.url);
    await home.createIdentity({ alias: 'alice' });
  });
  afterAll(async () => {
    await server.close();
    await home.close();
  });

  const issuerFor = (did: string) => home.issuer(did);
  const grantTo = async (grantee: string, resource = 'r') =>
    issueGrant(home.store, await home.issuer('alice'), {
      grantee,
      resources: [resource],
      actions: ['read'],
      purpose: 'p',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: server.url,
    });
  /** The holder presenting `jwt` under `did` (a DID of its own key), as a verifier of the grant sees it. */
  const presentedBy = async (holder: Issuer, did: string, jwt: string) => {
    const ref = did.startsWith('did:jwk:') ? { did, kid: `${did}#0` } : { did, kid: `${did}#${did.slice('did:key:'.length)}` };
    const vp = await createPresentation({ holder: { ...holder, ...ref }, credentials: [jwt], aud: AUD, nonce: 'n1' });
    const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
    return verifyGrant(vp, { resolver, status, resource: 'r', action: 'read', owner: (await home.identity('alice')).did, aud: AUD, nonce: 'n1' });
  };
  /** A did:jwk of the key with its members in another order, and a kid and an alg: the same key. */
  const respelt = (holder: Issuer) => {
    const { kty, crv, x, y } = holder.publicJwk as { kty: string; crv: string; x: string; y?: string };
    const jwk = y !== undefined ? { y, x, crv, kty, kid: 'k1', alg: 'ES256' } : { x, crv, kty, kid: 'k1', alg: 'EdDSA' };
    return `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`;
  };

  for (const keyType of ['P-256', 'Ed25519'] as const) {
    it(`${keyType}: revoking every grant to the did:key revokes the grant to its did:jwk, which its holder can no longer present`, async () => {
      const shop = makeIssuer(keyType);
      const asJwk = didKeyRef('jwk', shop.publicJwk!).did;
      const a = await grantTo(shop.did);
      const b = await grantTo(asJwk);
      expect((await presentedBy(shop, asJwk, b.jwt)).ok).toBe(true);
      const revoked = (await revokeGrantsTo(home.store, shop.did, issuerFor)).map((c) => c.credentialId).sort();
      expect(revoked).toEqual([a.id, b.id].sort());
      expect((await presentedBy(shop, asJwk, b.jwt)).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
      expect((await presentedBy(shop, shop.did, a.jwt)).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
    });
  }

  it('named by a did:jwk in another spelling (member order, kid, alg), the grantee is the same party: its did:key grants are listed and revoked', async () => {
    const shop = makeIssuer('P-256');
    const a = await grantTo(shop.did);
    const b = await grantTo(didKeyRef('jwk', shop.publicJwk!).did);
    const name = respelt(shop);
    expect((await listGrants(home.store, { grantee: name })).map((g) => g.id).sort()).toEqual([a.id, b.id].sort());
    expect((await revokeGrantsTo(home.store, name, issuerFor)).map((c) => c.credentialId).sort()).toEqual([a.id, b.id].sort());
    expect((await listGrants(home.store, { grantee: shop.did })).map((g) => g.state)).toEqual(['revoked', 'revoked']);
  });

  it('an SD-JWT grant to the other DID of the key is revoked with the rest', async () => {
    const shop = makeIssuer('P-256');
    const a = await grantTo(shop.did);
    const sd = await issueSdJwtGrant(home.store, await home.issuer('alice'), {
      grantee: didKeyRef('jwk', shop.publicJwk!).did,
      resources: ['r'],
      actions: ['read'],
      purpose: 'p',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: server.url,
    });
    expect((await revokeGrantsTo(home.store, shop.did, issuerFor)).map((c) => c.credentialId).sort()).toEqual([a.id, sd.id].sort());
    expect((await listGrants(home.store)).find((g) => g.id === sd.id)?.state).toBe('revoked');
  });

  it('grants to another key, or to a DID that is not a key, are left alone; a DID that is not a key matches as written', async () => {
    const shop = makeIssuer('P-256');
    const other = makeIssuer('P-256');
    const mine = await grantTo(shop.did);
    const theirs = await grantTo(didKeyRef('jwk', other.publicJwk!).did);
    const web = await grantTo('did:web:shop.example');
    const webPath = await grantTo('did:web:shop.example:a');
    expect((await revokeGrantsTo(home.store, shop.did, issuerFor)).map((c) => c.credentialId)).toEqual([mine.id]);
    expect((await revokeGrantsTo(home.store, 'did:web:shop.example', issuerFor)).map((c) => c.credentialId)).toEqual([web.id]);
    const state = async (id: string) => (await listGrants(home.store)).find((g) => g.id === id)?.state;
    expect([await state(theirs.id), await state(webPath.id)]).toEqual(['active', 'active']);
    // A did:jwk that is no key (it does not resolve) is no party of any key: matched as written only.
    expect(await listGrants(home.store, { grantee: 'did:jwk:e30' })).toEqual([]);
  });
});
