import { join } from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPresentation } from '../../src/credentials/index.js';
import { orderChain } from '../../src/agents/index.js';
import { issueGrant, revokeGrant } from '../../src/grants/index.js';
import { decide } from '../../src/guard/decide.js';
import { guardTransaction } from '../../src/guard/transaction.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { exportEvidence, verifyEvidence, type EvidenceBundle, type EvidenceVerification } from '../../src/audit/index.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';

/**
 * Accountability over time, the clock and the network: a bundle re-checked
 * years later, with the world changed since (the grant revoked after it was
 * allowed, the credentials and status lists expired, the servers gone), on
 * a machine whose clock says anything at all, reaches the verdict of the
 * decision's own time, from the bundle alone: no fetch, no socket, and no
 * reading of the wall clock. Allow stays allow, deny stays deny with its
 * reason.
 */
let w: World;
let store: Store;
const b: Record<'allowedThenRevoked' | 'scope' | 'revoked' | 'paid', EvidenceBundle> = {} as never;

beforeAll(async () => {
  w = await openWorld();
  const host = `127.0.0.1%3A${new URL(w.server.url).port}`;
  await w.home.createIdentity({ alias: 'shop', method: 'web', domain: `${host}:shop` });
  await w.home.createIdentity({ alias: 'carol', method: 'web', domain: `${host}:carol`, keyType: 'P-256' });
  store = await openSqliteStore(join(tempDir('charter-recheck-clock-'), 'api.db'));
  const verifier = createVerifier({ aud: API, store, resolver: w.resolver, status: w.status, http: false, receipts: { signer: await w.home.issuer('shop') } });
  const carol = await w.home.issuer('carol');
  // Valid for an hour only: expired long before any of the clocks below.
  const grant = () =>
    issueGrant(w.home.store, carol, {
      grantee: w.app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'x',
      validUntil: new Date(Date.now() + 3_600_000),
      baseUrl: w.server.url,
    });
  const url = 'http://127.0.0.1:9999/profile/email';
  const run = async (jwt: string, resource: string) =>
    decide(verifier, await bound(w.app, [jwt], { url }), { kind: 'grant', resource, action: 'read', owner: carol.did }, { kind: 'claims', claims: { htm: 'GET', htu: url } });
  const g = await grant();
  const allowed = await run(g.jwt, 'profile/email');
  const scope = await run(g.jwt, 'profile/phone');
  const r = await grant();
  await revokeGrant(w.home.store, r.id, (d) => w.home.issuer(d));
  w.freshStatus();
  const revoked = await run(r.jwt, 'profile/email');
  // The allowed grant revoked after the decision: its list changes, the decision stands.
  await revokeGrant(w.home.store, g.id, (d) => w.home.issuer(d));
  w.freshStatus();
  expect([allowed.ok, scope.reasons.map((x) => x.code), revoked.reasons.map((x) => x.code)]).toEqual([true, ['GRANT_SCOPE'], ['CREDENTIAL_REVOKED']]);
  expect((await run(g.jwt, 'profile/email')).reasons.map((x) => x.code)).toEqual(['CREDENTIAL_REVOKED']);
  const vp = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([await w.mandate()])], aud: API });
  const paid = await guardTransaction(vp, { verifier, action: 'purchase', amount: '25 USD', trust: { principals: [w.principal.did] } }, () => 'paid');
  expect(paid).toMatchObject({ ok: true, spend: 'committed' });
  await verifier.receipts!.checkpoint();
  b.allowedThenRevoked = await exportEvidence(store, allowed.receiptId!);
  b.scope = await exportEvidence(store, scope.receipt!);
  b.revoked = await exportEvidence(store, revoked.receipt!);
  b.paid = await exportEvidence(store, paid.ok ? paid.receipt! : '');
  // Every server gone: the did:web documents and status lists can no longer be had.
  await store.close();
  await w.close();
}, 60_000);
afterAll(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const verdict = (v: EvidenceVerification) => ({
  ok: v.ok,
  failing: v.parts.filter((p) => !p.ok).map((p) => p.part),
  decision: v.receipt?.decision,
  reasons: v.receipt?.reasons,
  at: v.at,
  how: v.decision,
});

describe('a re-check far from the decision, offline', () => {
  it('reaches the same verdict whatever the wall clock says (before the decision, 2038 in seconds, 2100, the last date a Date holds), with no network', async () => {
    const fetched = vi.spyOn(globalThis, 'fetch').mockImplementation(() => {
      throw new Error('an offline re-check fetched something');
    });
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    const now: Record<string, unknown> = {};
    for (const [k, bundle] of Object.entries(b)) now[k] = verdict(await verifyEvidence(structuredClone(bundle)));
    expect(now).toEqual({
      allowedThenRevoked: expect.objectContaining({ ok: true, failing: [], decision: 'allow', reasons: [], how: 'rechecked' }),
      scope: expect.objectContaining({ ok: true, failing: [], decision: 'deny', reasons: ['GRANT_SCOPE'], how: 'rechecked' }),
      revoked: expect.objectContaining({ ok: true, failing: [], decision: 'deny', reasons: ['CREDENTIAL_REVOKED'], how: 'rechecked' }),
      paid: expect.objectContaining({ ok: true, failing: [], decision: 'allow', how: 'rechecked' }),
    });
    for (const clock of ['1970-01-02T00:00:00Z', '2038-01-19T03:14:08Z', '2100-01-01T00:00:00Z', '+275760-09-13T00:00:00Z']) {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date(clock));
      const then: Record<string, unknown> = {};
      try {
        for (const [k, bundle] of Object.entries(b)) then[k] = verdict(await verifyEvidence(structuredClone(bundle)));
      } finally {
        vi.useRealTimers();
      }
      expect([clock, then]).toEqual([clock, now]);
    }
    expect(fetched).not.toHaveBeenCalled();
    expect(connect).not.toHaveBeenCalled();
  }, 60_000);
});
