import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from '../../src/credentials/index.js';
import {
  createTokenStatusChecker,
  issueStoredSdJwtVc,
  presentSdJwtVc,
  publishTokenStatusLists,
  revokeSdJwtVc,
  STATUS_LIST_MEDIA_TYPE,
  verifySdJwtVc,
  decodeTokenStatusList,
  readTokenStatus,
} from '../../src/sdjwt/index.js';
import { tempDir } from '../helpers.js';
import { API, openWorld, type World } from '../http/world.js';

/**
 * `charter serve` publishes each revocation list a second time, as an IETF
 * Status List Token at /statuslists/<id>: the `uri` SD-JWT VCs name. Until it
 * did, an SD-JWT VC with a status failed closed at every verifier.
 */
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => w.close());

const issue = async () =>
  issueStoredSdJwtVc(w.home.store, w.alice, {
    subject: w.app.did,
    vct: 'https://example.com/vct/Email',
    claims: { email: 'alice@example.com', name: 'Alice' },
    disclosable: ['email', 'name'],
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
    resolver: w.resolver,
  });

describe('Token Status List served by charter serve', () => {
  it('end to end: issue with a status, verify (allowed), revoke, refresh, CREDENTIAL_REVOKED', async () => {
    const vc = await issue();
    const uri = (decodeJwt(vc.token.split('~')[0]!).payload.status as { status_list: { uri: string } }).status_list.uri;
    expect(uri).toMatch(new RegExp(`^${w.server.url}/statuslists/[A-Za-z0-9_-]+$`));
    const status = createTokenStatusChecker({ resolver: w.resolver, allowLoopback: true, allowHttp: true });
    const verify = async () =>
      verifySdJwtVc(await presentSdJwtVc(vc.token, { holder: w.app, disclose: ['email'], aud: API, nonce: 'n-1' }), {
        resolver: w.resolver,
        status,
        aud: API,
        nonce: 'n-1',
        requireStatus: true,
      });
    const ok = await verify();
    expect(ok.reasons).toEqual([]);
    expect(ok.claims).toMatchObject({ email: 'alice@example.com' });
    await revokeSdJwtVc(w.home.store, vc.id, (did) => w.home.issuer(did));
    // The cached list is trusted until its ttl; a refresh (or a new verifier) sees the revocation.
    expect((await verify()).ok).toBe(true);
    await status.refresh(uri);
    expect((await verify()).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
  });

  it("answers application/statuslist+jwt with the Bitstring lists' short Cache-Control; HEAD has no body; unknown and suspension lists are 404", async () => {
    const vc = await issue();
    const id = (await w.home.store.findStatusAllocation(vc.id))[0]!.listId;
    const list = (await w.home.store.getStatusList(id))!;
    const r = await fetch(`${w.server.url}/statuslists/${id}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(STATUS_LIST_MEDIA_TYPE);
    expect(r.headers.get('cache-control')).toBe(`public, max-age=${list.ttlSeconds}`);
    const bitstring = await fetch(`${w.server.url}/status/${id}`);
    expect(r.headers.get('cache-control')).toBe(bitstring.headers.get('cache-control'));
    const d = decodeJwt(await r.text());
    expect(d.header.typ).toBe('statuslist+jwt');
    expect(d.payload).toMatchObject({ iss: w.alice.did, sub: `${w.server.url}/statuslists/${id}`, ttl: list.ttlSeconds, status_list: { bits: 1 } });
    const head = await fetch(`${w.server.url}/statuslists/${id}`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([200, STATUS_LIST_MEDIA_TYPE, '']);
    expect((await fetch(`${w.server.url}/statuslists/nope`)).status).toBe(404);
    const grant = await w.grant();
    const suspension = (await w.home.store.findStatusAllocation(grant.id)).map((a) => a.listId);
    const purposes = await Promise.all(suspension.map(async (l) => [(await w.home.store.getStatusList(l))!.purpose, (await fetch(`${w.server.url}/statuslists/${l}`)).status]));
    expect(purposes.sort()).toEqual([
      ['revocation', 200],
      ['suspension', 404],
    ]);
  });

  it('publishTokenStatusLists writes the same tokens as static files at statuslists/<id>, current bits included', async () => {
    const vc = await issue();
    await revokeSdJwtVc(w.home.store, vc.id, (did) => w.home.issuer(did));
    const out = tempDir('charter-publish-');
    const files = await publishTokenStatusLists(w.home.store, out, (did) => w.home.issuer(did));
    const { listId, index } = (await w.home.store.findStatusAllocation(vc.id))[0]!;
    const file = join(out, 'statuslists', listId);
    expect(files).toContain(file);
    const payload = decodeJwt(readFileSync(file, 'utf8')).payload as { sub: string; status_list: { bits: 1; lst: string } };
    expect(payload.sub).toBe(`${w.server.url}/statuslists/${listId}`);
    expect(readTokenStatus(decodeTokenStatusList(payload.status_list.lst), 1, index)).toBe(1);
    const lists = await w.home.store.listStatusLists();
    expect(files).toHaveLength(lists.filter((l) => l.purpose === 'revocation').length);
  });
});
