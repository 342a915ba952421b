import { describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyType } from '../../src/keys/types.js';
import { serializeInnerList, serializeItem } from 'structured-headers';
import { createSignature } from '../../src/httpsig/sign.js';
import { parseComponentId } from '../../src/httpsig/components.js';
import { fieldGetter } from '../../src/httpsig/fields.js';
import { jwkThumbprint, signatureHeaders, signatureNonce, signRequest, verifyRequestSignature, type NonceStore } from '../../src/httpsig/index.js';

const URL_ = 'https://shop.example/orders/7?currency=EUR&step=pay';
const T0 = new Date('2026-03-01T12:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function agent(type: KeyType = 'Ed25519') {
  const kp = generateKeyPair(type);
  return { ...kp, signer: createSigner(kp.privateJwk), keyId: jwkThumbprint(kp.publicJwk) };
}

/** The narrow replay cache the verifier needs, in memory. */
function memoryNonces(): NonceStore & { seen: Map<string, Date> } {
  const seen = new Map<string, Date>();
  return {
    seen,
    async consumeNonce(scope, value, expiresAt) {
      const k = `${scope}\n${value}`;
      if (seen.has(k)) return false;
      seen.set(k, expiresAt);
      return true;
    },
  };
}

type Req = { method: string; url: string; headers: Record<string, string> };
async function signed(
  a = agent(),
  extra: Parameters<typeof signRequest>[1] extends infer O ? Partial<O> : never = {},
  req: Req = { method: 'POST', url: URL_, headers: { 'content-type': 'application/json' } },
) {
  return signRequest(req, { signer: a.signer, publicJwk: a.publicJwk, now: T0, ...extra });
}
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

