import { beforeAll, describe, expect, it } from 'vitest';
import { serializeInnerList, serializeItem, type BareItem } from 'structured-headers';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { PublicJwk, Signer } from '../../src/keys/types.js';
import { createSignature, requestContext } from '../../src/httpsig/sign.js';
import { parseComponentId, type MessageContext } from '../../src/httpsig/components.js';
import { signatureBase, signatureInputList } from '../../src/httpsig/base.js';
import { jwkThumbprint, verifyRequestSignature } from '../../src/httpsig/index.js';

/**
 * Two verifier edges mutation testing of src/httpsig left open.
 *
 * K13: RFC 9421 §2.5 builds the signature base one component per line, so a
 * component value holding a bare LF would write lines of its own: two
 * different messages could then share one base (and one signature). The
 * value is refused, whether the signer or the verifier builds the base.
 *
 * V17: `expires` equal to `created` (RFC 9421 §2.3). Only an expiry before the
 * creation contradicts itself (SIGNATURE_INVALID); an equal one is a window
 * closed at the instant of signing, judged like every other window: expired
 * once now less the skew reaches it (§3.2.1 leaves the processing of
 * `expires` to the application; Charter's bounds are exclusive, DESIGN.md
 * "Time"), so it passes only inside the clock skew.
 */
const NOW_S = Math.floor(Date.UTC(2026, 11, 5, 12, 0, 0) / 1000);
const NOW = new Date(NOW_S * 1000);
const URL_ = 'https://shop.example/checkout';

let pub: PublicJwk;
let signer: Signer;
let kid: string;
beforeAll(() => {
  const kp = generateKeyPair('Ed25519');
  pub = kp.publicJwk;
  signer = createSigner(kp.privateJwk);
  kid = jwkThumbprint(pub);
});

const params = (created: number, expires: number | undefined): Array<[string, BareItem]> =>
  [['created', created] as [string, BareItem], ['keyid', kid] as [string, BareItem]].concat(expires === undefined ? [] : [['expires', expires]]);

/** Signs `base` as it stands (what a signer that did not check its values would send) and returns the request headers. */
async function signRaw(ids: string[], p: Array<[string, BareItem]>, base: string): Promise<Record<string, string>> {
  const innerList = signatureInputList(ids.map(parseComponentId), p);
  const sig = new Uint8Array(await signer.sign(Buffer.from(base, 'utf8')));
  return { 'signature-input': `sig1=${serializeInnerList(innerList)}`, signature: `sig1=${serializeItem([sig, new Map()])}` };
}

function rawBase(lines: string[], ids: string[], p: Array<[string, BareItem]>): string {
  return [...lines, `"@signature-params": ${serializeInnerList(signatureInputList(ids.map(parseComponentId), p))}`].join('\n');
}

const codes = (d: { reasons: Array<{ code: string }> }) => d.reasons.map((r) => r.code);

