import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAttestations, issueAttestation, issueReceipt, reputationSource, scoreFromStore } from '../../src/reputation/index.js';
import { createResolver } from '../../src/did/index.js';
import type { Issuer, StatusChecker } from '../../src/credentials/types.js';
import type { Reason } from '../../src/errors.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * The status answers a store-backed scorer remembers arrive in any order: a
 * check that read an older list (a fetch begun before the revocation) may
 * answer "valid" after a later check answered "revoked". The later question's
 * answer stands: a revocation the scorer has seen is never replaced by an
 * older "valid", for the memo's whole lifetime (statusFreshnessSeconds).
 */
const resolver = createResolver();
const agent = makeIssuer();
let issuerStore: Store;
let n = 0;
beforeAll(async () => {
  issuerStore = await openSqliteStore(join(tempDir(), 'issuers.db'));
});
afterAll(async () => {
  await issuerStore.close();
});

/** `count` revocable ratings of `agent`, each by an attester of its own, in a fresh verifier store. */
async function world(count = 1) {
  const attesters: Issuer[] = [];
  const jwts: string[] = [];
  for (let i = 0; i < count; i++) {
    const attester: Issuer = makeIssuer();
    attesters.push(attester);
    const receipt = await issueReceipt(null, agent, { counterparty: attester.did, interactionId: `order-${n++}` });
    jwts.push((await issueAttestation(issuerStore, attester, { receiptJwt: receipt.jwt, score: 0.9, baseUrl: 'https://lists.example' })).jwt);
  }
  const store = await openSqliteStore(join(tempDir(), 'verifier.db'));
  expect((await importAttestations(store, jwts, { resolver, status: async () => [] })).imported.length).toBe(count);
  return { attester: attesters[0]!, trustedAttesters: attesters.map((a) => a.did), store };
}

/**
 * A status checker answering in a script: the calls whose index is in `slow` answer "valid" only when
 * `release()` is called (a list fetched before the revocation, arriving late); every other call answers
 * "revoked" at once.
 */
function scripted(slow: Set<number>) {
  let calls = 0;
  const gates: (() => void)[] = [];
  const status: StatusChecker = async () => {
    const i = calls++;
    if (!slow.has(i)) return [{ code: 'CREDENTIAL_REVOKED', message: 'revoked' } satisfies Reason];
    await new Promise<void>((r) => gates.push(r));
    return [];
  };
  return { status, calls: () => calls, release: (reverse = false) => (reverse ? gates.splice(0).reverse() : gates.splice(0)).forEach((g) => g()) };
}

const tick = () => new Promise((r) => setTimeout(r, 5));
/** Waits until the checker has been asked `n` times. */
async function asked(s: { calls: () => number }, k: number) {
  for (let i = 0; i < 2000 && s.calls() < k; i++) await tick();
  expect(s.calls()).toBe(k);
}

describe('a late "valid" never replaces a revocation the scorer has seen since', () => {
  it('scoreFromStore: the slow valid answer arrives after the revoked one; the next score does not count the rating', async () => {
    const { attester, store } = await world();
    const s = scripted(new Set([0]));
    const policy = { resolver, status: s.status, trustedAttesters: [attester.did], statusFreshnessSeconds: 60 };
    const first = scoreFromStore(store, agent.did, policy);
    await asked(s, 1);
    await tick();
    const second = await scoreFromStore(store, agent.did, policy);
    expect(second.counted).toBe(0);
    s.release();
    // Asked before the revocation was seen, it may say either; what it leaves behind is what matters.
    await first;
    const third = await scoreFromStore(store, agent.did, policy);
    expect(third.counted).toBe(0);
    expect(third.ignored).toEqual([expect.objectContaining({ code: 'CREDENTIAL_REVOKED' })]);
    // Answered from memory: the checker was not asked again.
    expect(s.calls()).toBe(2);
    await store.close();
  });

  it('reputationSource (the guard path, its listing kept in memory): the agent falls to no reputation and stays there', async () => {
    const { attester, store } = await world();
    const s = scripted(new Set([0]));
    const source = reputationSource(store, { resolver, status: s.status, trustedAttesters: [attester.did], statusFreshnessSeconds: 60 });
    const first = source(agent.did, undefined);
    await asked(s, 1);
    await tick();
    expect((await source(agent.did, undefined)).attesters).toBe(0);
    s.release();
    await first;
    for (let i = 0; i < 3; i++) expect((await source(agent.did, undefined)).attesters).toBe(0);
    await store.close();
  });

  it('many slow checks begun before one revoked answer, released last first: every later score refuses the rating', async () => {
    const { attester, store } = await world();
    const slow = new Set(Array.from({ length: 12 }, (_, i) => i));
    const s = scripted(slow);
    const policy = { resolver, status: s.status, trustedAttesters: [attester.did], statusFreshnessSeconds: 60 };
    const early = Array.from({ length: 12 }, () => scoreFromStore(store, agent.did, policy));
    await asked(s, 12);
    await tick();
    expect((await scoreFromStore(store, agent.did, policy)).counted).toBe(0);
    s.release(true);
    await Promise.all(early);
    const later = await Promise.all(Array.from({ length: 8 }, () => scoreFromStore(store, agent.did, policy)));
    expect(later.map((x) => x.counted)).toEqual(Array(8).fill(0));
    await store.close();
  });
});

