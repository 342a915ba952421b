import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome, type Home } from '../../src/home/home.js';
import { serveHome, type RunningServer } from '../../src/server/serve.js';
import { issueGrant, listGrants, revokeGrant, resumeGrant, suspendGrant, verifyGrant, revokeGrantsTo, resourceCovered } from '../../src/grants/index.js';
import { createPresentation } from '../../src/credentials/index.js';
import { createStatusChecker } from '../../src/status/index.js';
import { createResolver } from '../../src/did/index.js';
import { tempDir } from '../helpers.js';

describe('resource matching', () => {
  it('exact, or prefix/* for paths below; nothing else', () => {
    expect(resourceCovered(['profile/email'], 'profile/email')).toBe(true);
    expect(resourceCovered(['profile/email'], 'profile/email2')).toBe(false);
    expect(resourceCovered(['photos/*'], 'photos/2024/a.jpg')).toBe(true);
    expect(resourceCovered(['photos/*'], 'photos')).toBe(false);
    expect(resourceCovered(['photos/*'], 'photosx/a')).toBe(false);
    expect(resourceCovered(['*'], 'anything')).toBe(false);
  });
});

describe('data grants end to end (charter serve on loopback)', () => {
  let home: Home;
  let server: RunningServer;
  const dir = tempDir();
  const resolver = createResolver();
  const fresh = () => createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
  beforeAll(async () => {
    home = await openHome({ home: dir, passphrase: async () => 'grant tests passphrase' });
    await home.init();
    server = await serveHome(home, { port: 0 });
    await home.setPublicUrl(server.url);
    await home.createIdentity({ alias: 'alice' });
    await home.createIdentity({ alias: 'shop', keyType: 'P-256' });
  });
  afterAll(async () => {
    await server.close();
    await home.close();
  });
  const grant = async (resources = ['profile/email'], days = 30) =>
    issueGrant(home.store, await home.issuer('alice'), {
      grantee: (await home.identity('shop')).did,
      resources,
      actions: ['read'],
      purpose: 'order updates',
      validUntil: new Date(Date.now() + days * 86_400_000),
      baseUrl: server.url,
    });
  const decide = async (jwt: string, o: Partial<Parameters<typeof verifyGrant>[1]> = {}, status = fresh()) =>
    verifyGrant(jwt, { resolver, status, resource: 'profile/email', action: 'read', owner: (await home.identity('alice')).did, ...o });

  it('a grant allows exactly its scope, to its grantee', async () => {
    const g = await grant();
    const shop = (await home.identity('shop')).did;
    const ok = await decide(g.jwt, { grantee: shop });
    expect(ok).toMatchObject({ ok: true, grantee: shop, grant: { purpose: 'order updates' } });
    expect((await decide(g.jwt, { resource: 'profile/phone' })).reasons.map((r) => r.code)).toEqual(['GRANT_SCOPE']);
    expect((await decide(g.jwt, { action: 'write' })).reasons.map((r) => r.code)).toEqual(['GRANT_SCOPE']);
    expect((await decide(g.jwt, { grantee: (await home.identity('alice')).did })).reasons.map((r) => r.code)).toEqual(['GRANTEE_MISMATCH']);
    expect((await decide(g.jwt, { now: new Date(Date.now() + 31 * 86_400_000) })).reasons.map((r) => r.code)).toContain('CREDENTIAL_EXPIRED');
  });

  it('a presentation of the grant by the grantee is checked for audience and nonce', async () => {
    const g = await grant();
    const vp = await createPresentation({ holder: await home.issuer('shop'), credentials: [g.jwt], aud: 'did:web:data.example', nonce: 'n1' });
    expect((await decide(vp, { aud: 'did:web:data.example', nonce: 'n1' })).ok).toBe(true);
    expect((await decide(vp, { aud: 'did:web:data.example', nonce: 'n2' })).reasons.map((r) => r.code)).toEqual(['NONCE_MISMATCH']);
    const stolen = await createPresentation({ holder: await home.issuer('alice'), credentials: [g.jwt], aud: 'did:web:data.example', nonce: 'n1' });
    expect((await decide(stolen, { aud: 'did:web:data.example', nonce: 'n1' })).reasons.map((r) => r.code)).toContain('HOLDER_MISMATCH');
  });

  it('a caller naming an audience or a nonce expects a presentation: the bare grant, which anyone who saw it can send, is refused', async () => {
    const g = await grant();
    for (const o of [{ aud: 'did:web:data.example' }, { nonce: 'n1' }, { aud: 'did:web:data.example', nonce: 'n1' }, { aud: 'did:web:data.example', allowMissingNonce: true }]) {
      const d = await decide(g.jwt, o);
      expect([o, d.ok, d.reasons.map((r) => r.code)]).toEqual([o, false, ['INVALID_PRESENTATION']]);
      expect(d.holder).toBeUndefined();
    }
    // Naming neither, the grant itself is judged (a holder is then the caller's own business).
    expect((await decide(g.jwt)).ok).toBe(true);
  });

  it('revoke, suspend and resume are visible to the next fetch; listGrants shows the state', async () => {
    const g = await grant();
    const issuerFor = (did: string) => home.issuer(did);
    await suspendGrant(home.store, g.id, issuerFor);
    expect((await decide(g.jwt)).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_SUSPENDED']);
    await resumeGrant(home.store, g.id, issuerFor);
    expect((await decide(g.jwt)).ok).toBe(true);
    const cached = fresh();
    expect((await decide(g.jwt, {}, cached)).ok).toBe(true);
    await revokeGrant(home.store, g.id, issuerFor);
    expect((await decide(g.jwt)).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
    expect((await listGrants(home.store)).find((x) => x.id === g.id)!.state).toBe('revoked');
    await expect(suspendGrant(home.store, g.id, issuerFor)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(revokeGrant(home.store, 'urn:uuid:unknown', issuerFor)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('revokeGrantsTo revokes every live grant to one grantee', async () => {
    const a = await grant(['a']);
    const b = await grant(['b']);
    const ids = (await revokeGrantsTo(home.store, (await home.identity('shop')).did, (did) => home.issuer(did))).map((c) => c.credentialId);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    expect((await decide(b.jwt, { resource: 'b' })).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('a crash between committing the bit and re-signing the list is repaired by the next fetch', async () => {
    const g = await grant();
    let alloc = { listId: '', index: -1 };
    for (const a of await home.store.findStatusAllocation(g.id)) if ((await home.store.getStatusList(a.listId))!.purpose === 'revocation') alloc = a;
    expect(alloc.index).toBeGreaterThanOrEqual(0);
    // A real process commits the revocation bit and is SIGKILLed before it can re-sign.
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'crash-revoke.ts'), join(dir, 'charter.db'), alloc.listId, String(alloc.index)], {
        stdio: 'ignore',
      });
      p.on('close', (c, sig) => resolve(sig === 'SIGKILL' ? -9 : c));
    });
    expect(code).toBe(-9);
    const after = (await home.store.getStatusList(alloc.listId))!;
    expect(after.version).toBeGreaterThan(after.signedVersion ?? -1);
    expect((await decide(g.jwt)).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
    const repaired = (await home.store.getStatusList(alloc.listId))!;
    expect(repaired.signedVersion).toBe(repaired.version);
  });

  it('a personal grant carries terms: the verifier checks the declared purpose and processing, listGrants shows them', async () => {
    const g = await issueGrant(home.store, await home.issuer('alice'), {
      grantee: (await home.identity('shop')).did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'order updates',
      terms: { purpose: ['service-delivery'], retention: 'P30D', onwardSharing: 'none', processing: 'any', compensation: { amount: '0.01', currency: 'EUR', per: 'use' } },
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: server.url,
    });
    expect((await decide(g.jwt, { purpose: 'service-delivery' })).ok).toBe(true);
    expect((await decide(g.jwt, { purpose: 'marketing' })).reasons.map((r) => r.code)).toEqual(['PURPOSE_NOT_ALLOWED']);
    expect((await decide(g.jwt)).reasons.map((r) => r.code)).toEqual(['PURPOSE_NOT_ALLOWED']);
    // A single decision takes the purpose itself: a function (as a guard takes per request) is misuse, not a use.
    await expect(decide(g.jwt, { purpose: (() => 'service-delivery') as never })).rejects.toThrow(/purpose must be/);
    expect((await listGrants(home.store)).find((x) => x.id === g.id)?.terms).toMatchObject({ retention: 'P30D', onwardSharing: 'none' });
    await expect(
      issueGrant(home.store, await home.issuer('alice'), {
        grantee: (await home.identity('shop')).did,
        resources: ['a'],
        actions: ['read'],
        purpose: 'p',
        terms: { purpose: ['analitics'] },
        validUntil: new Date(Date.now() + 86_400_000),
        baseUrl: server.url,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
