import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openHome } from '../../src/home/home.js';
import { AuditWriter } from '../../src/audit/writer.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { IdentityRecord, Store } from '../../src/store/types.js';
import { sealPrivateKey } from '../../src/home/keystore.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { PrivateJwk } from '../../src/keys/types.js';
import { didKeyRef } from '../../src/did/index.js';
import { makeIssuer, tempDir } from '../helpers.js';
import { inProcess } from './harness.js';

/**
 * `charter audit verify` as an auditor uses it: the checkpoints
 * `audit checkpoint` printed (one per chain) handed back in one file, a
 * checkpoint older than a pruned chain's anchor, a chain signed by no
 * identity of the home; and `evidence verify` on a bundle that says one
 * member twice.
 */
const PASS = 'correct horse battery staple';

/** Appends `n` decisions to a new chain of `signer` in the store (a verifier instance: one chain each). */
async function decisions(store: Store, signer: Issuer, n: number): Promise<string> {
  const w = new AuditWriter(store, { signer, checkpointSeconds: 0, checkpointEvery: 2 });
  for (let i = 0; i < n; i++) {
    const t = new Date(Date.now() - 3_600_000 + i);
    await w.append(
      {
        jti: `urn:uuid:${randomUUID()}`,
        iat: Math.floor(t.getTime() / 1000),
        time: t.toISOString(),
        kind: 'decision',
        verifier: 'did:web:api.example',
        decision: 'allow',
        status: 200,
        reasons: [],
        request: { none: true },
        policy: { kind: 'presentation' },
        credentials: [],
        chain: [],
      },
      [],
    );
  }
  await w.flush();
  return w.chain;
}

async function homeWithTwoChains(): Promise<{ dir: string; run: ReturnType<typeof inProcess>; chains: string[] }> {
  const dir = join(tempDir('charter-audit-verify-'), '.charter');
  const home = await openHome({ home: dir, env: {}, passphrase: async () => PASS });
  await home.init();
  await home.createIdentity({ alias: 'api' });
  const api = await home.issuer('api');
  // Two instances of one verifier (a restart): two chains of the same identity.
  const chains = [await decisions(home.store, api, 5), await decisions(home.store, api, 3)];
  await home.close();
  return { dir, run: inProcess(dir, () => PASS), chains };
}

describe('audit verify --checkpoint: the file `audit checkpoint` wrote', () => {
  let h: Awaited<ReturnType<typeof homeWithTwoChains>>;
  beforeAll(async () => {
    h = await homeWithTwoChains();
  }, 120_000);

  it('one checkpoint per chain, one per line: accepted whole, each matched; with --json the same', async () => {
    const cp = await h.run(['audit', 'checkpoint', '--as', 'api']);
    expect(cp.code).toBe(0);
    const lines = cp.out.split('\n');
    expect(lines).toHaveLength(2);
    const file = join(h.dir, '..', 'cp.jwt');
    writeFileSync(file, cp.out + '\n');
    const v = await h.run(['audit', 'verify', '--checkpoint', file, '--json']);
    expect(v.code).toBe(0);
    const r = JSON.parse(v.out) as { ok: boolean; chains: { chain: string; checkpoints: number }[] };
    expect(r.ok).toBe(true);
    expect(r.chains.map((c) => c.chain).sort()).toEqual([...h.chains].sort());
    // Spaces, blank lines and CRLF between them read the same; given twice (file and inline) too.
    const spaced = join(h.dir, '..', 'cp-spaced.jwt');
    writeFileSync(spaced, `\n  ${lines[0]}\r\n\r\n\t${lines[1]}  \n`);
    expect((await h.run(['audit', 'verify', '--checkpoint', spaced])).code).toBe(0);
    expect((await h.run(['audit', 'verify', '--checkpoint', spaced, '--checkpoint', lines[0]!])).code).toBe(0);
    // From standard input.
    expect((await h.run(['audit', 'verify', '--checkpoint', '-'], readFileSync(file, 'utf8'))).code).toBe(0);
  });

  it('a file with anything but checkpoints in it, or an empty one, is a usage error naming the file; a forged line fails the log', async () => {
    const cp = (await h.run(['audit', 'checkpoint', '--as', 'api'])).out.split('\n');
    const junk = join(h.dir, '..', 'junk.jwt');
    writeFileSync(junk, `${cp[0]}\nnot a checkpoint\n`);
    const r = await h.run(['audit', 'verify', '--checkpoint', junk]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/junk\.jwt does not hold checkpoints.*\[INVALID_ARGUMENT\]/);
    const empty = join(h.dir, '..', 'empty.jwt');
    writeFileSync(empty, '\n\n');
    expect((await h.run(['audit', 'verify', '--checkpoint', empty])).code).toBe(2);
    const [hd, p, s] = cp[1]!.split('.') as [string, string, string];
    const forged = join(h.dir, '..', 'forged.jwt');
    writeFileSync(forged, `${cp[0]}\n${hd}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BA' : 'AA'}\n`);
    const f = await h.run(['audit', 'verify', '--checkpoint', forged]);
    expect(f.code).toBe(1);
    expect(f.out).toMatch(/checkpoint does not verify.*\[AUDIT_CHAIN_BROKEN\]/);
  });
});

