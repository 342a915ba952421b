import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { decodeReceipt, exportEvidence, verifyEvidence, type EvidenceBundle, type EvidenceVerification } from '../../src/audit/index.js';
import { CHECKPOINT_TYP, signCanonical } from '../../src/audit/jws.js';
import { documentResolver } from '../../src/did/document-resolver.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyPair, KeyType } from '../../src/keys/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { DIDDocument } from '../../src/did/types.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';

/**
 * Accountability over time, the verifier's keys: a bundle is re-checked
 * offline years later, after the verifier's did:web document has changed.
 * Every record the verifier signed is judged with its document as the
 * decision recorded it, at the time the record says it was signed (not at
 * `at`, not at the wall clock); a checkpoint signed after a key rotation
 * (`evidence export --as` long after) stands on the keys the caller pins,
 * never on a key the bundle alone vouches for.
 */
const ROT = 'did:web:rotating.example';
const EXP = 'did:web:expiring.example';
const vm = (did: string, id: string, kp: KeyPair, extra: object = {}) => ({ id: `${did}#${id}`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: kp.publicJwk, ...extra });
const doc = (did: string, ...m: ReturnType<typeof vm>[]): DIDDocument => ({ id: did, verificationMethod: m, assertionMethod: m.map((x) => x.id) }) as unknown as DIDDocument;
const issuer = (did: string, id: string, kp: KeyPair): Issuer => ({ did, kid: `${did}#${id}`, keyType: kp.type, publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) });
const pair = (t: KeyType) => generateKeyPair(t);

const k1 = pair('Ed25519');
const k2 = pair('P-256'); // the key rotated to: another alg too
const stranger = pair('P-256');
const kx = pair('secp256k1');
/** When the expiring verifier's key ceases: after its decisions, long before any re-check. */
const EXPIRES = new Date(Date.now() + 10 * 60_000);
const docs: Record<string, DIDDocument> = {
  [ROT]: doc(ROT, vm(ROT, 'k1', k1)),
  [EXP]: doc(EXP, vm(EXP, 'kx', kx, { expires: EXPIRES.toISOString() })),
};

let w: World;
let store: Store;
const b: Record<'allow' | 'deny' | 'expAllow' | 'expDeny' | 'late', EvidenceBundle> = {} as never;

beforeAll(async () => {
  w = await openWorld();
  // The verifiers' documents as the web serves them now; everyone else's as the world does.
  const resolver = documentResolver(async (did) => (Object.hasOwn(docs, did) ? structuredClone(docs[did]!) : w.resolver.resolve(did)), { cacheTtlMs: 0 });
  store = await openSqliteStore(join(tempDir('charter-recheck-keys-'), 'api.db'));
  const url = 'http://127.0.0.1:9999/profile/email';
  const grant = await w.grant({ resources: ['profile/email'], validMs: 86_400_000 });
  const binding = { kind: 'claims' as const, claims: { htm: 'GET', htu: url } };
  const run = async (v: Verifier, resource: string) =>
    decide(v, await bound(w.app, [grant.jwt], { url }), { kind: 'grant', resource, action: 'read', owner: w.alice.did }, binding);
  const verifier = (signer: Issuer) => createVerifier({ aud: API, store, resolver, status: w.status, http: false, receipts: { signer } });

  // The rotating verifier decides with k1, never checkpoints; then its document drops k1 for k2, and the
  // bundles are exported with k2 signing the checkpoint.
  const v1 = verifier(issuer(ROT, 'k1', k1));
  const allow = await run(v1, 'profile/email');
  const deny = await run(v1, 'profile/phone');
  expect([allow.ok, deny.reasons.map((r) => r.code)]).toEqual([true, ['GRANT_SCOPE']]);
  await v1.receipts!.flush();
  docs[ROT] = doc(ROT, vm(ROT, 'k2', k2));
  b.allow = await exportEvidence(store, allow.receiptId!, { signer: issuer(ROT, 'k2', k2) });
  b.deny = await exportEvidence(store, deny.receipt!);

  // The expiring verifier decides and checkpoints before its key's `expires`.
  const vx = verifier(issuer(EXP, 'kx', kx));
  const xa = await run(vx, 'profile/email');
  const xd = await run(vx, 'profile/phone');
  await vx.receipts!.checkpoint();
  b.expAllow = await exportEvidence(store, xa.receiptId!);
  b.expDeny = await exportEvidence(store, xd.receipt!);
  // ... and goes on signing with that key once it has ceased: a decision, then a checkpoint, after EXPIRES.
  const ya = await run(vx, 'profile/email');
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    vi.setSystemTime(new Date(EXPIRES.getTime() + 60_000));
    await decide(vx, 'not a presentation', { kind: 'presentation' }, { kind: 'none' });
    await vx.receipts!.checkpoint();
  } finally {
    vi.useRealTimers();
  }
  b.late = await exportEvidence(store, ya.receiptId!);
}, 60_000);
afterAll(async () => {
  await store?.close();
  await w?.close();
});

