import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { signCheckpoint, verifyReceipt } from '../../src/audit/index.js';
import { CHECKPOINT_TYP, checkAuditJws, RECEIPT_TYP, signPayload } from '../../src/audit/jws.js';
import { canonicalJson } from '../../src/encoding/json.js';
import { makeIssuer } from '../helpers.js';

/**
 * checkAuditJws (src/audit/jws.ts): a signed audit record is a strict
 * compact JWS, three non-empty parts, each in canonical base64url, so one
 * record has one spelling (the log chains records by hash, and a re-spelt
 * record would be a second string for the same signature). Every re-spelling
 * below keeps the signed bytes or the decoded bytes the same, or only adds
 * or removes separators; each is refused as MALFORMED_JWT, without a decoded
 * record or a hash, never thrown, never read.
 */
const v = makeIssuer();
const resolver = createResolver();
const claims = {
  iss: v.did,
  jti: 'urn:uuid:00000000-0000-7000-8000-000000000001',
  iat: 1_700_000_000,
  time: '2023-11-14T22:13:20.000Z',
  kind: 'decision',
  verifier: 'did:web:api.example',
  decision: 'deny',
  status: 401,
  reasons: ['INVALID_PRESENTATION'],
  request: { none: true },
  policy: { kind: 'presentation' },
  credentials: [],
  chain: [],
  log: { chain: 'urn:uuid:c', seq: 1, prev: null },
};

const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The same bytes under another last character (non-zero pad bits, RFC 4648 §3.5), or undefined when the part has no pad bits. */
function padBitTwin(part: string): string | undefined {
  const bytes = Buffer.from(part, 'base64url');
  for (const ch of B64U) {
    const twin = part.slice(0, -1) + ch;
    if (twin !== part && Buffer.from(twin, 'base64url').equals(bytes)) return twin;
  }
  return undefined;
}

/** Every way of re-spelling one part of `jws` that this test refuses. */
function respellings(jws: string): Record<string, string> {
  const [h, p, s] = jws.split('.') as [string, string, string];
  const parts = { header: h, payload: p, signature: s };
  const out: Record<string, string> = {
    'an extra "." at the end': `${jws}.`,
    'a fourth part': `${jws}.${s}`,
    'a "." at the start': `.${jws}`,
    'two dots between header and payload': `${h}..${p}.${s}`,
    'an empty header': `.${p}.${s}`,
    'an empty payload': `${h}..${s}`,
    'an empty signature': `${h}.${p}.`,
    'only two parts': `${h}.${p}`,
    'one part': h,
    'the empty string': '',
    'a trailing newline': `${jws}\n`,
    'a leading space': ` ${jws}`,
  };
  for (const [name, part] of Object.entries(parts)) {
    const put = (x: string) => jws.replace(part, x);
    const twin = padBitTwin(part);
    if (twin) out[`the ${name} with non-zero pad bits`] = put(twin);
    out[`the ${name} with "=" padding`] = put(`${part}${'='.repeat((4 - (part.length % 4)) % 4 || 4)}`);
    out[`the ${name} with a line break inside`] = put(`${part.slice(0, 8)}\n${part.slice(8)}`);
    out[`the ${name} with a space inside`] = put(`${part.slice(0, 8)} ${part.slice(8)}`);
    // The standard alphabet (RFC 4648 §4): Node decodes "+" and "/" as "-" and "_" in base64url.
    if (/[-_]/.test(part)) out[`the ${name} in the standard base64 alphabet`] = put(part.replace(/-/g, '+').replace(/_/g, '/'));
  }
  return out;
}

async function signedReceipt(): Promise<string> {
  // A signature whose base64url uses "-" or "_" (most do), so the standard-alphabet case runs on it.
  for (let i = 0; i < 100; i++) {
    const jws = await signPayload(RECEIPT_TYP, canonicalJson({ ...claims, jti: `urn:uuid:00000000-0000-7000-8000-${String(i).padStart(12, '0')}` }), v);
    if (/[-_]/.test(jws.split('.')[2]!)) return jws;
  }
  throw new Error('no signature with "-" or "_" in 100 tries');
}

describe('audit JWS: the compact shape and canonical base64url of each part', () => {
  it('the record as signed verifies (so each refusal below is the spelling, not the record)', async () => {
    const jws = await signedReceipt();
    const r = await verifyReceipt(jws, { resolver, issuers: [v.did] });
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
    const c = await checkAuditJws(jws, RECEIPT_TYP, resolver, 'RECEIPT_INVALID');
    expect(c.reasons).toEqual([]);
    expect(c.hash).toMatch(/^sha256-/);
  });

  it('a receipt re-spelt in any part, or with a part added, emptied or taken away, is refused MALFORMED_JWT', async () => {
    const jws = await signedReceipt();
    const cases = respellings(jws);
    // The pad-bit twin exists for each part whose length is not a multiple of 4: at least the signature (64 bytes, 86 characters).
    expect(Object.keys(cases)).toContain('the signature with non-zero pad bits');
    expect(Object.keys(cases)).toContain('the signature in the standard base64 alphabet');
    for (const [name, bad] of Object.entries(cases)) {
      expect(bad, name).not.toBe(jws);
      const c = await checkAuditJws(bad, RECEIPT_TYP, resolver, 'RECEIPT_INVALID');
      expect(
        c.reasons.map((x) => x.code),
        name,
      ).toEqual(['MALFORMED_JWT']);
      // Nothing read from it: no claims, no hash to chain by.
      expect(c.decoded, name).toBeUndefined();
      expect(c.hash, name).toBeUndefined();
      const r = await verifyReceipt(bad, { resolver, issuers: [v.did] });
      expect(r.ok, name).toBe(false);
      expect(
        r.reasons.map((x) => x.code),
        name,
      ).toEqual(['MALFORMED_JWT']);
      expect(r.claims, name).toBeUndefined();
    }
  });

  it('a checkpoint re-spelt the same ways is refused the same way', async () => {
    const cp = await signCheckpoint(v, 'urn:uuid:c', 1, 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect((await checkAuditJws(cp.jws, CHECKPOINT_TYP, resolver, 'AUDIT_CHAIN_BROKEN')).reasons).toEqual([]);
    for (const [name, bad] of Object.entries(respellings(cp.jws))) {
      const c = await checkAuditJws(bad, CHECKPOINT_TYP, resolver, 'AUDIT_CHAIN_BROKEN');
      expect(
        c.reasons.map((x) => x.code),
        name,
      ).toEqual(['MALFORMED_JWT']);
      expect(c.decoded, name).toBeUndefined();
    }
  });

  it('not a string at all: refused as a reason, never thrown', async () => {
    for (const bad of [undefined, null, 42, {}, ['a', 'b', 'c']]) {
      const c = await checkAuditJws(bad as unknown as string, RECEIPT_TYP, resolver, 'RECEIPT_INVALID');
      expect(
        c.reasons.map((x) => x.code),
        String(bad),
      ).toEqual(['MALFORMED_JWT']);
    }
  });
});
