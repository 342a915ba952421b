import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { exportEvidence, verifyEvidence, type EvidenceBundle, type EvidenceVerification } from '../../src/audit/index.js';
import { CHECKPOINT_TYP, payloadHash, RECEIPT_TYP, signCanonical, signPayload } from '../../src/audit/jws.js';
import { documentResolver } from '../../src/did/document-resolver.js';
import { resolveDidJwk } from '../../src/did/index.js';
import { canonicalJson, sha256Digest } from '../../src/encoding/json.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { DIDDocument } from '../../src/did/types.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * `charter evidence verify` reports exactly which part fails if anything was altered (issue 17): the log
 * segment and the checkpoint of a bundle, each check alone. Every alteration here is made with the
 * verifier's own key (so every signature holds) and touches one claim only; without the one check that
 * reads that claim the bundle would verify (found by mutation testing of src/audit/bundle-verify.ts).
 */
const V = 'did:web:one-key.example';
const k1 = generateKeyPair('Ed25519');
const DOC = {
  id: V,
  verificationMethod: [{ id: `${V}#k1`, type: 'JsonWebKey2020', controller: V, publicKeyJwk: k1.publicJwk }],
  assertionMethod: [`${V}#k1`],
} as unknown as DIDDocument;
const api: Issuer = { did: V, kid: `${V}#k1`, keyType: k1.type, publicJwk: k1.publicJwk, signer: createSigner(k1.privateJwk) };
const resolver = documentResolver(async () => structuredClone(DOC), { cacheTtlMs: 0 });
const N = 4;
let bundle: EvidenceBundle;

beforeAll(async () => {
  const store: Store = await openSqliteStore(join(tempDir('charter-bundle-checks-'), 'api.db'));
  const v = createVerifier({ aud: 'did:web:api.example', store, resolver, http: false, receipts: { signer: api } });
  const first = (await decide(v, 'not a presentation', { kind: 'presentation' }, { kind: 'none' })).receipt!;
  for (let i = 1; i < N; i++) await decide(v, 'not a presentation', { kind: 'presentation' }, { kind: 'none' });
  await v.receipts!.checkpoint();
  bundle = await exportEvidence(store, first);
  await store.close();
}, 30_000);

type Claims = Record<string, unknown> & { log: Record<string, unknown> };
const claimsOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Claims;
const partOf = (v: EvidenceVerification, name: string) => v.parts.find((p) => p.part === name)!;
const okOf = (v: EvidenceVerification) => Object.fromEntries(['receipt', 'log', 'checkpoint'].map((p) => [p, partOf(v, p).ok]));

/** A checkpoint signed by `by` (default the verifier) with the claims of the bundle's own, `edit` applied, time and iat as Charter writes them. */
async function checkpoint(edit: (c: Record<string, unknown>) => void = () => undefined, by: Issuer = api): Promise<string> {
  const t = new Date();
  const c: Record<string, unknown> = { ...claimsOf(bundle.log.checkpoint), iss: by.did, iat: Math.floor(t.getTime() / 1000), time: t.toISOString() };
  edit(c);
  return (await signCanonical(CHECKPOINT_TYP, c, by)).jws;
}

/** The bundle with its last log entry re-signed by the verifier with `edit` applied, and a checkpoint re-signed over it. */
async function lastEntryResigned(edit: (c: Claims) => void): Promise<EvidenceBundle> {
  const entries = [...bundle.log.entries];
  const c = claimsOf(entries[N - 1]!);
  edit(c);
  entries[N - 1] = await signPayload(RECEIPT_TYP, canonicalJson(c), api);
  const head = payloadHash(entries[N - 1]!);
  return { ...structuredClone(bundle), log: { entries, checkpoint: await checkpoint((cp) => void (cp.head = head)) } };
}

