import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import vector from '../vectors/bitstring-status-list.json' with { type: 'json' };
import { createStatusChecker, encodeBitstring, MIN_LIST_SIZE, readStatus, setBit, type StatusListChecker, type StatusListSnapshot } from '../../src/status/index.js';
import type { StatusListUseContext } from '../../src/status/checker.js';
import { issueCredential, signJwt, verifyCredential } from '../../src/credentials/index.js';
import type { CredentialStatusEntry, Issuer, StatusReport } from '../../src/credentials/types.js';
import { createResolver, didKeyRef } from '../../src/did/index.js';
import { makeIssuer, serve } from '../helpers.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';

/**
 * The verifier side of Bitstring Status List v1.0 against lists served by a
 * real HTTP server on 127.0.0.1: every list here is a signed vc+jwt whose
 * fields a test sets, so each rule of §2-3 is attacked on its own.
 */
const V2 = 'https://www.w3.org/ns/credentials/v2';
const resolver = createResolver();
const issuer = makeIssuer();
const holder = makeIssuer();
const iso = (ms: number) => new Date(ms).toISOString();

let srv: Awaited<ReturnType<typeof serve>>;
const lists = new Map<string, string>();
const hits = new Map<string, number>();
beforeAll(async () => {
  srv = await serve((req, res) => {
    const path = req.url ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const jwt = lists.get(path);
    if (jwt === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/vc+jwt' }).end(jwt);
  });
});
afterAll(() => srv.close());

let n = 0;
interface ListSpec {
  purpose?: unknown;
  /** Bits in the list (default the minimum). */
  bits?: Uint8Array;
  statusSize?: unknown;
  ttl?: unknown;
  by?: Issuer;
  subject?: Record<string, unknown>;
  credential?: Record<string, unknown>;
}
/** Signs a list credential and serves it; returns its URL. */
async function publish(spec: ListSpec = {}, path = `/lists/${++n}`): Promise<string> {
  const url = srv.url + path;
  const by = spec.by ?? issuer;
  const subject = {
    id: `${url}#list`,
    type: 'BitstringStatusList',
    statusPurpose: spec.purpose ?? 'revocation',
    encodedList: encodeBitstring(spec.bits ?? new Uint8Array(MIN_LIST_SIZE / 8)),
    ...(spec.statusSize !== undefined ? { statusSize: spec.statusSize } : {}),
    ...(spec.ttl !== undefined ? { ttl: spec.ttl } : {}),
    ...spec.subject,
  };
  const payload = {
    '@context': [V2],
    id: url,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: by.did,
    validFrom: iso(Date.now() - 3_600_000),
    credentialSubject: subject,
    ...spec.credential,
  };
  lists.set(path, await signJwt({ typ: 'vc+jwt', cty: 'vc' }, payload, by.signer, by.kid));
  return url;
}
/** Sets `value` in the statusSize bits of entry `index`, left-most bit first. */
function put(bits: Uint8Array, index: number, statusSize: number, value: number): Uint8Array {
  for (let i = 0; i < statusSize; i++) setBit(bits, index * statusSize + i, ((value >> (statusSize - 1 - i)) & 1) === 1);
  return bits;
}
const entry = (url: string, over: Record<string, unknown> = {}) =>
  ({ type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential: url, ...over }) as unknown as CredentialStatusEntry;
const credentialWith = async (status: CredentialStatusEntry | CredentialStatusEntry[], by: Issuer = issuer) =>
  (await issueCredential({ issuer: by, subject: holder.did, type: 'TestCredential', claims: {}, credentialStatus: status as CredentialStatusEntry })).jwt;
const checker = (o: Partial<Parameters<typeof createStatusChecker>[0]> = {}) => createStatusChecker({ resolver, allowLoopback: true, allowHttp: true, ...o });
async function check(jwt: string, status: StatusListChecker = checker()): Promise<{ codes: string[]; reports: StatusReport[] }> {
  const v = await verifyCredential(jwt, { resolver, status });
  return { codes: v.reasons.map((r) => r.code), reports: v.status ?? [] };
}
const codes = async (jwt: string, status?: StatusListChecker) => (await check(jwt, status)).codes;

describe('the spec examples (Bitstring Status List v1.0)', () => {
  it('Example 1 and 3: a revocation entry at index 94567 of the example list (all zero) passes, reported "unset"', async () => {
    const url = await publish({ subject: { encodedList: vector.encodedList } });
    const r = await check(await credentialWith(entry(url, { id: 'https://example.com/credentials/status/3#94567', statusListIndex: '94567' })));
    expect(r.codes).toEqual([]);
    expect(r.reports).toEqual([{ purpose: 'revocation', statusListCredential: url, index: 94567, statusSize: 1, status: 0, valid: true, message: 'unset' }]);
  });
  it('Example 2: statusSize 2 with statusMessage; the 2-bit value is read as an integer and its message reported, without refusing', async () => {
    const statusMessage = [
      { status: '0x0', message: 'pending_review' },
      { status: '0x1', message: 'accepted' },
      { status: '0x2', message: 'rejected' },
      { status: '0x3', message: 'undefined' },
    ];
    const index = 492847;
    const bits = put(new Uint8Array((524288 * 2) / 8), index, 2, 2);
    // Its neighbours are untouched, and the same bits read 1 bit per entry would say something else.
    expect(readStatus(bits, index, 2)).toBe(2);
    expect(readStatus(bits, index - 1, 2)).toBe(0);
    expect(readStatus(bits, index + 1, 2)).toBe(0);
    expect(readStatus(bits, index, 1)).toBe(0);
    // As in the Recommendation's example list, the list states no statusSize: the entry's width is read.
    const url = await publish({ purpose: 'message', bits });
    const jwt = await credentialWith(
      entry(url, {
        id: 'https://example.com/credentials/status/8#492847',
        statusPurpose: 'message',
        statusListIndex: String(index),
        statusSize: 2,
        statusMessage,
        statusReference: 'https://example.org/status-dictionary/',
      }),
    );
    const r = await check(jwt);
    expect(r.codes).toEqual([]);
    expect(r.reports).toEqual([{ purpose: 'message', statusListCredential: url, index, statusSize: 2, status: 2, valid: false, message: 'rejected' }]);
  });
  it('Example 3 with statusPurpose as an array (A.4: one list, several purposes): each purpose of the list is accepted', async () => {
    const bits = new Uint8Array(MIN_LIST_SIZE / 8);
    setBit(bits, 12345, true);
    const url = await publish({ purpose: ['revocation', 'suspension'], bits });
    expect(await codes(await credentialWith([entry(url, { statusListIndex: '94567' }), entry(url, { statusPurpose: 'suspension', statusListIndex: '12346' })]))).toEqual([]);
    expect(await codes(await credentialWith(entry(url, { statusPurpose: 'suspension', statusListIndex: '12345' })))).toEqual(['CREDENTIAL_SUSPENDED']);
    expect(await codes(await credentialWith(entry(url, { statusPurpose: 'refresh' })))).toEqual(['STATUS_INVALID']);
  });
});

describe('statusSize above 1 is read as statusSize bits, never one bit per entry', () => {
  const messages = (size: number) => Array.from({ length: 2 ** size }, (_, i) => ({ status: `0x${i.toString(16)}`, message: `m${i}` }));
  it('revocation with 2-bit entries: any non-zero value revokes, zero passes, the value and message are reported', async () => {
    const bits = new Uint8Array((MIN_LIST_SIZE * 2) / 8);
    put(bits, 10, 2, 1);
    put(bits, 11, 2, 2);
    put(bits, 12, 2, 3);
    const url = await publish({ statusSize: 2, bits });
    for (const [i, value] of [
      [10, 1],
      [11, 2],
      [12, 3],
    ] as const) {
      const r = await check(await credentialWith(entry(url, { statusListIndex: String(i), statusSize: 2, statusMessage: messages(2) })));
      expect(r.codes).toEqual(['CREDENTIAL_REVOKED']);
      expect(r.reports[0]).toMatchObject({ status: value, valid: false, message: `m${value}` });
    }
    // Bit 20 (entry 10's first bit) read as a 1-bit entry index 20 would be set; read as entry 9 of 2 bits it is 0.
    expect(await codes(await credentialWith(entry(url, { statusListIndex: '9', statusSize: 2, statusMessage: messages(2) })))).toEqual([]);
  });
  it('a 3-bit message list reports values up to 7', async () => {
    const bits = put(new Uint8Array((MIN_LIST_SIZE * 3) / 8), 5, 3, 7);
    const url = await publish({ purpose: 'message', statusSize: 3, bits });
    const r = await check(await credentialWith(entry(url, { statusPurpose: 'message', statusListIndex: '5', statusSize: 3, statusMessage: messages(3) })));
    expect(r.codes).toEqual([]);
    expect(r.reports[0]).toMatchObject({ status: 7, message: 'm7', statusSize: 3 });
  });
  it("a list stating its statusSize must agree with the entry; a list stating none is read at the entry's width (§2.1, §3.2)", async () => {
    const one = await publish();
    const two = await publish({ statusSize: 2, bits: new Uint8Array((MIN_LIST_SIZE * 2) / 8) });
    const unstated = await publish({ bits: put(new Uint8Array((MIN_LIST_SIZE * 2) / 8), 7, 2, 3) });
    const stated = await publish({ statusSize: 1, bits: new Uint8Array((MIN_LIST_SIZE * 2) / 8) });
    // 2-bit entries over a list of MIN_LIST_SIZE bits: too few entries for herd privacy (§3.2 step 9).
    expect(await codes(await credentialWith(entry(one, { statusSize: 2, statusMessage: messages(2) })))).toEqual(['STATUS_INVALID']);
    expect(await codes(await credentialWith(entry(unstated, { statusListIndex: '6', statusSize: 2, statusMessage: messages(2) })))).toEqual([]);
    expect(await codes(await credentialWith(entry(unstated, { statusListIndex: '7', statusSize: 2, statusMessage: messages(2) })))).toEqual(['CREDENTIAL_REVOKED']);
    expect(await codes(await credentialWith(entry(stated, { statusSize: 2, statusMessage: messages(2) })))).toEqual(['STATUS_INVALID']);
    expect(await codes(await credentialWith(entry(two)))).toEqual(['STATUS_INVALID']);
    expect(await codes(await credentialWith(entry(two, { statusSize: 1 })))).toEqual(['STATUS_INVALID']);
    expect(await codes(await credentialWith(entry(one, { statusSize: 1 })))).toEqual([]);
  });
  it('malformed statusSize or statusMessage is STATUS_INVALID', async () => {
    const url = await publish({ statusSize: 2, bits: new Uint8Array((MIN_LIST_SIZE * 2) / 8) });
    const bad: Record<string, unknown>[] = [
      { statusSize: 2 }, // statusMessage missing
      { statusSize: 2, statusMessage: messages(1) }, // wrong length
      { statusSize: 2, statusMessage: [...messages(1), ...messages(1)] }, // duplicate values
      { statusSize: 2, statusMessage: messages(2).map((m, i) => (i === 3 ? { ...m, status: '0x4' } : m)) }, // out of range
      { statusSize: 2, statusMessage: messages(2).map((m, i) => (i === 1 ? { status: 1, message: 'x' } : m)) },
      { statusSize: 2, statusMessage: messages(2).map((m, i) => (i === 1 ? { status: '0x1' } : m)) },
      { statusSize: 2, statusMessage: 'accepted' },
      { statusSize: 0 },
      { statusSize: -1 },
      { statusSize: 1.5 },
      { statusSize: '2', statusMessage: messages(2) },
      { statusSize: 17 },
      { statusSize: 1, statusMessage: messages(2) },
    ];
    for (const over of bad) expect([over, await codes(await credentialWith(entry(url, over)))]).toEqual([over, ['STATUS_INVALID']]);
  });
  it("a message list need not state its statusSize (1-bit messages read at the entry's width); a list stating a bad one is STATUS_INVALID", async () => {
    const url = await publish({ purpose: 'message' });
    const r = await check(await credentialWith(entry(url, { statusPurpose: 'message', statusMessage: messages(1) })));
    expect(r.codes).toEqual([]);
    expect(r.reports[0]).toMatchObject({ purpose: 'message', statusSize: 1, status: 0, message: 'm0' });
    for (const statusSize of [0, 2.5, '1', 99]) {
      const bad = await publish({ statusSize });
      expect([statusSize, await codes(await credentialWith(entry(bad)))]).toEqual([statusSize, ['STATUS_INVALID']]);
    }
  });
});

describe('lists shorter than the minimum, and entries beyond them', () => {
  it('a list of fewer than 131,072 entries is STATUS_INVALID (§3.2 step 9), counted in entries of statusSize bits', async () => {
    const short = await publish({ bits: new Uint8Array(MIN_LIST_SIZE / 8 - 1) });
    expect(await codes(await credentialWith(entry(short)))).toEqual(['STATUS_INVALID']);
    const tiny = await publish({ bits: new Uint8Array(16) });
    expect(await codes(await credentialWith(entry(tiny, { statusListIndex: '0' })))).toEqual(['STATUS_INVALID']);
    // 16 KiB holds 131,072 one-bit entries but only 65,536 two-bit ones.
    const halved = await publish({ statusSize: 2, bits: new Uint8Array(MIN_LIST_SIZE / 8) });
    expect(
      await codes(
        await credentialWith(
          entry(halved, {
            statusSize: 2,
            statusMessage: [
              { status: '0x0', message: 'a' },
              { status: '0x1', message: 'b' },
              { status: '0x2', message: 'c' },
              { status: '0x3', message: 'd' },
            ],
          }),
        ),
      ),
    ).toEqual(['STATUS_INVALID']);
    const exact = await publish({ bits: new Uint8Array(MIN_LIST_SIZE / 8) });
    expect(await codes(await credentialWith(entry(exact, { statusListIndex: String(MIN_LIST_SIZE - 1) })))).toEqual([]);
    expect(await codes(await credentialWith(entry(exact, { statusListIndex: String(MIN_LIST_SIZE) })))).toEqual(['STATUS_INVALID']);
  });
  it('malformed entries are STATUS_INVALID', async () => {
    const url = await publish();
    for (const over of [
      { statusListIndex: '007' },
      { statusListIndex: '-1' },
      { statusListIndex: 7 },
      { statusListIndex: '7.0' },
      { statusListIndex: '99999999999' },
      { statusListCredential: undefined },
      { statusListCredential: 42 },
      { statusPurpose: undefined },
      { statusPurpose: ['revocation'] },
      { id: url },
    ]) {
      expect([over, await codes(await credentialWith(entry(url, over)))]).toEqual([over, ['STATUS_INVALID']]);
    }
  });
  it('an encodedList that is no multibase gzip, or inflates past the cap, is STATUS_INVALID', async () => {
    for (const encodedList of ['H4sIAAAA', 'uAAAA', 42, null, 'u' + gzipSync(Buffer.alloc(8 * 1024 * 1024)).toString('base64url')]) {
      const url = await publish({ subject: { encodedList } });
      expect(await codes(await credentialWith(entry(url)))).toEqual(['STATUS_INVALID']);
    }
  });
});

describe('the list credential must itself be valid', () => {
  it('expired, not yet valid, zone-less dates, mistyped time claims: STATUS_INVALID', async () => {
    const now = Date.now();
    const bad: Record<string, unknown>[] = [
      { validUntil: iso(now - 3_600_000) },
      { validFrom: iso(now + 3_600_000) },
      { validUntil: '2999-01-01T00:00:00' },
      { validFrom: 'Jan 1 2020' },
      { exp: Math.floor(now / 1000) - 3600 },
      { nbf: String(Math.floor(now / 1000)) },
      { iat: { when: 'now' } },
      { iss: holder.did },
      { vc: {} },
    ];
    for (const credential of bad) {
      const url = await publish({ credential });
      expect([credential, await codes(await credentialWith(entry(url)))]).toEqual([credential, ['STATUS_INVALID']]);
    }
  });
  it('issued by someone else, another purpose, or not a BitstringStatusList: STATUS_INVALID', async () => {
    expect(await codes(await credentialWith(entry(await publish({ by: holder }))))).toEqual(['STATUS_INVALID']);
    expect(await codes(await credentialWith(entry(await publish({ purpose: 'suspension' }))))).toEqual(['STATUS_INVALID']);
    for (const purpose of [[], ['revocation', 7], 7, ''])
      expect([purpose, await codes(await credentialWith(entry(await publish({ purpose }))))]).toEqual([purpose, ['STATUS_INVALID']]);
    expect(await codes(await credentialWith(entry(await publish({ subject: { type: 'StatusList2021' } }))))).toEqual(['STATUS_INVALID']);
    expect(await codes(await credentialWith(entry(await publish({ credential: { type: ['VerifiableCredential'] } }))))).toEqual(['STATUS_INVALID']);
    expect(await codes(await credentialWith(entry(await publish({ credential: { id: 'https://elsewhere.example/list' } }))))).toEqual(['STATUS_INVALID']);
    const url = await publish();
    lists.set(new URL(url).pathname, lists.get(new URL(url).pathname)!.replace(/.{4}$/, 'AAAA'));
    expect(await codes(await credentialWith(entry(url)))).toEqual(['STATUS_INVALID']);
  });
  it('unreachable lists and lists that are not there: STATUS_UNAVAILABLE', async () => {
    expect(await codes(await credentialWith(entry(`${srv.url}/lists/none`)))).toEqual(['STATUS_UNAVAILABLE']);
    expect(await codes(await credentialWith(entry(await publish())), createStatusChecker({ resolver }))).toEqual(['STATUS_UNAVAILABLE']);
    // A revocation and a suspension entry on one unreachable list: the one fault reported once.
    const none = `${srv.url}/lists/none`;
    expect(await codes(await credentialWith([entry(none), entry(none, { statusPurpose: 'suspension', statusListIndex: '8' })]))).toEqual(['STATUS_UNAVAILABLE']);
  });
  it('a ttl of the wrong type is STATUS_INVALID', async () => {
    for (const ttl of ['60000', -1, null, {}]) expect([ttl, await codes(await credentialWith(entry(await publish({ ttl }))))]).toEqual([ttl, ['STATUS_INVALID']]);
  });
});

describe('purposes that carry no validity meaning are reported, not refused', () => {
  it('refresh, message and an unknown purpose with a set bit', async () => {
    const bits = new Uint8Array(MIN_LIST_SIZE / 8);
    setBit(bits, 7, true);
    for (const purpose of ['refresh', 'custom-purpose']) {
      const url = await publish({ purpose, bits });
      const r = await check(await credentialWith(entry(url, { statusPurpose: purpose })));
      expect(r.codes).toEqual([]);
      expect(r.reports).toEqual([{ purpose, statusListCredential: url, index: 7, statusSize: 1, status: 1, valid: false, message: 'set' }]);
    }
  });
  it('a spelling of revocation or suspension that is not exact is refused, not read as a purpose of its own', async () => {
    const bits = new Uint8Array(MIN_LIST_SIZE / 8);
    setBit(bits, 7, true);
    for (const purpose of [
      'Revocation',
      'REVOCATION',
      ' revocation',
      'revocation ',
      'revocation\u200b',
      '\ufeffsuspension',
      'Suspension',
      'ｒｅｖｏｃａｔｉｏｎ',
      'suspension\t',
    ]) {
      const url = await publish({ purpose, bits });
      expect(await codes(await credentialWith(entry(url, { statusPurpose: purpose })))).toEqual(['STATUS_INVALID']);
    }
  });
  it("a list signed under another DID of the credential issuer's own key is the issuer's; another key's is not", async () => {
    const kp = generateKeyPair('Ed25519');
    const asKey: Issuer = { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
    const asJwk: Issuer = { ...didKeyRef('jwk', kp.publicJwk), signer: createSigner(kp.privateJwk) };
    const bits = put(new Uint8Array(MIN_LIST_SIZE / 8), 7, 1, 1);
    for (const [listBy, credentialBy] of [
      [asJwk, asKey],
      [asKey, asJwk],
    ] as const) {
      const url = await publish({ bits, by: listBy });
      expect(await codes(await credentialWith(entry(url), credentialBy))).toEqual(['CREDENTIAL_REVOKED']);
      expect(await codes(await credentialWith(entry(url, { statusListIndex: '8' }), credentialBy))).toEqual([]);
    }
    const url = await publish({ bits: new Uint8Array(MIN_LIST_SIZE / 8), by: makeIssuer() });
    expect(await codes(await credentialWith(entry(url, { statusListIndex: '8' }), asKey))).toEqual(['STATUS_INVALID']);
  });
  it('a list credential without an id is STATUS_INVALID (§2.2: its id MUST be the statusListCredential URL)', async () => {
    // The issuer's empty list, signed without an id, served where a list with a revoked bit was.
    const bits = new Uint8Array(MIN_LIST_SIZE / 8);
    setBit(bits, 3, true);
    const url = await publish({ bits });
    const jwt = await credentialWith(entry(url, { statusListIndex: '3' }));
    expect(await codes(jwt)).toEqual(['CREDENTIAL_REVOKED']);
    await publish({ credential: { id: undefined } }, new URL(url).pathname);
    expect(await codes(jwt)).toEqual(['STATUS_INVALID']);
  });
  it('spellings of one list URL share one cache entry and one refresh', async () => {
    {
      const path = '/lists/spelt';
      const url = srv.url + path;
      const bits = new Uint8Array(MIN_LIST_SIZE / 8);
      const serveList = () => publish({ bits }, path);
      await serveList();
      const host = new URL(url).host;
      const spellings = [url, `${url}#list`, `HTTP://${host}${path}`, `${url}?`, url.replace('/lists/', '/lists/./'), url.replace('/lists/', '/x/../lists/')];
      const c = checker();
      const jwts = await Promise.all(spellings.map((u) => credentialWith(entry(u))));
      const before = hits.get(path) ?? 0;
      for (const jwt of jwts) expect(await codes(jwt, c)).toEqual([]);
      expect((hits.get(path) ?? 0) - before).toBe(1);
      setBit(bits, 7, true);
      await serveList();
      await c.refresh(spellings[2]!);
      for (const jwt of jwts) expect(await codes(jwt, c)).toEqual(['CREDENTIAL_REVOKED']);
      expect(c.snapshot(spellings[1]!)?.jwt).toBe(lists.get(path));
    }
  });
  it('too many entries in one credential are refused before any fetch', async () => {
    const url = await publish();
    const before = hits.get(new URL(url).pathname) ?? 0;
    expect(await codes(await credentialWith(Array.from({ length: 17 }, (_, i) => entry(url, { statusListIndex: String(i) }))))).toEqual(['STATUS_INVALID']);
    expect(hits.get(new URL(url).pathname) ?? 0).toBe(before);
  });
});

describe('freshness: maxStalenessSeconds caps any ttl; refresh and clear', () => {
  async function revocable(ttl?: number) {
    const path = `/fresh/${++n}`;
    const url = await publish({ ...(ttl !== undefined ? { ttl } : {}) }, path);
    const jwt = await credentialWith(entry(url));
    const revoke = async () => {
      const bits = new Uint8Array(MIN_LIST_SIZE / 8);
      setBit(bits, 7, true);
      await publish({ bits, ...(ttl !== undefined ? { ttl } : {}) }, path);
    };
    return { url, path, jwt, revoke };
  }
  it('a list claiming a ttl of a year is trusted for 300 s by default, then fetched again', async () => {
    let clock = Date.now();
    const status = checker({ now: () => clock });
    const { path, jwt, revoke } = await revocable(365 * 86_400_000);
    expect(await codes(jwt, status)).toEqual([]);
    await revoke();
    clock += 299_000;
    expect(await codes(jwt, status)).toEqual([]);
    expect(hits.get(path)).toBe(1);
    clock += 2_000;
    expect(await codes(jwt, status)).toEqual(['CREDENTIAL_REVOKED']);
    expect(hits.get(path)).toBe(2);
  });
  it("maxStalenessSeconds is the verifier's to set; a shorter ttl is honoured; no ttl means maxStaleness", async () => {
    let clock = Date.now();
    const strict = checker({ now: () => clock, maxStalenessSeconds: 30 });
    const a = await revocable(365 * 86_400_000);
    expect(await codes(a.jwt, strict)).toEqual([]);
    await a.revoke();
    clock += 31_000;
    expect(await codes(a.jwt, strict)).toEqual(['CREDENTIAL_REVOKED']);

    const short = checker({ now: () => clock });
    const b = await revocable(10_000);
    expect(await codes(b.jwt, short)).toEqual([]);
    await b.revoke();
    clock += 11_000;
    expect(await codes(b.jwt, short)).toEqual(['CREDENTIAL_REVOKED']);

    const none = checker({ now: () => clock });
    const c = await revocable();
    expect(await codes(c.jwt, none)).toEqual([]);
    await c.revoke();
    clock += 299_000;
    expect(await codes(c.jwt, none)).toEqual([]);
    clock += 2_000;
    expect(await codes(c.jwt, none)).toEqual(['CREDENTIAL_REVOKED']);
    expect(() => checker({ maxStalenessSeconds: -1 })).toThrow(TypeError);
  });
  it('a cached list is never used past its own validUntil', async () => {
    let clock = Date.now();
    const status = checker({ now: () => clock });
    const path = `/fresh/${++n}`;
    const url = await publish({ ttl: 3_600_000, credential: { validUntil: iso(clock + 100_000) } }, path);
    const jwt = await credentialWith(entry(url));
    expect(await codes(jwt, status)).toEqual([]);
    clock += 101_000;
    await status(JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()), { issuer: issuer.did, now: new Date(clock) }).catch(() => undefined);
    expect(hits.get(path)).toBe(2);
  });
  it('refresh(url) makes a revocation bite at once; clear() forgets every list; the checker stays callable', async () => {
    const status = checker();
    expect(typeof status).toBe('function');
    const { url, path, jwt, revoke } = await revocable(3_600_000);
    expect(await codes(jwt, status)).toEqual([]);
    await revoke();
    expect(await codes(jwt, status)).toEqual([]);
    await status.refresh(url);
    expect(await codes(jwt, status)).toEqual(['CREDENTIAL_REVOKED']);
    const count = hits.get(path)!;
    status.clear();
    expect(await codes(jwt, status)).toEqual(['CREDENTIAL_REVOKED']);
    expect(hits.get(path)).toBe(count + 1);
    await expect(status.refresh(`${srv.url}/lists/none`)).rejects.toMatchObject({ code: 'STATUS_UNAVAILABLE' });
    await expect(status.refresh(await publish({ by: holder, purpose: 7 }))).rejects.toMatchObject({ code: 'STATUS_INVALID' });
  });
  it('after refresh(url) no check answers from the copy it replaces: one made meanwhile waits for the new list, and a failed refresh leaves the list unavailable', async () => {
    const status = checker();
    const { url, path, jwt, revoke } = await revocable(3_600_000);
    expect(await codes(jwt, status)).toEqual([]);
    await revoke();
    // Asked while the refresh is on its way: the revoked list answers, not the cached one.
    const refreshing = status.refresh(url);
    expect(await codes(jwt, status)).toEqual(['CREDENTIAL_REVOKED']);
    await refreshing;

    const other = await revocable(3_600_000);
    expect(await codes(other.jwt, status)).toEqual([]);
    await other.revoke();
    // The status host now fails (or an attacker makes it unreachable): the refresh fails, and so does every check.
    lists.delete(other.path);
    await expect(status.refresh(other.url)).rejects.toMatchObject({ code: 'STATUS_UNAVAILABLE' });
    expect(await codes(other.jwt, status)).toEqual(['STATUS_UNAVAILABLE']);
    expect(await codes(other.jwt, status)).toEqual(['STATUS_UNAVAILABLE']);
    expect(hits.get(path)).toBeGreaterThan(1);
  });
  it("a list credential over 64 KiB (1 Mi entries, incompressible) verifies within the checker's maxBytes, and is refused beyond it", async () => {
    const bits = new Uint8Array(randomBytes(2 ** 20 / 8)); // random bits: gzip cannot shrink them
    const url = await publish({ bits });
    expect(lists.get(new URL(url).pathname)!.length).toBeGreaterThan(65_536);
    const index = 5000;
    const expected = readStatus(bits, index, 1) === 1 ? ['CREDENTIAL_REVOKED'] : [];
    const clear = readStatus(bits, index + 1, 1) === 1 ? ['CREDENTIAL_REVOKED'] : [];
    expect(await codes(await credentialWith(entry(url, { statusListIndex: String(index) })), checker())).toEqual(expected);
    expect(await codes(await credentialWith(entry(url, { statusListIndex: String(index + 1) })), checker())).toEqual(clear);
    expect(await codes(await credentialWith(entry(url, { statusListIndex: String(index) })), checker({ maxBytes: 60_000 }))).toEqual(['STATUS_UNAVAILABLE']);
  });
  it('concurrent checks of one list share one fetch', async () => {
    const status = checker();
    const { path, jwt } = await revocable();
    await Promise.all(Array.from({ length: 8 }, () => codes(jwt, status)));
    expect(hits.get(path)).toBe(1);
  });
});

describe('hostile status entries', () => {
  it('random entry fields never throw and only refuse with status codes (property)', async () => {
    const url = await publish();
    const status = checker();
    const field = <T>(good: T) => fc.oneof({ weight: 3, arbitrary: fc.constant(good) }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.jsonValue() });
    // statusListCredential stays on the local server: a random URL must not reach the network.
    const raw = fc.record({
      type: field('BitstringStatusListEntry'),
      statusPurpose: field('revocation'),
      statusListIndex: field('7'),
      statusSize: field(1),
      statusMessage: field([
        { status: '0x0', message: 'a' },
        { status: '0x1', message: 'b' },
      ]),
      id: field('urn:x'),
      statusListCredential: fc.constantFrom(url, `${url}x`, `${srv.url}/lists/none`),
    });
    const allowed = new Set(['STATUS_INVALID', 'STATUS_UNAVAILABLE', 'CREDENTIAL_REVOKED']);
    await fc.assert(
      fc.asyncProperty(fc.oneof(raw, fc.jsonValue()), async (e) => {
        const credential = { '@context': [V2], type: ['VerifiableCredential'], issuer: issuer.did, credentialSubject: {}, credentialStatus: JSON.parse(JSON.stringify(e ?? null)) };
        const reasons = await status(credential as never, { issuer: issuer.did, now: new Date() });
        for (const r of reasons) expect(allowed.has(r.code)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('evidence: what a check read, and checking from recorded lists', () => {
  it('snapshot(url) gives the signed list the last check used, as fetched; unknown URLs give nothing', async () => {
    const url = await publish();
    const c = checker();
    expect(c.snapshot(url)).toBeUndefined();
    expect(await codes(await credentialWith(entry(url)), c)).toEqual([]);
    expect(c.snapshot(url)).toMatchObject({ url, jwt: lists.get(new URL(url).pathname) });
    expect(c.snapshot(`${url}-other`)).toBeUndefined();
  });

  it('usedList: each check hands its context the very list it read, even when a refresh replaces the cached one before the check returns', async () => {
    // A slow first fetch (the decision's), a revocation, then a fast refresh (a revocation notice) that lands first.
    const url = await publish();
    const before = lists.get(new URL(url).pathname)!;
    const revokedBits = new Uint8Array(MIN_LIST_SIZE / 8);
    setBit(revokedBits, 7, true);
    let calls = 0;
    const c = checker({
      source: async () => {
        const mine = ++calls;
        const body = mine === 1 ? before : lists.get(new URL(url).pathname)!;
        await new Promise((r) => setTimeout(r, mine === 1 ? 300 : 5));
        return body;
      },
    });
    const jwt = await credentialWith(entry(url));
    const used: StatusListSnapshot[] = [];
    const decision = verifyCredential(jwt, { resolver, status: (cred, ctx) => c(cred, { ...ctx, usedList: (l: StatusListSnapshot) => used.push(l) } as StatusListUseContext) });
    await new Promise((r) => setTimeout(r, 50));
    await publish({ bits: revokedBits }, new URL(url).pathname);
    await c.refresh(url);
    const v = await decision;
    expect(v.reasons).toEqual([]);
    // The list the answer rests on is the one fetched before the revocation ...
    expect(used).toHaveLength(1);
    expect(used[0]).toMatchObject({ url, jwt: before });
    expect(used[0]!.fetchedAt).toBeTypeOf('number');
    // ... while what the cache holds by now (snapshot) is the revoked one: reading it back would be wrong evidence.
    expect(c.snapshot(url)?.jwt).toBe(lists.get(new URL(url).pathname));
    expect(c.snapshot(url)?.jwt).not.toBe(before);
    // The next check reads the revoked list, and says so.
    const again: StatusListSnapshot[] = [];
    const r = await verifyCredential(jwt, { resolver, status: (cred, ctx) => c(cred, { ...ctx, usedList: (l: StatusListSnapshot) => again.push(l) } as StatusListUseContext) });
    expect(r.reasons.map((x) => x.code)).toEqual(['CREDENTIAL_REVOKED']);
    expect(again.map((l) => l.jwt)).toEqual([lists.get(new URL(url).pathname)]);
  });

  it('usedList: one report per entry read, a list that verifies but is refused (another issuer) is still reported, one that cannot be had is not', async () => {
    const a = await publish();
    const b = await publish({ purpose: 'suspension' });
    const foreign = await publish({ by: makeIssuer() });
    const used: StatusListSnapshot[] = [];
    const status = (cred: Parameters<StatusListChecker>[0], ctx: Parameters<StatusListChecker>[1]) =>
      c(cred, { ...ctx, usedList: (l: StatusListSnapshot) => used.push(l) } as StatusListUseContext);
    const c = checker();
    const both = await credentialWith([entry(a), entry(b, { statusPurpose: 'suspension' })]);
    expect((await verifyCredential(both, { resolver, status })).reasons).toEqual([]);
    expect(used.map((l) => l.url).sort()).toEqual([a, b].sort());
    expect(used.map((l) => l.jwt).sort()).toEqual([lists.get(new URL(a).pathname), lists.get(new URL(b).pathname)].sort());
    used.length = 0;
    expect((await verifyCredential(await credentialWith(entry(foreign)), { resolver, status })).reasons.map((r) => r.code)).toEqual(['STATUS_INVALID']);
    expect(used.map((l) => l.jwt)).toEqual([lists.get(new URL(foreign).pathname)]);
    used.length = 0;
    expect((await verifyCredential(await credentialWith(entry(`${srv.url}/lists/none`)), { resolver, status })).reasons.map((r) => r.code)).toEqual(['STATUS_UNAVAILABLE']);
    expect(used).toEqual([]);
  });

  it('source: lists come from it, never the network, and are verified as if fetched', async () => {
    const bits = new Uint8Array(MIN_LIST_SIZE / 8);
    setBit(bits, 7, true);
    const url = await publish({ bits });
    const recorded = lists.get(new URL(url).pathname)!;
    const before = hits.get(new URL(url).pathname) ?? 0;
    const offline = checker({ source: async (u) => (u === url ? recorded : Promise.reject(new Error('not recorded'))) });
    expect(await codes(await credentialWith(entry(url)), offline)).toEqual(['CREDENTIAL_REVOKED']);
    expect(hits.get(new URL(url).pathname) ?? 0).toBe(before);
    // A recorded list signed by someone else is refused as it would be when fetched.
    const forged = checker({ source: async () => signJwt({ typ: 'vc+jwt' }, { iss: 'x' }, makeIssuer().signer, 'did:key:z#k') });
    expect(await codes(await credentialWith(entry(url)), forged)).toEqual(['STATUS_INVALID']);
  });
});
