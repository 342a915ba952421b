import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { exportEvidence, verifyEvidence, type EvidenceBundle, type EvidenceVerification } from '../../src/audit/index.js';
import { CHECKPOINT_TYP, signCanonical } from '../../src/audit/jws.js';
import { didJwkFromJwk, didKeyFromJwk } from '../../src/did/index.js';
import { didKeyKid } from '../../src/did/key.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyPair } from '../../src/keys/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';

/**
 * A checkpoint's pinned keys (verifierKeys) stand in for a did:web verifier
 * that rotated its key since the decision. A did:key or did:jwk verifier
 * cannot rotate: its key is its identifier. A checkpoint under such a DID
 * signed with any other key, one the caller pins for another verifier it
 * trusts included, is someone else's: refused, as the receipt is
 * (pinnedKeyReasons applies only to DIDs whose document the bundle supplies).
 */
const ka = generateKeyPair('Ed25519');
const kj = generateKeyPair('P-256');
const other = generateKeyPair('P-256'); // a key the caller trusts, for another verifier (a did:web one)
const OTHER = 'did:web:other.example';
const KEY = didKeyFromJwk(ka.publicJwk);
const JWK = didJwkFromJwk(kj.publicJwk);
const issuerOf = (did: string, kid: string, kp: KeyPair): Issuer => ({ did, kid, keyType: kp.type, publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) });

let w: World;
let store: Store;
const bundles: Record<string, EvidenceBundle> = {};

beforeAll(async () => {
  w = await openWorld();
  store = await openSqliteStore(join(tempDir('charter-cp-derived-'), 'api.db'));
  const url = 'http://127.0.0.1:9999/profile/email';
  const grant = await w.grant({ resources: ['profile/email'], validMs: 86_400_000 });
  const binding = { kind: 'claims' as const, claims: { htm: 'GET', htu: url } };
  for (const signer of [issuerOf(KEY, didKeyKid(KEY), ka), issuerOf(JWK, `${JWK}#0`, kj)]) {
    const v = createVerifier({ aud: API, store, resolver: w.resolver, status: w.status, http: false, receipts: { signer } });
    const d = await decide(v, await bound(w.app, [grant.jwt], { url }), { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did }, binding);
    expect(d.ok).toBe(true);
    await v.receipts!.checkpoint();
    bundles[signer.did] = await exportEvidence(store, d.receiptId!);
  }
}, 60_000);
afterAll(async () => {
  await store?.close();
  await w?.close();
});

const failing = (v: EvidenceVerification) => v.parts.filter((p) => !p.ok).map((p) => p.part);

/** The bundle's checkpoint, its claims unchanged, signed by `by` under `kid`. */
async function resigned(bundle: EvidenceBundle, by: KeyPair, kid: string): Promise<EvidenceBundle> {
  const claims = JSON.parse(Buffer.from(bundle.log.checkpoint.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  const jws = (await signCanonical(CHECKPOINT_TYP, claims, issuerOf(claims.iss as string, kid, by))).jws;
  return { ...structuredClone(bundle), log: { ...structuredClone(bundle.log), checkpoint: jws } };
}

describe('a did:key or did:jwk verifier has one key: pinned keys never stand in for it on a checkpoint', () => {
  for (const [name, did, own] of [
    ['did:key', KEY, ka],
    ['did:jwk', JWK, kj],
  ] as const) {
    it(`${name}: the bundle as exported verifies, with or without issuers and pins`, async () => {
      expect(failing(await verifyEvidence(bundles[did]!))).toEqual([]);
      expect(failing(await verifyEvidence(bundles[did]!, { issuers: [did, OTHER], verifierKeys: [other.publicJwk] }))).toEqual([]);
    });

    it(`${name}: a checkpoint another trusted verifier's key signed under the DID is refused, under any kid`, async () => {
      const opts = { issuers: [did, OTHER], verifierKeys: [other.publicJwk, own.publicJwk] };
      for (const kid of [`${did}#rotated`, `${did}#0`, didKeyKid(KEY), `${did}#${'x'.repeat(8)}`]) {
        const v = await verifyEvidence(await resigned(bundles[did]!, other, kid), opts);
        expect([kid, v.ok, failing(v)]).toEqual([kid, false, ['checkpoint']]);
      }
    });

    it(`${name}: the verifier's own key under a kid it does not have is refused too (pinned or not)`, async () => {
      const v = await verifyEvidence(await resigned(bundles[did]!, own, `${did}#nope`), { issuers: [did], verifierKeys: [own.publicJwk] });
      expect(failing(v)).toEqual(['checkpoint']);
    });
  }
});
