import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, issueCredential, verifyCredential } from '../../src/credentials/index.js';
import { createResolver } from '../../src/did/index.js';
import { allocateStatusEntry, createStatusChecker, currentStatusListJwt, setCredentialStatus, signStatusList } from '../../src/status/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { makeIssuer, serve, tempDir } from '../helpers.js';

/**
 * A signed status list is valid for a day: a copy kept from before a
 * revocation (a stale cache, a proxy, whoever sits on the list's host)
 * cannot stand in for the current list for good.
 */
const resolver = createResolver();
const issuer = makeIssuer();
const issuerFor = async () => issuer;
const DAY = 86_400_000;
let store: Store;
let served: string | undefined;
let server: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-list-expiry-'), 's.db'));
  server = await serve((_req, res) => (served ? res.writeHead(200, { 'content-type': 'application/vc+jwt' }).end(served) : res.writeHead(404).end()));
});
afterAll(async () => {
  await server.close();
  await store.close();
});

async function revocable(id: string) {
  const entry = await allocateStatusEntry(store, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: server.url, credentialId: id });
  const vc = await issueCredential({
    issuer,
    id,
    subject: 'did:example:holder',
    type: 'EmailCredential',
    claims: { email: 'a@example.com' },
    validUntil: new Date(Date.now() + 800 * DAY),
    credentialStatus: entry,
  });
  return { jwt: vc.jwt, listId: entry.statusListCredential.split('/').pop()! };
}
const codes = async (jwt: string, at: number) =>
  (await verifyCredential(jwt, { resolver, now: new Date(at), status: createStatusChecker({ resolver, allowLoopback: true, allowHttp: true, now: () => at }) })).reasons.map(
    (r) => r.code,
  );

describe('signed status lists expire', () => {
  it('a list is signed valid from now for one day (or as told)', async () => {
    const { listId } = await revocable('urn:x:window');
    const list = (await store.getStatusList(listId))!;
    const now = new Date('2026-05-01T00:00:00Z');
    const p = decodeJwt(await signStatusList(list, issuer, { now })).payload;
    expect([p.validFrom, p.validUntil]).toEqual(['2026-05-01T00:00:00.000Z', '2026-05-02T00:00:00.000Z']);
    expect(decodeJwt(await signStatusList(list, issuer, { now, validitySeconds: 3600 })).payload.validUntil).toBe('2026-05-01T01:00:00.000Z');
    for (const bad of [0, -1, 1.5, Number.NaN]) await expect(signStatusList(list, issuer, { validitySeconds: bad })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('the copy from before a revocation, served once it has expired, is refused: the checker fails closed', async () => {
    const { jwt, listId } = await revocable('urn:x:replayed');
    const before = await currentStatusListJwt(store, listId, issuerFor);
    await setCredentialStatus(store, 'urn:x:replayed', 'revocation', true, issuerFor);
    served = await currentStatusListJwt(store, listId, issuerFor);
    expect(await codes(jwt, Date.now())).toEqual(['CREDENTIAL_REVOKED']);
    served = before;
    // Within its day the old copy still reads (the issuer's list ttl and re-signing bound that window)...
    expect(await codes(jwt, Date.now() + 60_000)).toEqual([]);
    // ...after it, whatever the delay, it is no list at all.
    for (const later of [DAY + 120_000, 30 * DAY, 365 * DAY]) {
      const c = await codes(jwt, Date.now() + later);
      expect(c).toHaveLength(1);
      expect(['STATUS_INVALID', 'STATUS_UNAVAILABLE']).toContain(c[0]);
    }
  });

  it('the stored signed list is renewed once half its day is gone, so what is served never runs out', async () => {
    const { listId } = await revocable('urn:x:renew');
    const list = (await store.getStatusList(listId))!;
    const old = await signStatusList(list, issuer, { now: new Date(Date.now() - 13 * 3_600_000) });
    await store.putSignedStatusList(listId, list.version, old);
    expect((await store.getStatusList(listId))!.signedJwt).toBe(old);
    const renewed = await currentStatusListJwt(store, listId, issuerFor);
    expect(renewed).not.toBe(old);
    expect(Date.parse(String(decodeJwt(renewed).payload.validUntil))).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    expect((await store.getStatusList(listId))!.signedJwt).toBe(renewed);
    // Fresh enough: served as stored.
    expect(await currentStatusListJwt(store, listId, issuerFor)).toBe(renewed);
    // A list signed before lists expired (no validUntil) is renewed too.
    const undated = (await signStatusList(list, issuer)).split('.');
    const payload = JSON.parse(Buffer.from(undated[1]!, 'base64url').toString());
    delete payload.validUntil;
    const legacy = `${undated[0]}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${undated[2]}`;
    await store.putSignedStatusList(listId, list.version, legacy);
    expect(await currentStatusListJwt(store, listId, issuerFor)).not.toBe(legacy);
  });
});