describe("an evidence bundle's log segment and checkpoint: each check, alone", () => {
  it('the untouched bundle, and one whose checkpoint the verifier signed again, verify in these parts', async () => {
    expect(bundle.log.entries).toHaveLength(N);
    expect(okOf(await verifyEvidence(bundle))).toEqual({ receipt: true, log: true, checkpoint: true });
    expect(okOf(await verifyEvidence({ ...structuredClone(bundle), log: { ...bundle.log, checkpoint: await checkpoint() } }))).toEqual({
      receipt: true,
      log: true,
      checkpoint: true,
    });
    // The re-signing helper itself changes nothing a check reads.
    expect(okOf(await verifyEvidence(await lastEntryResigned(() => undefined)))).toEqual({ receipt: true, log: true, checkpoint: true });
  });

  const entryEdits: [string, (c: Claims) => void][] = [
    ['names another chain', (c) => void (c.log.chain = 'urn:uuid:00000000-0000-4000-8000-000000000000')],
    ['names the seq after its own', (c) => void (c.log.seq = (c.log.seq as number) + 1)],
    ['names another prev', (c) => void (c.log.prev = payloadHash(bundle.log.entries[0]!))],
  ];
  for (const [what, edit] of entryEdits) {
    it(`a log entry re-signed by the verifier that ${what} fails the log part, named as not following`, async () => {
      const v = await verifyEvidence(await lastEntryResigned(edit));
      expect(v.ok).toBe(false);
      expect(okOf(v)).toEqual({ receipt: true, log: false, checkpoint: true });
      expect(partOf(v, 'log').reasons[0]).toMatchObject({
        code: 'EVIDENCE_MISMATCH',
        message: `the log entry after seq ${(claimsOf(bundle.receipt).log.seq as number) + N - 2} does not follow it`,
      });
    });
  }

  it('a checkpoint naming one entry more than the segment (its head right) fails the log part', async () => {
    const v = await verifyEvidence({ ...structuredClone(bundle), log: { ...bundle.log, checkpoint: await checkpoint((c) => void (c.seq = (c.seq as number) + 1)) } });
    expect(okOf(v)).toEqual({ receipt: true, log: false, checkpoint: true });
    expect(partOf(v, 'log').reasons[0]!.message).toMatch(/the log segment ends at seq \d+, but the checkpoint names seq \d+/);
  });

  it('a checkpoint naming another head (its seq right) fails the log part', async () => {
    const v = await verifyEvidence({ ...structuredClone(bundle), log: { ...bundle.log, checkpoint: await checkpoint((c) => void (c.head = payloadHash(bundle.receipt))) } });
    expect(okOf(v)).toEqual({ receipt: true, log: false, checkpoint: true });
  });

  it('a checkpoint of another chain (seq and head right) fails the checkpoint part', async () => {
    const v = await verifyEvidence({
      ...structuredClone(bundle),
      log: { ...bundle.log, checkpoint: await checkpoint((c) => void (c.chain = 'urn:uuid:00000000-0000-4000-8000-000000000000')) },
    });
    expect(okOf(v)).toEqual({ receipt: true, log: true, checkpoint: false });
    expect(partOf(v, 'checkpoint').reasons[0]).toMatchObject({ code: 'EVIDENCE_MISMATCH', message: 'the checkpoint is of another chain or verifier' });
  });

  it('a checkpoint another verifier signed (a did:key: its signature holds; seq, head and chain right) fails the checkpoint part', async () => {
    const v = await verifyEvidence({ ...structuredClone(bundle), log: { ...bundle.log, checkpoint: await checkpoint(undefined, makeIssuer()) } });
    expect(okOf(v)).toEqual({ receipt: true, log: true, checkpoint: false });
    expect(partOf(v, 'checkpoint').reasons[0]).toMatchObject({ code: 'EVIDENCE_MISMATCH', message: 'the checkpoint is of another chain or verifier' });
  });

  it('a checkpoint whose iat is not the second of its time fails the checkpoint part', async () => {
    const v = await verifyEvidence({
      ...structuredClone(bundle),
      log: { ...bundle.log, checkpoint: await checkpoint((c) => void (c.iat = (c.iat as number) - 3600)) },
    });
    expect(okOf(v)).toEqual({ receipt: true, log: true, checkpoint: false });
    expect(partOf(v, 'checkpoint').reasons[0]!.message).toMatch(/iat is not the second of its time/);
  });
});

