import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { verifyAuditLog } from '../../src/audit/index.js';
import { documentResolver } from '../../src/did/document-resolver.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyPair } from '../../src/keys/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { DIDDocument } from '../../src/did/types.js';
import { tempDir } from '../helpers.js';

/**
 * The audit log across a verifier's key rotation, checked live: the
 * verifier retires its old key by marking it `expires` in its DID document
 * and signs on with a new one. The old chains are history, signed while the
 * key was in force: they still verify. A key marked `revoked`, or removed
 * from the document, verifies nothing; and an entry or checkpoint the old
 * key signed after it expired is a break.
 */
const V = 'did:web:audited.example';
const k1 = generateKeyPair('Ed25519');
const k2 = generateKeyPair('P-256');
const vm = (id: string, kp: KeyPair, extra: object = {}) => ({ id: `${V}#${id}`, type: 'JsonWebKey2020', controller: V, publicKeyJwk: kp.publicJwk, ...extra });
const doc = (...m: ReturnType<typeof vm>[]): DIDDocument => ({ id: V, verificationMethod: m, assertionMethod: m.map((x) => x.id) }) as unknown as DIDDocument;
const issuer = (id: string, kp: KeyPair): Issuer => ({ did: V, kid: `${V}#${id}`, keyType: kp.type, publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) });

let current = doc(vm('k1', k1));
const resolver = documentResolver(
  async (did) => {
    if (did !== V) throw new Error(`unexpected lookup of ${did}`);
    return structuredClone(current);
  },
  { cacheTtlMs: 0 },
);
let store: Store;
let retiredAt: Date;
let old: Verifier;
const refuse = (v: Verifier) => decide(v, 'not a presentation', { kind: 'presentation' }, { kind: 'none' });

beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-log-retired-'), 'api.db'));
  const mk = (signer: Issuer) => createVerifier({ aud: 'did:web:api.example', store, resolver, http: false, receipts: { signer } });
  old = mk(issuer('k1', k1));
  for (let i = 0; i < 3; i++) await refuse(old);
  await old.receipts!.checkpoint();
  await new Promise((r) => setTimeout(r, 5));
  // Rotation: k2 signs from now on; k1 stays listed, retired as of now.
  retiredAt = new Date();
  await new Promise((r) => setTimeout(r, 5));
  current = doc(vm('k2', k2), vm('k1', k1, { expires: retiredAt.toISOString() }));
  const next = mk(issuer('k2', k2));
  for (let i = 0; i < 2; i++) await refuse(next);
  await next.receipts!.checkpoint();
}, 30_000);
afterAll(async () => {
  await store?.close();
});

describe('the audit log across a key retired with expires', () => {
  it('both chains verify: the old one signed before its key expired, checkpoint included', async () => {
    const v = await verifyAuditLog(store, { resolver, issuers: [V] });
    expect([v.ok, v.broken]).toEqual([true, undefined]);
    expect(v.chains.map((c) => [c.entries, c.checkpoints]).sort()).toEqual([
      [2, 1],
      [3, 1],
    ]);
  });

  it('the old key marked revoked, or removed from the document: the old chain is broken', async () => {
    const retired = current;
    try {
      for (const [d, code] of [
        [doc(vm('k2', k2), vm('k1', k1, { revoked: retiredAt.toISOString() })), 'VERIFICATION_METHOD_NOT_AUTHORIZED'],
        [doc(vm('k2', k2)), 'VERIFICATION_METHOD_NOT_FOUND'],
      ] as const) {
        current = d;
        const v = await verifyAuditLog(store, { resolver, issuers: [V] });
        // The old chain's stored checkpoint (at its seq 3) is read before its entries.
        expect([v.ok, v.broken?.seq, v.broken?.code, v.broken?.message]).toEqual([false, 3, 'AUDIT_CHAIN_BROKEN', `a checkpoint does not verify (${code})`]);
      }
    } finally {
      current = retired;
    }
  });

  it('an entry the old key signed after it expired: a break at that very entry', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date(retiredAt.getTime() + 60_000));
      await refuse(old);
    } finally {
      vi.useRealTimers();
    }
    await old.receipts!.flush();
    const v = await verifyAuditLog(store, { resolver, issuers: [V] });
    expect([v.ok, v.broken?.seq]).toEqual([false, 4]);
    expect(v.broken!.message).toMatch(/expired/);
  });
});