describe('K13: a covered value holding a bare LF is refused (RFC 9421 §2.5 one line per component)', () => {
  it('two messages that would share one base if LF passed: neither base is built', () => {
    const ids = ['x-a', 'x-b'];
    const innerList = signatureInputList(ids.map(parseComponentId), params(NOW_S, NOW_S + 60));
    const components = ids.map(parseComponentId);
    const msg = (a: string, b: string): MessageContext => requestContext({ method: 'GET', url: URL_, headers: { 'x-a': a, 'x-b': b } });
    // The honest message (no LF) builds its base.
    expect(signatureBase({ components, innerList }, msg('1', '2'))).toMatch(/^"x-a": 1\n"x-b": 2\n"@signature-params"/);
    // "x-a: 1 LF "x-b": 2" + "x-b: 3" and "x-a: 1" + "x-b: 2 LF "x-b": 3" would both be `"x-a": 1 / "x-b": 2 / "x-b": 3`.
    expect(() => signatureBase({ components, innerList }, msg('1\n"x-b": 2', '3'))).toThrow(/line break/);
    expect(() => signatureBase({ components, innerList }, msg('1', '2\n"x-b": 3'))).toThrow(/line break/);
  });

  it('the signer refuses to sign such a value (TypeError), through a record, a list of field lines and a getter', async () => {
    const components = ['@method', 'x-a'].map(parseComponentId);
    const p = params(NOW_S, NOW_S + 60);
    const sources = [
      { 'x-a': 'v\n"@method": POST' },
      { 'x-a': ['ok', 'v\nw'] },
      (n: string) => (n === 'x-a' ? 'a\nb' : undefined),
      { 'x-a': '\nleading' },
      { 'x-a': 'trailing\n' },
    ];
    for (const headers of sources) {
      await expect(createSignature(requestContext({ method: 'GET', url: URL_, headers }), components, p, signer)).rejects.toThrow(TypeError);
    }
    // Obsolete line folding (CRLF or LF then whitespace) is folded to a space (RFC 9421 §2.1), not a line break.
    await expect(createSignature(requestContext({ method: 'GET', url: URL_, headers: { 'x-a': 'a\n b' } }), components, p, signer)).resolves.toBeDefined();
  });

  it('a request whose signature covers a base with the injected line is SIGNATURE_INVALID, nothing verified', async () => {
    const keys = { keys: [{ ...pub, kid }] };
    const ids = ['@authority', 'x-a', 'x-b'];
    const p = params(NOW_S, NOW_S + 60);
    // The signer signed `"@authority": shop.example / "x-a": 1 / "x-b": 2 / "x-b": 3` (a base built without the check).
    const lines = ['"@authority": shop.example', '"x-a": 1', '"x-b": 2', '"x-b": 3'];
    const sig = await signRaw(ids, p, rawBase(lines, ids, p));
    for (const [a, b] of [
      ['1\n"x-b": 2', '3'],
      ['1', '2\n"x-b": 3'],
    ] as const) {
      const d = await verifyRequestSignature({ method: 'GET', url: URL_, headers: { ...sig, 'x-a': a, 'x-b': b } }, { keys, now: NOW });
      expect(d.ok, JSON.stringify([a, b])).toBe(false);
      expect(codes(d)).toEqual(['SIGNATURE_INVALID']);
      expect(d.reasons[0]!.message).toMatch(/line break/);
    }
    // A derived component holding an LF (a method from a caller's record) is refused too.
    const mIds = ['@authority', '@method'];
    const mSig = await signRaw(mIds, p, rawBase(['"@authority": shop.example', '"@method": GET\n"x-a": 1'], mIds, p));
    const d = await verifyRequestSignature({ method: 'GET\n"x-a": 1', url: URL_, headers: mSig }, { keys, now: NOW });
    expect(codes(d)).toEqual(['SIGNATURE_INVALID']);
    // The neighbour without an LF, signed the same way, verifies (the raw signing above is sound).
    const okIds = ['@authority', 'x-a'];
    const okSig = await signRaw(okIds, p, rawBase(['"@authority": shop.example', '"x-a": 1'], okIds, p));
    expect(codes(await verifyRequestSignature({ method: 'GET', url: URL_, headers: { ...okSig, 'x-a': '1' } }, { keys, now: NOW }))).toEqual([]);
  });
});

describe('V17: expires equal to created is a window closed at signing, judged by the clock skew', () => {
  async function outcome(created: number, expires: number, o: { skewSeconds?: number; at?: number } = {}) {
    const ids = ['@method', '@authority'];
    const p = params(created, expires);
    const sig = await signRaw(ids, p, rawBase(['"@method": GET', '"@authority": shop.example'], ids, p));
    const d = await verifyRequestSignature(
      { method: 'GET', url: URL_, headers: sig },
      { keys: { keys: [{ ...pub, kid }] }, now: new Date((o.at ?? NOW_S) * 1000), skewSeconds: o.skewSeconds },
    );
    return codes(d);
  }

  it('with no skew it has expired at the instant it was made (SIGNATURE_EXPIRED, not malformed)', async () => {
    expect(await outcome(NOW_S, NOW_S, { skewSeconds: 0 })).toEqual(['SIGNATURE_EXPIRED']);
    // One second more is a one-second window, open at its creation.
    expect(await outcome(NOW_S, NOW_S + 1, { skewSeconds: 0 })).toEqual([]);
  });

  it('within the default 60 s skew it passes, as any window does; at the skew edge it has expired', async () => {
    expect(await outcome(NOW_S, NOW_S)).toEqual([]);
    expect(await outcome(NOW_S, NOW_S, { at: NOW_S + 59 })).toEqual([]);
    expect(await outcome(NOW_S, NOW_S, { at: NOW_S + 60 })).toEqual(['SIGNATURE_EXPIRED']);
    expect(await outcome(NOW_S - 59, NOW_S - 59)).toEqual([]);
  });

  it('an expiry one second before the creation contradicts itself: SIGNATURE_INVALID, whatever the clock', async () => {
    expect(await outcome(NOW_S, NOW_S - 1)).toEqual(['SIGNATURE_INVALID']);
    expect(await outcome(NOW_S, NOW_S - 1, { skewSeconds: 0 })).toEqual(['SIGNATURE_INVALID']);
  });
});
