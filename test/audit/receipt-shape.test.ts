import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { signCheckpoint, verifyEvidence, verifyReceipt } from '../../src/audit/index.js';
import { RECEIPT_TYP, signPayload } from '../../src/audit/jws.js';
import { canonicalJson, sha256Digest } from '../../src/encoding/json.js';
import { makeIssuer } from '../helpers.js';

/**
 * A receipt validly signed by its verifier is still input: whoever holds the
 * key (or a bundle made up around a did:key of its own) can sign any members.
 * Each member a re-check or a bundle reads must have the type it is read as;
 * any other is RECEIPT_INVALID, never a TypeError from deep inside.
 */
const v = makeIssuer();
const resolver = createResolver();
const base = {
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
const signed = async (claims: Record<string, unknown>) => {
  const payload = canonicalJson(claims);
  return { jws: await signPayload(RECEIPT_TYP, payload, v), hash: sha256Digest(payload) };
};
const bundleOf = async (claims: Record<string, unknown>, credentials: string[] = []) => {
  const r = await signed(claims);
  const cp = await signCheckpoint(v, 'urn:uuid:c', 1, r.hash);
  return {
    type: 'CharterEvidenceBundle',
    version: 1,
    exportedAt: base.time,
    receipt: r.jws,
    settlements: [],
    credentials,
    dids: {},
    statusLists: {},
    log: { entries: [r.jws], checkpoint: cp.jws },
  };
};

const malformed: Record<string, Record<string, unknown>> = {
  'evidence.did null': { evidence: { did: null, status: {} } },
  'evidence.status null': { evidence: { did: {}, status: null } },
  'evidence a string': { evidence: 'x' },
  'evidence.did with a number': { evidence: { did: { 'did:key:z': 1 }, status: {} } },
  'a null credential': { credentials: [null] },
  'a credential without h': { credentials: [{ id: 'urn:x' }] },
  'a credential hash as a number': { credentials: [{ h: 1 }] },
  'a credential type not an array': { credentials: [{ h: 'sha256-x', type: 'Grant' }] },
  'a chain link null': { chain: [null] },
  'a chain link without iss': { chain: [{ id: 'urn:x' }] },
  'a reason code that is no string': { reasons: [{ code: 'X' }] },
  'status as a string': { status: '401' },
  'policy without kind': { policy: {} },
  'vp as an object': { vp: {} },
  'principal as a number': { principal: 7 },
  'sub as an array': { sub: ['did:key:z'] },
  'spend without reservation': { spend: { state: 'reserved' } },
  'spend in another state': { spend: { reservation: 'r', state: 'stolen' } },
  'spend amount as a number': { spend: { reservation: 'r', state: 'reserved', amount: 5 } },
};

describe('receipt shape', () => {
  it('a well-formed receipt verifies, and its bundle', async () => {
    expect((await verifyReceipt((await signed(base)).jws, { resolver, issuers: [v.did] })).ok).toBe(true);
    expect((await verifyEvidence(await bundleOf(base))).ok).toBe(true);
  });

  for (const [name, over] of Object.entries(malformed)) {
    it(`${name}: RECEIPT_INVALID from verifyReceipt, and a bundle that fails without throwing`, async () => {
      const claims = { ...base, ...over };
      const r = await verifyReceipt((await signed(claims)).jws, { resolver, issuers: [v.did] });
      expect(r.ok).toBe(false);
      expect(r.reasons.map((x) => x.code)).toEqual(['RECEIPT_INVALID']);
      const b = await verifyEvidence(await bundleOf(claims, Array.isArray(over.credentials) ? ['abc'] : []));
      expect(b.ok).toBe(false);
    });
  }

  it('a settlement names its receipt and a spend of the right form', async () => {
    const settlement = {
      iss: v.did,
      jti: 'urn:uuid:s',
      iat: base.iat,
      time: base.time,
      kind: 'settlement',
      receipt: base.jti,
      log: { chain: 'urn:uuid:c', seq: 2, prev: 'sha256-x' },
    };
    expect((await verifyReceipt((await signed({ ...settlement, spend: { reservation: 'r', state: 'committed' } })).jws, { resolver, issuers: [v.did] })).ok).toBe(true);
    for (const spend of [{}, { reservation: 'r' }, { reservation: 1, state: 'committed' }, null])
      expect((await verifyReceipt((await signed({ ...settlement, spend })).jws, { resolver, issuers: [v.did] })).reasons.map((x) => x.code)).toEqual(['RECEIPT_INVALID']);
  });
});
