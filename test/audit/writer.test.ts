import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { verifyAuditLog } from '../../src/audit/index.js';
import { CharterError } from '../../src/errors.js';
import type { Store } from '../../src/store/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';

/**
 * An append whose COMMIT happened but whose reply was lost (a connection
 * dropped at the worst moment): the caller was answered 503, the log holds
 * the entry. The writer must read its head back and go on from it, not
 * collide with that entry on every later decision.
 */
let w: World;
let api: Issuer;
beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'api' });
  api = await w.home.issuer('api');
}, 60_000);
afterAll(async () => w.close());

/** The store, with the next `lose` appends stored and then reported as failed. */
function losingReplies(store: Store): { store: Store; lose: (n: number) => void } {
  let lost = 0;
  const wrapped: Store = {
    ...store,
    appendAudit: async (batch) => {
      await store.appendAudit(batch);
      if (lost > 0) {
        lost--;
        throw new CharterError('STORE_UNAVAILABLE', 'the connection was lost before the reply');
      }
    },
  };
  return { store: wrapped, lose: (n) => (lost = n) };
}

describe('the log writer after an append whose outcome was unknown', () => {
  for (const append of ['before-reply', 'after-reply'] as const) {
    it(`${append}: later decisions are logged and answered, and the chain verifies`, async () => {
      const real = await openSqliteStore(join(tempDir(), `lost-${append}.db`));
      const { store, lose } = losingReplies(real);
      try {
        const v = createVerifier({ aud: API, store, resolver: w.resolver, status: w.status, http: false, receipts: { signer: api, append } });
        const g = await w.grant();
        const policy = { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did } as const;
        const binding = { kind: 'claims', claims: { htm: 'GET', htu: 'http://127.0.0.1:9999/profile/email' } } as const;
        expect((await decide(v, await bound(w.app, [g.jwt]), policy, binding)).ok).toBe(true);
        // The next append is stored, and its caller told it failed.
        lose(1);
        const second = await decide(v, await bound(w.app, [g.jwt]), policy, binding);
        if (append === 'before-reply') expect([second.ok, second.status]).toEqual([false, 503]);
        for (let i = 0; i < 4; i++) {
          const d = await decide(v, await bound(w.app, [g.jwt]), policy, binding);
          expect([i, d.ok, d.status, d.receipt !== undefined]).toEqual([i, true, 200, true]);
        }
        await v.receipts!.flush();
        const log = await verifyAuditLog(real, { resolver: w.resolver });
        expect(log.ok).toBe(true);
        expect(log.chains[0]!.entries).toBe(6);
      } finally {
        await real.close();
      }
    });
  }
});
