import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import vector from '../vectors/bitstring-status-list.json' with { type: 'json' };
import {
  decodeBitstring,
  encodeBitstring,
  getBit,
  setBit,
  allocateStatusEntry,
  createStatusList,
  currentStatusListJwt,
  setStatus,
  createStatusChecker,
  DEFAULT_LIST_TTL_SECONDS,
  MAX_STATUS_SIZE,
  MIN_LIST_SIZE,
  readStatus,
} from '../../src/status/index.js';
import { issueCredential, verifyCredential } from '../../src/credentials/index.js';
import { createResolver } from '../../src/did/index.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { makeIssuer, serve, tempDir } from '../helpers.js';

describe('bitstring codec (Bitstring Status List v1.0 §4)', () => {
  it('decodes the spec example: 131,072 entries, none set', () => {
    const bits = decodeBitstring(vector.encodedList);
    expect(bits.length * 8).toBe(vector.entries);
    expect(bits.every((b) => b === 0)).toBe(true);
  });
  it('encodes a zeroed list to multibase base64url GZIP that round-trips, index 0 as the leftmost bit', () => {
    const bits = new Uint8Array(MIN_LIST_SIZE / 8);
    setBit(bits, 0, true);
    setBit(bits, 131071, true);
    expect(bits[0]).toBe(0x80);
    expect(bits[16383]).toBe(0x01);
    const enc = encodeBitstring(bits);
    expect(enc.startsWith('u')).toBe(true);
    const back = decodeBitstring(enc);
    expect(getBit(back, 0)).toBe(true);
    expect(getBit(back, 1)).toBe(false);
    expect(getBit(back, 131071)).toBe(true);
  });
  it('an entry of statusSize bits reads back the integer written, left-most bit first, leaving its neighbours alone (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_STATUS_SIZE }), fc.integer({ min: 1, max: 1000 }), fc.nat(), (size, index, raw) => {
        const value = raw % 2 ** size;
        const bits = new Uint8Array(Math.ceil(((index + 2) * size) / 8));
        for (let i = 0; i < size; i++) setBit(bits, index * size + i, ((value >> (size - 1 - i)) & 1) === 1);
        expect(readStatus(bits, index, size)).toBe(value);
        expect(readStatus(bits, index - 1, size)).toBe(0);
        expect(readStatus(bits, index + 1, size)).toBe(0);
        // The first bit written is the most significant one.
        expect(getBit(bits, index * size)).toBe(value >= 2 ** (size - 1));
      }),
      { numRuns: 300 },
    );
  });
  it('refuses a gzip bomb instead of inflating it', () => {
    const bomb = 'u' + gzipSync(Buffer.alloc(64 * 1024 * 1024)).toString('base64url');
    expect(() => decodeBitstring(bomb, { maxBytes: 2 * 1024 * 1024 })).toThrow(expect.objectContaining({ code: 'STATUS_INVALID' }));
  });
  it('refuses non-multibase and non-gzip input', () => {
    expect(() => decodeBitstring('H4sIAAAA')).toThrow(expect.objectContaining({ code: 'STATUS_INVALID' }));
    expect(() => decodeBitstring('uAAAA')).toThrow(expect.objectContaining({ code: 'STATUS_INVALID' }));
  });
});

