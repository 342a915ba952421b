import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome, type Home } from '../../src/home/home.js';
import { issueGrant, listGrants, revokeGrantsTo } from '../../src/grants/index.js';
import { didKeyRef } from '../../src/did/index.js';
import { makeIssuer, tempDir } from '../helpers.js';

/*
 * The other side of grantee-spellings.test.ts: revoke --to a did:key takes every DID of that key and
 * nothing else. The same 32 bytes under another curve (Ed25519 vs X25519) are another key; a malformed
 * DID, a DID with a fragment, an upper-case method, or a subject that is no DID at all never throws and
 * never matches a key's grants.
 */
describe('revokeGrantsTo / listGrants by key: other keys and odd subjects are left alone', () => {
  let home: Home;
  const dir = tempDir();
  beforeAll(async () => {
    home = await openHome({ home: dir, passphrase: async () => 'grantee apart passphrase' });
    await home.init();
    await home.createIdentity({ alias: 'alice' });
  });
  afterAll(async () => {
    await home.close();
  });
  const issuerFor = (did: string) => home.issuer(did);
  const grantTo = async (grantee: string) =>
    issueGrant(home.store, await home.issuer('alice'), {
      grantee,
      resources: ['r'],
      actions: ['read'],
      purpose: 'p',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: 'https://home.example',
    });
  const tryGrantTo = async (grantee: string) => {
    try {
      return (await grantTo(grantee)).id;
    } catch {
      return undefined;
    }
  };

  const grantsTo = async (subject: string) => (await home.store.listCredentials({ direction: 'issued', subject })).map((r) => r.id)[0];

  it('the same bytes under X25519, and subjects that are no key, survive revoke --to the Ed25519 did:key', async () => {
    const ed = makeIssuer('Ed25519');
    const x = (ed.publicJwk as { x: string }).x;
    const mine = await grantTo(ed.did);
    const others = [
      `did:jwk:${Buffer.from(JSON.stringify({ kty: 'OKP', crv: 'X25519', x })).toString('base64url')}`,
      `${ed.did}#${ed.did.slice('did:key:'.length)}`,
      ed.did.replace('did:key:', 'DID:KEY:'),
      ed.did.slice(0, -1),
      'did:jwk:e30',
      'urn:uuid:6a1b7c4e-0c1d-4a5b-9e3f-2b1c0d9e8f7a',
    ];
    const kept: string[] = [];
    for (const o of others) {
      const id = await tryGrantTo(o);
      if (id !== undefined) kept.push(id);
    }
    // The X25519 did:jwk (the same bytes, another key) and the non-DID subject are taken as grantees.
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept).toContain(await grantsTo(others[0]!));
    expect((await listGrants(home.store, { grantee: ed.did })).map((g) => g.id)).toEqual([mine.id]);
    expect((await revokeGrantsTo(home.store, ed.did, issuerFor)).map((c) => c.credentialId)).toEqual([mine.id]);
    const live = (await listGrants(home.store)).filter((g) => g.state === 'active').map((g) => g.id);
    expect(live.sort()).toEqual(kept.sort());
    // Each odd subject is matched as written, never by a key, and never throws.
    for (const o of others) await expect(listGrants(home.store, { grantee: o })).resolves.toBeDefined();
    expect(await listGrants(home.store, { grantee: didKeyRef('key', makeIssuer('Ed25519').publicJwk!).did })).toEqual([]);
  });
});