const failing = (v: EvidenceVerification) => v.parts.filter((p) => !p.ok).map((p) => p.part);
const part = (v: EvidenceVerification, name: string) => v.parts.find((p) => p.part === name)!;
const pinned = (...keys: KeyPair[]) => ({ issuers: [ROT], verifierKeys: keys.map((k) => k.publicJwk) });

/** The bundle's checkpoint signed again by `by` under `kid` (of the rotating verifier), its claims as they were. */
async function resigned(bundle: EvidenceBundle, by: KeyPair, kid: string, time?: Date): Promise<EvidenceBundle> {
  const claims = JSON.parse(Buffer.from(bundle.log.checkpoint.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  if (time) Object.assign(claims, { time: time.toISOString(), iat: Math.floor(time.getTime() / 1000) });
  const did = claims.iss as string;
  const jws = (await signCanonical(CHECKPOINT_TYP, claims, issuer(did, kid, by))).jws;
  return { ...structuredClone(bundle), log: { ...structuredClone(bundle.log), checkpoint: jws } };
}

describe('a checkpoint signed after the verifier rotated its key', () => {
  it('without pinned keys: only the checkpoint fails, saying its key is not in the document the decision recorded and what to pass', async () => {
    const v = await verifyEvidence(b.allow);
    expect(failing(v)).toEqual(['checkpoint']);
    expect(part(v, 'checkpoint').reasons).toEqual([{ code: 'VERIFICATION_METHOD_NOT_FOUND', message: expect.stringMatching(/as recorded at the decision.*verifierKeys/) }]);
    // The receipt itself is the old key's, found in the recorded document: the decision re-checks.
    expect([part(v, 'receipt').ok, part(v, 'decision').ok, part(v, 'log').ok]).toEqual([true, true, true]);
  });

  it("with the verifier's keys pinned, past and present: the whole bundle verifies, the allow re-checked as an allow", async () => {
    const v = await verifyEvidence(b.allow, pinned(k1, k2));
    expect([v.ok, failing(v), v.receipt?.decision, v.decision]).toEqual([true, [], 'allow', 'rechecked']);
    // The order of the keys, or a key pinned twice, changes nothing.
    expect((await verifyEvidence(b.allow, pinned(k2, stranger, k1, k2))).ok).toBe(true);
  });

  it("the new key not pinned, a stranger's in its place, or the verifier not among issuers: the checkpoint is refused", async () => {
    for (const opts of [pinned(k1), pinned(k1, stranger), { issuers: [w.app.did], verifierKeys: [k1.publicJwk, k2.publicJwk] }]) {
      const v = await verifyEvidence(b.allow, opts);
      expect(v.ok).toBe(false);
      expect(failing(v)).toContain('checkpoint');
    }
    // Pinned keys without issuers are no trust at all: the checkpoint stays unproven.
    expect(failing(await verifyEvidence(b.allow, { verifierKeys: [k1.publicJwk, k2.publicJwk] } as never))).toEqual(['checkpoint']);
  });

  it("a splice: a checkpoint a stranger's key signed under the new key's kid, or the old key's, is refused with both keys pinned", async () => {
    for (const kid of ['k2', 'k1', 'k3']) {
      const v = await verifyEvidence(await resigned(b.allow, stranger, kid), pinned(k1, k2));
      expect([kid, failing(v)]).toEqual([kid, ['checkpoint']]);
    }
  });

  it('the new key published under the old kid (a key replaced in place, of another alg or the same): accepted only when pinned', async () => {
    for (const [key, code] of [
      [k2, 'ALG_KEY_MISMATCH'],
      [pair('Ed25519'), 'INVALID_SIGNATURE'],
    ] as const) {
      const inPlace = await resigned(b.allow, key, 'k1');
      expect(part(await verifyEvidence(inPlace), 'checkpoint').reasons.map((r) => r.code)).toEqual([code]);
      expect(failing(await verifyEvidence(inPlace, pinned(k1, key)))).toEqual([]);
      expect(failing(await verifyEvidence(inPlace, pinned(k1, k2.type === key.type ? stranger : k2)))).toEqual(['checkpoint']);
    }
  });

  it('a key the recorded document lists is held to it: the old key signing under a kid the document lacks is not rescued by pinning it', async () => {
    const v = await verifyEvidence(await resigned(b.allow, k1, 'k9'), pinned(k1, k2));
    expect(failing(v)).toEqual(['checkpoint']);
  });

  it('the refusal made before the rotation, covered by the checkpoint the new key signed: the same refusal, re-checked, with the keys pinned', async () => {
    // Exported after the allow's bundle stored a checkpoint signed with k2, which covers the refusal too.
    expect(JSON.parse(Buffer.from(b.deny.log.checkpoint.split('.')[0]!, 'base64url').toString())).toMatchObject({ kid: `${ROT}#k2` });
    expect(failing(await verifyEvidence(b.deny))).toEqual(['checkpoint']);
    const p = await verifyEvidence(b.deny, pinned(k1, k2));
    expect([p.ok, p.receipt?.decision, p.receipt?.reasons]).toEqual([true, 'deny', ['GRANT_SCOPE']]);
  });
});

describe('charter evidence verify, the same bundle', () => {
  it('exit 1 naming --verifier-key without the keys; exit 0 with a JWK Set of the old and the new key', async () => {
    const dir = tempDir('charter-recheck-keys-cli-');
    const file = join(dir, 'bundle.json');
    writeFileSync(file, JSON.stringify(b.allow));
    writeFileSync(join(dir, 'old.jwk'), JSON.stringify(k1.publicJwk));
    writeFileSync(join(dir, 'both.jwks'), JSON.stringify({ keys: [k1.publicJwk, k2.publicJwk] }));
    const run = async (args: string[]) => {
      let code = 0;
      let out = '';
      await runCli(['evidence', 'verify', file, ...args], {
        stdout: (s) => (out += s + '\n'),
        stderr: (s) => (out += s + '\n'),
        env: {},
        stdin: Readable.from(['']),
        setExitCode: (c) => (code = c),
        openHome: () => Promise.reject(new Error('evidence verify opens no home')),
      });
      return [code, out] as const;
    };
    const bare = await run([]);
    expect([bare[0], bare[1]]).toEqual([1, expect.stringMatching(/checkpoint[\s\S]*--verifier-key/)]);
    expect((await run(['--issuer', ROT, '--verifier-key', join(dir, 'old.jwk')]))[0]).toBe(1);
    expect(await run(['--issuer', ROT, '--verifier-key', join(dir, 'both.jwks')])).toEqual([0, expect.any(String)]);
  });
});

describe("each of the verifier's records is judged at the time it was signed", () => {
  const FAR = [new Date('2036-01-01T00:00:00Z'), new Date('2100-01-01T00:00:00Z'), new Date('+275760-09-13T00:00:00Z')];

  it('before the key expired: the bundles verify; and decodeReceipt shows the key expired since', async () => {
    for (const k of ['expAllow', 'expDeny'] as const) expect([k, failing(await verifyEvidence(b[k]))]).toEqual([k, []]);
    expect(new Date(decodeReceipt(b.expAllow.receipt).time).getTime()).toBeLessThan(EXPIRES.getTime());
  });

  it('--at long after the key expired: the refusal still re-checks; the allow fails only as a decision, never as a signature', async () => {
    for (const at of FAR) {
      const deny = await verifyEvidence(b.expDeny, { at });
      expect([at.toISOString(), deny.ok, failing(deny)]).toEqual([at.toISOString(), true, []]);
      const allow = await verifyEvidence(b.expAllow, { at });
      expect([at.toISOString(), failing(allow)]).toEqual([at.toISOString(), ['decision']]);
    }
  });

  it('a checkpoint the key signed after it expired is refused, pinned or not (the recorded document says it had ceased)', async () => {
    const late = await resigned(b.expDeny, kx, 'kx', new Date(EXPIRES.getTime() + 86_400_000));
    for (const opts of [{}, { issuers: [EXP], verifierKeys: [kx.publicJwk] }]) {
      const v = await verifyEvidence(late, opts);
      expect(failing(v)).toEqual(['checkpoint']);
      expect(part(v, 'checkpoint').reasons.map((r) => r.code)).toEqual(['VERIFICATION_METHOD_NOT_AUTHORIZED']);
    }
    // The same checkpoint dated a moment before the key ceased stands.
    expect(failing(await verifyEvidence(await resigned(b.expDeny, kx, 'kx', new Date(EXPIRES.getTime() - 1000))))).toEqual([]);
  });

  it('log entries the key signed after it expired break the segment, though the receipt itself was signed in time', async () => {
    const v = await verifyEvidence(b.late);
    expect(part(v, 'receipt').ok).toBe(true);
    expect(failing(v)).toEqual(['log', 'checkpoint']);
    expect(part(v, 'log').reasons[0]!.message).toMatch(/does not verify \(VERIFICATION_METHOD_NOT_AUTHORIZED\)/);
  });
});
