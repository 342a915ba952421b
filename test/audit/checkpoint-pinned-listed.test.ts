import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { exportEvidence, verifyEvidence, type EvidenceBundle, type EvidenceVerification } from '../../src/audit/index.js';
import { CHECKPOINT_TYP, signCanonical } from '../../src/audit/jws.js';
import { documentResolver } from '../../src/did/document-resolver.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyPair } from '../../src/keys/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { DIDDocument } from '../../src/did/types.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';

/**
 * A checkpoint key pinned by the caller stands in only for a key the
 * verifier's recorded document says nothing of. A key that document defines
 * is held to what it says, whatever the caller pins: revoked (verifies
 * nothing), defined but not for assertionMethod (not a signing key of the
 * verifier's), controlled by another DID, expired before the checkpoint.
 */
const V = 'did:web:listed.example';
const k1 = generateKeyPair('Ed25519'); // signs the decisions
const revoked = generateKeyPair('P-256');
const authOnly = generateKeyPair('P-256');
const foreign = generateKeyPair('Ed25519');
const expired = generateKeyPair('P-256');
const vm = (id: string, kp: KeyPair, extra: object = {}) => ({ id: `${V}#${id}`, type: 'JsonWebKey2020', controller: V, publicKeyJwk: kp.publicJwk, ...extra });
const recorded: DIDDocument = {
  id: V,
  verificationMethod: [
    vm('k1', k1),
    vm('revoked', revoked, { revoked: '2020-01-01T00:00:00Z' }),
    vm('auth', authOnly),
    vm('foreign', foreign, { controller: 'did:web:someone.else' }),
    vm('expired', expired, { expires: new Date(Date.now() - 60_000).toISOString() }),
  ],
  assertionMethod: [`${V}#k1`, `${V}#revoked`, `${V}#foreign`, `${V}#expired`],
  authentication: [`${V}#auth`],
} as unknown as DIDDocument;
const issuerOf = (kid: string, kp: KeyPair): Issuer => ({ did: V, kid: `${V}#${kid}`, keyType: kp.type, publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) });

let w: World;
let store: Store;
let bundle: EvidenceBundle;

beforeAll(async () => {
  w = await openWorld();
  const resolver = documentResolver(async (did) => (did === V ? structuredClone(recorded) : w.resolver.resolve(did)), { cacheTtlMs: 0 });
  store = await openSqliteStore(join(tempDir('charter-cp-listed-'), 'api.db'));
  const url = 'http://127.0.0.1:9999/profile/email';
  const grant = await w.grant({ resources: ['profile/email'], validMs: 86_400_000 });
  const v = createVerifier({ aud: API, store, resolver, status: w.status, http: false, receipts: { signer: issuerOf('k1', k1) } });
  const d = await decide(
    v,
    await bound(w.app, [grant.jwt], { url }),
    { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did },
    {
      kind: 'claims',
      claims: { htm: 'GET', htu: url },
    },
  );
  expect(d.ok).toBe(true);
  await v.receipts!.checkpoint();
  bundle = await exportEvidence(store, d.receiptId!);
}, 60_000);
afterAll(async () => {
  await store?.close();
  await w?.close();
});

const failing = (v: EvidenceVerification) => v.parts.filter((p) => !p.ok).map((p) => p.part);

async function resigned(by: KeyPair, kid: string): Promise<EvidenceBundle> {
  const claims = JSON.parse(Buffer.from(bundle.log.checkpoint.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  const jws = (await signCanonical(CHECKPOINT_TYP, claims, issuerOf(kid, by))).jws;
  return { ...structuredClone(bundle), log: { ...structuredClone(bundle.log), checkpoint: jws } };
}

describe('a pinned key the recorded document defines is held to it', () => {
  it('the bundle as exported verifies with k1 pinned', async () => {
    expect(failing(await verifyEvidence(bundle, { issuers: [V], verifierKeys: [k1.publicJwk] }))).toEqual([]);
  });

  it('an unlisted key pinned stands (the rotation the pins are for), under a kid the document lacks or under k1', async () => {
    const fresh = generateKeyPair('P-256');
    for (const kid of ['k2', 'k1']) expect(failing(await verifyEvidence(await resigned(fresh, kid), { issuers: [V], verifierKeys: [k1.publicJwk, fresh.publicJwk] }))).toEqual([]);
  });

  it('a pinned key marked for encryption (RFC 7517 use, key_ops) stands for nothing: INVALID_KEY, not a checkpoint that verifies', async () => {
    const fresh = generateKeyPair('P-256');
    const byFresh = await resigned(fresh, 'k2');
    for (const extra of [{ use: 'enc' }, { key_ops: ['deriveKey'] }, { use: 'enc', key_ops: ['verify'] }]) {
      const pins = [k1.publicJwk, { ...fresh.publicJwk, ...extra }];
      await expect(verifyEvidence(byFresh, { issuers: [V], verifierKeys: pins }), JSON.stringify(extra)).rejects.toMatchObject({ code: 'INVALID_KEY' });
      // The decision's own key so marked too: the receipt is no more the verifier's for it.
      await expect(verifyEvidence(bundle, { issuers: [V], verifierKeys: [{ ...k1.publicJwk, ...extra }] }), JSON.stringify(extra)).rejects.toMatchObject({ code: 'INVALID_KEY' });
    }
    expect(failing(await verifyEvidence(byFresh, { issuers: [V], verifierKeys: [k1.publicJwk, { ...fresh.publicJwk, ...{ use: 'sig' } }] }))).toEqual([]);
  });

  for (const [name, key] of [
    ['revoked', revoked],
    ['defined for authentication only', authOnly],
    ["another DID's", foreign],
    ['expired', expired],
  ] as const) {
    it(`${name}: pinned, it signs no checkpoint, under a kid the document lacks or under k1`, async () => {
      for (const kid of ['k9', 'k1']) {
        const v = await verifyEvidence(await resigned(key, kid), { issuers: [V], verifierKeys: [k1.publicJwk, key.publicJwk] });
        expect([name, kid, failing(v)]).toEqual([name, kid, ['checkpoint']]);
      }
    });
  }
});
