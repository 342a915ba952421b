import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCapture, decodeReceipt, exportEvidence, verifyEvidence, type DecisionReceipt } from '../../src/audit/index.js';
import type { Credential, StatusChecker } from '../../src/credentials/types.js';
import { createDidWeb, documentResolver } from '../../src/did/index.js';
import type { CharterResolver, DIDDocument } from '../../src/did/types.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { generateKeyPair } from '../../src/keys/index.js';
import { createStatusChecker, type StatusListChecker } from '../../src/status/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';

/**
 * The evidence a receipt records is what the decision used, not what a cache
 * holds a moment later: a status list refreshed while a decision is under
 * way (exactly when a revocation notice arrives), or a DID document replaced
 * between reading a key and recording its document, must not turn a correct
 * decision's bundle into one that contradicts it.
 */
const URL_EMAIL = 'http://127.0.0.1:9999/profile/email';
const POLICY = (owner: string) => ({ kind: 'grant' as const, resource: 'profile/email', action: 'read', owner });
const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a status list refreshed during a decision', () => {
  let w: World;
  let store: Store;
  beforeAll(async () => {
    w = await openWorld();
    await w.home.createIdentity({ alias: 'api' });
    store = await openSqliteStore(join(tempDir('charter-race-'), 'api.db'));
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await w?.close();
  });

  /** A checker whose first fetch (the decision's) is slow and whose later ones (refreshes) take `refreshMs`. */
  function slowFirst(refreshMs: number): { checker: StatusListChecker; fetched: string[]; firstRead: Promise<void> } {
    let calls = 0;
    const fetched: string[] = [];
    let read!: () => void;
    // Resolved once the decision's own fetch has read the list: the revocation comes after it, however
    // slowly the machine gets there (a fixed delay made this test depend on the load).
    const firstRead = new Promise<void>((r) => (read = r));
    const checker = createStatusChecker({
      resolver: w.resolver,
      allowLoopback: true,
      allowHttp: true,
      source: async (url) => {
        const n = ++calls;
        const body = (await (await fetch(url)).text()).trim();
        fetched.push(body);
        if (n === 1) read();
        await later(n === 1 ? 400 : refreshMs);
        return body;
      },
    });
    return { checker, fetched, firstRead };
  }

  async function race(refreshMs: number, awaitRefresh: boolean) {
    const { checker, fetched, firstRead } = slowFirst(refreshMs);
    const v = createVerifier({ aud: API, store, resolver: w.resolver, status: checker, http: false, receipts: { signer: await w.home.issuer('api') } });
    const g = await w.grant();
    const cs = (JSON.parse(Buffer.from(g.jwt.split('.')[1]!, 'base64url').toString()) as { credentialStatus: unknown }).credentialStatus;
    const statusUrl = ([cs].flat()[0] as { statusListCredential: string }).statusListCredential;
    const pending = decide(v, await bound(w.app, [g.jwt]), POLICY(w.alice.did), { kind: 'claims', claims: { htm: 'GET', htu: URL_EMAIL } });
    await firstRead;
    await w.revoke(g.id);
    const refresh = checker.refresh(statusUrl);
    if (awaitRefresh) await refresh;
    const d = await pending;
    await refresh;
    await v.receipts!.checkpoint();
    return { d, statusUrl, fetched, checker };
  }

  it('a refresh that lands before the decision returns: the receipt records the list the allow read, and the bundle verifies', async () => {
    const { d, statusUrl, fetched, checker } = await race(10, true);
    expect(d.ok).toBe(true);
    const receipt = decodeReceipt(d.receipt!) as DecisionReceipt;
    // The first list fetched (before the revocation) is the one recorded; the cache now holds the revoked one.
    expect(receipt.evidence!.status[statusUrl]).toBe(sha256Digest(fetched[0]!));
    expect(checker.snapshot(statusUrl)!.jwt).toBe(fetched.at(-1));
    expect(receipt.evidence!.status[statusUrl]).not.toBe(sha256Digest(fetched.at(-1)!));
    const v = await verifyEvidence(await exportEvidence(store, d.receiptId!));
    expect(v.parts.filter((p) => !p.ok)).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it('a refresh still in flight when the decision returns (no list cached at that moment): the list is still recorded, the bundle verifies', async () => {
    const { d, statusUrl, fetched } = await race(1500, false);
    expect(d.ok).toBe(true);
    const receipt = decodeReceipt(d.receipt!) as DecisionReceipt;
    expect(receipt.evidence!.status[statusUrl]).toBe(sha256Digest(fetched[0]!));
    const v = await verifyEvidence(await exportEvidence(store, d.receiptId!));
    expect(v.ok).toBe(true);
  });

  it('the next decision reads the revoked list: refused, and its bundle re-checks to the same refusal', async () => {
    const { checker } = slowFirst(0);
    const v = createVerifier({ aud: API, store, resolver: w.resolver, status: checker, http: false, receipts: { signer: await w.home.issuer('api') } });
    const g = await w.grant();
    await w.revoke(g.id);
    const d = await decide(v, await bound(w.app, [g.jwt]), POLICY(w.alice.did), { kind: 'claims', claims: { htm: 'GET', htu: URL_EMAIL } });
    expect(d.reasons.map((r) => r.code)).toContain('CREDENTIAL_REVOKED');
    await v.receipts!.checkpoint();
    expect((await verifyEvidence(await exportEvidence(store, d.receiptId!))).ok).toBe(true);
  });
});