describe('audit verify after pruning, and with a chain no identity of the home signed', () => {
  it('a held checkpoint older than the anchor: exit 1 naming it; --accept-pruned passes and says so; verify alone passes', async () => {
    const h = await homeWithTwoChains();
    // A third party was given the heads (5 and 3) and, earlier, the checkpoint at 4 of the first chain.
    const heads = join(h.dir, '..', 'heads.jwt');
    writeFileSync(heads, (await h.run(['audit', 'checkpoint', '--as', 'api'])).out);
    const home = await openHome({ home: h.dir, env: {}, passphrase: async () => PASS });
    const older = (await home.store.listAuditCheckpoints(h.chains[0]!)).find((c) => c.seq === 4)!.jws;
    await home.close();
    const held = join(h.dir, '..', 'old.jwt');
    writeFileSync(held, older);
    expect((await h.run(['audit', 'verify', '--checkpoint', held])).code).toBe(0);
    // Retention down to the newest checkpoints: each chain now starts from its anchor (5 and 3).
    const pr = await h.run(['audit', 'prune', '--before', new Date(Date.now() + 60_000).toISOString()]);
    expect([pr.code, pr.out]).toEqual([0, expect.stringMatching(/it now starts after checkpoint 5/)]);
    expect((await h.run(['audit', 'verify'])).code).toBe(0);
    // The heads were the checkpoints pruned down to: the entries they cover are gone too (a break), unless expected.
    const atAnchor = await h.run(['audit', 'verify', '--checkpoint', heads]);
    expect([atAnchor.code, atAnchor.out]).toEqual([1, expect.stringMatching(/checkpoint at seq \d+ is at the anchor \d+/)]);
    const expected = await h.run(['audit', 'verify', '--checkpoint', heads, '--accept-pruned']);
    expect([expected.code, expected.out]).toEqual([0, expect.stringMatching(/given checkpoint at 5 is at the anchor 5: the entries covered were pruned, not checked/)]);
    const v = await h.run(['audit', 'verify', '--checkpoint', held]);
    expect(v.code).toBe(1);
    expect(v.out).toMatch(new RegExp(`✗ chain ${h.chains[0]} broken at entry 4.*predates the anchor 5.*\\[AUDIT_CHAIN_BROKEN\\]`));
    const ok = await h.run(['audit', 'verify', '--checkpoint', held, '--accept-pruned']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/given checkpoint at 4 predates the anchor 5: the entries covered were pruned, not checked/);
    const j = JSON.parse((await h.run(['audit', 'verify', '--checkpoint', held, '--accept-pruned', '--json'])).out) as { chains: { chain: string; predating?: number[] }[] };
    expect(j.chains.find((c) => c.chain === h.chains[0])!.predating).toEqual([4]);
  });

  it("a chain signed by a stranger injected into the home's database: exit 1 naming the chain and its signer", async () => {
    const h = await homeWithTwoChains();
    const home = await openHome({ home: h.dir, env: {}, passphrase: async () => PASS });
    const stranger = makeIssuer();
    const foreign = await decisions(home.store, stranger, 2);
    await home.close();
    const r = await h.run(['audit', 'verify']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`✗ chain ${foreign} broken at entry 1`);
    expect(r.out).toContain(stranger.did);
    expect(r.out).toMatch(/not one of the expected verifiers.*\[AUDIT_CHAIN_BROKEN\]/);
    const j = JSON.parse((await h.run(['audit', 'verify', '--json'])).out) as { ok: boolean; broken: { chain: string } };
    expect(j).toMatchObject({ ok: false, broken: { chain: foreign } });
  });

  it.each([
    ["another identity's sealed key under its DID", (_k: PrivateJwk, _did: string, rec: IdentityRecord) => rec.sealedPrivateKey],
    ['its own key sealed under another passphrase', (k: PrivateJwk, did: string) => sealPrivateKey(k, 'another passphrase', did)],
    ['its own key sealed for another DID', (k: PrivateJwk, _did: string, rec: IdentityRecord) => sealPrivateKey(k, PASS, rec.did)],
    ['junk', () => 'not a sealed key'],
  ])("a signer's identity row written into the database without the passphrase (%s) proves nothing: still broken", async (_label, sealedOf) => {
    const h = await homeWithTwoChains();
    const home = await openHome({ home: h.dir, env: {}, passphrase: async () => PASS });
    const kp = generateKeyPair('Ed25519');
    const stranger = { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
    const foreign = await decisions(home.store, stranger, 2);
    const rec = (await home.store.listIdentities())[0]!;
    await home.store.putIdentity({
      ...rec,
      alias: 'injected',
      did: stranger.did,
      kid: stranger.kid,
      publicJwk: kp.publicJwk,
      sealedPrivateKey: sealedOf(kp.privateJwk, stranger.did, rec),
    });
    await home.close();
    const r = await h.run(['audit', 'verify']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`✗ chain ${foreign} broken at entry 1`);
    expect(r.out).toMatch(/not one of the expected verifiers/);
  });

  it("once the signer is an identity of the home (imported with the passphrase), its chain is the home's", async () => {
    const h = await homeWithTwoChains();
    const home = await openHome({ home: h.dir, env: {}, passphrase: async () => PASS });
    const kp = generateKeyPair('Ed25519');
    const stranger = { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
    await decisions(home.store, stranger, 2);
    await home.close();
    expect((await h.run(['audit', 'verify'])).code).toBe(1);
    const again = await openHome({ home: h.dir, env: {}, passphrase: async () => PASS });
    await again.importIdentity({ alias: 'other-api', privateJwk: kp.privateJwk });
    await again.close();
    expect((await h.run(['audit', 'verify'])).code).toBe(0);
  });
});

describe('evidence verify: a bundle that names one member twice', () => {
  const run = inProcess(tempDir('charter-evidence-dup-'), () => PASS);
  const bundle = (over: string) =>
    `{"type":"CharterEvidenceBundle","version":1,"receipt":"a.b.c","settlements":[],"credentials":[],"dids":{},"statusLists":{},"log":{"entries":[],"checkpoint":"a.b.c"}${over}}`;
  it.each([
    ['at the top', bundle(',"receipt":"d.e.f"'), 'receipt'],
    ['inside the log', bundle('').replace('"checkpoint":"a.b.c"', '"checkpoint":"a.b.c","checkpoint":"x.y.z"'), 'checkpoint'],
    ['in a DID document', bundle('').replace('"dids":{}', '"dids":{"did:web:x":{"id":"did:web:x","id":"did:web:y"}}'), 'id'],
    ['spelt with an escape', bundle('').replace('"version":1', '"version":1,"versio\\u006e":2'), 'version'],
  ])('%s: INVALID_ARGUMENT naming the member, exit 2', async (_name, text, member) => {
    const file = join(tempDir('charter-dup-'), 'bundle.json');
    writeFileSync(file, text);
    const r = await run(['evidence', 'verify', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`names "${member}" twice`);
    expect(r.err).toMatch(/\[INVALID_ARGUMENT\]$/);
    const j = await run(['evidence', 'verify', file, '--json']);
    expect(JSON.parse(j.out)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });
  it('the same bundle without the duplicate is read (and refused on its merits, exit 1, not as a usage error)', async () => {
    const file = join(tempDir('charter-dup-'), 'bundle.json');
    writeFileSync(file, bundle(''));
    expect((await run(['evidence', 'verify', file])).code).toBe(1);
  });
});