describe('status lists end to end over loopback HTTP', () => {
  let store: Store;
  let issuer: Issuer;
  let srv: Awaited<ReturnType<typeof serve>>;
  let hits = 0;
  const resolver = createResolver();
  const issuers = new Map<string, Issuer>();
  const issuerFor = async (did: string) => issuers.get(did)!;
  beforeAll(async () => {
    store = await openSqliteStore(join(tempDir(), 's.db'));
    issuer = makeIssuer();
    issuers.set(issuer.did, issuer);
    srv = await serve(async (req, res) => {
      hits++;
      const id = (req.url ?? '').split('/').pop()!;
      try {
        const jwt = await currentStatusListJwt(store, id, issuerFor);
        res.writeHead(200, { 'content-type': 'application/vc+jwt' }).end(jwt);
      } catch {
        res.writeHead(404).end();
      }
    });
  });
  afterAll(async () => {
    await srv.close();
    await store.close();
  });

  async function issueWith(purpose: 'revocation' | 'suspension', who: Issuer = issuer) {
    issuers.set(who.did, who);
    const id = `urn:uuid:${Math.random()}`;
    const entry = await allocateStatusEntry(store, { issuerDid: who.did, purpose, baseUrl: srv.url, credentialId: id });
    const vc = await issueCredential({ issuer: who, id, subject: makeIssuer().did, type: 'TestCredential', claims: {}, credentialStatus: entry });
    return { vc, entry };
  }
  const checker = (o: Partial<Parameters<typeof createStatusChecker>[0]> = {}) => createStatusChecker({ resolver, allowLoopback: true, allowHttp: true, ...o });
  const codes = async (jwt: string, status = checker()) => (await verifyCredential(jwt, { resolver, status })).reasons.map((r) => r.code);

  it('an unrevoked credential passes; a revoked one is CREDENTIAL_REVOKED; suspension is reversible', async () => {
    const { vc, entry } = await issueWith('revocation');
    expect(await codes(vc.jwt)).toEqual([]);
    const listId = entry.statusListCredential.split('/').pop()!;
    await setStatus(store, listId, Number(entry.statusListIndex), true, issuerFor);
    expect(await codes(vc.jwt)).toEqual(['CREDENTIAL_REVOKED']);
    // Revocation is not reversible (§2.1): clearing the bit is refused, the signed list still says revoked.
    await expect(setStatus(store, listId, Number(entry.statusListIndex), false, issuerFor)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await codes(vc.jwt, checker())).toEqual(['CREDENTIAL_REVOKED']);

    const s = await issueWith('suspension');
    const sid = s.entry.statusListCredential.split('/').pop()!;
    await setStatus(store, sid, Number(s.entry.statusListIndex), true, issuerFor);
    expect(await codes(s.vc.jwt)).toEqual(['CREDENTIAL_SUSPENDED']);
    await setStatus(store, sid, Number(s.entry.statusListIndex), false, issuerFor);
    expect(await codes(s.vc.jwt)).toEqual([]);
  });

  it('a cached list is reused until its ttl (60 s by default), then refetched: a revocation shows within a minute', async () => {
    let clock = Date.now();
    const status = checker({ now: () => clock });
    const { vc, entry } = await issueWith('revocation');
    expect(await codes(vc.jwt, status)).toEqual([]);
    const before = hits;
    expect(await codes(vc.jwt, status)).toEqual([]);
    expect(hits).toBe(before);
    await setStatus(store, entry.statusListCredential.split('/').pop()!, Number(entry.statusListIndex), true, issuerFor);
    clock += 59_000;
    expect(await codes(vc.jwt, status)).toEqual([]);
    clock += 2_000;
    expect(await codes(vc.jwt, status)).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('the issuer publishes ttl 60 s unless told otherwise; a bad ttlSeconds is refused', async () => {
    const ttlOf = async (listId: string) => {
      const jwt = await currentStatusListJwt(store, listId, issuerFor);
      return (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { credentialSubject: { ttl: number } }).credentialSubject.ttl;
    };
    expect(DEFAULT_LIST_TTL_SECONDS).toBe(60);
    const dflt = await createStatusList(store, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: srv.url });
    expect(dflt.ttlSeconds).toBe(60);
    expect(await ttlOf(dflt.id)).toBe(60_000);
    const slow = await createStatusList(store, { issuerDid: issuer.did, purpose: 'suspension', baseUrl: srv.url, ttlSeconds: 3600 });
    expect(await ttlOf(slow.id)).toBe(3_600_000);
    for (const ttlSeconds of [-1, Number.NaN, Infinity]) {
      await expect(createStatusList(store, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: srv.url, ttlSeconds })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('unreachable lists, loopback without permission, and lists of another issuer fail closed', async () => {
    const { vc } = await issueWith('revocation');
    expect(await codes(vc.jwt, createStatusChecker({ resolver }))).toEqual(['STATUS_UNAVAILABLE']);
    const gone = await issueCredential({
      issuer,
      subject: issuer.did,
      type: 'TestCredential',
      claims: {},
      credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '1', statusListCredential: `${srv.url}/status/missing` },
    });
    expect(await codes(gone.jwt)).toEqual(['STATUS_UNAVAILABLE']);
    const dead = await issueCredential({
      issuer,
      subject: issuer.did,
      type: 'TestCredential',
      claims: {},
      credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '1', statusListCredential: 'http://127.0.0.1:1/status/x' },
    });
    expect(await codes(dead.jwt)).toEqual(['STATUS_UNAVAILABLE']);
    // a credential pointing at someone else's list
    const { entry: theirs } = await issueWith('revocation', makeIssuer());
    const mine = await issueCredential({ issuer, subject: issuer.did, type: 'TestCredential', claims: {}, credentialStatus: theirs });
    expect(await codes(mine.jwt)).toEqual(['STATUS_INVALID']);
  });

  it('an index beyond the list and a purpose mismatch are STATUS_INVALID', async () => {
    const { entry } = await issueWith('revocation');
    const far = await issueCredential({
      issuer,
      subject: issuer.did,
      type: 'TestCredential',
      claims: {},
      credentialStatus: { ...entry, statusListIndex: String(MIN_LIST_SIZE + 5) },
    });
    expect(await codes(far.jwt)).toEqual(['STATUS_INVALID']);
    const wrong = await issueCredential({ issuer, subject: issuer.did, type: 'TestCredential', claims: {}, credentialStatus: { ...entry, statusPurpose: 'suspension' } });
    expect(await codes(wrong.jwt)).toEqual(['STATUS_INVALID']);
  });

  it('allocates random, never repeated indices', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++)
      seen.add(Number((await allocateStatusEntry(store, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: srv.url, credentialId: `a${i}` })).statusListIndex));
    expect(seen.size).toBe(200);
    expect(Math.max(...seen)).toBeGreaterThan(1000);
  });
});
