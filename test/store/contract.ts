import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Store } from '../../src/store/types.js';
import type { IdentityRecord, NewRating } from '../../src/store/types.js';

const identity = (alias: string, did = `did:key:z${alias}`): IdentityRecord => ({
  alias,
  did,
  kid: `${did}#k`,
  keyType: 'Ed25519',
  method: 'key',
  publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'x' },
  sealedPrivateKey: 'sealed',
  createdAt: new Date().toISOString(),
});

/** The behaviour every Store backend must have; run against SQLite and PostgreSQL. */
export function runStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('config: set, overwrite, get', async () => {
      expect(await store.getConfig('a')).toBeUndefined();
      await store.setConfig('a', '1');
      await store.setConfig('a', '2');
      expect(await store.getConfig('a')).toBe('2');
    });

    it('identities: by alias or DID, unique alias and DID', async () => {
      await store.putIdentity({ ...identity('alice'), meta: { role: 'agent' }, document: { id: 'did:key:zalice' } });
      expect((await store.getIdentity('alice'))!.did).toBe('did:key:zalice');
      expect((await store.getIdentity('did:key:zalice'))!.meta).toEqual({ role: 'agent' });
      await expect(store.putIdentity(identity('alice', 'did:key:zother'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(store.putIdentity(identity('bob', 'did:key:zalice'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      expect((await store.listIdentities()).map((i) => i.alias)).toEqual(['alice']);
    });

    it('credentials: put, get, filter by direction, issuer, subject, type and parent', async () => {
      const base = { jwt: 'a.b.c', issuer: 'did:key:zi', createdAt: new Date().toISOString() };
      await store.putCredential({ ...base, id: 'c1', direction: 'issued', subject: 'did:key:zs', types: ['DataAccessGrant'] });
      await store.putCredential({ ...base, id: 'c2', direction: 'held', types: ['AgentAuthorityCredential'], parentId: 'c1', validUntil: '2030-01-01T00:00:00Z' });
      await expect(store.putCredential({ ...base, id: 'c1', direction: 'issued', types: [] })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      expect(await store.getCredential('c2')).toMatchObject({ parentId: 'c1', validUntil: '2030-01-01T00:00:00Z', direction: 'held' });
      expect((await store.listCredentials({ type: 'DataAccessGrant' })).map((c) => c.id)).toEqual(['c1']);
      expect((await store.listCredentials({ subject: 'did:key:zs', direction: 'issued' })).map((c) => c.id)).toEqual(['c1']);
      expect((await store.listCredentials({ parentId: 'c1' })).map((c) => c.id)).toEqual(['c2']);
      expect(await store.listCredentials({ issuer: 'did:key:nobody' })).toEqual([]);
    });

    it('status lists: allocate distinct indices, set bits MSB-first, never roll back a signed version', async () => {
      const list = await store.createStatusList({ id: 'l1', issuerDid: 'did:key:zi', purpose: 'revocation', size: 131072, ttlSeconds: 300, url: 'https://x/status/l1' });
      expect(list.bits.length).toBe(16384);
      const seen = new Set<number>();
      for (let i = 0; i < 50; i++) seen.add(await store.allocateStatusIndex('l1', `cred-${i}`, (n) => Math.floor(Math.random() * n)));
      expect(seen.size).toBe(50);
      // a picker that always collides still gets a fresh index
      const a = await store.allocateStatusIndex('l1', 'x1', () => 0);
      const b = await store.allocateStatusIndex('l1', 'x2', () => 0);
      expect(a).not.toBe(b);
      expect(await store.findStatusAllocation('x2')).toEqual([{ listId: 'l1', index: b }]);
      const after = await store.setStatusBit('l1', 9, true);
      expect(after.version).toBe(1);
      expect(after.bits[1]).toBe(0b0100_0000);
      expect((await store.setStatusBit('l1', 9, false)).bits[1]).toBe(0);
      await expect(store.setStatusBit('l1', 131072, true)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await store.putSignedStatusList('l1', 2, 'jwt-v2');
      await store.putSignedStatusList('l1', 1, 'jwt-v1');
      expect(await store.getStatusList('l1')).toMatchObject({ signedJwt: 'jwt-v2', signedVersion: 2, allocated: 52 });
      expect((await store.listStatusLists({ issuerDid: 'did:key:zi', purpose: 'revocation' })).length).toBe(1);
    });

    it('a full status list refuses another allocation', async () => {
      await store.createStatusList({ id: 'tiny', issuerDid: 'did:key:zi', purpose: 'suspension', size: 8, ttlSeconds: 1, url: 'https://x/status/tiny' });
      for (let i = 0; i < 8; i++) await store.allocateStatusIndex('tiny', `c${i}`, () => 3);
      await expect(store.allocateStatusIndex('tiny', 'c9', () => 3)).rejects.toMatchObject({ code: 'STORE_ERROR' });
    });

    it('ledger: reserve within budget and rate, refuse beyond, release returns budget, commit keeps it', async () => {
      const at = new Date('2026-01-01T00:00:00Z');
      const entry = (amount: string) => ({ mandateId: 'm1', amount, currency: 'USD', budget: { amount: '100', currency: 'USD', periodSeconds: 86400 }, rate: { count: 3, periodSeconds: 3600 } });
      const r1 = await store.reserve({ reservationId: 'r1', at, entries: [entry('60')] });
      expect(r1).toMatchObject({ ok: true, usage: [{ spent: '0', remaining: '40', rateRemaining: 2 }] });
      const r2 = await store.reserve({ reservationId: 'r2', at, entries: [entry('40.01')] });
      expect(r2.ok).toBe(false);
      expect(r2.failures.map((f) => f.code)).toEqual(['BUDGET_EXCEEDED']);
      await store.releaseReservation('r1');
      expect((await store.reserve({ reservationId: 'r3', at, entries: [entry('100')] })).ok).toBe(true);
      await store.commitReservation('r3');
      await expect(store.releaseReservation('r3')).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
      await expect(store.commitReservation('nope')).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
      await expect(store.reserve({ reservationId: 'r3', at, entries: [entry('0')] })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      // the window rolls: a day later the budget is free again
      const later = new Date(at.getTime() + 86_401_000);
      expect((await store.previewReservation({ reservationId: 'q', at: later, entries: [entry('100')] })).ok).toBe(true);
      // rate: 3 per hour
      const rate = (id: string) => store.reserve({ reservationId: id, at: later, entries: [{ mandateId: 'm2', amount: '0', currency: 'USD', rate: { count: 2, periodSeconds: 3600 } }] });
      expect((await rate('a')).ok).toBe(true);
      expect((await rate('b')).ok).toBe(true);
      expect((await rate('c')).failures.map((f) => f.code)).toEqual(['RATE_EXCEEDED']);
      const eur = await store.reserve({ reservationId: 'e', at: later, entries: [{ ...entry('1'), currency: 'EUR' }] });
      expect(eur.failures.map((f) => f.code)).toEqual(['CURRENCY_MISMATCH']);
    });

    it('ledger: a reservation over several links is all-or-nothing', async () => {
      const at = new Date();
      const link = (id: string, budget: string) => ({ mandateId: id, amount: '30', currency: 'USD', budget: { amount: budget, currency: 'USD', periodSeconds: 3600 } });
      expect((await store.reserve({ reservationId: 'x1', at, entries: [link('parent', '50'), link('child', '100')] })).ok).toBe(true);
      const r = await store.reserve({ reservationId: 'x2', at, entries: [link('parent', '50'), link('child', '100')] });
      expect(r.failures).toEqual([expect.objectContaining({ mandateId: 'parent', code: 'BUDGET_EXCEEDED' })]);
      const child = await store.previewReservation({ reservationId: 'q', at, entries: [link('child', '100')] });
      expect(child.usage[0]!.spent).toBe('30');
    });

    it('property: random reserve/release sequences never let live spend exceed the budget', async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.record({ amount: fc.integer({ min: 1, max: 40 }), release: fc.boolean() }), { maxLength: 25 }), async (ops) => {
          const mandateId = `p${n++}`;
          const at = new Date();
          const live = new Map<string, number>();
          for (const [i, op] of ops.entries()) {
            const id = `${mandateId}-${i}`;
            const r = await store.reserve({ reservationId: id, at, entries: [{ mandateId, amount: String(op.amount), currency: 'USD', budget: { amount: '100', currency: 'USD', periodSeconds: 60 } }] });
            if (r.ok) live.set(id, op.amount);
            if (r.ok && op.release) {
              await store.releaseReservation(id);
              live.delete(id);
            }
            expect([...live.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(100);
          }
        }),
        { numRuns: 30 },
      );
    });

    const rating = (over: Partial<NewRating> = {}): NewRating => ({
      id: 'urn:uuid:1',
      attester: 'did:key:zshop',
      agent: 'did:key:zagent',
      receipt: 'urn:uuid:r1',
      score: 0.5,
      issuedAt: 1_700_000_000_000,
      importedAt: 1_700_000_100_000,
      ...over,
    });

    it('ratings: put reports what it added, keeps what it held, lists one agent in (issuedAt, attester, id) order', async () => {
      const full = rating({ id: 'b', dimension: 'delivery', validUntil: 1_800_000_000_000, status: '{"type":"BitstringStatusListEntry"}', score: 1 });
      const added = await store.putRatings([rating({ id: 'c', issuedAt: 5 }), full, rating({ id: 'a', attester: 'did:key:zz', issuedAt: 5 }), rating({ id: 'x', agent: 'did:key:zother' })]);
      expect(added).toEqual([
        { attester: 'did:key:zshop', id: 'c' },
        { attester: 'did:key:zshop', id: 'b' },
        { attester: 'did:key:zz', id: 'a' },
        { attester: 'did:key:zshop', id: 'x' },
      ]);
      // the same id from another attester is another rating; the same attester and id is kept as it was
      expect(await store.putRatings([rating({ id: 'b', score: 0 }), rating({ id: 'b', attester: 'did:key:zz', issuedAt: 5 })])).toEqual([{ attester: 'did:key:zz', id: 'b' }]);
      const listed = await store.listRatings('did:key:zagent');
      expect(listed.map((r) => `${r.issuedAt} ${r.attester} ${r.id}`)).toEqual(['5 did:key:zshop c', '5 did:key:zz a', '5 did:key:zz b', '1700000000000 did:key:zshop b']);
      // Listed without the status text (the bulk of a row), saying whether there is one.
      const { status: _s, ...fullListed } = full;
      expect(listed[3]).toEqual({ ...fullListed, revocable: true });
      expect(listed[0]).toEqual({ ...rating({ id: 'c', issuedAt: 5 }), revocable: false });
      expect(Object.keys(listed[0]!).sort()).toEqual(['agent', 'attester', 'id', 'importedAt', 'issuedAt', 'receipt', 'revocable', 'score']);
      expect(await store.listRatingStatus('did:key:zagent')).toEqual([{ attester: 'did:key:zshop', id: 'b', status: full.status }]);
      expect(await store.listRatingStatus('did:key:zagent', [{ attester: 'did:key:zshop', id: 'b' }, { attester: 'did:key:zshop', id: 'c' }, { attester: 'did:key:zz', id: 'b' }])).toEqual([
        { attester: 'did:key:zshop', id: 'b', status: full.status },
      ]);
      // keyed within the agent: another agent's listing never reads it
      expect(await store.listRatingStatus('did:key:zother', [{ attester: 'did:key:zshop', id: 'b' }])).toEqual([]);
      expect(await store.listRatingStatus('did:key:zagent', [])).toEqual([]);
      expect(await store.listRatings('did:key:nobody')).toEqual([]);
      expect(await store.findRatings([{ attester: 'did:key:zz', id: 'a' }, { attester: 'did:key:zz', id: 'c' }, { attester: 'did:key:zshop', id: 'x' }])).toEqual([
        { attester: 'did:key:zz', id: 'a' },
        { attester: 'did:key:zshop', id: 'x' },
      ]);
      expect(await store.findRatings([])).toEqual([]);
      expect(await store.putRatings([])).toEqual([]);
      // The version moves with every change of an agent's ratings, and only then.
      const v = await store.ratingsVersion('did:key:zagent');
      expect(v).toBeGreaterThan(0);
      expect(await store.ratingsVersion('did:key:nobody')).toBe(0);
      await store.putRatings([rating({ id: 'c', issuedAt: 5 })]);
      expect(await store.ratingsVersion('did:key:zagent')).toBe(v);
      const other = await store.ratingsVersion('did:key:zother');
      await store.putRatings([rating({ id: 'd' })]);
      expect(await store.ratingsVersion('did:key:zagent')).not.toBe(v);
      expect(await store.ratingsVersion('did:key:zother')).toBe(other);
    });

    it('ratings: a score outside [0, 1] or not finite, or a bad time, is INVALID_ARGUMENT and nothing of the batch is kept', async () => {
      const bad: Partial<NewRating>[] = [
        { score: Number.NaN },
        { score: Infinity },
        { score: -Infinity },
        { score: 1.0000001 },
        { score: -0.1 },
        { score: '0.5' as unknown as number },
        { score: null as unknown as number },
        { issuedAt: Number.NaN },
        { importedAt: Infinity },
        { validUntil: Number.NaN },
        { id: '' },
        { dimension: 7 as unknown as string },
      ];
      for (const [i, b] of bad.entries()) {
        await expect(store.putRatings([rating({ id: `ok-${i}` }), rating({ id: `bad-${i}`, ...b })])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }
      expect(await store.listRatings('did:key:zagent')).toEqual([]);
      expect(await store.ratingsVersion('did:key:zagent')).toBe(0);
      // -0 is a score of 0, stored and read back as +0
      await store.putRatings([rating({ id: 'neg-zero', score: -0 })]);
      expect(Object.is((await store.listRatings('did:key:zagent'))[0]!.score, 0)).toBe(true);
    });

    it('ratings: a batch larger than one statement is kept whole and listed in order', async () => {
      const many = Array.from({ length: 12_000 }, (_, i) => rating({ id: `m-${String(i).padStart(5, '0')}`, receipt: `r-${i}`, issuedAt: 1000 + (i % 7), score: (i % 11) / 10 }));
      expect((await store.putRatings(many)).length).toBe(12_000);
      expect((await store.putRatings(many.slice(0, 10))).length).toBe(0);
      const listed = await store.listRatings('did:key:zagent');
      expect(listed.length).toBe(12_000);
      const sorted = [...many].sort((a, b) => a.issuedAt - b.issuedAt || (a.id < b.id ? -1 : 1));
      expect(listed.map((r) => r.id)).toEqual(sorted.map((r) => r.id));
      expect((await store.findRatings(many.map((r) => ({ attester: r.attester, id: r.id })))).length).toBe(12_000);
    });

    it('nonces: first use only, until they expire', async () => {
      const soon = new Date(Date.now() + 60_000);
      expect(await store.consumeNonce('aud', 'n1', soon)).toBe(true);
      expect(await store.consumeNonce('aud', 'n1', soon)).toBe(false);
      expect(await store.consumeNonce('other', 'n1', soon)).toBe(true);
      expect(await store.consumeNonce('aud', 'old', new Date(Date.now() - 1))).toBe(true);
      expect(await store.consumeNonce('aud', 'old', soon)).toBe(true);
    });

    it('nonces: concurrent calls (in SQLite, one group commit) accept each value exactly once', async () => {
      const soon = new Date(Date.now() + 60_000);
      const values = ['a', 'b', 'a', 'c', 'b', 'a'];
      const fresh = await Promise.all(values.map((v) => store.consumeNonce('batch', v, soon)));
      // Exactly one call per value wins (which one may vary: PostgreSQL runs them on several connections).
      const wins = new Map<string, number>();
      fresh.forEach((f, i) => f && wins.set(values[i]!, (wins.get(values[i]!) ?? 0) + 1));
      expect(Object.fromEntries(wins)).toEqual({ a: 1, b: 1, c: 1 });
      expect(await store.consumeNonce('batch', 'c', soon)).toBe(false);
    });

    it('nonces: a call with an invalid expiry is INVALID_ARGUMENT and does not fail the calls beside it', async () => {
      const soon = new Date(Date.now() + 60_000);
      const [a, bad, b] = await Promise.allSettled([
        store.consumeNonce('mixed', 'a', soon),
        store.consumeNonce('mixed', 'bad', new Date(Number.NaN)),
        store.consumeNonce('mixed', 'b', soon),
      ]);
      expect(a).toEqual({ status: 'fulfilled', value: true });
      expect(b).toEqual({ status: 'fulfilled', value: true });
      expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'INVALID_ARGUMENT' } });
    });
  });
}
