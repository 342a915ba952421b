import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { verifyAuditLog } from '../../src/audit/index.js';
import { documentResolver } from '../../src/did/document-resolver.js';
import { CharterError } from '../../src/errors.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyPair } from '../../src/keys/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { CharterResolver, DIDDocument } from '../../src/did/types.js';
import { tempDir } from '../helpers.js';

/**
 * verifyAuditLog judges a record again at the time it was signed only when
 * the refusal is the DID document's own clock (`expires`). A caller's
 * resolver may refuse a key by a rule of its own (a key it denies, believed
 * compromised, though the document still lists it): that refusal is the
 * caller's word and stands, whatever the document says, now or then.
 */
const V = 'did:web:audited.example';
const k1 = generateKeyPair('Ed25519');
const vm = (id: string, kp: KeyPair, extra: object = {}) => ({ id: `${V}#${id}`, type: 'JsonWebKey2020', controller: V, publicKeyJwk: kp.publicJwk, ...extra });
const doc = (...m: ReturnType<typeof vm>[]): DIDDocument => ({ id: V, verificationMethod: m, assertionMethod: m.map((x) => x.id) }) as unknown as DIDDocument;
const issuer = (kp: KeyPair): Issuer => ({ did: V, kid: `${V}#k1`, keyType: kp.type, publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) });

let current = doc(vm('k1', k1));
const plain = documentResolver(async () => structuredClone(current), { cacheTtlMs: 0 });
/** The caller's policy on top of the documents: kid k1 is not to be trusted. */
const denying: CharterResolver = {
  resolve: (did) => plain.resolve(did),
  resolveKey: async (did, kid, rel) => {
    const key = await plain.resolveKey(did, kid, rel);
    if (key.id === `${V}#k1`) throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', 'this key is denied here');
    return key;
  },
  clear: (did) => plain.clear(did),
};
let store: Store;

beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-log-policy-'), 'api.db'));
  const v = createVerifier({ aud: 'did:web:api.example', store, resolver: plain, http: false, receipts: { signer: issuer(k1) } });
  for (let i = 0; i < 2; i++) await decide(v, 'not a presentation', { kind: 'presentation' }, { kind: 'none' });
  await v.receipts!.flush();
}, 30_000);
afterAll(async () => {
  await store?.close();
});

describe("a key the caller's resolver denies", () => {
  it('the log verifies with the documents alone', async () => {
    expect((await verifyAuditLog(store, { resolver: plain, issuers: [V] })).ok).toBe(true);
  });

  it('denied, listed without expires or with one still to come: every entry it signed is a break', async () => {
    for (const d of [doc(vm('k1', k1)), doc(vm('k1', k1, { expires: new Date(Date.now() + 86_400_000).toISOString() }))]) {
      current = d;
      const v = await verifyAuditLog(store, { resolver: denying, issuers: [V] });
      expect([v.ok, v.broken?.seq, v.broken?.message]).toEqual([false, 1, expect.stringContaining('this key is denied here')]);
    }
  });

  it('not denied, its expires passed since it signed: the entries still stand (the rule the re-check is for)', async () => {
    current = doc(vm('k1', k1, { expires: new Date(Date.now() + 1000).toISOString() }));
    await new Promise((r) => setTimeout(r, 1100));
    expect((await verifyAuditLog(store, { resolver: plain, issuers: [V] })).ok).toBe(true);
  });
});
