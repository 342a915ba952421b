import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatusList, getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';
import vector from '../vectors/token-status-list.json' with { type: 'json' };
import { signJwt } from '../../src/credentials/index.js';
import { CharterError } from '../../src/errors.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { getBit, MIN_LIST_SIZE, setBit } from '../../src/status/index.js';
import {
  decodeTokenStatusList,
  encodeTokenStatusList,
  readTokenStatus,
  tokenListFromBitstring,
  tokenStatusCount,
  writeTokenStatus,
  type StatusBits,
} from '../../src/status/token-codec.js';
import { allocateTokenStatus, currentTokenStatusListJwt, setTokenStatus, signTokenStatusList, tokenStatusListUrl } from '../../src/status/token-issuer.js';
import { createTokenStatusChecker, type TokenStatusCheckerOptions, type TokenStatusContext } from '../../src/status/token-checker.js';
import { makeIssuer } from '../helpers.js';
import { statusWorld, type StatusWorld } from './token-world.js';

describe('Token Status List codec (draft-ietf-oauth-status-list §4)', () => {
  it('decodes the §4.1 one-bit example: 0xB9 0xA3, index 0 the least significant bit', () => {
    const bytes = decodeTokenStatusList(vector.bits1.lst);
    expect([...bytes]).toEqual(vector.bits1.bytes);
    expect(vector.bits1.statuses.map((_, i) => readTokenStatus(bytes, 1, i))).toEqual(vector.bits1.statuses);
  });

  it('decodes the §4.1 two-bit example', () => {
    const bytes = decodeTokenStatusList(vector.bits2.lst);
    expect([...bytes]).toEqual(vector.bits2.bytes);
    expect(vector.bits2.statuses.map((_, i) => readTokenStatus(bytes, 2, i))).toEqual(vector.bits2.statuses);
  });

  it('decodes the Appendix C one-bit list of 2^20 entries: exactly the listed indices are set', () => {
    const bytes = decodeTokenStatusList(vector.bits1Long.lst);
    expect(tokenStatusCount(bytes, 1)).toBe(vector.bits1Long.entries);
    const set: number[] = [];
    for (let i = 0; i < vector.bits1Long.entries; i++) if (readTokenStatus(bytes, 1, i) === 1) set.push(i);
    expect(set).toEqual(vector.bits1Long.set);
  });

  it('encodes what it decodes, at every bit size, and agrees with @sd-jwt/jwt-status-list both ways', () => {
    for (const bits of [1, 2, 4, 8] as StatusBits[]) {
      const n = 64;
      const values = Array.from({ length: n }, (_, i) => (i * 7 + 3) % (1 << bits));
      const bytes = new Uint8Array((n * bits) / 8);
      values.forEach((v, i) => writeTokenStatus(bytes, bits, i, v));
      const ours = encodeTokenStatusList(bytes);
      expect(values.map((_, i) => readTokenStatus(decodeTokenStatusList(ours), bits, i))).toEqual(values);
      // the peer's list, compressed by pako, read by Charter; Charter's read by the peer
      const peer = new StatusList(values, bits).compressStatusList();
      expect(values.map((_, i) => readTokenStatus(decodeTokenStatusList(peer), bits, i))).toEqual(values);
      expect(StatusList.decompressStatusList(ours, bits).statusList).toEqual(values);
    }
  });

  it('mirrors a Bitstring Status List bitstring (index 0 the most significant bit) into the token order', () => {
    const bitstring = new Uint8Array(MIN_LIST_SIZE / 8);
    for (const i of [0, 9, 131071]) setBit(bitstring, i, true);
    const token = tokenListFromBitstring(bitstring);
    for (let i = 0; i < MIN_LIST_SIZE; i += 997) expect(readTokenStatus(token, 1, i)).toBe(getBit(bitstring, i) ? 1 : 0);
    expect([0, 9, 131071].map((i) => readTokenStatus(token, 1, i))).toEqual([1, 1, 1]);
  });

  it('refuses a decompression bomb, GZIP, raw DEFLATE and non-base64url with STATUS_INVALID', () => {
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024)).toString('base64url');
    expect(() => decodeTokenStatusList(bomb, { maxBytes: 2 * 1024 * 1024 })).toThrow(expect.objectContaining({ code: 'STATUS_INVALID' }));
    expect(() => decodeTokenStatusList(gzipSync(Buffer.alloc(16)).toString('base64url'))).toThrow(expect.objectContaining({ code: 'STATUS_INVALID' }));
    expect(() => decodeTokenStatusList(deflateRawSync(Buffer.alloc(16)).toString('base64url'))).toThrow(expect.objectContaining({ code: 'STATUS_INVALID' }));
    expect(() => decodeTokenStatusList('eNrbuRgAAhcBXQ==')).toThrow(expect.objectContaining({ code: 'STATUS_INVALID' }));
  });
});