describe('verifyRequestSignature: round trip with Charter signers', () => {
  it.each<KeyType>(['Ed25519', 'P-256'])('%s: a signed request verifies, reporting who signed and under which parameters', async (type) => {
    const a = agent(type);
    const r = await signed(a, { signatureAgent: 'https://agent.example', nonce: 'abc' });
    expect(r.headers['signature-agent']).toBe('sig1="https://agent.example"');
    expect(r.headers['signature-input']).toMatch(
      /^sig1=\("@method" "@authority" "@path" "@query" "signature-agent";key="sig1"\);created=\d+;keyid="[\w-]{43}";alg="[a-z0-9-]+";expires=\d+;nonce="abc";tag="web-bot-auth"$/,
    );
    const d = await verifyRequestSignature(r, { keys: { keys: [a.publicJwk] }, now: at(5), requiredTag: 'web-bot-auth' });
    expect(d.reasons).toEqual([]);
    expect(d).toMatchObject({
      ok: true,
      keyId: a.keyId,
      thumbprint: a.keyId,
      label: 'sig1',
      tag: 'web-bot-auth',
      nonce: 'abc',
      alg: type === 'Ed25519' ? 'ed25519' : 'ecdsa-p256-sha256',
      key: a.publicJwk,
    });
    expect(d.created).toEqual(T0);
    expect(d.expires).toEqual(at(60));
  });

  it("a web Request is signed and verified as such, and the caller's request is not changed", async () => {
    const a = agent();
    const original = new Request(URL_, { method: 'PUT', headers: { 'content-digest': 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:' } });
    const r = await signRequest(original, { signer: a.signer, publicJwk: a.publicJwk, now: T0 });
    expect(original.headers.has('signature')).toBe(false);
    expect(r.headers.get('signature-input')).toContain('"content-digest"');
    const d = await verifyRequestSignature(r, { keys: { keys: [a.publicJwk] }, now: T0 });
    expect(d.ok).toBe(true);
  });

  it('signatureHeaders returns only the fields to add; a getter works as the header source', async () => {
    const a = agent();
    const h = await signatureHeaders({ method: 'GET', url: URL_, headers: () => undefined }, { signer: a.signer, keyId: 'my-key', now: T0, tag: 'agent-browser-auth' });
    expect(Object.keys(h).sort()).toEqual(['signature', 'signature-input']);
    const d = await verifyRequestSignature(
      { method: 'GET', url: URL_, headers: (n: string) => (h as unknown as Record<string, string>)[n] },
      { keys: { 'my-key': a.publicJwk }, now: T0, requiredTag: 'agent-browser-auth' },
    );
    expect(d).toMatchObject({ ok: true, keyId: 'my-key', tag: 'agent-browser-auth' });
  });
});

describe('verifyRequestSignature: refusals, each with its code', () => {
  const a = agent();
  const keys = { keys: [a.publicJwk] };

  it('no signature: SIGNATURE_MISSING', async () => {
    const d = await verifyRequestSignature({ method: 'GET', url: URL_, headers: {} }, { keys });
    expect(codes(d)).toEqual(['SIGNATURE_MISSING']);
  });

  it('a replayed nonce: SIGNATURE_REPLAYED, kept no longer than the signature could be accepted', async () => {
    const store = memoryNonces();
    const r = await signed(a);
    expect((await verifyRequestSignature(r, { keys, store, now: at(1) })).ok).toBe(true);
    expect(codes(await verifyRequestSignature(r, { keys, store, now: at(2) }))).toEqual(['SIGNATURE_REPLAYED']);
    expect([...store.seen.values()][0]).toEqual(at(60 + 300)); // expires + the cap on any verifier's skew
  });

  it('a nonce outlives every verifier sharing the store: a short-window guard does not let it lapse for a longer-window one', async () => {
    // A store that forgets an entry at its expiresAt, as a TTL store does.
    let clock = T0.getTime();
    const seen = new Map<string, number>();
    const store: NonceStore = {
      async consumeNonce(scope, value, expiresAt) {
        const k = `${scope}\n${value}`;
        if ((seen.get(k) ?? -Infinity) > clock) return false;
        seen.set(k, expiresAt.getTime());
        return true;
      },
    };
    const r = await signed(a, { expiresInSeconds: 3600, nonce: 'once' });
    const check = (s: number, o: { maxAgeSeconds?: number; skewSeconds?: number }) => {
      clock = at(s).getTime();
      return verifyRequestSignature(r, { keys, store, requireNonce: true, now: at(s), ...o });
    };
    expect((await check(10, { maxAgeSeconds: 60, skewSeconds: 0 })).ok).toBe(true);
    for (const [s, o] of [
      [10, { maxAgeSeconds: 3600 }],
      [400, { maxAgeSeconds: 3600 }],
      [3000, { maxAgeSeconds: 3600, skewSeconds: 300 }],
      [3600 + 299, { maxAgeSeconds: 86400, skewSeconds: 300 }],
    ] as const) {
      expect(codes(await check(s, o))).toEqual(['SIGNATURE_REPLAYED']);
    }
    // Past expires + the largest skew any verifier may allow, no verifier accepts it at all.
    expect(codes(await check(3600 + 300, { maxAgeSeconds: 86400, skewSeconds: 300 }))).toEqual(['SIGNATURE_EXPIRED']);
  });

  it("signatureNonce: the lifetime ignores the caller's options (expires, or created + 86400 s, plus 300 s)", async () => {
    const d = { ok: true, reasons: [], nonce: 'n', thumbprint: 't', created: T0 };
    for (const o of [{}, { maxAgeSeconds: 1, skewSeconds: 0 }, { maxAgeSeconds: 86400, skewSeconds: 300 }]) {
      expect(signatureNonce({ ...d, expires: at(30) }, o)?.expiresAt).toEqual(at(30 + 300));
      expect(signatureNonce(d, o)?.expiresAt).toEqual(at(86400 + 300));
      // A signer's far expires does not keep the nonce past what any verifier accepts.
      expect(signatureNonce({ ...d, expires: at(10 * 86400) }, o)?.expiresAt).toEqual(at(86400 + 300));
    }
  });

  it('the nonce is used only once the signature verified: a forged request does not burn it', async () => {
    const store = memoryNonces();
    const r = await signed(a);
    const forged = { ...r, method: 'DELETE' };
    expect(codes(await verifyRequestSignature(forged, { keys, store, now: at(1) }))).toEqual(['SIGNATURE_INVALID']);
    expect((await verifyRequestSignature(r, { keys, store, now: at(1) })).ok).toBe(true);
  });

  it('a replay cache that fails: STORE_UNAVAILABLE (fail closed)', async () => {
    const store: NonceStore = { consumeNonce: () => Promise.reject(Object.assign(new Error('down'))) };
    expect(codes(await verifyRequestSignature(await signed(a), { keys, store, now: at(1) }))).toEqual(['STORE_UNAVAILABLE']);
  });

  it('requireNonce refuses a signature without one', async () => {
    const d = await verifyRequestSignature(await signed(a, { nonce: false }), { keys, store: memoryNonces(), requireNonce: true, now: at(1) });
    expect(codes(d)).toEqual(['SIGNATURE_INVALID']);
  });

  it('expiry: refused once expires + skew has passed; the skew is 60 s by default', async () => {
    const r = await signed(a, { expiresInSeconds: 30 });
    expect((await verifyRequestSignature(r, { keys, now: at(30 + 59) })).ok).toBe(true);
    expect(codes(await verifyRequestSignature(r, { keys, now: at(30 + 60) }))).toEqual(['SIGNATURE_EXPIRED']);
    expect(codes(await verifyRequestSignature(r, { keys, now: at(31), skewSeconds: 0 }))).toEqual(['SIGNATURE_EXPIRED']);
  });

  it('an expires beyond the range of a date (structured fields allow 15 digits) is SIGNATURE_INVALID, never a thrown Invalid Date, with or without a store', async () => {
    const created = Math.floor(T0.getTime() / 1000);
    const raw = async (expires: number, createdAt = created) => {
      const msg = { kind: 'request' as const, method: 'POST', url: new URL(URL_), field: fieldGetter({ 'content-type': 'application/json' }) };
      const params: Array<[string, number | string]> = [
        ['created', createdAt],
        ['keyid', a.keyId],
        ['alg', 'ed25519'],
        ['expires', expires],
        ['nonce', `n-${expires}-${createdAt}`],
        ['tag', 'web-bot-auth'],
      ];
      const { innerList, signature } = await createSignature(msg, ['@method', '@authority', '@path', '@query'].map(parseComponentId), params, a.signer);
      return {
        method: 'POST',
        url: URL_,
        headers: { 'content-type': 'application/json', 'signature-input': `sig1=${serializeInnerList(innerList)}`, signature: `sig1=${serializeItem([signature, new Map()])}` },
      };
    };
    for (const expires of [1e13, 999_999_999_999_999]) {
      expect(codes(await verifyRequestSignature(await raw(expires), { keys, now: at(1) }))).toEqual(['SIGNATURE_INVALID']);
      expect(codes(await verifyRequestSignature(await raw(expires), { keys, store: memoryNonces(), now: at(1) }))).toEqual(['SIGNATURE_INVALID']);
    }
    // The largest representable time is still a time.
    expect((await verifyRequestSignature(await raw(8e12), { keys, store: memoryNonces(), now: at(1) })).ok).toBe(true);
  });

  it('age: a created older than maxAgeSeconds is refused even before expires', async () => {
    const r = await signed(a, { expiresInSeconds: 3600 });
    expect(codes(await verifyRequestSignature(r, { keys, now: at(300 + 61) }))).toEqual(['SIGNATURE_EXPIRED']);
    expect((await verifyRequestSignature(r, { keys, now: at(600), maxAgeSeconds: 900 })).ok).toBe(true);
  });

  it('a future created is refused beyond the skew (ISSUED_IN_FUTURE)', async () => {
    const r = await signed(a);
    expect((await verifyRequestSignature(r, { keys, now: at(-59) })).ok).toBe(true);
    expect(codes(await verifyRequestSignature(r, { keys, now: at(-61) }))).toEqual(['ISSUED_IN_FUTURE']);
  });

  it('the wrong tag: SIGNATURE_TAG_MISMATCH', async () => {
    expect(codes(await verifyRequestSignature(await signed(a), { keys, now: T0, requiredTag: 'agent-payer-auth' }))).toEqual(['SIGNATURE_TAG_MISMATCH']);
    expect(codes(await verifyRequestSignature(await signed(a, { tag: null }), { keys, now: T0, requiredTag: 'web-bot-auth' }))).toEqual(['SIGNATURE_TAG_MISMATCH']);
  });

  it.each([
    ['method', (r: Req) => ({ ...r, method: 'GET' })],
    ['authority', (r: Req) => ({ ...r, url: r.url.replace('shop.example', 'shop.example.net') })],
    ['port', (r: Req) => ({ ...r, url: r.url.replace('shop.example', 'shop.example:8443') })],
    ['scheme-less change of path', (r: Req) => ({ ...r, url: r.url.replace('/orders/7', '/orders/8') })],
    ['query', (r: Req) => ({ ...r, url: r.url.replace('EUR', 'USD') })],
    ['query order', (r: Req) => ({ ...r, url: r.url.replace('currency=EUR&step=pay', 'step=pay&currency=EUR') })],
    ['query removed', (r: Req) => ({ ...r, url: r.url.replace(/\?.*$/, '') })],
  ])('a changed %s: SIGNATURE_INVALID', async (_what, change) => {
    const r = (await signed(a)) as Req;
    expect((await verifyRequestSignature(r, { keys, now: T0 })).ok).toBe(true);
    expect(codes(await verifyRequestSignature(change(r), { keys, now: T0 }))).toEqual(['SIGNATURE_INVALID']);
  });

  it('coverage: @authority (or @target-uri) must be covered, and so must a present Signature-Agent member', async () => {
    expect(codes(await verifyRequestSignature(await signed(a, { components: ['@method', '@path'] }), { keys, now: T0 }))).toEqual(['SIGNATURE_INVALID']);
    expect((await verifyRequestSignature(await signed(a, { components: ['@target-uri'] }), { keys, now: T0 })).ok).toBe(true);
    const r = (await signed(a)) as Req;
    const uncovered = { ...r, headers: { ...r.headers, 'signature-agent': 'sig1="https://agent.example"' } };
    expect(codes(await verifyRequestSignature(uncovered, { keys, now: T0 }))).toEqual(['SIGNATURE_INVALID']);
  });

  it('labels: a Signature label missing from Signature-Input, and a label given twice, are refused', async () => {
    const r = (await signed(a)) as Req;
    const stray = { ...r, headers: { ...r.headers, signature: `${r.headers.signature}, sig2=:AAAA:` } };
    expect(codes(await verifyRequestSignature(stray, { keys, now: T0 }))).toEqual(['SIGNATURE_INVALID']);
    const twice = { ...r, headers: { ...r.headers, 'signature-input': [r.headers['signature-input'], r.headers['signature-input']] as unknown as string } };
    expect(codes(await verifyRequestSignature(twice, { keys, now: T0 }))).toEqual(['SIGNATURE_INVALID']);
  });

  it.each([
    ['Signature-Input not a Dictionary', { 'signature-input': 'sig1=("@authority";created=1' }],
    ['Signature not a Byte Sequence', { signature: 'sig1="abc"' }],
    ['Signature-Input member not an Inner List', { 'signature-input': 'sig1="@authority"' }],
    ['a covered component that is not a string', { 'signature-input': 'sig1=(@authority);created=1' }],
    ['Signature-Agent malformed', { 'signature-agent': 'sig1="https://agent.example' }],
  ])('a malformed structured field (%s): SIGNATURE_INVALID', async (_what, change) => {
    const r = (await signed(a, { signatureAgent: 'https://agent.example' })) as Req;
    const d = await verifyRequestSignature({ ...r, headers: { ...r.headers, ...change } }, { keys, now: T0 });
    expect(codes(d)).toEqual(['SIGNATURE_INVALID']);
  });

  it('an unknown signature parameter is refused, not ignored (it is signed and may carry a rule)', async () => {
    const r = (await signed(a)) as Req;
    const d = await verifyRequestSignature({ ...r, headers: { ...r.headers, 'signature-input': `${r.headers['signature-input']};audience="x"` } }, { keys, now: T0 });
    expect(codes(d)).toEqual(['SIGNATURE_INVALID']);
  });

  it('algorithms: an unknown or unsupported alg is UNSUPPORTED_ALG; one contradicting the key is ALG_KEY_MISMATCH', async () => {
    const r = (await signed(a)) as Req;
    const withAlg = (alg: string) => ({ ...r, headers: { ...r.headers, 'signature-input': r.headers['signature-input']!.replace('alg="ed25519"', `alg="${alg}"`) } });
    expect(codes(await verifyRequestSignature(withAlg('hmac-sha256'), { keys, now: T0 }))).toEqual(['UNSUPPORTED_ALG']);
    expect(codes(await verifyRequestSignature(withAlg('none'), { keys, now: T0 }))).toEqual(['UNSUPPORTED_ALG']);
    expect(codes(await verifyRequestSignature(withAlg('ecdsa-p256-sha256'), { keys, now: T0 }))).toEqual(['ALG_KEY_MISMATCH']);
  });

  it('a keyid this verifier does not hold: SIGNATURE_KEY_UNKNOWN', async () => {
    expect(codes(await verifyRequestSignature(await signed(agent()), { keys, now: T0 }))).toEqual(['SIGNATURE_KEY_UNKNOWN']);
  });

  it('several signatures: the first that verifies wins; refusals name their label', async () => {
    const other = agent();
    const first = (await signed(other)) as Req;
    const both = (await signRequest(first, { signer: a.signer, publicJwk: a.publicJwk, label: 'sig2', now: T0 })) as Req;
    const d = await verifyRequestSignature(both, { keys, now: T0 });
    expect(d).toMatchObject({ ok: true, label: 'sig2' });
    const none = await verifyRequestSignature(both, { keys: { keys: [agent().publicJwk] }, now: T0 });
    expect(none.reasons.map((r) => [r.code, r.ref])).toEqual([
      ['SIGNATURE_KEY_UNKNOWN', 'sig1'],
      ['SIGNATURE_KEY_UNKNOWN', 'sig2'],
    ]);
    await expect(signRequest(both, { signer: a.signer, publicJwk: a.publicJwk, label: 'sig2', now: T0 })).rejects.toThrow(TypeError);
  });

  it("a thumbprint always names its own key: a kid or record name equal to another key's thumbprint is a TypeError, in keys and in directories", async () => {
    const victim = agent();
    const other = agent();
    const r = await signed(victim);
    const squatter = { ...other.publicJwk, kid: victim.keyId };
    const setups = [
      { keys: { keys: [squatter, victim.publicJwk] } },
      { keys: { keys: [victim.publicJwk, squatter] } },
      { keys: { [victim.keyId]: other.publicJwk, v: victim.publicJwk } },
      { keys: { v: victim.publicJwk, [victim.keyId]: other.publicJwk } },
      { keys: { anything: squatter, v: victim.publicJwk } },
      { directories: { 'https://agent.example': { keys: [squatter, victim.publicJwk] } } },
    ];
    for (const o of setups) await expect(verifyRequestSignature(r, { ...o, now: at(1) })).rejects.toThrow(/thumbprint of another key/);
    // A key named by its own thumbprint (the Web Bot Auth directory convention), and a kid shared with nobody, are fine.
    const own = {
      keys: [
        { ...victim.publicJwk, kid: victim.keyId },
        { ...other.publicJwk, kid: 'other' },
      ],
    };
    expect(await verifyRequestSignature(r, { keys: own, now: at(1) })).toMatchObject({ ok: true, thumbprint: victim.keyId });
    expect((await verifyRequestSignature(r, { keys: { [victim.keyId]: victim.publicJwk, o: other.publicJwk }, now: at(1) })).ok).toBe(true);
    // The other key cannot sign in the victim's name.
    const forged = await signed(other, { keyId: victim.keyId });
    expect(codes(await verifyRequestSignature(forged, { keys: own, now: at(1) }))).toEqual(['SIGNATURE_INVALID']);
  });

  it('a non-canonical Signature-Input is refused: a Decimal for created / expires, a parameter repeated (RFC 9421 §2.3, RFC 9651)', async () => {
    const r = await signed(a, { nonce: 'n1' });
    const si = r.headers['signature-input'] as string;
    const verify = (input: string) => verifyRequestSignature({ ...r, headers: { ...r.headers, 'signature-input': input } }, { keys, now: at(5) });
    expect((await verify(si)).ok).toBe(true);
    const created = /created=(\d+)/.exec(si)![1]!;
    const bad = [
      si.replace(/created=(\d+)/, 'created=$1.0'),
      si.replace(/expires=(\d+)/, 'expires=$1.000'),
      si.replace(/created=(\d+)/, 'created=$1.0').replace(/expires=(\d+)/, 'expires=$1.0'),
      si.replace(/;created=/, ';created=0;created='),
      si.replace(/;created=/, `;created=${created};created=`),
      si.replace(/;tag="web-bot-auth"$/, ';tag="evil";tag="web-bot-auth"'),
      si.replace(/;tag="web-bot-auth"$/, ';tag="web-bot-auth";tag="web-bot-auth"'),
      si.replace(/;nonce="n1"/, ';nonce="n0";nonce="n1"'),
      si.replace(/;keyid=/, ';keyid="x";keyid='),
      si.replace(/;alg="ed25519"/, ';alg="ed25519";alg="ed25519"'),
      si.replace(/;created=/, '; created=0;created='),
      si.replace('"@path"', '"@path";sf;sf'),
    ];
    for (const input of bad) {
      expect(input).not.toBe(si);
      expect([input, codes(await verify(input))]).toEqual([input, ['SIGNATURE_INVALID']]);
    }
    // Also across field lines, and on any label of several.
    const lines = { ...r.headers, 'signature-input': ['other=("@authority");created=1;created=2;keyid="k"', si], signature: [`other=:AAAA:`, r.headers.signature as string] };
    expect(codes(await verifyRequestSignature({ ...r, headers: lines } as never, { keys, now: at(5) }))).toEqual(['SIGNATURE_INVALID']);
  });

  it('canonical inputs still verify: parameters that look repeated inside an sf-string, the same key on different items', async () => {
    for (const nonce of ['a;tag="x";tag="y"', 'b;created=1.5', 'c\\";nonce=d']) {
      const r = await signed(a, { nonce, signatureAgent: 'https://agent.example' });
      const d = await verifyRequestSignature(r, { keys, now: at(5) });
      expect([nonce, d.ok, d.nonce]).toEqual([nonce, true, nonce]);
    }
  });

  it('misuse is a TypeError, not a decision', async () => {
    const r = await signed(a);
    await expect(verifyRequestSignature(r, {})).rejects.toThrow(TypeError);
    await expect(verifyRequestSignature(r, { keys, skewSeconds: 301 })).rejects.toThrow(TypeError);
    await expect(verifyRequestSignature(r, { keys, requireNonce: true })).rejects.toThrow(TypeError);
    await expect(verifyRequestSignature(r, { keys: { keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB' }] } })).rejects.toThrow(TypeError);
    await expect(signRequest(r, { signer: a.signer })).rejects.toThrow(TypeError); // no keyId nor publicJwk
    await expect(signRequest(r, { signer: a.signer, publicJwk: a.publicJwk, signatureAgent: 'https://agent.example/path' })).rejects.toThrow(TypeError);
  });
});
