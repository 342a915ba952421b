import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { decodeReceipt, exportEvidence, verifyEvidence, type EvidenceVerification } from '../../src/audit/index.js';
import type { DecisionReceipt } from '../../src/audit/receipt.js';
import { documentResolver } from '../../src/did/document-resolver.js';
import { canonicalJson, sha256Digest } from '../../src/encoding/json.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyPair } from '../../src/keys/types.js';
import { CharterError } from '../../src/errors.js';
import type { DIDDocument } from '../../src/did/types.js';
import { tempDir } from '../helpers.js';

/**
 * The verifier's own DID document in each receipt is the one of that
 * decision's time, not the one read when the process started: months into
 * a run, after its document marked the signing key revoked, a receipt must
 * not carry the old document that still vouches for it. While the document
 * cannot be had, the last one read is recorded, so the receipt stays
 * re-checkable.
 */
const V = 'did:web:long-running.example';
const k1 = generateKeyPair('Ed25519');
const k2 = generateKeyPair('Ed25519');
const vm = (id: string, kp: KeyPair, extra: object = {}) => ({ id: `${V}#${id}`, type: 'JsonWebKey2020', controller: V, publicKeyJwk: kp.publicJwk, ...extra });
const doc = (...m: ReturnType<typeof vm>[]): DIDDocument => ({ id: V, verificationMethod: m, assertionMethod: m.map((x) => x.id) }) as unknown as DIDDocument;
const D1 = doc(vm('k1', k1));
const D2 = doc(vm('k1', k1), vm('k2', k2));
const D3 = doc(vm('k1', k1, { revoked: '2026-01-01T00:00:00Z' }), vm('k2', k2));
let current: DIDDocument | undefined = D1;
let store: Store;
const ids: Record<'first' | 'added' | 'unreachable' | 'revoked', string> = {} as never;

beforeAll(async () => {
  const resolver = documentResolver(
    async (did) => {
      if (did !== V || current === undefined) throw new CharterError('DID_RESOLUTION_FAILED', 'unreachable');
      return structuredClone(current);
    },
    { cacheTtlMs: 0, failureTtlMs: 0 },
  );
  store = await openSqliteStore(join(tempDir('charter-own-doc-'), 'api.db'));
  const v = createVerifier({
    aud: 'did:web:api.example',
    store,
    resolver,
    http: false,
    receipts: { signer: { did: V, kid: `${V}#k1`, keyType: k1.type, publicJwk: k1.publicJwk, signer: createSigner(k1.privateJwk) } },
  });
  const refuse = async () => (await decide(v, 'not a presentation', { kind: 'presentation' }, { kind: 'none' })).receipt!;
  ids.first = await refuse();
  current = D2;
  ids.added = await refuse();
  current = undefined;
  ids.unreachable = await refuse();
  current = D3;
  ids.revoked = await refuse();
  current = D2;
  await v.receipts!.checkpoint();
}, 30_000);
afterAll(async () => {
  await store?.close();
});

const recordedOwn = (jws: string) => (decodeReceipt(jws) as DecisionReceipt).evidence?.did[V];
const h = (d: DIDDocument) => sha256Digest(canonicalJson(d));
const failing = (v: EvidenceVerification) => v.parts.filter((p) => !p.ok).map((p) => p.part);

describe("the verifier's own document in its receipts", () => {
  it('each receipt records the document of its decision: changed, unreachable (the last one read), revoked', () => {
    expect([ids.first, ids.added, ids.unreachable, ids.revoked].map(recordedOwn)).toEqual([h(D1), h(D2), h(D2), h(D3)]);
  });

  it('their bundles: the receipts signed while the key stood verify; the one signed after its document revoked the key does not', async () => {
    // (What was sent was junk, kept by its hash alone: the presentation, and so the decision, cannot be re-run.)
    for (const k of ['first', 'added', 'unreachable'] as const) {
      expect([k, failing(await verifyEvidence(await exportEvidence(store, ids[k])))]).toEqual([k, ['presentation', 'decision']]);
    }
    const v = await verifyEvidence(await exportEvidence(store, ids.revoked));
    expect(failing(v)).toEqual(['receipt']);
    expect(v.parts.find((p) => p.part === 'receipt')!.reasons.map((r) => r.code)).toEqual(['VERIFICATION_METHOD_NOT_AUTHORIZED']);
  });
});