/** A checker whose calls wait until released, each answering "valid" unless its index is in `revoked`. */
function gated(revoked: Set<number>) {
  let calls = 0;
  const gates = new Map<number, () => void>();
  const status: StatusChecker = async () => {
    const i = calls++;
    await new Promise<void>((r) => gates.set(i, r));
    return revoked.has(i) ? [{ code: 'CREDENTIAL_REVOKED', message: 'revoked' } satisfies Reason] : [];
  };
  return { status, calls: () => calls, release: (i: number) => gates.get(i)?.() };
}

/*
 * The other order: the check asked first answers "valid" first, and marks the listing settled; a check
 * asked later answers "revoked" after it. The revocation is the newer answer: a listing kept in memory
 * (reputationSource, the guard path) must not go on counting the rating on the strength of the older "valid".
 */
describe('a listing settled by an older "valid" does not outlive a revocation answered since', () => {
  it('reputationSource: valid (asked first) then revoked (asked second); every later call refuses the rating', async () => {
    const { attester, store } = await world();
    const s = gated(new Set([1]));
    const source = reputationSource(store, { resolver, status: s.status, trustedAttesters: [attester.did], statusFreshnessSeconds: 60 });
    const first = source(agent.did, undefined);
    await asked(s, 1);
    await tick();
    const second = source(agent.did, undefined);
    await asked(s, 2);
    s.release(0);
    expect((await first).attesters).toBe(1);
    s.release(1);
    expect((await second).attesters).toBe(0);
    for (let i = 0; i < 3; i++) expect((await source(agent.did, undefined)).attesters).toBe(0);
    // Answered from memory: the checker was not asked again.
    expect(s.calls()).toBe(2);
    await store.close();
  });

  it('the revoked answer lands in the same turn as the valid one that settles the listing', async () => {
    const { attester, store } = await world();
    const s = gated(new Set([1]));
    const source = reputationSource(store, { resolver, status: s.status, trustedAttesters: [attester.did], statusFreshnessSeconds: 60 });
    const first = source(agent.did, undefined);
    await asked(s, 1);
    await tick();
    const second = source(agent.did, undefined);
    await asked(s, 2);
    s.release(0);
    s.release(1);
    await Promise.all([first, second]);
    for (let i = 0; i < 3; i++) expect((await source(agent.did, undefined)).attesters).toBe(0);
    await store.close();
  });

  it('one of three ratings revoked by a later pass: the earlier all-valid pass does not settle the listing', async () => {
    const { trustedAttesters, store } = await world(3);
    // Calls 0-2: the first pass (all valid); calls 3-5: the second, whose first question reads revoked.
    const s = gated(new Set([3]));
    const policy = { resolver, status: s.status, trustedAttesters, statusFreshnessSeconds: 60 };
    const source = reputationSource(store, policy);
    const first = source(agent.did, undefined);
    await asked(s, 3);
    await tick();
    const second = source(agent.did, undefined);
    await asked(s, 6);
    for (const i of [0, 1, 2]) s.release(i);
    expect((await first).attesters).toBe(3);
    for (const i of [3, 4, 5]) s.release(i);
    expect((await second).attesters).toBe(2);
    for (let i = 0; i < 3; i++) expect((await source(agent.did, undefined)).attesters).toBe(2);
    // The store's own scorer (its memo) agrees, and nothing was asked again.
    expect((await scoreFromStore(store, agent.did, policy)).ignored.map((x) => x.code)).toEqual(['CREDENTIAL_REVOKED']);
    expect(s.calls()).toBe(6);
    await store.close();
  });
});