describe("an evidence bundle's credentials and documents: each check, alone", () => {
  const failing = (v: EvidenceVerification) => v.parts.filter((p) => !p.ok).map((p) => [p.part, p.reasons[0]?.message]);
  /** The bundle with its receipt re-signed by the verifier citing `credentials` (its log then no longer follows: not what these cases look at). */
  async function citing(credentials: { h: string }[]): Promise<EvidenceBundle> {
    const c = claimsOf(bundle.receipt);
    c.credentials = credentials;
    const receipt = await signPayload(RECEIPT_TYP, canonicalJson(c), api);
    return { ...structuredClone(bundle), receipt, log: { ...bundle.log, entries: [receipt, ...bundle.log.entries.slice(1)] } };
  }

  it('a credential the receipt does not record, added to the bundle, fails its own part', async () => {
    const v = await verifyEvidence({ ...structuredClone(bundle), credentials: ['eyJhbGciOiJFZERTQSJ9.e30.c2ln'] });
    expect(failing(v)).toContainEqual(['credential 0', 'a credential the receipt does not record']);
  });

  it('a credential the receipt records, left out of the bundle, fails its own part', async () => {
    const v = await verifyEvidence({ ...(await citing([{ h: sha256Digest('eyJhbGciOiJFZERTQSJ9.e30.c2ln') }])), credentials: [] });
    expect(failing(v)).toContainEqual(['credential 0', 'a credential the receipt records is missing']);
  });

  it('a credential whose hash the receipt records, but which the presentation does not carry, fails its own part', async () => {
    const jwt = 'eyJhbGciOiJFZERTQSJ9.e30.c2ln';
    const v = await verifyEvidence({ ...(await citing([{ h: sha256Digest(jwt) }])), credentials: [jwt] });
    expect(v.parts.find((p) => p.part === 'receipt')!.ok).toBe(true);
    expect(failing(v)).toContainEqual(['credential 0', 'the credential is not the one the presentation carries']);
  });

  it("the verifier's own document the receipt records, left out of the bundle, fails that document's part (and the receipt's)", async () => {
    const dids = structuredClone(bundle.dids);
    expect(Object.keys(dids)).toContain(V);
    delete dids[V];
    const v = await verifyEvidence({ ...structuredClone(bundle), dids });
    expect(failing(v)).toContainEqual([`did ${V}`, 'the DID document the receipt records is missing']);
    expect(v.parts.find((p) => p.part === 'receipt')!.ok).toBe(false);
  });
});

describe('a log segment entry signed by another verifier whose key has the same relative kid', () => {
  it("fails the log part: the signer is compared, not only the kid (two did:jwk verifiers both sign as '#0')", async () => {
    // A verifier configured with a relative kid, as an Issuer may be: every did:jwk key is "#0".
    const own = makeIssuer('Ed25519', 'jwk');
    const signer: Issuer = { ...own, kid: '#0' };
    const forger: Issuer = { ...makeIssuer('Ed25519', 'jwk'), kid: '#0' };
    const store: Store = await openSqliteStore(join(tempDir('charter-bundle-jwk-'), 'api.db'));
    const jwkResolver = documentResolver(async (did) => resolveDidJwk(did), { cacheTtlMs: 0 });
    const v = createVerifier({ aud: 'did:web:api.example', store, resolver: jwkResolver, http: false, receipts: { signer } });
    const first = (await decide(v, 'not a presentation', { kind: 'presentation' }, { kind: 'none' })).receipt!;
    await decide(v, 'not a presentation', { kind: 'presentation' }, { kind: 'none' });
    await v.receipts!.checkpoint();
    const b = await exportEvidence(store, first);
    await store.close();
    const ok = (x: EvidenceVerification) => Object.fromEntries(['receipt', 'log', 'checkpoint'].map((p) => [p, x.parts.find((y) => y.part === p)!.ok]));
    expect(ok(await verifyEvidence(b))).toEqual({ receipt: true, log: true, checkpoint: true });
    // The second entry re-signed by the forger (its own DID as iss, the same relative kid), the checkpoint by the verifier over it.
    const c = claimsOf(b.log.entries[1]!);
    c.iss = forger.did;
    const entry = await signPayload(RECEIPT_TYP, canonicalJson(c), forger);
    const t = new Date();
    const cp = { ...claimsOf(b.log.checkpoint), head: payloadHash(entry), iat: Math.floor(t.getTime() / 1000), time: t.toISOString() };
    const checkpoint = (await signCanonical(CHECKPOINT_TYP, cp, signer)).jws;
    const x = await verifyEvidence({ ...structuredClone(b), log: { entries: [b.log.entries[0]!, entry], checkpoint } });
    expect(ok(x)).toEqual({ receipt: true, log: false, checkpoint: true });
    expect(x.parts.find((p) => p.part === 'log')!.reasons[0]!.message).toMatch(/does not follow it/);
  });
});