describe('createCapture: what the decision used, under races', () => {
  const did = 'did:web:issuer.example';
  const k1 = generateKeyPair();
  const k2 = generateKeyPair();
  const d1 = createDidWeb({ domain: did, publicJwk: k1.publicJwk }).document;
  const d2 = createDidWeb({ domain: did, publicJwk: k2.publicJwk }).document;

  /** A caching resolver over a document that can be replaced; `afterKey` runs once right after a key is read. */
  function world() {
    let current: DIDDocument = d1;
    let afterKey: (() => void) | undefined;
    let keyReads = 0;
    const inner = documentResolver(async () => current);
    const resolver: CharterResolver = {
      resolve: (x) => inner.resolve(x),
      async resolveKey(x, kid, rel) {
        keyReads++;
        const k = await inner.resolveKey(x, kid, rel);
        const f = afterKey;
        afterKey = undefined;
        f?.();
        return k;
      },
      clear: (x) => inner.clear(x),
    };
    return {
      resolver,
      inner,
      rotate: () => {
        current = d2;
        inner.clear(did);
      },
      set afterKey(f: () => void) {
        afterKey = f;
      },
      get keyReads() {
        return keyReads;
      },
    };
  }
  const noStatus: StatusChecker = async () => [];

  it('without a race: the document the key came from is recorded, and the key read once', async () => {
    const x = world();
    const c = createCapture(x.resolver, noStatus);
    const key = await c.resolver.resolveKey(did, '#key-1', 'assertionMethod');
    expect(key.publicJwk).toEqual(k1.publicJwk);
    expect((await c.settle()).dids.get(did)).toEqual(d1);
    expect(x.keyReads).toBe(1);
  });

  it('the document rotated right after the key was read: the key is read again and the document recorded is the one that yields it', async () => {
    const x = world();
    const c = createCapture(x.resolver, noStatus);
    x.afterKey = () => x.rotate(); // a rotation notice between resolveKey and the document read back
    const key = await c.resolver.resolveKey(did, '#key-1', 'assertionMethod');
    const recorded = (await c.settle()).dids.get(did)!;
    // Key and document agree: the decision goes on with the new key, and its evidence names the new document.
    expect(key.publicJwk).toEqual(k2.publicJwk);
    expect(recorded).toEqual(d2);
    expect(x.keyReads).toBe(2);
  });

  it('a document already read in this decision that still yields the key is kept; one that no longer does is replaced', async () => {
    const x = world();
    const c = createCapture(x.resolver, noStatus);
    await c.resolver.resolve(did);
    await c.resolver.resolveKey(did, '#key-1', 'assertionMethod');
    expect((await c.settle()).dids.get(did)).toEqual(d1);
    x.rotate();
    const key = await c.resolver.resolveKey(did, undefined, 'assertionMethod');
    expect(key.publicJwk).toEqual(k2.publicJwk);
    expect((await c.settle()).dids.get(did)).toEqual(d2);
  });

  it('a resolver whose documents never yield the key it hands out: no document is recorded rather than one the decision did not use', async () => {
    const x = world();
    const liar: CharterResolver = { ...x.resolver, resolve: async () => d2 };
    const c = createCapture(liar, noStatus);
    const key = await c.resolver.resolveKey(did, '#key-1', 'assertionMethod');
    expect(key.publicJwk).toEqual(k1.publicJwk);
    expect((await c.settle()).dids.has(did)).toBe(false);
    // A bounded number of attempts, not a loop.
    expect(x.keyReads).toBeLessThanOrEqual(3);
  });

  it("the key's own errors are the decision's: a kid of another DID fails as KID_MISMATCH and nothing is recorded", async () => {
    const x = world();
    const c = createCapture(x.resolver, noStatus);
    await expect(c.resolver.resolveKey(did, 'did:web:other.example#key-1', 'assertionMethod')).rejects.toMatchObject({ code: 'KID_MISMATCH' });
    expect((await c.settle()).dids.size).toBe(0);
  });

  it('status: the list a checker reports through usedList is recorded (the last one per URL), and a caller’s own usedList still hears of it', async () => {
    const heard: string[] = [];
    const reporting: StatusChecker = async (_cred, ctx) => {
      const use = (ctx as { usedList?: (l: { url: string; jwt: string; fetchedAt: number }) => void }).usedList;
      use?.({ url: 'https://s.example/1', jwt: 'a.b.c', fetchedAt: 1 });
      return [];
    };
    const c = createCapture(x0(), reporting);
    await c.status({} as Credential, { issuer: did, now: new Date(), usedList: (l: { jwt: string }) => heard.push(l.jwt) } as never);
    expect([...(await c.settle()).lists.values()]).toEqual([{ url: 'https://s.example/1', jwt: 'a.b.c', fetchedAt: 1 }]);
    expect(heard).toEqual(['a.b.c']);
    // A checker that reports nothing (a custom one) records nothing: never a list read back from some cache.
    const silent = createCapture(x0(), Object.assign(noStatus, { snapshot: () => ({ url: 'https://s.example/1', jwt: 'x.y.z', fetchedAt: 2 }) }));
    await silent.status({ credentialStatus: { statusListCredential: 'https://s.example/1' } } as unknown as Credential, { issuer: did, now: new Date() });
    expect((await silent.settle()).lists.size).toBe(0);
  });
  const x0 = () => world().resolver;
});