describe('Status List Tokens over loopback HTTP', () => {
  let w: StatusWorld;
  let issuer: Issuer;
  const resolver = createResolver();
  const checker = (o: Partial<TokenStatusCheckerOptions> = {}) => createTokenStatusChecker({ resolver, allowLoopback: true, allowHttp: true, ...o });
  const ctx = (who: Issuer | string = issuer): TokenStatusContext => ({ issuer: typeof who === 'string' ? who : who.did, now: new Date() });
  const codes = async (status: unknown, c = checker(), context: TokenStatusContext = ctx()) => (await c(status, context)).map((r) => r.code);
  let n = 0;
  const allocate = (who: Issuer = issuer) => allocateTokenStatus(w.store, { issuerDid: who.did, baseUrl: w.url, credentialId: `urn:test:${n++}` });
  /** A Status List Token made by hand, served at a path of its own. */
  async function handMade(o: { signer?: Issuer; typ?: string; sub?: string; bits?: unknown; lst?: string; exp?: number; iat?: number; nbf?: unknown; values?: number[] } = {}) {
    const path = `/statuslists/hand-${n++}`;
    const url = `${w.url}${path}`;
    const bits = (o.bits ?? 1) as StatusBits;
    const bytes = new Uint8Array(16);
    (o.values ?? []).forEach((v, i) => writeTokenStatus(bytes, bits, i, v));
    const iat = o.iat ?? Math.floor(Date.now() / 1000);
    const signer = o.signer ?? issuer;
    const jwt = await signJwt(
      { typ: o.typ ?? 'statuslist+jwt' },
      {
        iss: signer.did,
        sub: o.sub ?? url,
        iat,
        exp: o.exp ?? iat + 3600,
        ...(o.nbf !== undefined ? { nbf: o.nbf } : {}),
        ttl: 300,
        status_list: { bits: o.bits ?? 1, lst: o.lst ?? encodeTokenStatusList(bytes) },
      },
      signer.signer,
      signer.kid,
    );
    w.override(path, jwt);
    return url;
  }

  beforeAll(async () => {
    w = await statusWorld();
    issuer = w.issuer();
  });
  afterAll(() => w.close());

  it('signs a store list as the draft says: typ statuslist+jwt, sub its URL, iat, exp, ttl, bits 1, lst', async () => {
    const { status_list: ref } = await allocate();
    const listId = ref.uri.split('/').pop()!;
    const list = (await w.store.getStatusList(listId))!;
    expect(ref.uri).toBe(tokenStatusListUrl(list));
    expect(list.url).toBe(`${w.url}/status/${listId}`);
    const jwt = await currentTokenStatusListJwt(w.store, listId, w.issuerFor);
    const [h, p] = jwt
      .split('.')
      .slice(0, 2)
      .map((s) => JSON.parse(Buffer.from(s!, 'base64url').toString()) as Record<string, unknown>);
    expect(h).toMatchObject({ typ: 'statuslist+jwt', alg: 'EdDSA', kid: issuer.kid });
    expect(p).toMatchObject({ iss: issuer.did, sub: ref.uri, ttl: list.ttlSeconds, status_list: { bits: 1 } });
    expect(p!.exp).toBe((p!.iat as number) + 86_400);
    // the peer reads the same list
    expect(getListFromStatusListJWT(jwt).getStatus(ref.idx)).toBe(0);
    // A list published with ttl 0 ("fetch every time") says 1 s, the least §5.1 allows: left out, verifiers keep it 300 s.
    for (const ttlSeconds of [0, 0.2]) {
      const zero = JSON.parse(Buffer.from((await signTokenStatusList({ ...list, ttlSeconds }, issuer)).split('.')[1]!, 'base64url').toString());
      expect(zero.ttl).toBe(1);
    }
    await expect(signTokenStatusList({ ...list, purpose: 'suspension' }, issuer)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(signTokenStatusList(list, makeIssuer())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('VALID until revoked; a cached list holds until refresh(url), then CREDENTIAL_REVOKED', async () => {
    const c = checker();
    const ref = await allocate();
    expect(await codes(ref, c)).toEqual([]);
    await setTokenStatus(w.store, `urn:test:${n - 1}`, true, w.issuerFor);
    expect(await codes(ref, c)).toEqual([]);
    await c.refresh(ref.status_list.uri);
    expect(await codes(ref, c)).toEqual(['CREDENTIAL_REVOKED']);
    expect(await codes(ref, checker())).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('the cache lives at most maxStalenessSeconds (or the ttl when shorter), then the list is fetched again', async () => {
    let clock = Date.now();
    const c = checker({ now: () => clock, maxStalenessSeconds: 30 }); // shorter than the list's ttl (60 s)
    const ref = await allocate();
    const id = `urn:test:${n - 1}`;
    expect(await codes(ref, c)).toEqual([]);
    const before = w.hits();
    expect(await codes(ref, c)).toEqual([]);
    expect(w.hits()).toBe(before);
    await setTokenStatus(w.store, id, true, w.issuerFor);
    clock += 29_000;
    expect(await codes(ref, c)).toEqual([]);
    clock += 2_000;
    expect(await codes(ref, c)).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('one list, two publications: the Bitstring credential and the token say the same for an index', async () => {
    const ref = await allocate();
    const listId = ref.status_list.uri.split('/').pop()!;
    await setTokenStatus(w.store, `urn:test:${n - 1}`, true, w.issuerFor);
    const list = (await w.store.getStatusList(listId))!;
    expect(getBit(list.bits, ref.status_list.idx)).toBe(true);
    expect(await codes(ref)).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('setTokenStatus(false) never undoes a revocation: INVALID_ARGUMENT, both publications still say revoked', async () => {
    const ref = await allocate();
    const id = `urn:test:${n - 1}`;
    const listId = ref.status_list.uri.split('/').pop()!;
    // Not revoked: a no-op.
    await setTokenStatus(w.store, id, false, w.issuerFor);
    expect(await codes(ref)).toEqual([]);
    await setTokenStatus(w.store, id, true, w.issuerFor);
    const version = (await w.store.getStatusList(listId))!.version;
    await expect(setTokenStatus(w.store, id, false, w.issuerFor)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('revoked for good') });
    const list = (await w.store.getStatusList(listId))!;
    expect(list.version).toBe(version);
    expect(getBit(list.bits, ref.status_list.idx)).toBe(true);
    expect(await codes(ref)).toEqual(['CREDENTIAL_REVOKED']);
  });

  it("reads the draft's example lst through the whole path: statuses 1,0,0,1,... at indices 0..15", async () => {
    const url = await handMade({ lst: vector.bits1.lst });
    const c = checker();
    const got = await Promise.all(vector.bits1.statuses.map(async (_, idx) => (await codes({ status_list: { idx, uri: url } }, c))[0] ?? 'VALID'));
    expect(got).toEqual(vector.bits1.statuses.map((s) => (s === 1 ? 'CREDENTIAL_REVOKED' : 'VALID')));
  });

  it('two-bit lists: 2 is SUSPENDED, 3 (application-specific) is refused, 0 is valid', async () => {
    const url = await handMade({ bits: 2, values: [0, 2, 3, 1] });
    const c = checker();
    const at = (idx: number) => codes({ status_list: { idx, uri: url } }, c);
    expect(await at(0)).toEqual([]);
    expect(await at(1)).toEqual(['CREDENTIAL_SUSPENDED']);
    expect(await at(2)).toEqual(['STATUS_INVALID']);
    expect(await at(3)).toEqual(['CREDENTIAL_REVOKED']);
    expect(await at(64)).toEqual(['STATUS_INVALID']); // 16 bytes of 2 bits: 64 entries, 0..63
  });

  it('a list that is not what it claims fails closed: wrong sub, wrong typ, bits 3, lst not zlib, expired, from the future, not valid yet', async () => {
    const cases = [
      await handMade({ sub: `${w.url}/statuslists/another` }),
      await handMade({ typ: 'JWT' }),
      await handMade({ bits: 3 }),
      await handMade({ lst: gzipSync(Buffer.alloc(16)).toString('base64url') }),
      await handMade({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }),
      await handMade({ iat: Math.floor(Date.now() / 1000) + 3600 }),
      // Not valid yet (RFC 7519 §4.1.5): a list signed ahead of time; nbf that is no NumericDate.
      await handMade({ nbf: Math.floor(Date.now() / 1000) + 86_400 }),
      await handMade({ nbf: Math.floor(Date.now() / 1000) + 3600 }),
      await handMade({ nbf: String(Math.floor(Date.now() / 1000)) }),
      await handMade({ nbf: null }),
    ];
    for (const uri of cases) expect(await codes({ status_list: { idx: 0, uri } })).toEqual(['STATUS_INVALID']);
    // nbf already passed (or within the skew) is fine.
    const ok = await handMade({ nbf: Math.floor(Date.now() / 1000) + 30, values: [1] });
    expect(await codes({ status_list: { idx: 0, uri: ok } })).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('oversized lists are refused: the response (maxBytes) and the inflated list (maxListBytes)', async () => {
    const ref = await allocate();
    expect(await codes(ref, checker({ maxBytes: 200 }))).toEqual(['STATUS_UNAVAILABLE']);
    expect(await codes(ref, checker({ maxListBytes: 1024 }))).toEqual(['STATUS_INVALID']);
  });

  it('a list signed by someone other than the issuer is STATUS_INVALID unless the caller trusts that signer', async () => {
    const provider = w.issuer();
    const url = await handMade({ signer: provider });
    const ref = { status_list: { idx: 0, uri: url } };
    expect(await codes(ref)).toEqual(['STATUS_INVALID']);
    expect(await codes(ref, checker({ trustedListSigners: [provider.did] }))).toEqual([]);
    // and a credential of another issuer pointing at this issuer's list
    expect(await codes(await allocate(), checker(), ctx(makeIssuer()))).toEqual(['STATUS_INVALID']);
    // The trust lists are lists: a DID given as a bare string, or a non-list, is misuse.
    for (const bad of [provider.did, { has: () => true }, [provider.did, 1], ['']]) expect(() => checker({ trustedListSigners: bad as never })).toThrow(TypeError);
    for (const bad of [{ kty: 'OKP' }, 'key']) expect(() => checker({ trustedListKeys: bad as never })).toThrow(TypeError);
  });

  it('a DID issuer may name itself by iss alone (no kid): its single assertion key signs the list', async () => {
    const path = `/statuslists/nokid-${n++}`;
    const url = `${w.url}${path}`;
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${enc({ typ: 'statuslist+jwt', alg: 'EdDSA' })}.${enc({ iss: issuer.did, sub: url, iat: Math.floor(Date.now() / 1000), status_list: { bits: 1, lst: encodeTokenStatusList(new Uint8Array([2])) } })}`;
    const sig = Buffer.from(issuer.signer.sign(new TextEncoder().encode(input)) as Uint8Array).toString('base64url');
    w.override(path, `${input}.${sig}`);
    expect(await codes({ status_list: { idx: 0, uri: url } })).toEqual([]);
    expect(await codes({ status_list: { idx: 1, uri: url } })).toEqual(['CREDENTIAL_REVOKED']);
    expect(await codes({ status_list: { idx: 1, uri: url } }, checker(), ctx(makeIssuer()))).toEqual(['STATUS_INVALID']);
  });

  it('a relative kid (#fragment) names a key of the iss DID; typ may be written as the full media type', async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const fragment = issuer.kid.slice(issuer.kid.indexOf('#'));
    for (const header of [
      { typ: 'statuslist+jwt', alg: 'EdDSA', kid: fragment },
      { typ: 'application/statuslist+jwt', alg: 'EdDSA', kid: issuer.kid },
      { typ: 'Application/StatusList+JWT', alg: 'EdDSA' },
    ]) {
      const path = `/statuslists/rel-${n++}`;
      const url = `${w.url}${path}`;
      const input = `${enc(header)}.${enc({ iss: issuer.did, sub: url, iat: Math.floor(Date.now() / 1000), status_list: { bits: 1, lst: encodeTokenStatusList(new Uint8Array([2])) } })}`;
      w.override(path, `${input}.${Buffer.from(issuer.signer.sign(new TextEncoder().encode(input)) as Uint8Array).toString('base64url')}`);
      expect(await codes({ status_list: { idx: 0, uri: url } })).toEqual([]);
      expect(await codes({ status_list: { idx: 1, uri: url } })).toEqual(['CREDENTIAL_REVOKED']);
      // A relative kid is a key of the iss DID only: another issuer's credential is not vouched for.
      expect(await codes({ status_list: { idx: 1, uri: url } }, checker(), ctx(makeIssuer()))).toEqual(['STATUS_INVALID']);
    }
  });

  it('a list signed with a plain JWK counts for a JWK issuer whose keys the verifier holds, or a trusted key', async () => {
    const other = makeIssuer('P-256');
    const path = `/statuslists/jwk-${n++}`;
    const url = `${w.url}${path}`;
    const iat = Math.floor(Date.now() / 1000);
    const jwt = await signJwt({ typ: 'statuslist+jwt' }, { sub: url, iat, status_list: { bits: 1, lst: encodeTokenStatusList(new Uint8Array(4)) } }, other.signer, 'key-1');
    w.override(path, jwt);
    const ref = { status_list: { idx: 3, uri: url } };
    const jwkIssuer: TokenStatusContext = { issuer: 'https://issuer.example', now: new Date() };
    expect(await codes(ref, checker(), { ...jwkIssuer, issuerKeys: [other.publicJwk] })).toEqual([]);
    expect(await codes(ref, checker(), jwkIssuer)).toEqual(['STATUS_INVALID']);
    expect(await codes(ref, checker({ trustedListKeys: [other.publicJwk] }), jwkIssuer)).toEqual([]);
    expect(await codes(ref, checker(), { ...jwkIssuer, issuerKeys: [makeIssuer('P-256').publicJwk] })).toEqual(['STATUS_INVALID']);
  });

  it('unreachable, missing and loopback-without-permission lists are STATUS_UNAVAILABLE; bad entries and unknown mechanisms STATUS_INVALID', async () => {
    const ref = await allocate();
    expect(await codes(ref, createTokenStatusChecker({ resolver }))).toEqual(['STATUS_UNAVAILABLE']);
    expect(await codes({ status_list: { idx: 0, uri: `${w.url}/statuslists/missing` } })).toEqual(['STATUS_UNAVAILABLE']);
    expect(await codes({ status_list: { idx: 0, uri: 'http://127.0.0.1:1/statuslists/x' } })).toEqual(['STATUS_UNAVAILABLE']);
    expect(await codes({ status_list: { idx: MIN_LIST_SIZE, uri: ref.status_list.uri } })).toEqual(['STATUS_INVALID']);
    expect(await codes({ status_list: { idx: -1, uri: ref.status_list.uri } })).toEqual(['STATUS_INVALID']);
    expect(await codes({ status_list: { idx: '1', uri: ref.status_list.uri } })).toEqual(['STATUS_INVALID']);
    expect(await codes({ other_mechanism: {} })).toEqual(['STATUS_INVALID']);
  });

  it('source: lists read from elsewhere than the network (an evidence bundle) are checked exactly as fetched ones', async () => {
    const url = 'https://status.example/lists/1';
    const iat = Math.floor(Date.now() / 1000);
    const bytes = new Uint8Array(16);
    writeTokenStatus(bytes, 1, 3, 1);
    const sign = (claims: Record<string, unknown>, by: Issuer = issuer) =>
      signJwt(
        { typ: 'statuslist+jwt' },
        { iss: by.did, sub: url, iat, exp: iat + 3600, status_list: { bits: 1, lst: encodeTokenStatusList(bytes) }, ...claims },
        by.signer,
        by.kid,
      );
    const good = await sign({});
    const from = (jwt: string) => checker({ source: async (u) => (u === url ? jwt : Promise.reject(new CharterError('STATUS_UNAVAILABLE', 'no such list'))) });
    const ref = (idx: number, uri = url) => ({ status_list: { idx, uri } });
    expect(await codes(ref(0), from(good))).toEqual([]);
    expect(await codes(ref(3), from(good))).toEqual(['CREDENTIAL_REVOKED']);
    // Not in the source, not a list, forged, signed by someone else, for another URL, expired: never VALID.
    expect(await codes(ref(0, 'https://status.example/lists/2'), from(good))).toEqual(['STATUS_UNAVAILABLE']);
    expect(await codes(ref(0), from('not a jwt'))).toEqual(['STATUS_INVALID']);
    expect(await codes(ref(0), from(good.slice(0, -3) + (good.endsWith('AAA') ? 'BBB' : 'AAA')))).toEqual(['STATUS_INVALID']);
    expect(await codes(ref(0), from(await sign({}, makeIssuer())))).toEqual(['STATUS_INVALID']);
    expect(await codes(ref(0), from(await sign({ sub: 'https://status.example/lists/9' })))).toEqual(['STATUS_INVALID']);
    expect(await codes(ref(0), from(await sign({ iat: iat - 7200, exp: iat - 3600 })))).toEqual(['STATUS_INVALID']);
    expect(() => createTokenStatusChecker({ resolver, source: 'https://x' as never })).toThrow(TypeError);
  });

  it('an index is never handed out twice across the shared lists', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const { status_list: r } = await allocate();
      seen.add(`${r.uri}#${r.idx}`);
    }
    expect(seen.size).toBe(100);
  });
});
