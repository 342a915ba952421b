import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charter, charterFetch, createVerifier, requireAgent, requireGrant } from '../../src/http/adapters/express.js';
import { guardTransaction } from '../../src/guard/transaction.js';
import { openSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';
import { API, openWorld, type World } from '../http/world.js';

/**
 * Every store fault answers as README documents: a 503 problem with
 * Retry-After (never a 500, whatever the driver's code), the handler never
 * runs, and nothing is allowed. Real faults, not a stub throwing
 * STORE_UNAVAILABLE: a closed connection, a file locked by another process's
 * transaction, a read-only database, a full database.
 */
describe('real SQLite faults behind the HTTP guard', () => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld();
  });
  afterAll(() => w.close());

  async function app(store: Store) {
    const ran: string[] = [];
    const a = express();
    const server = a.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const verifier = createVerifier({ aud: API, store, publicOrigin: url, resolver: w.resolver, status: w.status, skewSeconds: 0 });
    a.get('/profile/email', charter(verifier, requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did })), (_req, res) => {
      ran.push('email');
      res.json({});
    });
    a.post('/orders', charter(verifier, requireAgent({ action: 'purchase', amount: () => '5 USD', trust: { principals: [w.principal.did] } })), (_req, res) => {
      ran.push('order');
      res.status(201).json({});
    });
    return {
      url,
      ran,
      verifier,
      close: () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    };
  }

  const expect503 = async (r: Response) => {
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await r.json()) as { code: string; status: number };
    expect(body.status).toBe(503);
    expect(['STORE_UNAVAILABLE', 'STORE_ERROR']).toContain(body.code);
  };

  const open = (name: string, o: SqliteStoreOptions = {}) => openSqliteStore(join(tempDir('charter-fault-'), `${name}.db`), o);

  it('a closed store: 503 with Retry-After for a grant route, an agent route and a transaction; nothing runs', async () => {
    const store = await open('closed');
    const s = await app(store);
    const grant = (await w.grant()).jwt;
    const mandate = await w.mandate();
    try {
      expect((await charterFetch(`${s.url}/profile/email`, {}, { holder: w.app, credentials: [grant], aud: API })).status).toBe(200);
      await store.close();
      await expect503(await charterFetch(`${s.url}/profile/email`, {}, { holder: w.app, credentials: [grant], aud: API }));
      await expect503(await charterFetch(`${s.url}/orders`, { method: 'POST' }, { holder: w.agent, credentials: [w.agentIdentity, mandate], aud: API }));
      const { createPresentation } = await import('../../src/credentials/index.js');
      const vp = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, mandate], aud: API });
      let runs = 0;
      const tx = await guardTransaction(vp, { verifier: s.verifier, action: 'purchase', amount: '5 USD', trust: { principals: [w.principal.did] } }, () => runs++);
      expect(tx).toMatchObject({ ok: false, status: 503 });
      expect(runs).toBe(0);
      expect(s.ran).toEqual(['email']);
    } finally {
      await s.close();
    }
  });

  it("a file locked by another process's write transaction: 503 once the busy timeout passes, served again when the lock is gone", async () => {
    const dir = tempDir('charter-fault-');
    const path = join(dir, 'locked.db');
    const store = await openSqliteStore(path, { busyTimeoutMs: 100 });
    const s = await app(store);
    const grant = (await w.grant()).jwt;
    const other = new Database(path);
    try {
      other.pragma('busy_timeout = 0');
      other.exec('BEGIN EXCLUSIVE');
      await expect503(await charterFetch(`${s.url}/profile/email`, {}, { holder: w.app, credentials: [grant], aud: API }));
      other.exec('COMMIT');
      expect((await charterFetch(`${s.url}/profile/email`, {}, { holder: w.app, credentials: [grant], aud: API })).status).toBe(200);
      expect(s.ran).toEqual(['email']);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await s.close();
      await store.close();
    }
  });

  it('a read-only database: 503 with Retry-After, never a 500', async () => {
    const store = await open('readonly', { pragmas: ['query_only = ON'] });
    const s = await app(store);
    try {
      await expect503(await charterFetch(`${s.url}/profile/email`, {}, { holder: w.app, credentials: [(await w.grant()).jwt], aud: API }));
      expect(s.ran).toEqual([]);
    } finally {
      await s.close();
      await store.close();
    }
  });

  it('a full database: every answer is a 200 or a 503 with Retry-After, never a 500, and the 503s run nothing', async () => {
    const path = join(tempDir('charter-fault-'), 'full.db');
    const pages = (await openSqliteStore(path).then(async (st) => {
      await st.close();
      const db = new Database(path);
      const n = db.pragma('page_count', { simple: true }) as number;
      db.close();
      return n;
    })) as number;
    const store = await openSqliteStore(path, { pragmas: [`max_page_count = ${pages}`] });
    const s = await app(store);
    const grant = (await w.grant()).jwt;
    let full = 0;
    try {
      for (let i = 0; i < 200 && full === 0; i++) {
        const r = await charterFetch(`${s.url}/profile/email`, {}, { holder: w.app, credentials: [grant], aud: API });
        if (r.status === 503) {
          await expect503(r);
          full++;
        } else expect(r.status).toBe(200);
      }
      expect(full).toBe(1);
      expect(s.ran.length).toBeLessThan(200);
    } finally {
      await s.close();
      await store.close();
    }
  });
});
